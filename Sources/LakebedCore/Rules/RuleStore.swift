import Foundation
import GRDB

/// Replication rules and their locks: reading, changing and deleting them (Rucio's `core/rule.py`, `core/lock.py`).
public struct RuleStore: CatalogStore {
    /// The catalog this works on.
    public let catalog: Catalog
    /// Works on `catalog`.
    public init(catalog: Catalog) { self.catalog = catalog }

    /// The `new_state` a rule event gets when the rule is removed (not a rule state: the rule is gone).
    static let deletedMark = "X"

    /// Adds rules (one per DID) and evaluates them into locks, replicas and transfer requests.
    public func addRules(_ spec: RuleSpec, issuer: Issuer) async throws -> [String] {
        try await db.write { db in try JudgeEvaluator(catalog: catalog).addRuleInTransaction(db, spec, issuer: issuer) }
    }

    /// Moves a rule's lock counters by deltas and stores them with the state they imply.
    static func bumpRuleCounters(_ db: Database, id: String, ok: Int, replicating: Int, stuck: Int, now: Double, error: String? = nil) throws {
        guard
            let row = try db.one(
                sql: "SELECT state, scope, name, error, locks_ok_cnt, locks_replicating_cnt, locks_stuck_cnt FROM rules WHERE id = ?", arguments: [id]
            )
        else { return }
        let counts = LockCounts(
            ok: max(0, (row["locks_ok_cnt"] as Int) + ok), replicating: max(0, (row["locks_replicating_cnt"] as Int) + replicating),
            stuck: max(0, (row["locks_stuck_cnt"] as Int) + stuck))
        try storeLockCounts(db, id: id, counts, rule: row, error: error, recountBytes: false, now: now)
    }

    /// Recomputes a rule's lock counters (and bytes) from its locks and stores them with the state they imply.
    static func recountRule(_ db: Database, id: String, now: Double) throws {
        guard
            let row = try db.one(
                sql: """
                    SELECT SUM(state = ?) AS ok, SUM(state = ?) AS rep, SUM(state = ?) AS stuck FROM locks WHERE rule_id = ?
                    """, arguments: [LockState.ok, LockState.replicating, LockState.stuck, id])
        else { return }
        let counts = LockCounts(ok: (row["ok"] as Int?) ?? 0, replicating: (row["rep"] as Int?) ?? 0, stuck: (row["stuck"] as Int?) ?? 0)
        guard let rule = try db.one(sql: "SELECT state, scope, name, error FROM rules WHERE id = ?", arguments: [id]) else { return }
        try storeLockCounts(db, id: id, counts, rule: rule, error: nil, recountBytes: true, now: now)
    }

    /// The one place a rule's state is derived: stores its lock counters and the state they imply (a SUSPENDED rule
    /// stays so), records a transition in `rule_events`, and keeps an error only while STUCK (`error`, or the one it had).
    private static func storeLockCounts(
        _ db: Database, id: String, _ counts: LockCounts, rule row: Row, error: String?, recountBytes: Bool,
        now: Double
    ) throws {
        let current = RuleState(rawValue: row["state"]) ?? .replicating
        let state = current == .suspended ? .suspended : counts.ruleState
        let err: String? = state == .stuck ? (error ?? row["error"]) : nil
        let bytes =
            recountBytes ? ", bytes = (SELECT COALESCE(SUM(bytes), 0) FROM (SELECT DISTINCT scope, name, bytes FROM locks WHERE rule_id = ?))" : ""
        var args: StatementArguments = [counts.ok, counts.replicating, counts.stuck, state, err, state, RuleState.stuck, now, now]
        if recountBytes { args += [id] }
        args += [id]
        try db.exec(
            sql: """
                UPDATE rules SET locks_ok_cnt = ?, locks_replicating_cnt = ?, locks_stuck_cnt = ?, state = ?, error = ?,
                  stuck_at = CASE WHEN ? = ? THEN COALESCE(stuck_at, ?) ELSE NULL END, updated_at = ?\(bytes) WHERE id = ?
                """, arguments: args)
        if state.rawValue != (row["state"] as String) {
            try db.exec(
                sql: "INSERT INTO rule_events (time, rule_id, scope, name, old_state, new_state, error) VALUES (?, ?, ?, ?, ?, ?, ?)",
                arguments: [now, id, row["scope"], row["name"], row["state"] as String, state, err])
        }
    }

