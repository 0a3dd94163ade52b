import Foundation
import Hummingbird
import HummingbirdTLS
public import LakebedCore
public import LakebedDaemons
public import LakebedFTS
public import LakebedHTTP
public import LakebedIAM
import LakebedOIDC
public import LakebedScenarios
public import Logging
import NIOCore
public import ServiceLifecycle

/// How to open a lake: where it lives, what seeds it, how fast its clock runs.
public struct LakeOptions: Sendable {
    /// Folder for the catalog and RSE directories; nil: `./lakebed-data`, or `./lakebed-data/scenarios/<name>` for a scenario.
    public var dataDir: String?
    /// The scenario that seeds the lake; nil: the embedded default lake.
    public var scenario: Scenario?
    /// Wipe a data folder that already holds a lake (the default lake is then seeded again; a scenario needs this to
    /// play on a used folder).
    public var fresh = false
    /// Clock speed (0 = manual); nil: the scenario's, else real time.
    public var timeScale: Double?
    /// Seed for everything random; nil: the scenario's.
    public var seed: UInt64?
    /// Seeding progress for large scenarios (files done, files in all).
    public var seedProgress: (@Sendable (Int, Int) -> Void)?
    /// The experiment policy of a new lake (`serve --policy`); nil: the scenario's, else generic. A lake keeps the
    /// policy its catalog records: another one is refused unless `fresh` starts it over.
    public var policy: Policy.Name?

    /// Options for the default lake in `./lakebed-data`.
    public init(dataDir: String? = nil, scenario: Scenario? = nil, fresh: Bool = false, timeScale: Double? = nil, seed: UInt64? = nil) {
        self.dataDir = dataDir
        self.scenario = scenario
        self.fresh = fresh
        self.timeScale = timeScale
        self.seed = seed
    }
}

/// Why a lake could not be opened, in a sentence for the person who asked.
public struct LakeOpenError: Error, CustomStringConvertible {
    /// The sentence.
    public let description: String
}

/// A whole lake in one process: the catalog, IAM, the emulated FTS, the daemons and the scenario that seeded it.
///
/// This is the one composition root: `lakebed serve` opens a lake and serves `responder`, `lakebed simulate`
/// plays one headless, and in-process tests open the very same thing.
public final class Lake: Sendable {
    /// The catalog (every store over one SQLite database).
    public let catalog: Catalog
    /// The lake's clock.
    public let clock: VirtualClock
    /// The emulated INDIGO IAM (nil in headless simulations).
    public let iam: IAM?
    /// The emulated FTS.
    public let engine: TransferEngine
    /// Runs the daemons on the clock.
    public let driver: LakeDriver
    /// The scenario the lake was seeded from (the embedded default one when none was given).
    public let scenario: ScenarioRunner
    /// Whether this start seeded the lake (an empty folder, or a scenario).
    public let seeded: Bool
    /// Whether a scenario file (rather than the default lake) seeded it.
    public let playsScenarioFile: Bool
    /// The clock speed the lake runs at.
    public let timeScale: Double
    /// The data folder's lock, held while this lake is open (nil for headless simulations in their own folder).
    let folderLock: DataFolderLock?
    /// FTS's delegated proxies (`<dataDir>/tls/delegation/`), which certificate jobs' transfers run on (nil in
    /// headless simulations).
    public let delegations: DelegationStore?

    private init(
        catalog: Catalog, clock: VirtualClock, iam: IAM?, engine: TransferEngine, driver: LakeDriver, scenario: ScenarioRunner,
        seeded: Bool, playsScenarioFile: Bool, timeScale: Double, folderLock: DataFolderLock?, delegations: DelegationStore? = nil
    ) {
        self.delegations = delegations
        self.catalog = catalog
        self.clock = clock
        self.iam = iam
        self.engine = engine
        self.driver = driver
        self.scenario = scenario
        self.seeded = seeded
        self.playsScenarioFile = playsScenarioFile
        self.timeScale = timeScale
        self.folderLock = folderLock
    }

