import Foundation
import GRDB

/// Rucio's necromancer: replicas declared BAD are recovered from another copy (their locks go back to REPLICATING
/// with a new transfer request), or, when no other copy is AVAILABLE or TEMPORARY_UNAVAILABLE, marked LOST (their
/// locks are dropped, the file becomes LOST and the replica is left to the reaper). A bad replica no rule locks is
/// simply deleted.
public struct Necromancer: CatalogStore {
    /// The catalog this works on.
    public let catalog: Catalog
    /// Works on `catalog`.
    public init(catalog: Catalog) { self.catalog = catalog }

    /// What one pass did.
    public struct Report: Sendable, Equatable {
        /// Bad replicas with a new transfer request from another copy.
        public var recovering = 0
        /// Bad replicas that were the last copy.
        public var lost = 0
        /// Bad replicas no rule needed, deleted.
        public var deleted = 0
    }

    static let pendingSQL = """
        SELECT DISTINCT b.scope, b.name, b.rse_id FROM bad_replicas b
        JOIN replicas p ON p.rse_id = b.rse_id AND p.scope = b.scope AND p.name = b.name
        WHERE b.state = \(BadReplicaState.bad.sql) AND p.state = \(ReplicaState.bad.sql) ORDER BY b.seq
        """

    /// Whether a declared bad replica waits for the necromancer (the lake driver then stops at once).
    public func hasWork() async throws -> Bool {
        try await db.read { db in try Row.fetchOne(db, sql: Self.pendingSQL + " LIMIT 1") != nil }
    }

    /// One pass over the bad replicas waiting.
    @discardableResult
    public func run() async throws -> Report {
        // Every tick asks; a read answers the usual "nothing declared bad" without taking the write lock.
        guard try await hasWork() else { return Report() }
        let now = nowStamp
        let (report, log, stale) = try await db.write { db -> (Report, [(String, [(String, String)])], [String]) in
            var report = Report()
            var log: [(String, [(String, String)])] = []
            var stale: [String] = []
            for row in try db.all(sql: Self.pendingSQL) {
                let scope: String = row["scope"]
                let name: String = row["name"]
                let rseID: String = row["rse_id"]
                let rse = try RSEStore.rse(db, id: rseID)
                let fields = [("did", "\(scope):\(name)"), ("rse", rse.rse)]
                let others =
                    try Int.fetchOne(
                        db,
                        sql:
                            "SELECT COUNT(*) FROM replicas WHERE scope = ? AND name = ? AND rse_id != ? AND state IN \([ReplicaState.available, .temporaryUnavailable].sql)",
                        arguments: [scope, name, rseID]) ?? 0
                let ruleIDs = try String.fetchAll(
                    db, sql: "SELECT rule_id FROM locks WHERE scope = ? AND name = ? AND rse_id = ? ORDER BY rule_id",
                    arguments: [scope, name, rseID])
                if others == 0 {
                    try Self.markLost(db, scope: scope, name: name, rseID: rseID, ruleIDs: ruleIDs, now: now)
                    report.lost += 1
                    log.append(("necromancer.lost", fields))
                } else if ruleIDs.isEmpty {
                    try Self.obsolete(db, scope: scope, name: name, rseID: rseID, now: now)
                    try db.exec(
                        sql:
                            "UPDATE bad_replicas SET state = \(BadReplicaState.deleted.sql), updated_at = ? WHERE scope = ? AND name = ? AND rse_id = ? AND state = \(BadReplicaState.bad.sql)",
                        arguments: [now, scope, name, rseID])
                    report.deleted += 1
                    log.append(("necromancer.deleted", fields))
                } else {
                    if let path = try String.fetchOne(
                        db, sql: "SELECT path FROM replicas WHERE rse_id = ? AND scope = ? AND name = ? AND virtual = 0",
                        arguments: [rseID, scope, name]),
                        let full = try? containedPath(root: rse.root, relative: path)
                    {
                        stale.append(full)
                    }
                    try recover(db, scope: scope, name: name, rse: rse, ruleIDs: ruleIDs, now: now)
                    report.recovering += 1
                    log.append(("necromancer.recovering", fields))
                }
            }
            return (report, log, stale)
        }
        // The bad bytes go once the catalog says COPYING (as the reaper deletes: row first, then bytes); the new
        // transfer writes the file afresh.
        for path in stale { try? FileManager.default.removeItem(atPath: path) }
        for (kind, fields) in log { events.append(Date(timeIntervalSince1970: now), kind, fields) }
        return report
    }

    /// Each lock on the bad replica goes back to REPLICATING with a transfer request; the replica is COPYING again.
    func recover(_ db: Database, scope: String, name: String, rse: RSE, ruleIDs: [String], now: Double) throws {
        let file = try DIDStore.did(db, scope, name)
        try db.exec(
            sql: "UPDATE replicas SET state = \(ReplicaState.copying.sql), updated_at = ? WHERE rse_id = ? AND scope = ? AND name = ?",
            arguments: [now, rse.id, scope, name])
        try db.exec(
            sql: "UPDATE locks SET state = \(LockState.replicating.sql), updated_at = ? WHERE scope = ? AND name = ? AND rse_id = ?",
            arguments: [now, scope, name, rse.id])
        for id in ruleIDs {
            try JudgeEvaluator(catalog: catalog).queueTransfer(db, file: file, rse: rse, rule: try RuleStore.rule(db, id), now: now)
            try RuleStore.recountRule(db, id: id, now: now)
        }
    }

    /// The last copy is gone: its locks go, the file is LOST, the replica is left to the reaper.
    static func markLost(_ db: Database, scope: String, name: String, rseID: String, ruleIDs: [String], now: Double) throws {
        try db.exec(
            sql: "DELETE FROM requests WHERE scope = ? AND name = ? AND dest_rse_id = ? AND state IN \(RequestState.live.sql)",
            arguments: [scope, name, rseID])
        try db.exec(sql: "DELETE FROM locks WHERE scope = ? AND name = ? AND rse_id = ?", arguments: [scope, name, rseID])
        for id in ruleIDs { try RuleStore.recountRule(db, id: id, now: now) }
        try obsolete(db, scope: scope, name: name, rseID: rseID, now: now)
        try db.exec(sql: "UPDATE dids SET availability = 'LOST', updated_at = ? WHERE scope = ? AND name = ?", arguments: [now, scope, name])
        try db.exec(
            sql:
                "UPDATE bad_replicas SET state = \(BadReplicaState.lost.sql), updated_at = ? WHERE scope = ? AND name = ? AND rse_id = ? AND state = \(BadReplicaState.bad.sql)",
            arguments: [now, scope, name, rseID])
    }

    /// The replica is UNAVAILABLE with a tombstone of now and no locks: the reaper deletes it (row, then bytes).
    static func obsolete(_ db: Database, scope: String, name: String, rseID: String, now: Double) throws {
        try db.exec(
            sql:
                "UPDATE replicas SET state = \(ReplicaState.unavailable.sql), lock_cnt = 0, tombstone = ?, updated_at = ? WHERE rse_id = ? AND scope = ? AND name = ?",
            arguments: [now, now, rseID, scope, name])
    }
}
