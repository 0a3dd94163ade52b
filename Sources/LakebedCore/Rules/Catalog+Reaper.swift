import Foundation
import GRDB

extension Catalog {
    /// What one pass of the housekeeping daemons did.
    public struct HousekeepingReport: Sendable, Equatable {
        public var expiredRules: Int = 0
        public var reapedReplicas: Int = 0
        public var reapedBytes: Int64 = 0
        public var repairedRules: Int = 0
    }

    /// Deletes rules whose lifetime has passed (unless locked), as the judge-cleaner does.
    public func expireRules() async throws -> Int {
        let now = nowStamp
        return try await db.write { db in
            let rules = try Row.fetchAll(db, sql: "SELECT * FROM rules WHERE expires_at IS NOT NULL AND expires_at <= ? AND locked = 0", arguments: [now]).map(Rule.init(row:))
            for r in rules { try Self.deleteRuleInTransaction(db, rule: r, purge: r.purgeReplicas, now: now) }
            return rules.count
        }
    }

    /// Removes unlocked replicas whose tombstone has passed: catalog row first (in one transaction), then the bytes.
    ///
    /// Deleting the row first means a crash in between leaves an orphan file, never a registered replica without bytes.
    public func reap(limit: Int = 1000) async throws -> (count: Int, bytes: Int64) {
        let now = nowStamp
        let (victims, bytes) = try await db.write { db -> ([(String, Bool)], Int64) in
            var victims: [(String, Bool)] = []
            var bytes: Int64 = 0
            let rows = try Row.fetchAll(db, sql: """
                SELECT r.*, s.root, s.availability_delete FROM replicas r JOIN rses s ON s.id = r.rse_id
                WHERE r.tombstone IS NOT NULL AND r.tombstone <= ? AND r.lock_cnt = 0 LIMIT ?
                """, arguments: [now, limit])
            for row in rows {
                guard (row["availability_delete"] as Bool) else { continue }
                let r = Replica(row: row)
                // Keep replicas a transfer still uses as source.
                try db.execute(sql: "DELETE FROM replicas WHERE rse_id = ? AND scope = ? AND name = ?", arguments: [r.rseID, r.scope, r.name])
                try db.execute(sql: "DELETE FROM requests WHERE scope = ? AND name = ? AND dest_rse_id = ? AND state IN ('QUEUED', 'SUBMITTED', 'WAITING')", arguments: [r.scope, r.name, r.rseID])
                if let p = try? containedPath(root: row["root"], relative: r.path) { victims.append((p, r.isVirtual)) }
                bytes += r.bytes
            }
            return (victims, bytes)
        }
        for (p, isVirtual) in victims where !isVirtual {
            try? FileManager.default.removeItem(atPath: p)
            try? FileManager.default.removeItem(atPath: p + ".lakebed-part")
        }
        return (victims.count, bytes)
    }

    /// One housekeeping pass: expire rules, then reap.
    public func housekeeping() async throws -> HousekeepingReport {
        var rep = HousekeepingReport()
        rep.expiredRules = try await expireRules() + (try await retireMovedRules())
        let r = try await reap()
        rep.reapedReplicas = r.count
        rep.reapedBytes = r.bytes
        return rep
    }
}