    /// A replica reached AVAILABLE: its locks turn OK, their rules are recounted and its requests are done.
    /// `counters`: a batch to move the rules' counters in (the conveyor's finisher, many transfers per transaction);
    /// nil moves them now. `finishedRequest`: the caller has just set the replica's one live request DONE (a replica
    /// has at most one, `requests_active`), so there is none left to close. `badReplicas` false: the caller knows
    /// no bad replica waits for recovery, so there is none to mark recovered.
    func replicaBecameAvailable(
        _ db: Database, rseID: String, scope: String, name: String, now: Double, counters: RuleCounterBatch? = nil,
        finishedRequest: Bool = false, badReplicas: Bool = true
    ) throws {
        let changed = try db.all(
            sql: "SELECT rule_id, state FROM locks WHERE scope = ? AND name = ? AND rse_id = ? AND state != \(LockState.ok.sql)",
            arguments: [scope, name, rseID])
        if !changed.isEmpty {
            try db.exec(
                sql:
                    "UPDATE locks SET state = \(LockState.ok.sql), updated_at = ? WHERE scope = ? AND name = ? AND rse_id = ? AND state != \(LockState.ok.sql)",
                arguments: [now, scope, name, rseID])
        }
        if !finishedRequest {
            try db.exec(
                sql:
                    "UPDATE requests SET state = \(RequestState.done.sql), transferred_at = COALESCE(transferred_at, ?), updated_at = ? WHERE scope = ? AND name = ? AND dest_rse_id = ? AND state IN \(RequestState.live.sql)",
                arguments: [now, now, scope, name, rseID])
        }
        // A replica the necromancer was recovering is whole again.
        if badReplicas {
            try db.exec(
                sql:
                    "UPDATE bad_replicas SET state = \(BadReplicaState.recovered.sql), updated_at = ? WHERE scope = ? AND name = ? AND rse_id = ? AND state = \(BadReplicaState.bad.sql)",
                arguments: [now, scope, name, rseID])
        }
        // Counters move by the changed locks only (no recount over a rule's every lock: rules can hold millions).
        for row in changed { try Self.countLockOK(db, ruleID: row["rule_id"], was: row["state"], now: now, counters: counters) }
    }

    /// A lock of rule `ruleID` in state `was` (REPLICATING or STUCK) turned OK: the rule's counters move by it, in
    /// `counters` when the caller batches them.
    static func countLockOK(_ db: Database, ruleID: String, was: String, now: Double, counters: RuleCounterBatch?) throws {
        let (replicating, stuck) = (was == LockState.replicating.rawValue ? -1 : 0, was == LockState.stuck.rawValue ? -1 : 0)
        if let counters {
            try counters.bump(db, id: ruleID, ok: 1, replicating: replicating, stuck: stuck, now: now)
        } else {
            try bumpRuleCounters(db, id: ruleID, ok: 1, replicating: replicating, stuck: stuck, now: now)
        }
    }

    /// Rules on `parent` or any of its ancestors.
    static func rulesCovering(_ db: Database, _ parent: DIDRef) throws -> [Rule] {
        try db.all(
            sql: """
                WITH RECURSIVE up(scope, name) AS (SELECT ?, ? UNION SELECT c.scope, c.name FROM contents c JOIN up ON c.child_scope = up.scope AND c.child_name = up.name)
                SELECT r.* FROM rules r JOIN up ON r.scope = up.scope AND r.name = up.name ORDER BY r.created_at, r.id
                """, arguments: [parent.scope, parent.name]
        ).map(Rule.init(row:))
    }

    /// Drops one lock; a replica left unlocked gets a tombstone (now, or the epoch when purging) for the reaper.
    static func releaseLock(_ db: Database, ruleID: String, scope: String, name: String, rseID: String, purge: Bool, now: Double) throws {
        try db.exec(sql: "DELETE FROM locks WHERE rule_id = ? AND scope = ? AND name = ? AND rse_id = ?", arguments: [ruleID, scope, name, rseID])
        try db.exec(
            sql: "UPDATE replicas SET lock_cnt = MAX(lock_cnt - 1, 0), updated_at = ? WHERE rse_id = ? AND scope = ? AND name = ?",
            arguments: [now, rseID, scope, name])
        let left =
            try Int.fetchOne(db, sql: "SELECT lock_cnt FROM replicas WHERE rse_id = ? AND scope = ? AND name = ?", arguments: [rseID, scope, name])
            ?? 0
        if left == 0 {
            try db.exec(
                sql: "UPDATE replicas SET tombstone = ? WHERE rse_id = ? AND scope = ? AND name = ?",
                arguments: [purge ? 0 : now, rseID, scope, name])
            // Nobody needs the transfer any more.
            try db.exec(
                sql: "DELETE FROM requests WHERE scope = ? AND name = ? AND dest_rse_id = ? AND state IN \(RequestState.live.sql)",
                arguments: [scope, name, rseID])
        }
    }

