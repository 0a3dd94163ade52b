public import Foundation
import GRDB

/// One row of a rule's long-term history (Rucio's `rules_history`): the rule as it was when it was created,
/// re-evaluated by the repairer, or deleted.
public struct RuleHistoryEntry: Sendable {
    /// The rule's id.
    public var ruleID: String
    /// Scope of the rule's DID.
    public var scope: String
    /// Name of the rule's DID.
    public var name: String
    /// The account the rule belongs to.
    public var account: String
    /// The RSE expression the rule's locks were placed by.
    public var rseExpression: String
    /// The rule's state at that moment.
    public var state: RuleState
    /// Locks whose replica was AVAILABLE.
    public var locksOK: Int
    /// Locks waiting for a transfer.
    public var locksReplicating: Int
    /// Locks whose transfers had failed for good.
    public var locksStuck: Int
    /// When the rule was created.
    public var createdAt: Date
    /// When the rule last changed before this row was written.
    public var updatedAt: Date
}

/// The locks of one rule on one RSE for the files of one dataset, seen as a whole (Rucio's dataset locks).
public struct DatasetLock: Sendable {
    /// Scope of the dataset.
    public var scope: String
    /// Name of the dataset.
    public var name: String
    /// The rule whose locks these are.
    public var ruleID: String
    /// The RSE the locks are on.
    public var rseID: String
    /// That RSE's name.
    public var rse: String
    /// The rule's account.
    public var account: String
    /// STUCK if any file lock is, else REPLICATING if any is, else OK.
    public var state: LockState
    /// Files in the dataset.
    public var length: Int64
    /// Bytes of the dataset's files.
    public var bytes: Int64
}

extension RuleStore {
    /// Copies a rule as it is now into its long-term history (in the transaction that changed it).
    static func recordHistory(_ db: Database, ruleID: String) throws {
        try db.exec(
            sql: """
                INSERT INTO rules_history (rule_id, scope, name, account, rse_expression, state, locks_ok_cnt, locks_replicating_cnt,
                  locks_stuck_cnt, created_at, updated_at)
                SELECT id, scope, name, account, rse_expression, state, locks_ok_cnt, locks_replicating_cnt, locks_stuck_cnt, created_at, updated_at
                FROM rules WHERE id = ?
                """, arguments: [ruleID])
    }

    /// The history of every rule a DID had, oldest first (`list_replication_rule_full_history`).
    public func fullHistory(scope: String, name: String) async throws -> [RuleHistoryEntry] {
        try await db.read { db in try Self.historyRows(db, where: "scope = ? AND name = ?", [scope, name]) }
    }

    /// The history of one rule, oldest first.
    public func history(ofRule id: String) async throws -> [RuleHistoryEntry] {
        try await db.read { db in try Self.historyRows(db, where: "rule_id = ?", [id]) }
    }

    static func historyRows(_ db: Database, where clause: String, _ args: [any DatabaseValueConvertible]) throws -> [RuleHistoryEntry] {
        try db.all(sql: "SELECT * FROM rules_history WHERE \(clause) ORDER BY created_at, updated_at, seq", arguments: StatementArguments(args)).map {
            RuleHistoryEntry(
                ruleID: $0["rule_id"], scope: $0["scope"], name: $0["name"], account: $0["account"], rseExpression: $0["rse_expression"],
                state: RuleState(rawValue: $0["state"]) ?? .replicating, locksOK: $0["locks_ok_cnt"], locksReplicating: $0["locks_replicating_cnt"],
                locksStuck: $0["locks_stuck_cnt"], createdAt: Date(timeIntervalSince1970: $0["created_at"]),
                updatedAt: Date(timeIntervalSince1970: $0["updated_at"]))
        }
    }

    /// Rules that hold a lock on a file, each with the bytes of the rule's own DID (`list_associated_rules_for_file`).
    public func associatedRules(scope: String, name: String) async throws -> [Rule] {
        try await db.read { db in
            _ = try DIDStore.did(db, scope, name)
            return try db.all(
                sql: """
                    SELECT r.*, d.bytes AS did_bytes FROM rules r JOIN dids d ON d.scope = r.scope AND d.name = r.name
                    WHERE r.id IN (SELECT rule_id FROM locks WHERE scope = ? AND name = ?) ORDER BY r.created_at, r.id
                    """, arguments: [scope, name]
            ).map { row in
                var rule = Rule(row: row)
                rule.bytes = row["did_bytes"]
                return rule
            }
        }
    }

    /// The dataset locks of datasets (`get_dataset_locks`, `get_locks_for_dids`).
    public func datasetLocks(of datasets: [DIDRef]) async throws -> [DatasetLock] {
        try await db.read { db in
            var out: [DatasetLock] = []
            for ds in datasets { out += try Self.datasetLockRows(db, where: "c.scope = ? AND c.name = ?", [ds.scope, ds.name]) }
            return out
        }
    }

    /// The dataset locks on an RSE (`get_dataset_locks_by_rse`).
    public func datasetLocks(onRSE rse: String) async throws -> [DatasetLock] {
        try await db.read { db in
            let r = try RSEStore.rse(db, name: rse)
            return try Self.datasetLockRows(db, where: "l.rse_id = ?", [r.id])
        }
    }

    /// File locks grouped by dataset, rule and RSE, for rules that keep a dataset together (grouping ALL or DATASET).
    static func datasetLockRows(_ db: Database, where clause: String, _ args: [any DatabaseValueConvertible]) throws -> [DatasetLock] {
        try db.all(
            sql: """
                SELECT c.scope AS ds_scope, c.name AS ds_name, l.rule_id, l.rse_id, s.rse, r.account,
                  SUM(l.state = \(LockState.stuck.sql)) AS stuck, SUM(l.state = \(LockState.replicating.sql)) AS replicating,
                  (SELECT COUNT(*) FROM contents x WHERE x.scope = c.scope AND x.name = c.name) AS length,
                  (SELECT COALESCE(SUM(x.bytes), 0) FROM contents x WHERE x.scope = c.scope AND x.name = c.name) AS bytes
                FROM locks l JOIN contents c ON c.child_scope = l.scope AND c.child_name = l.name AND c.did_type = 'DATASET'
                JOIN rules r ON r.id = l.rule_id AND r.grouping != 'NONE' AND ((r.scope = c.scope AND r.name = c.name) OR r.did_type = 'CONTAINER')
                JOIN rses s ON s.id = l.rse_id
                WHERE \(clause) GROUP BY c.scope, c.name, l.rule_id, l.rse_id ORDER BY c.scope, c.name, s.rse, l.rule_id
                """, arguments: StatementArguments(args)
        ).map { row in
            let stuck: Int = row["stuck"]
            let replicating: Int = row["replicating"]
            return DatasetLock(
                scope: row["ds_scope"], name: row["ds_name"], ruleID: row["rule_id"], rseID: row["rse_id"], rse: row["rse"],
                account: row["account"], state: stuck > 0 ? .stuck : (replicating > 0 ? .replicating : .ok),
                length: row["length"], bytes: row["bytes"])
        }
    }
}
