public import Foundation
public import GRDB
import Synchronization

/// The lake's catalog: every account, scope, RSE, DID, replica, rule and lock, in one SQLite file.
///
/// Every change that touches more than one row runs in one transaction, so a crash leaves either the
/// whole change or none of it. Reads go through a WAL pool and never block writers.
public final class Catalog: Sendable {
    /// The SQLite connection pool.
    public let db: DatabasePool
    /// Read-only connections for `quickRead`, kept apart from `db`'s readers (see `quickRead`).
    let quickReaders: DatabasePool
    /// Hot one-row reads, kept until the next commit (see `ReadCache`).
    let readCache = ReadCache()
    /// Where the lake's time comes from.
    public let clock: any LakeClock
    /// Folder holding the catalog and, by default, the RSE directories.
    public let dataDir: String
    /// Token lifetime for userpass logins (seconds of lake time).
    public let tokenLifetime: TimeInterval
    let tokenCache: TokenCache
    /// Identifiers for rules and requests (seeded in scenarios, so replays are identical).
    public let ids: IDGenerator
    /// What happened in the lake, in order (transfers, rule transitions, scenario events).
    public let events = EventLog()
    /// Faults injected by scenarios (slow or failing endpoints, IAM outages, early token expiry).
    public let faults: Faults
    /// Where this process serves RSEs over WebDAV (set once the HTTPS listener is up).
    let webdav = Mutex<WebDAVEndpoint?>(nil)
    /// Folders `file` protocol prefixes may use (see `RSEStore.storageRoots`).
    let storageRootsBox: Mutex<StorageRoots>
    /// Listeners serving the WebDAV storage (see `RSEStore.storageEndpoints`).
    let storageEndpointsBox = Mutex(StorageEndpoints())
    private let retry = Mutex(RetryPolicy())
    /// How transfers are retried and when the judge-repairer tries stuck rules again (a scenario may set it).
    public var retryPolicy: RetryPolicy {
        get { retry.withLock { $0 } }
        set { retry.withLock { $0 = newValue } }
    }
    /// The last commit count written to `catalog.mark` (never written lower: see `CatalogMark`).
    let markWriter: Mutex<Int64?>
    /// The lake's experiment policy (naming schema, permissions, default lfn2pfn), recorded in the catalog.
    public let policy: Policy
    /// SQLite's default page cache, in KiB (`PRAGMA cache_size = -2000`).
    static let defaultCacheKiB = 2000
    /// The writer connection's page cache, in KiB (SQLite's `cache_size` as a negative number): `defaultCacheKiB` for a
    /// served lake, whose memory stays small; larger for a headless simulation (`writerCacheMegabytes`).
    let writerCacheKiB: Int