    // MARK: reading and changing rules

    public func rule(_ id: String) async throws -> Rule {
        let policy = catalog.retryPolicy
        return try quickRead { db in try JudgeRepairer.planned(db, [try Self.rule(db, id)], policy: policy)[0] }
    }

    static func rule(_ db: Database, _ id: String) throws -> Rule {
        guard let row = try db.one(sql: "SELECT * FROM rules WHERE id = ?", arguments: [id]) else {
            throw RucioError(.ruleNotFound, "No replication rule found with id \(Validation.printable(id))")
        }
        return Rule(row: row)
    }

    /// Rules matching column filters (`name` accepts `*`).
    public func listRules(filters: [String: String]) async throws -> [Rule] {
        try await listRulesPage(filters: filters, after: nil, limit: nil).rules
    }

    /// Where a paged rule listing stands: the last rule given, by (created_at, id) as stored.
    public struct RulePosition: Sendable {
        var createdAt: Double
        var id: String
    }

    /// One page of `listRules`: rules after `after` in (created_at, id) order, at most `limit`; the position of the last.
    public func listRulesPage(filters: [String: String], after: RulePosition?, limit: Int?) async throws -> (rules: [Rule], last: RulePosition?) {
        let columns: Set<String> = [
            "id", "scope", "name", "account", "state", "rse_expression", "activity", "did_type", "grouping", "subscription_id", "locked",
            "child_rule_id", "purge_replicas", "copies", "priority",
        ]
        var sql = "SELECT * FROM rules WHERE 1"
        var args: [any DatabaseValueConvertible] = []
        for (k, v) in filters.sorted(by: { $0.key < $1.key }) {
            switch k {
            case "created_before":
                if let d = RucioDate.parse(v) {
                    sql += " AND created_at < ?"
                    args.append(d.timeIntervalSince1970)
                }
            case "created_after":
                if let d = RucioDate.parse(v) {
                    sql += " AND created_at > ?"
                    args.append(d.timeIntervalSince1970)
                }
            case "updated_before":
                if let d = RucioDate.parse(v) {
                    sql += " AND updated_at < ?"
                    args.append(d.timeIntervalSince1970)
                }
            case "updated_after":
                if let d = RucioDate.parse(v) {
                    sql += " AND updated_at > ?"
                    args.append(d.timeIntervalSince1970)
                }
            case "state":
                sql += " AND state = ?"
                args.append(RuleState(loose: v)?.rawValue ?? v)
            case "did_type":
                sql += " AND did_type = ?"
                args.append(DIDType(loose: v)?.rawValue ?? v)
            case "name" where v.contains("*"):
                sql += " AND name LIKE ? ESCAPE '\\'"
                args.append(v.likePattern)
            case "locked", "purge_replicas":
                sql += " AND \(k) = ?"
                args.append(["true", "1"].contains(v.lowercased()) ? 1 : 0)
            default:
                guard columns.contains(k) else { continue }
                sql += " AND \(k) = ?"
                args.append(v)
            }
        }
        if let after {
            sql += " AND (created_at, id) > (?, ?)"
            args += [after.createdAt, after.id]
        }
        sql += " ORDER BY created_at, id"
        if let limit { sql += " LIMIT \(max(0, limit))" }
        let finalSQL = sql
        let finalArgs = args.map { $0.databaseValue }
        let policy = catalog.retryPolicy
        return try await db.read { db in
            let rows = try db.all(sql: finalSQL, arguments: StatementArguments(finalArgs))
            return (
                try JudgeRepairer.planned(db, rows.map(Rule.init(row:)), policy: policy),
                rows.last.map { RulePosition(createdAt: $0["created_at"], id: $0["id"]) }
            )
        }
    }

    /// Rules directly on a DID.
    public func rules(onDID scope: String, _ name: String) async throws -> [Rule] {
        let policy = catalog.retryPolicy
        return try await db.read { db in
            _ = try DIDStore.did(db, scope, name)
            let rules = try db.all(sql: "SELECT * FROM rules WHERE scope = ? AND name = ? ORDER BY created_at, id", arguments: [scope, name]).map(
                Rule.init(row:))
            return try JudgeRepairer.planned(db, rules, policy: policy)
        }
    }

