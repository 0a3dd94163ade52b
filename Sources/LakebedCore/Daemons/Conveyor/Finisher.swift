public import Foundation
import GRDB

/// The conveyor's finisher: records what FTS reports (replicas AVAILABLE, locks OK; or retries, then STUCK).
public struct ConveyorFinisher: CatalogStore {
    /// The catalog this works on.
    public let catalog: Catalog
    /// Works on `catalog`.
    public init(catalog: Catalog) { self.catalog = catalog }

    /// Outcome of finishing one request, for the caller's event log.
    public enum FinishOutcome: Sendable, Equatable {
        /// The replica is AVAILABLE.
        case done
        /// The request will be tried again at the given time.
        case retry(at: Date)
        /// Attempts are exhausted: locks are STUCK.
        case stuck
        /// Nobody wants the bytes any more (rule removed meanwhile): they were dropped.
        case orphaned
    }

    /// The conveyor's finisher for a successful transfer: the destination replica becomes AVAILABLE (its bytes
    /// are already in place and verified), locks turn OK and rules are recounted — all in one transaction.
    public func transferSucceeded(requestID: String, at time: Date, virtual: Bool) async throws -> FinishOutcome {
        let t = time.timeIntervalSince1970
        return try await db.write { db in try self.succeed(db, requestID: requestID, t: t, virtual: virtual) }
    }

    /// The end of many transfers at one instant, in one transaction (`failure` nil = success). The rules' counters
    /// move in memory and are written once per rule at the end (`RuleCounterBatch`): the same rows and rule events
    /// as finishing the transfers one by one.
    public func finishTransfers(
        _ items: [(requestID: String, failure: String?, virtual: Bool)], at time: Date, policy: RetryPolicy
    ) async throws -> [FinishOutcome] {
        let t = time.timeIntervalSince1970
        return try await db.write { db in
            let counters = RuleCounterBatch()
            // Successes create no bad replica, so whether any waits for recovery holds for the whole batch.
            let badReplicas = try db.one(sql: "SELECT 1 FROM bad_replicas WHERE state = \(BadReplicaState.bad.sql) LIMIT 1") != nil
            let outcomes = try items.map { item in
                if let f = item.failure { return try Self.fail(db, requestID: item.requestID, reason: f, t: t, policy: policy, counters: counters) }
                return try self.succeed(db, requestID: item.requestID, t: t, virtual: item.virtual, counters: counters, badReplicas: badReplicas)
            }
            try counters.flush(db)
            return outcomes
        }
    }

    func succeed(
        _ db: Database, requestID: String, t: Double, virtual: Bool, counters: RuleCounterBatch? = nil, badReplicas: Bool = true
    ) throws -> FinishOutcome {
        do {
            guard
                let row = try db.one(
                    sql: "SELECT scope, name, dest_rse_id FROM requests WHERE id = ? AND state = \(RequestState.submitted.sql)", arguments: [requestID])
            else { return .orphaned }
            let scope: String = row["scope"]
            let name: String = row["name"]
            let rseID: String = row["dest_rse_id"]
            try db.exec(
                sql:
                    "UPDATE replicas SET state = \(ReplicaState.available.sql), virtual = ?, unverified = 0, updated_at = ?, accessed_at = NULL WHERE rse_id = ? AND scope = ? AND name = ?",
                arguments: [virtual ? 1 : 0, t, rseID, scope, name])
            guard db.changesCount > 0 else {
                // No replica to receive the bytes (its rule went away meanwhile).
                try db.exec(
                    sql: "UPDATE requests SET state = \(RequestState.done.sql), transferred_at = ?, updated_at = ? WHERE id = ?",
                    arguments: [t, t, requestID])
                return .orphaned
            }
            try db.exec(
                sql: "UPDATE requests SET state = \(RequestState.done.sql), transferred_at = ?, err_msg = NULL, updated_at = ? WHERE id = ?",
                arguments: [t, t, requestID])
            try catalog.rules.replicaBecameAvailable(
                db, rseID: rseID, scope: scope, name: name, now: t, counters: counters, finishedRequest: true, badReplicas: badReplicas)
            return .done
        }
    }

    /// The conveyor's finisher for a failed transfer: retry with back-off, or, when attempts are exhausted, mark
    /// the request FAILED, its locks STUCK and its rules STUCK with the error.
    public func transferFailed(requestID: String, reason: String, at time: Date, policy: RetryPolicy) async throws -> FinishOutcome {
        let t = time.timeIntervalSince1970
        return try await db.write { db in try Self.fail(db, requestID: requestID, reason: reason, t: t, policy: policy) }
    }

    static func fail(
        _ db: Database, requestID: String, reason: String, t: Double, policy: RetryPolicy, counters: RuleCounterBatch? = nil
    ) throws -> FinishOutcome {
        do {
            guard let row = try db.one(sql: "SELECT * FROM requests WHERE id = ? AND state = \(RequestState.submitted.sql)", arguments: [requestID])
            else { return .orphaned }
            let attempts = (row["retry_count"] as Int) + 1
            if attempts < policy.maxAttempts {
                let wake = t + policy.baseDelay * pow(2, Double(attempts - 1))
                try db.exec(
                    sql: """
                        UPDATE requests SET state = \(RequestState.queued.sql), retry_count = ?, err_msg = ?, not_before = ?, source_rse_id = NULL, external_id = NULL,
                          submitted_at = NULL, started_at = NULL, updated_at = ? WHERE id = ?
                        """, arguments: [attempts, reason, wake, t, requestID])
                return .retry(at: Date(timeIntervalSince1970: wake))
            }
            try db.exec(
                sql: "UPDATE requests SET state = \(RequestState.failed.sql), retry_count = ?, err_msg = ?, updated_at = ? WHERE id = ?",
                arguments: [attempts, reason, t, requestID])
            let scope: String = row["scope"]
            let name: String = row["name"]
            let rseID: String = row["dest_rse_id"]
            let ruleIDs = try String.fetchAll(
                db, sql: "SELECT rule_id FROM locks WHERE scope = ? AND name = ? AND rse_id = ? AND state = \(LockState.replicating.sql)",
                arguments: [scope, name, rseID])
            try db.exec(
                sql:
                    "UPDATE locks SET state = \(LockState.stuck.sql), updated_at = ? WHERE scope = ? AND name = ? AND rse_id = ? AND state = \(LockState.replicating.sql)",
                arguments: [t, scope, name, rseID])
            for id in ruleIDs {
                if let counters {
                    try counters.bump(db, id: id, ok: 0, replicating: -1, stuck: 1, now: t, error: String(reason.prefix(255)))
                } else {
                    try RuleStore.bumpRuleCounters(db, id: id, ok: 0, replicating: -1, stuck: 1, now: t, error: String(reason.prefix(255)))
                }
            }
            return .stuck
        }
    }
}