    /// Opens (creating if needed) the catalog under `dataDir`. `policy`: the policy a new catalog records (nil:
    /// generic); an existing catalog keeps its own, and asking it for another throws `PolicyMismatch`.
    ///
    /// `writerCacheMegabytes`: a page cache for the writer kept while the catalog is open (nil: SQLite's default of
    /// about 2 MB). A simulation writes millions of rows into a catalog of gigabytes from one writer: with the default,
    /// the pages of the requests', locks' and replicas' indexes it changes leave the cache between one transfer's
    /// statements and the next, and a large transaction spills them to the WAL before it commits.
    /// `walCheckpointPages`: how long the WAL may grow before a commit copies it into the catalog file (SQLite's
    /// `wal_autocheckpoint`, 1,000 pages by default). A page that every batch of a simulation changes again (a leaf of
    /// the requests' indexes) is copied once per checkpoint, not once per commit.
    public init(
        dataDir: String, clock: any LakeClock, tokenLifetime: TimeInterval = 3600, seed: UInt64? = nil, policy: Policy.Name? = nil,
        writerCacheMegabytes: Int? = nil, walCheckpointPages: Int? = nil
    ) throws {
        // The folder holds the catalog, keys and RSE bytes: only its owner may enter it.
        try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        // Absolute, so RSE roots and file:// protocol prefixes do not depend on the working directory.
        self.dataDir = URL(fileURLWithPath: dataDir).standardizedFileURL.path
        self.clock = clock
        self.tokenLifetime = tokenLifetime
        self.tokenCache = TokenCache()
        self.ids = IDGenerator(seed: seed)
        self.faults = Faults(clock: clock)
        self.storageRootsBox = Mutex(StorageRoots(dataDir: URL(fileURLWithPath: dataDir).standardizedFileURL.path))
        self.markWriter = Mutex(CatalogMark.load(dataDir: URL(fileURLWithPath: dataDir).standardizedFileURL.path)?.seq)
        var config = Configuration()
        config.busyMode = .timeout(10)
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            try db.execute(sql: "PRAGMA foreign_keys = ON")
        }
        self.db = try DatabasePool(path: self.dataDir + "/catalog.sqlite", configuration: config)
        try Schema.migrator.migrate(db)
        let kib = max(Self.defaultCacheKiB, (writerCacheMegabytes ?? 0) * 1024)
        self.writerCacheKiB = kib
        // Settings of the one writer connection only (`prepareDatabase` would give them to every reader too).
        if kib != Self.defaultCacheKiB || walCheckpointPages != nil || SQLProfile.target != nil {
            try db.writeWithoutTransaction { db in
                if kib != Self.defaultCacheKiB { try db.execute(sql: "PRAGMA cache_size = -\(kib)") }
                if let pages = walCheckpointPages { try db.execute(sql: "PRAGMA wal_autocheckpoint = \(max(1, pages))") }
                SQLProfile.attach(db)
            }
        }
        self.policy = Policy(try Self.recordPolicy(db, requested: policy, dataDir: self.dataDir))
        var quick = Configuration()
        quick.readonly = true
        quick.busyMode = .timeout(10)
        quick.maximumReaderCount = 8
        self.quickReaders = try DatabasePool(path: self.dataDir + "/catalog.sqlite", configuration: quick)
        try readCache.watch(db)
    }

    /// Moves rule state transitions recorded by transactions into the event log (in commit order).
    @discardableResult
    public func drainRuleEvents() async throws -> Int {
        let rows = try db.write { db -> [Row] in
            let rows = try Row.fetchAll(db, sql: "SELECT * FROM rule_events ORDER BY seq")
            if !rows.isEmpty { try db.execute(sql: "DELETE FROM rule_events") }
            return rows
        }
        let names = ["R": "replicating", "O": "ok", "S": "stuck", "U": "suspended"]
        for r in rows {
            var fields: [(String, String)] = [
                ("rule", r["rule_id"]), ("did", "\(r["scope"] as String):\(r["name"] as String)"),
                ("from", names[(r["old_state"] as String?) ?? ""] ?? "new"),
            ]
            if let e: String = r["error"] { fields.append(("error", e)) }
            let kind =
                (r["old_state"] as String?) == nil
                ? "added" : (r["new_state"] as String) == RuleStore.deletedMark ? "removed" : names[r["new_state"] as String] ?? "unknown"
            events.append(Date(timeIntervalSince1970: r["time"]), "rule.\(kind)", fields)
        }
        return rows.count
    }

    /// Moves everything the WAL holds into `catalog.sqlite` and empties the WAL, so the catalog file alone holds every
    /// committed change (a clean stop does this; damage to a leftover WAL can then roll nothing back).
    public func checkpoint() throws {
        try db.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
        try recordMark()
    }

    /// Seconds since 1970 on the lake clock.
    public var nowStamp: Double { clock.now().timeIntervalSince1970 }
}

/// Dates are stored as REAL seconds since 1970.
extension Date {
    init?(stamp: Double?) {
        guard let stamp else { return nil }
        self.init(timeIntervalSince1970: stamp)
    }
}

/// Hot-path SQL through the connection's statement cache: the statement is parsed once, then only bound and run.
extension Database {
    func exec(sql: String, arguments: StatementArguments = StatementArguments()) throws {
        try cachedStatement(sql: sql).execute(arguments: arguments)
    }
    func one(sql: String, arguments: StatementArguments = StatementArguments()) throws -> Row? {
        try Row.fetchOne(cachedStatement(sql: sql), arguments: arguments)
    }
    func all(sql: String, arguments: StatementArguments = StatementArguments()) throws -> [Row] {
        try Row.fetchAll(cachedStatement(sql: sql), arguments: arguments)
    }
}

extension Catalog {
    /// A short read on the calling thread. GRDB's async `read` hops to a reader's dispatch queue and back, and for
    /// the one-row lookups that most requests are, those two thread switches cost more than the query itself.
    /// Only for reads that take microseconds.
    ///
    /// These reads use connections of their own. GRDB's async `read` keeps its reader until its task resumes on
    /// the cooperative pool (as many threads as cores); if the pool's threads all waited here for one of those
    /// same readers, nothing could resume to give one back, and the server would hang (it did, under load).
    /// A quick reader is only ever held by a running synchronous block, so a wait here always ends.
    func quickRead<T>(_ block: (Database) throws -> T) throws -> T {
        try quickReaders.read(block)
    }

    /// A quick read whose answer is kept until the catalog's next commit (see `ReadCache`); `key` names the row(s)
    /// read, and must differ between reads that answer differently.
    func cachedRead<T: Sendable>(_ key: String, _ block: (Database) throws -> T) throws -> T {
        try readCache.value(key) { try quickReaders.read(block) }
    }
}