    /// Deletes a rule, releasing its locks.
    public func deleteRule(_ id: String, purgeReplicas: Bool?, issuer: Issuer?) async throws {
        let now = nowStamp
        try await db.write { db in
            let rule = try Self.rule(db, id)
            if let issuer {
                guard issuer.isAdmin || issuer.account == rule.account else {
                    throw RucioError.accessDenied("Account \(issuer.account) can not remove this replication rule.")
                }
                if rule.locked {
                    throw RucioError(.unsupportedOperation, "The replication rule is locked and has to be unlocked before it can be deleted.")
                }
            }
            try Self.deleteRuleInTransaction(db, rule: rule, purge: purgeReplicas ?? rule.purgeReplicas, now: now)
        }
    }

    static func deleteRuleInTransaction(_ db: Database, rule: Rule, purge: Bool, now: Double) throws {
        for l in try db.all(sql: "SELECT scope, name, rse_id FROM locks WHERE rule_id = ?", arguments: [rule.id]) {
            try releaseLock(db, ruleID: rule.id, scope: l["scope"], name: l["name"], rseID: l["rse_id"], purge: purge, now: now)
        }
        try db.exec(sql: "UPDATE requests SET rule_id = NULL WHERE rule_id = ?", arguments: [rule.id])
        try recordHistory(db, ruleID: rule.id)
        try db.exec(sql: "DELETE FROM rules WHERE id = ?", arguments: [rule.id])
        try db.exec(
            sql: "INSERT INTO rule_events (time, rule_id, scope, name, old_state, new_state) VALUES (?, ?, ?, ?, ?, '\(Self.deletedMark)')",
            arguments: [now, rule.id, rule.scope, rule.name, rule.state.rawValue])
    }

    /// Updates rule options (`PUT /rules/<id>`).
    public func updateRule(_ id: String, options: JSONObject, issuer: Issuer) async throws {
        let now = nowStamp
        try await db.write { db in
            let rule = try Self.rule(db, id)
            guard issuer.isAdmin || issuer.account == rule.account else {
                throw RucioError.accessDenied("Account \(issuer.account) can not update this replication rule.")
            }
            for (k, v) in options {
                switch k {
                case "lifetime":
                    let secs: Double? = v.isNull ? nil : (v.doubleValue ?? v.stringValue.flatMap(Double.init))
                    if !v.isNull && !(secs.map(Validation.isValidLifetime) ?? false) {
                        throw RucioError(.inputValidationError, "lifetime must be a number of seconds, at most \(Validation.maxLifetime)")
                    }
                    try db.exec(sql: "UPDATE rules SET expires_at = ?, updated_at = ? WHERE id = ?", arguments: [secs.map { now + $0 }, now, id])
                case "locked":
                    guard let b = v.boolValue else { throw RucioError(.inputValidationError, "locked must be a boolean") }
                    try db.exec(sql: "UPDATE rules SET locked = ?, updated_at = ? WHERE id = ?", arguments: [b ? 1 : 0, now, id])
                case "comment":
                    try db.exec(sql: "UPDATE rules SET comments = ?, updated_at = ? WHERE id = ?", arguments: [v.stringValue, now, id])
                case "activity":
                    try db.exec(
                        sql: "UPDATE rules SET activity = ?, updated_at = ? WHERE id = ?", arguments: [v.stringValue ?? rule.activity, now, id])
                case "source_replica_expression":
                    try db.exec(
                        sql: "UPDATE rules SET source_replica_expression = ?, updated_at = ? WHERE id = ?", arguments: [v.stringValue, now, id])
                case "priority":
                    guard let p = v.intValue else { throw RucioError(.inputValidationError, "priority must be an integer") }
                    try db.exec(sql: "UPDATE rules SET priority = ?, updated_at = ? WHERE id = ?", arguments: [p, now, id])
                    try db.exec(sql: "UPDATE requests SET priority = ? WHERE rule_id = ? AND state = \(RequestState.queued.sql)", arguments: [p, id])
                case "purge_replicas":
                    try db.exec(
                        sql: "UPDATE rules SET purge_replicas = ?, updated_at = ? WHERE id = ?", arguments: [(v.boolValue ?? false) ? 1 : 0, now, id])
                case "account":
                    guard issuer.isAdmin, let a = v.stringValue else { throw RucioError.accessDenied("Only admins can change a rule's account") }
                    try AccountStore.requireAccount(db, a)
                    try db.exec(sql: "UPDATE rules SET account = ?, updated_at = ? WHERE id = ?", arguments: [a, now, id])
                    try db.exec(sql: "UPDATE locks SET account = ? WHERE rule_id = ?", arguments: [a, id])
                case "child_rule_id":
                    try db.exec(sql: "UPDATE rules SET child_rule_id = ?, updated_at = ? WHERE id = ?", arguments: [v.stringValue, now, id])
                case "state":
                    guard let s = v.stringValue.flatMap(RuleState.init(loose:)) else { throw RucioError(.inputValidationError, "Invalid rule state") }
                    switch s {
                    case .suspended:
                        try db.exec(sql: "UPDATE rules SET state = \(RuleState.suspended.sql), updated_at = ? WHERE id = ?", arguments: [now, id])
                    case .stuck, .replicating:
                        // Un-suspend, or ask the engine to retry stuck locks.
                        try db.exec(sql: "UPDATE rules SET state = \(RuleState.replicating.sql), updated_at = ? WHERE id = ?", arguments: [now, id])
                        try JudgeRepairer(catalog: catalog).retryStuckLocks(db, ruleID: id, now: now)
                        try Self.recountRule(db, id: id, now: now)
                    default: throw RucioError(.unsupportedOperation, "The state of a rule can only be set to SUSPENDED, STUCK or REPLICATING")
                    }
                case "meta", "boost_rule", "cancel_requests", "eol_at", "approve", "split_container": continue
                default: throw RucioError(.inputValidationError, "\(k) is not a valid option to update")
                }
            }
        }
    }