    /// Opens the lake `lakebed serve` runs: seeds an empty folder (or plays the scenario), finishes an interrupted
    /// restore, queues again the transfers a stopped process left in flight, then lets the clock run.
    public static func open(_ options: LakeOptions, logger: Logger = Logger(label: "lakebed")) async throws -> Lake {
        let loaded = options.scenario
        let timeScale = options.timeScale ?? loaded?.timeScale ?? 1
        let seed = options.seed ?? loaded?.seed
        let chosen = options.dataDir ?? loaded.map { scenarioDataDir($0.name) } ?? defaultDataDir
        // Two lakes on one folder would both write its catalog and its rucio.cfg: the second one stops here.
        var lock: DataFolderLock? = nil
        if FileManager.default.fileExists(atPath: chosen) { lock = try DataFolderLock.take(chosen) }
        let dataDir = try dataFolder(options.dataDir, scenario: loaded, fresh: options.fresh)
        if lock == nil {
            try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            lock = try DataFolderLock.take(dataDir)
        }
        // A lake is seeded before it listens; a start killed while seeding leaves a marker, and the half-seeded lake
        // (which no client ever saw) is started over.
        let seedingMarker = (dataDir as NSString).appendingPathComponent(".seeding")
        let catalogFile = (dataDir as NSString).appendingPathComponent("catalog.sqlite")
        if FileManager.default.fileExists(atPath: seedingMarker) {
            logger.warning("an earlier start was stopped while seeding this lake: seeding it again")
            wipe(dataDir)
        }
        // A folder with RSE bytes but no catalog has lost its catalog (deleted, or never moved along): seeding a new lake
        // over those bytes would hide the loss, so say so and stop.
        let rses = (dataDir as NSString).appendingPathComponent("rses")
        if !FileManager.default.fileExists(atPath: catalogFile),
            let held = try? FileManager.default.contentsOfDirectory(atPath: rses), !held.isEmpty
        {
            throw LakeOpenError(
                description: """
                    \(dataDir) holds RSE folders (\(held.sorted().prefix(3).joined(separator: ", "))\(held.count > 3 ? ", …" : "")) but no catalog.sqlite: \
                    its catalog is lost, and Lakebed will not seed a new lake over those bytes. Restore catalog.sqlite, or move \
                    the folder aside (or remove its rses/) to start a new lake.
                    """)
        }
        if loaded != nil || !FileManager.default.fileExists(atPath: catalogFile) {
            _ = FileManager.default.createFile(atPath: seedingMarker, contents: Data())
        }
        let clock = loaded.map { VirtualClock(start: $0.start, scale: timeScale) } ?? VirtualClock(scale: timeScale)
        // The clock stands still until the lake is ready, so everything seeded happens at the scenario's start.
        clock.setPaused(true)
        let policy = options.policy ?? loaded?.policy
        if loaded == nil, let policy, policy != .generic, !FileManager.default.fileExists(atPath: catalogFile) {
            try? FileManager.default.removeItem(atPath: seedingMarker)
            throw LakeOpenError(
                description: """
                    The default lake (SITE-A, SITE-B, SITE-C, demo:lofar…) has generic names; a \(policy.rawValue) lake starts \
                    from a scenario with `policy: \(policy.rawValue)` (see examples/), or empty (--empty --policy \(policy.rawValue)).
                    """)
        }
        let catalog: Catalog
        do { catalog = try Catalog(dataDir: dataDir, clock: clock, seed: seed, policy: policy) } catch let e as PolicyMismatch {
            throw LakeOpenError(description: e.description)
        }
        if let snapshot = try await catalog.snapshots.resumeInterruptedRestore() {
            logger.warning("the last reset or restore was interrupted: finished restoring \(snapshot)")
        }
        // After a finished restore (which moves the count past the mark), so a deliberate return is never taken for a loss.
        if let (count, mark) = try catalog.noticeRollBack() {
            logger.error(
                """
                the catalog was rolled back: its commit count is \(count), but this lake saw \(mark.seq) committed \
                (\(mark.writtenAt)). Changes were lost; `lakebed check` reports it until catalog.mark.rolled-back is removed
                """)
        }
        // Writes a killed process left half-done under hidden names: nothing will finish them (this process holds the folder).
        for rse in try await catalog.rses.listRSEs() {
            let removed = RSEStorage.removeStalePartials(under: rse.root)
            if removed > 0 { logger.warning("removed \(removed) unfinished storage write(s) a stopped process left on \(rse.rse)") }
        }
        let iam = try await IAM(dataDir: catalog.dataDir, clock: catalog.clock)
        let engine = TransferEngine(catalog: catalog, seed: seed ?? 0, logger: logger)
        let delegations = try DelegationStore(folder: (catalog.dataDir as NSString).appendingPathComponent("tls/delegation"))
        await engine.setCredentials(delegations)
        let driver = LakeDriver(catalog: catalog, clock: clock, engine: engine, logger: logger)
        await driver.connectEventLog()
        let runner: ScenarioRunner
        var seeded = false
        if let loaded {
            runner = ScenarioRunner(scenario: loaded, driver: driver, iam: iam)
            let total = loaded.files.reduce(0) { $0 + $1.count }
            try await runner.seed(progress: total >= 10_000 ? options.seedProgress : nil)
            try await runner.snapshot("seed")
            try? FileManager.default.removeItem(atPath: seedingMarker)
            seeded = true
        } else {
            // No scenario: the embedded default one, seeded on an empty data folder; on a used folder the lake is
            // kept as it was, and reset still goes back to the seed snapshot taken when it was first created.
            runner = ScenarioRunner(scenario: try DefaultScenario.load(), driver: driver, iam: iam)
            if try await catalog.accounts.isEmpty() {
                try await runner.seed()
                try await runner.snapshot("seed")
                seeded = true
                try? FileManager.default.removeItem(atPath: seedingMarker)
            } else {
                await runner.configureEngine()
            }
            // Transfers that were in flight when the last process stopped are lost with it: queue them again.
            _ = try await ConveyorSubmitter(catalog: catalog).requeueInFlightRequests()
        }
        clock.setPaused(false)
        return Lake(
            catalog: catalog, clock: clock, iam: iam, engine: engine, driver: driver, scenario: runner, seeded: seeded,
            playsScenarioFile: loaded != nil, timeScale: timeScale, folderLock: lock, delegations: delegations)
    }

