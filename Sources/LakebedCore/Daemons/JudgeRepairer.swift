public import Foundation
import GRDB

/// Rucio's judge-repairer: gives STUCK locks another transfer request after a wait that grows with every attempt
/// (`RetryPolicy.repairWait(attempt:)`).
public struct JudgeRepairer: CatalogStore {
    /// The catalog this works on.
    public let catalog: Catalog
    /// Works on `catalog`.
    public init(catalog: Catalog) { self.catalog = catalog }

    /// The attempt the next retry of a rule's stuck locks will be: one more than its locks were repaired so far.
    static let nextAttemptSQL = "1 + (SELECT COALESCE(MAX(l.repair_cnt), 0) FROM locks l WHERE l.rule_id = rules.id)"
    /// The lake time of a STUCK rule's next retry (`?` = `repairDelay`): the wait counts from when it went STUCK.
    static let dueSQL = "stuck_at + ? * MIN(\(RetryPolicy.repairSteps), \(nextAttemptSQL))"

    /// Stuck locks go back to REPLICATING with a fresh transfer request.
    func retryStuckLocks(_ db: Database, ruleID: String, now: Double) throws {
        let rule = try RuleStore.rule(db, ruleID)
        for l in try db.all(sql: "SELECT scope, name, rse_id FROM locks WHERE rule_id = ? AND state = \(LockState.stuck.sql)", arguments: [ruleID]) {
            try db.exec(
                sql:
                    "UPDATE locks SET state = \(LockState.replicating.sql), repair_cnt = repair_cnt + 1, updated_at = ? WHERE rule_id = ? AND scope = ? AND name = ? AND rse_id = ?",
                arguments: [now, ruleID, l["scope"], l["name"], l["rse_id"]])
            let file = try DIDStore.did(db, l["scope"], l["name"])
            try JudgeEvaluator(catalog: catalog).queueTransfer(db, file: file, rse: try RSEStore.rse(db, id: l["rse_id"]), rule: rule, now: now)
        }
    }

    /// The judge-repairer: rules whose wait is over get their stuck locks retried.
    public func repairStuckRules(at time: Date, policy: RetryPolicy) async throws -> Int {
        let t = time.timeIntervalSince1970
        return try await db.write { db in
            let due = "SELECT id FROM rules WHERE state = \(RuleState.stuck.sql) AND stuck_at IS NOT NULL AND \(Self.dueSQL) <= ? ORDER BY id"
            let ids = try String.fetchAll(db, sql: due, arguments: [policy.repairDelay, t])
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
            let next = "SELECT MIN(\(Self.dueSQL)) FROM rules WHERE state = \(RuleState.stuck.sql) AND stuck_at IS NOT NULL"
            return try Double.fetchOne(db, sql: next, arguments: [policy.repairDelay]).map { Date(timeIntervalSince1970: $0) }
        }
    }

    /// When each STUCK rule among `rules` will be retried next (on the catalog's retry policy); others are left as they are.
    static func planned(_ db: Database, _ rules: [Rule], policy: RetryPolicy) throws -> [Rule] {
        try rules.map { rule in
            guard rule.state == .stuck, let stuckAt = rule.stuckAt else { return rule }
            var r = rule
            let attempt = try Int.fetchOne(db, sql: "SELECT COALESCE(MAX(repair_cnt), 0) + 1 FROM locks WHERE rule_id = ?", arguments: [rule.id]) ?? 1
            r.repair = RepairPlan(attempt: attempt, at: stuckAt.addingTimeInterval(policy.repairWait(attempt: attempt)))
            return r
        }
    }
}
