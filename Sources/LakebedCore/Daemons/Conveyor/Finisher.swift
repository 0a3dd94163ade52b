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
    ///
    /// When every transfer of the instant succeeded, they are recorded set-based (`succeedAll`); `setBased: false`
    /// records them one by one in the same transaction (the tests compare the two).
    public func finishTransfers(
        _ items: [(requestID: String, failure: String?, virtual: Bool)], at time: Date, policy: RetryPolicy, setBased: Bool = true
    ) async throws -> [FinishOutcome] {
        let t = time.timeIntervalSince1970
        return try await db.write { db in
            let counters = RuleCounterBatch()
            // Successes create no bad replica, so whether any waits for recovery holds for the whole batch.
            let badReplicas = try db.one(sql: "SELECT 1 FROM bad_replicas WHERE state = \(BadReplicaState.bad.sql) LIMIT 1") != nil
            if setBased && items.count > 1 && items.allSatisfy({ $0.failure == nil }) {
                let outcomes = try self.succeedAll(db, items.map { ($0.requestID, $0.virtual) }, t: t, counters: counters, badReplicas: badReplicas)
                try counters.flush(db)
                return outcomes
            }
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

    /// Successful transfers of one instant, set-based: a handful of statements for the whole batch instead of six per
    /// transfer. The same rows as `succeed` for each in turn: the ended requests DONE, their destination replicas
    /// AVAILABLE, the replicas' locks OK, recovered bad replicas marked; and the rule counters moved lock by lock in the
    /// order `succeed` moves them (transfer by transfer, each replica's locks by rule id), so the rule events are the
    /// same too. A request no longer SUBMITTED, or whose replica went away, is `.orphaned`, as there.
    func succeedAll(
        _ db: Database, _ items: [(requestID: String, virtual: Bool)], t: Double, counters: RuleCounterBatch, badReplicas: Bool
    ) throws -> [FinishOutcome] {
        // The batch as [[request id, virtual], …]; `key` is each transfer's place in it.
        let batch = JSON.array(items.map { JSON.array([.string($0.requestID), .int($0.virtual ? 1 : 0)]) }).serialized()
        // The requests still SUBMITTED, in the batch's order. Columns: 0 place, 1 id, 2 scope, 3 name, 4 destination.
        let live = try db.all(
            sql: """
                SELECT j.key, q.id, q.scope, q.name, q.dest_rse_id FROM json_each(?) j JOIN requests q ON q.id = j.value ->> 0
                WHERE q.state = \(RequestState.submitted.sql) ORDER BY j.key
                """, arguments: [batch])
        guard !live.isEmpty else { return items.map { _ in .orphaned } }
        // Their replicas become AVAILABLE; a transfer whose replica went away (its rule removed meanwhile) finds none.
        // The replicas as [[scope, name, rse, virtual], …], so that SQLite walks the batch and looks each one up.
        let targets = JSON.array(
            live.map { row in
                JSON.array([.string(row[2]), .string(row[3]), .string(row[4]), .int(items[row[0] as Int].virtual ? 1 : 0)])
            }
        ).serialized()
        let arrived = try db.all(
            sql: """
                UPDATE replicas SET state = \(ReplicaState.available.sql), virtual = e.virtual, unverified = 0, updated_at = ?, accessed_at = NULL
                FROM (SELECT j.value ->> 0 AS scope, j.value ->> 1 AS name, j.value ->> 2 AS rse, j.value ->> 3 AS virtual FROM json_each(?) j) e
                WHERE replicas.rse_id = e.rse AND replicas.scope = e.scope AND replicas.name = e.name
                RETURNING replicas.rse_id, replicas.scope, replicas.name
                """, arguments: [t, targets])
        var landed = Set<String>()
        for row in arrived { landed.insert("\(row[0] as String)\u{0}\(row[1] as String)\u{0}\(row[2] as String)") }
        var done = Set<Int>()
        var withReplica: [JSON] = []
        var replicas: [JSON] = []
        var without: [JSON] = []
        for row in live {
            let (k, id, scope, name, rse): (Int, String, String, String, String) = (row[0], row[1], row[2], row[3], row[4])
            if landed.contains("\(rse)\u{0}\(scope)\u{0}\(name)") {
                done.insert(k)
                withReplica.append(.string(id))
                replicas.append(.array([.string(scope), .string(name), .string(rse)]))
            } else {
                without.append(.string(id))
            }
        }
        if !withReplica.isEmpty {
            try db.exec(
                sql: """
                    UPDATE requests SET state = \(RequestState.done.sql), transferred_at = ?, err_msg = NULL, updated_at = ?
                    WHERE id IN (SELECT value FROM json_each(?))
                    """, arguments: [t, t, JSON.array(withReplica).serialized()])
        }
        if !without.isEmpty {
            // No replica to receive the bytes.
            try db.exec(
                sql: "UPDATE requests SET state = \(RequestState.done.sql), transferred_at = ?, updated_at = ? WHERE id IN (SELECT value FROM json_each(?))",
                arguments: [t, t, JSON.array(without).serialized()])
        }
        guard !replicas.isEmpty else { return items.map { _ in .orphaned } }
        // The replicas that arrived, in the batch's order: [[scope, name, rse], …].
        let arrivedReplicas = "SELECT j.value ->> 0 AS scope, j.value ->> 1 AS name, j.value ->> 2 AS rse, j.key AS k FROM json_each(?) j"
        let triples = JSON.array(replicas).serialized()
        // Their locks not yet OK, in the order `succeed` counts them: transfer by transfer, then by rule id.
        let changed = try db.all(
            sql: """
                SELECT l.rule_id, l.state FROM (\(arrivedReplicas)) a JOIN locks l ON l.scope = a.scope AND l.name = a.name AND l.rse_id = a.rse
                WHERE l.state != \(LockState.ok.sql) ORDER BY a.k, l.rule_id
                """, arguments: [triples])
        if !changed.isEmpty {
            try db.exec(
                sql: """
                    UPDATE locks SET state = \(LockState.ok.sql), updated_at = ? FROM (\(arrivedReplicas)) a
                    WHERE locks.scope = a.scope AND locks.name = a.name AND locks.rse_id = a.rse AND locks.state != \(LockState.ok.sql)
                    """, arguments: [t, triples])
        }
        if badReplicas {
            // Replicas the necromancer was recovering are whole again.
            try db.exec(
                sql: """
                    UPDATE bad_replicas SET state = \(BadReplicaState.recovered.sql), updated_at = ? FROM (\(arrivedReplicas)) a
                    WHERE bad_replicas.scope = a.scope AND bad_replicas.name = a.name AND bad_replicas.rse_id = a.rse
                      AND +bad_replicas.state = \(BadReplicaState.bad.sql)
                    """, arguments: [t, triples])
        }
        // Counters move by the changed locks only, as in `replicaBecameAvailable`.
        for row in changed { try RuleStore.countLockOK(db, ruleID: row[0], was: row[1], now: t, counters: counters) }
        return items.indices.map { done.contains($0) ? .done : .orphaned }
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