    /// Locks of a rule.
    public func locks(ofRule id: String) async throws -> [ReplicaLock] {
        try await db.read { db in
            _ = try Self.rule(db, id)
            return try Self.lockRows(db, where: "l.rule_id = ?", [id])
        }
    }

    /// Where a paged lock listing stands: the last lock given, by (scope, name, RSE name) as `locks(ofRule:)` orders them.
    public struct LockPosition: Sendable, Equatable {
        var scope: String
        var name: String
        var rse: String
    }

    /// One page of `locks(ofRule:)`: the locks after `after`, at most `limit`, and where the next page starts (nil:
    /// done). `RuleNotFound` for an unknown rule on the first page.
    public func locksPage(ofRule id: String, after: LockPosition?, limit: Int) async throws -> (locks: [ReplicaLock], next: LockPosition?) {
        try await db.read { db in
            var clause = "l.rule_id = ?"
            var args: [any DatabaseValueConvertible] = [id]
            if let after {
                // The index on (rule_id, scope, name) seeks to the page; the RSE name orders locks within a file.
                clause += " AND (l.scope, l.name) >= (?, ?) AND (l.scope, l.name, r.rse) > (?, ?, ?)"
                args += [after.scope, after.name, after.scope, after.name, after.rse]
            } else {
                _ = try Self.rule(db, id)
            }
            let rows = try Self.lockRows(db, where: clause, args, limit: limit)
            let next = rows.count < limit ? nil : rows.last.map { LockPosition(scope: $0.scope, name: $0.name, rse: $0.rse) }
            return (rows, next)
        }
    }

    /// Locks on the files of a DID.
    public func locks(onDID scope: String, _ name: String) async throws -> [ReplicaLock] {
        try await db.read { db in
            let d = try DIDStore.did(db, scope, name)
            if d.type == .file { return try Self.lockRows(db, where: "l.scope = ? AND l.name = ?", [scope, name]) }
            return try Self.lockRows(
                db,
                where:
                    "(l.scope, l.name) IN (\(DIDStore.filesCTE.replacingOccurrences(of: "WITH RECURSIVE", with: "WITH RECURSIVE")) SELECT scope, name FROM files)",
                [scope, name])
        }
    }

    static func lockRows(_ db: Database, where clause: String, _ args: [any DatabaseValueConvertible], limit: Int? = nil) throws -> [ReplicaLock] {
        try db.all(
            sql: "SELECT l.*, r.rse AS rse_name FROM locks l JOIN rses r ON r.id = l.rse_id WHERE \(clause) ORDER BY l.scope, l.name, r.rse"
                + (limit.map { " LIMIT \(max(0, $0))" } ?? ""),
            arguments: StatementArguments(args)
        ).map {
            ReplicaLock(
                ruleID: $0["rule_id"], scope: $0["scope"], name: $0["name"], rseID: $0["rse_id"], rse: $0["rse_name"], account: $0["account"],
                bytes: $0["bytes"],
                state: LockState(rawValue: $0["state"]) ?? .replicating, createdAt: Date(timeIntervalSince1970: $0["created_at"]),
                updatedAt: Date(timeIntervalSince1970: $0["updated_at"]))
        }
    }
}