    /// The writer's page cache in a headless simulation, in MB.
    public static let simulationCacheMegabytes = 512
    /// How far the WAL grows in a headless simulation before a commit copies it into the catalog file, in pages of 4 KB.
    public static let simulationCheckpointPages = 25_000

    /// A headless lake for `lakebed simulate`: a manual clock at the scenario's start, no IAM, seeded from `scenario`.
    public static func simulation(of scenario: Scenario, dataDir: String, seedProgress: (@Sendable (Int, Int) -> Void)? = nil) async throws -> Lake {
        let clock = VirtualClock(start: scenario.start, scale: 0)
        // One process writes the whole run into a catalog of its own: its writer keeps a large page cache (see
        // `Catalog.init`), and its WAL is copied into the catalog file every 100 MB rather than every 4 MB; the cache only
        // grows as far as the pages the run touches.
        let catalog = try Catalog(
            dataDir: dataDir, clock: clock, seed: scenario.seed, policy: scenario.policy, writerCacheMegabytes: simulationCacheMegabytes,
            walCheckpointPages: simulationCheckpointPages)
        let engine = TransferEngine(catalog: catalog, seed: scenario.seed)
        let driver = LakeDriver(catalog: catalog, clock: clock, engine: engine)
        await driver.connectEventLog()
        let runner = ScenarioRunner(scenario: scenario, driver: driver)
        try await runner.seed(progress: seedProgress)
        return Lake(
            catalog: catalog, clock: clock, iam: nil, engine: engine, driver: driver, scenario: runner, seeded: true,
            playsScenarioFile: true, timeScale: 0, folderLock: nil)
    }

