import Foundation
public import LakebedApp
public import LakebedCore
import LakebedDaemons
import LakebedFTS
public import LakebedScenarios

/// Temporary lakes for tests: each in a new folder under the system's temporary folder.
public enum TemporaryLake {
    /// A new, empty folder named after what the test is about.
    public static func folder(_ label: String) -> String {
        NSTemporaryDirectory() + "lakebed-\(label)-" + UUID().uuidString
    }

    /// An empty catalog (no account, no RSE) on a manual clock unless one is given.
    public static func catalog(_ label: String, clock: any LakeClock = VirtualClock.manual(), seed: UInt64? = nil) throws -> Catalog {
        try Catalog(dataDir: folder(label), clock: clock, seed: seed)
    }

    /// The lake `lakebed serve` opens, on its embedded default scenario, with a manual clock.
    public static func served(_ label: String, seed: UInt64 = 1) async throws -> Lake {
        try await Lake.open(LakeOptions(dataDir: folder(label), timeScale: 0, seed: seed))
    }

    /// A lake seeded from a scenario the way `lakebed simulate` does it.
    public static func simulation(of scenario: Scenario, label: String = "sim") async throws -> Lake {
        try await Lake.simulation(of: scenario, dataDir: folder(label))
    }
}
