public import Foundation
import GRDB

/// Rucio's judge-repairer: gives STUCK locks another transfer request after a delay.
public struct JudgeRepairer: CatalogStore {
    /// The catalog this works on.
    public let catalog: Catalog
    /// Works on `catalog`.
    public init(catalog: Catalog) { self.catalog = catalog }

    /// Stuck locks go back to REPLICATING with a fresh transfer request.
    func retryStuckLocks(_ db: Database, ruleID: String, now: Double) throws {
        let rule = try RuleStore.rule(db, ruleID)
        for l in try db.all(sql: "SELECT scope, name, rse_id FROM locks WHERE rule_id = ? AND state = 'S'", arguments: [ruleID]) {
            try db.exec(sql: "UPDATE locks SET state = 'R', repair_cnt = repair_cnt + 1, updated_at = ? WHERE rule_id = ? AND scope = ? AND name = ? AND rse_id = ?", arguments: [now, ruleID, l["scope"], l["name"], l["rse_id"]])
            let file = try DIDStore.did(db, l["scope"], l["name"])
            try JudgeEvaluator(catalog: catalog).queueTransfer(db, file: file, rse: try RSEStore.rse(db, id: l["rse_id"]), rule: rule, now: now)
        }
    }

    /// The judge-repairer: rules STUCK for longer than `repairDelay` get their stuck locks retried.
    public func repairStuckRules(at time: Date, policy: RetryPolicy) async throws -> Int {
        let t = time.timeIntervalSince1970
        return try await db.write { db in
            let ids = try String.fetchAll(db, sql: "SELECT id FROM rules WHERE state = 'S' AND stuck_at IS NOT NULL AND stuck_at <= ? ORDER BY id", arguments: [t - policy.repairDelay])
            for id in ids {
                try db.exec(sql: "DELETE FROM requests WHERE state = 'FAILED' AND rule_id = ?", arguments: [id])
                try self.retryStuckLocks(db, ruleID: id, now: t)
                try RuleStore.recountRule(db, id: id, now: t)
                try RuleStore.recordHistory(db, ruleID: id)
            }
            return ids.count
        }
    }

    /// The earliest time the repairer will act on a stuck rule.
    public func nextRepairTime(policy: RetryPolicy) async throws -> Date? {
        try await db.read { db in
            try Double.fetchOne(db, sql: "SELECT MIN(stuck_at) FROM rules WHERE state = 'S' AND stuck_at IS NOT NULL").map { Date(timeIntervalSince1970: $0 + policy.repairDelay) }
        }
    }
}
