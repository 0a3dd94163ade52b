import Testing
@testable import LakebedCore
