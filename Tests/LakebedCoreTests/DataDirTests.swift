import Foundation
import Testing

@testable import LakebedCore

@Suite("Data folder")
struct DataDirTests {
    @Test func relativeDataDirBecomesAbsolute() throws {
        let name = "lakebed-reldir-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: FileManager.default.currentDirectoryPath + "/" + name) }
        let catalog = try Catalog(dataDir: "./" + name, clock: VirtualClock.manual())
        // RSE roots and file:// prefixes are built from it: a relative one would point at the wrong place.
        #expect(catalog.dataDir == FileManager.default.currentDirectoryPath + "/" + name)
        #expect(catalog.rses.defaultRoot(for: "SITE-A").hasPrefix("/"))
    }
}