    /// Every HTTP service of the lake behind one responder: the Rucio API, IAM, FTS, WebDAV storage, ESAP, the
    /// control API, the dashboard and metrics. `loopbackOnly`: the lake is bound to loopback, so requests from web
    /// pages of other sites (foreign `Origin`, non-loopback `Host`) are refused.
    /// `controlToken`: when set, the control API admits only requests that carry it.
    public func responder(logger: Logger, loopbackOnly: Bool = true, controlToken: String? = nil) throws -> LakebedResponder {
        guard let iam else { throw LakeOpenError(description: "a headless simulation serves no HTTP") }
        let catalog = self.catalog
        let fts = FTSAPI(
            catalog: catalog, engine: engine,
            authenticate: { token in
                let name: String
                if TokenInfo.looksLikeJWT(token) {
                    guard let sub = (try? await iam.validate(token))?.sub else { return nil }
                    name = sub
                } else {
                    guard let account = (try? await catalog.auth.validateNativeToken(token))?.account else { return nil }
                    name = account
                }
                return FTSCaller(name: name, privileged: await iam.rucioIssuer(anyToken: token, catalog: catalog)?.isAdmin ?? false)
            },
            storageCheck: { token, rse, path, write in
                await iam.checkStorageAccess(token: token, rse: rse, absolutePath: path, write: write, catalog: catalog)
            }, delegations: delegations)
        let requestMetrics = RequestMetrics()
        let loopback = Loopback(controlToken: controlToken)
        let webdav = WebDAVAPI(
            catalog: catalog,
            authorize: { token, rse, path, operation in
                await iam.checkStorageAccess(token: token, rse: rse, path: path, operation: operation, catalog: catalog)
                    .map { StorageRefusal(status: $0.httpStatus, message: $0.message) }
            }, identify: { token in await iam.rucioIssuer(anyToken: token, catalog: catalog) },
            thirdPartyCopy: ThirdPartyCopyService(engine: engine))
        let runner: ScenarioRunner? = scenario
        let responder = LakebedResponder(
            catalog: catalog, externalTokens: { token in await iam.rucioTokenInfo(token, catalog: catalog) },
            mounts: [
                IAMRoutes(iam: iam).mount(), fts.mount, ControlAPI(driver: driver, scenario: runner, iam: iam, token: controlToken).mount,
                webdav.mount,
                ESAPAPI(catalog: catalog, iam: iam).mount, DashboardAPI(driver: driver, loopback: loopback).mount,
                MetricsAPI(driver: driver, requests: requestMetrics).mount,
            ],
            metrics: requestMetrics, siteGuard: SiteGuard(enabled: loopbackOnly), servedStorage: webdav, logger: logger,
            oidc: OIDCLogin(catalog: catalog, iam: iam))
        loopback.attach(responder)
        return responder
    }

    /// Runs the daemons (and the scenario's timeline) on the clock, as a service of the HTTP application.
    public func daemons(logger: Logger) -> any Service {
        DaemonService(driver: driver, scenario: scenario, logger: logger)
    }

    /// The default lake's folder, relative to where `lakebed serve` runs.
    public static let defaultDataDir = "./lakebed-data"

    /// Where `serve --scenario` keeps a scenario's lake when given no folder: one folder per scenario, under the
    /// default lake's (which never touches it), so `lakebed env` finds it and runs do not pile up in the temp folder.
    public static func scenarioDataDir(_ name: String) -> String { defaultDataDir + "/scenarios/" + name }

    /// The folders under `./lakebed-data` (the default lake's, then each scenario's) that a running lake holds.
    public static func runningDefaultLakes() -> [String] {
        let scenarios = (defaultDataDir as NSString).appendingPathComponent("scenarios")
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: scenarios)) ?? []).sorted()
        return ([defaultDataDir] + names.map(scenarioDataDir)).filter(DataFolderLock.isHeld)
    }

    /// Where the lake lives: the given folder, ./lakebed-data, or ./lakebed-data/scenarios/<name> for a scenario.
    public static func dataFolder(_ given: String?, scenario: Scenario?, fresh: Bool) throws -> String {
        let fm = FileManager.default
        guard let scenario else {
            // The default lake: --fresh starts it over (seeded again from the embedded default scenario).
            let dir = given ?? defaultDataDir
            if fresh { wipe(dir) }
            return dir
        }
        let dir = given ?? scenarioDataDir(scenario.name)
        let catalog = (dir as NSString).appendingPathComponent("catalog.sqlite")
        let interrupted = fm.fileExists(atPath: (dir as NSString).appendingPathComponent(".seeding"))
        if fm.fileExists(atPath: catalog) && !interrupted {
            guard fresh else {
                throw LakeOpenError(
                    description: given == nil
                        ? """
                        \(dir) holds the lake of an earlier `lakebed serve --scenario` (\(scenario.name)). A scenario seeds an \
                        empty lake: add --fresh to start it over (this wipes that folder's catalog and RSE bytes), or give another --data-dir.
                        """
                        : """
                        \(dir) already holds a lake. A scenario seeds an empty one: add --fresh to wipe it, or leave out --data-dir \
                        for the scenario's own folder (\(scenarioDataDir(scenario.name))).
                        """)
            }
            wipe(dir)
        }
        return dir
    }

    /// Removes a lake's catalog, RSE directories and snapshots (keys, certificates and endpoints stay).
    public static func wipe(_ dir: String) {
        for item in [
            "catalog.sqlite", "catalog.sqlite-wal", "catalog.sqlite-shm", "catalog.mark", "catalog.mark.tmp", "catalog.mark.rolled-back",
            "rses", "snapshots", ".seeding",
        ] {  // never .lock
            try? FileManager.default.removeItem(atPath: (dir as NSString).appendingPathComponent(item))
        }
    }
}
