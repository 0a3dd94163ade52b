public import Foundation
import GRDB

/// A stuck transfer as `rucio rule show --examine` lists it.
public struct StuckTransfer: Sendable {
    /// Scope of the file whose lock is STUCK.
    public var scope: String
    /// Name of the file whose lock is STUCK.
    public var name: String
    /// Id of the destination RSE of the stuck lock.
    public var rseID: String
    /// Name of the destination RSE of the stuck lock.
    public var rse: String
    /// The latest request's `retry_count` for the file and RSE; 0 when there is no request.
    public var attempts: Int
    /// The latest request's `err_msg`; nil = no request or no error recorded.
    public var lastError: String?
    /// RSE the latest attempt copied from; nil = no source was chosen.
    public var lastSource: String?
    /// When the latest request last changed; nil = no request.
    public var lastTime: Date?
    /// Replicas that could serve as source, and whether their RSE is readable.
    public var sources: [(String, Bool)]
}

extension RuleStore {
    /// Rucio's `examine_replication_rule`: what is wrong with a rule, with every stuck lock's last attempt.
    public func examineRule(_ id: String) async throws -> (error: String, transfers: [StuckTransfer]) {
        try await db.read { db in
            let rule = try Self.rule(db, id)
            switch rule.state {
            case .ok: return ("This replication rule is OK", [])
            case .replicating: return ("This replication rule is currently REPLICATING", [])
            case .suspended: return ("This replication rule is SUSPENDED", [])
            default: break
            }
            var out: [StuckTransfer] = []
            for l in try Row.fetchAll(
                db,
                sql:
                    "SELECT l.scope, l.name, l.rse_id, s.rse FROM locks l JOIN rses s ON s.id = l.rse_id WHERE l.rule_id = ? AND l.state = \(LockState.stuck.sql) ORDER BY l.scope, l.name, s.rse",
                arguments: [id])
            {
                let scope: String = l["scope"]
                let name: String = l["name"]
                let rseID: String = l["rse_id"]
                let req = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT q.retry_count, q.err_msg, q.updated_at, s.rse AS source FROM requests q LEFT JOIN rses s ON s.id = q.source_rse_id
                        WHERE q.scope = ? AND q.name = ? AND q.dest_rse_id = ? ORDER BY q.updated_at DESC LIMIT 1
                        """, arguments: [scope, name, rseID])
                let sources = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT s.rse, s.availability_read FROM replicas p JOIN rses s ON s.id = p.rse_id
                        WHERE p.scope = ? AND p.name = ? AND p.state = \(ReplicaState.available.sql) AND p.rse_id != ? ORDER BY s.rse
                        """, arguments: [scope, name, rseID]
                ).map { ($0["rse"] as String, ($0["availability_read"] as Int) == 1) }
                out.append(
                    StuckTransfer(
                        scope: scope, name: name, rseID: rseID, rse: l["rse"], attempts: req?["retry_count"] ?? 0,
                        lastError: req?["err_msg"], lastSource: req?["source"], lastTime: Date(stamp: req?["updated_at"]), sources: sources))
            }
            return (rule.error ?? "This replication rule is STUCK", out)
        }
    }

    /// The spec that would create `rule` again now (its remaining lifetime), for reduce and move.
    func ruleSpec(of rule: Rule) -> RuleSpec {
        RuleSpec(
            dids: [DIDRef(rule.scope, rule.name)], copies: rule.copies, rseExpression: rule.rseExpression, weight: rule.weight,
            lifetime: rule.expiresAt.map { max(1, $0.timeIntervalSince1970 - nowStamp) }, grouping: rule.grouping,
            account: rule.account, locked: rule.locked, sourceReplicaExpression: rule.sourceReplicaExpression,
            activity: rule.activity, purgeReplicas: rule.purgeReplicas, ignoreAvailability: rule.ignoreAvailability,
            comment: rule.comments, priority: rule.priority, meta: rule.meta)
    }

    /// Rucio's `reduce_replication_rule`: replaces a rule by one with fewer copies, keeping replicas that exist.
    public func reduceRule(_ id: String, copies: Int, excludeExpression: String?, issuer: Issuer) async throws -> String {
        let now = nowStamp
        return try await db.write { db in
            let rule = try Self.rule(db, id)
            guard issuer.isAdmin || issuer.account == rule.account else {
                throw RucioError.accessDenied("Account \(issuer.account) can not reduce this rule")
            }
            guard copies >= 1, copies < rule.copies else {
                throw RucioError(.ruleReplaceFailed, "Copies of the new rule must be smaller than the old rule.")
            }
            var spec = self.ruleSpec(of: rule)
            spec.copies = copies
            if let ex = excludeExpression, !ex.isEmpty {
                _ = try RSEStore.resolve(db, expression: ex)
                spec.rseExpression = "(\(rule.rseExpression))\\(\(ex))"
            }
            spec.account = rule.account
            try Self.deleteRuleInTransaction(db, rule: rule, purge: false, now: now)
            let admin = Issuer(account: rule.account, identity: issuer.identity, isAdmin: true)
            let newIDs: [String]
            do { newIDs = try JudgeEvaluator(catalog: catalog).addRuleInTransaction(db, spec, issuer: admin) } catch let e as RucioError {
                throw RucioError(.ruleReplaceFailed, e.message)
            }
            return newIDs[0]
        }
    }

    /// Rucio's `move_replication_rule`: a child rule on the new expression; the old rule goes once the child is OK.
    public func moveRule(_ id: String, rseExpression: String, override: JSONObject, issuer: Issuer) async throws -> String {
        try await db.write { db in
            let rule = try Self.rule(db, id)
            guard issuer.isAdmin || issuer.account == rule.account else {
                throw RucioError.accessDenied("Account \(issuer.account) can not move this rule")
            }
            if rule.childRuleID != nil { throw RucioError(.ruleReplaceFailed, "The rule already has a child rule") }
            var spec = self.ruleSpec(of: rule)
            spec.rseExpression = rseExpression
            if let a = override["activity"]?.stringValue { spec.activity = a }
            if let s = override["source_replica_expression"]?.stringValue { spec.sourceReplicaExpression = s }
            if let c = override["copies"]?.intValue { spec.copies = Int(c) }
            if let w = override["weight"]?.stringValue { spec.weight = w }
            if let g = override["grouping"]?.stringValue { spec.grouping = g.uppercased() }
            let admin = Issuer(account: rule.account, identity: issuer.identity, isAdmin: true)
            let newID = try JudgeEvaluator(catalog: catalog).addRuleInTransaction(db, spec, issuer: admin)[0]
            try db.execute(sql: "UPDATE rules SET child_rule_id = ?, updated_at = ? WHERE id = ?", arguments: [newID, nowStamp, id])
            return newID
        }
    }
}
