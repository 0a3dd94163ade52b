import Foundation
import GRDB

/// Rucio's judge-evaluator: turns a rule into locks on chosen RSEs (and transfer requests for missing replicas), and re-evaluates rules when the content of their DIDs changes.
public struct JudgeEvaluator: CatalogStore {
    /// The catalog this works on.
    public let catalog: Catalog
    /// Works on `catalog`.
    public init(catalog: Catalog) { self.catalog = catalog }

    func addRuleInTransaction(_ db: Database, _ spec: RuleSpec, issuer: Issuer) throws -> [String] {
        let now = nowStamp
        let account = spec.account ?? issuer.account
        try catalog.policy.schema.checkAccount(account)
        if account != issuer.account && !issuer.isAdmin {
            throw RucioError.accessDenied("Account \(issuer.account) can not add replication rule for account \(account)")
        }
        // Rucio's generic perm_add_rule: an account adds its own rules only when they are not locked; locked ones are for admins.
        if spec.locked && !issuer.isAdmin {
            throw RucioError.accessDenied("Account \(issuer.account) can not add replication rule: only admins can add locked rules")
        }
        try AccountStore.requireAccount(db, account)
        guard spec.copies >= 1 else { throw RucioError(.invalidReplicationRule, "The number of copies must be at least 1") }
        guard ["ALL", "DATASET", "NONE"].contains(spec.grouping) else {
            throw RucioError(.invalidReplicationRule, "Invalid grouping '\(spec.grouping)'")
        }
        if let l = spec.lifetime, l <= 0 { throw RucioError(.invalidReplicationRule, "Lifetime must be positive") }
        if let l = spec.lifetime, !Validation.isValidLifetime(l) {
            throw RucioError(.invalidReplicationRule, "Lifetime must be at most \(Validation.maxLifetime) seconds")
        }
        guard !spec.dids.isEmpty else { throw RucioError(.invalidReplicationRule, "No DIDs given") }
        if let given = spec.id {
            guard spec.dids.count == 1 else { throw RucioError(.invalidReplicationRule, "A rule id can be given for one DID only") }
            if try db.one(sql: "SELECT 1 FROM rules WHERE id = ?", arguments: [given]) != nil {
                throw RucioError(.duplicateRule, "A rule with the id \(given) already exists")
            }
        }
        var candidates: [RSE]
        do { candidates = try RSEStore.resolve(db, expression: spec.rseExpression) }
        if !spec.ignoreAvailability { candidates = candidates.filter(\.availabilityWrite) }
        if let src = spec.sourceReplicaExpression { _ = try RSEStore.resolve(db, expression: src) }
        if candidates.count < spec.copies {
            throw RucioError(
                .insufficientTargetRSEs,
                "There is insufficient quota on any of the target RSE's to fullfill the operation. (\(candidates.count) RSE(s) for \(spec.copies) copies)"
            )
        }
        var ids: [String] = []
        for ref in spec.dids {
            let d = try DIDStore.did(db, ref.scope, ref.name)
            if try db.one(
                sql: "SELECT 1 FROM rules WHERE scope = ? AND name = ? AND account = ? AND rse_expression = ?",
                arguments: [ref.scope, ref.name, account, spec.rseExpression]) != nil
            {
                throw RucioError(.duplicateRule, "A duplicate rule for this account, did, rse_expression, copies already exists")
            }
            let id = spec.id ?? newID()
            try db.exec(
                sql: """
                    INSERT INTO rules (id, account, scope, name, did_type, state, rse_expression, copies, expires_at, weight, locked,
                      source_replica_expression, activity, grouping, notification, purge_replicas, ignore_availability, priority, comments, meta,
                      subscription_id, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, \(RuleState.replicating.sql), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    id, account, ref.scope, ref.name, d.type.rawValue, spec.rseExpression, spec.copies, spec.lifetime.map { now + $0 },
                    spec.weight, spec.locked ? 1 : 0, spec.sourceReplicaExpression, spec.activity, spec.grouping,
                    ["Y": "YES", "C": "CLOSE", "P": "PROGRESS"][spec.notify] ?? "NO", spec.purgeReplicas ? 1 : 0,
                    spec.ignoreAvailability ? 1 : 0, spec.priority, spec.comment, spec.meta, spec.subscriptionID, now, now,
                ])
            try db.exec(
                sql:
                    "INSERT INTO rule_events (time, rule_id, scope, name, old_state, new_state) VALUES (?, ?, ?, ?, NULL, \(RuleState.replicating.sql))",
                arguments: [now, id, ref.scope, ref.name])
            let rule = Rule(row: try db.one(sql: "SELECT * FROM rules WHERE id = ?", arguments: [id])!)
            let files = try DIDStore.files(db, ref.scope, ref.name)
            try placeLocks(db, rule: rule, files: files, groups: try Self.groups(db, rule: rule, files: files), candidates: candidates, now: now)
            try RuleStore.recountRule(db, id: id, now: now)
            try RuleStore.recordHistory(db, ruleID: id)
            ids.append(id)
        }
        return ids
    }

    /// Splits a rule's files into the groups that must land on the same RSEs.
    static func groups(_ db: Database, rule: Rule, files: [DID]) throws -> [[DID]] {
        switch rule.grouping {
        case "NONE": return files.map { [$0] }
        case "DATASET" where rule.didType == .container:
            var byDataset: [DIDRef: [DID]] = [:]
            var order: [DIDRef] = []
            let fileSet = Dictionary(files.map { (DIDRef($0.scope, $0.name), $0) }, uniquingKeysWith: { a, _ in a })
            for row in try db.all(
                sql: """
                    WITH RECURSIVE tree(scope, name, t) AS (SELECT child_scope, child_name, child_type FROM contents WHERE scope = ? AND name = ?
                      UNION SELECT c.child_scope, c.child_name, c.child_type FROM contents c JOIN tree ON c.scope = tree.scope AND c.name = tree.name WHERE tree.t = 'CONTAINER')
                    SELECT DISTINCT c.scope, c.name, c.child_scope, c.child_name FROM tree JOIN contents c ON c.scope = tree.scope AND c.name = tree.name
                    WHERE tree.t = 'DATASET' ORDER BY c.scope, c.name, c.child_scope, c.child_name
                    """, arguments: [rule.scope, rule.name])
            {
                let ds = DIDRef(row["scope"], row["name"])
                guard let f = fileSet[DIDRef(row["child_scope"], row["child_name"])] else { continue }
                if byDataset[ds] == nil { order.append(ds) }
                byDataset[ds, default: []].append(f)
            }
            return order.map { byDataset[$0]! }
        default: return files.isEmpty ? [] : [files]
        }
    }

    /// Chooses RSEs for each group and creates the locks.
    func placeLocks(_ db: Database, rule: Rule, files: [DID], groups: [[DID]], candidates: [RSE], now: Double) throws {
        var newBytesPerRSE: [String: Int64] = [:]
        for group in groups {
            let chosen = try Self.chooseRSEs(db, rule: rule, group: group, candidates: candidates)
            for rse in chosen {
                for f in group {
                    if try createLock(db, rule: rule, file: f, rse: rse, now: now) { newBytesPerRSE[rse.id, default: 0] += f.bytes ?? 0 }
                }
            }
        }
        try Self.checkAccountLimits(db, account: rule.account, added: newBytesPerRSE)
    }

    /// Prefers RSEs that already hold the group's bytes; breaks ties by weight, then a stable hash.
    static func chooseRSEs(_ db: Database, rule: Rule, group: [DID], candidates: [RSE]) throws -> [RSE] {
        var present: [String: Int64] = [:]
        for f in group {
            for row in try db.all(
                sql: "SELECT rse_id, bytes FROM replicas WHERE scope = ? AND name = ? AND state IN \([ReplicaState.available, .copying].sql)",
                arguments: [f.scope, f.name])
            {
                present[row["rse_id"], default: 0] += row["bytes"] as Int64
            }
        }
        var weights: [String: Double] = [:]
        if let w = rule.weight {
            for rse in candidates {
                let v = try String.fetchOne(db, sql: "SELECT value FROM rse_attributes WHERE rse_id = ? AND key = ?", arguments: [rse.id, w])
                weights[rse.id] = v.flatMap { (try? JSONParser.parse($0)).flatMap { $0.doubleValue ?? $0.stringValue.flatMap(Double.init) } } ?? 0
            }
            let usable = candidates.filter { (weights[$0.id] ?? 0) > 0 }
            if usable.count < rule.copies { throw RucioError(.insufficientTargetRSEs, "Not enough RSEs with a positive weight '\(w)'") }
        }
        let key = group.first.map { "\($0.scope):\($0.name)" } ?? rule.id
        let ranked = candidates.filter { rule.weight == nil || (weights[$0.id] ?? 0) > 0 }.sorted { a, b in
            let pa = present[a.id] ?? 0
            let pb = present[b.id] ?? 0
            if pa != pb { return pa > pb }
            let wa = weights[a.id] ?? 0
            let wb = weights[b.id] ?? 0
            if wa != wb { return wa > wb }
            return md5Hex(key + a.rse) < md5Hex(key + b.rse)
        }
        return Array(ranked.prefix(rule.copies))
    }

    /// Creates one lock; makes the replica appear (COPYING, with a transfer request) if it is not there.
    /// Returns whether the lock is new.
    @discardableResult
    func createLock(_ db: Database, rule: Rule, file: DID, rse: RSE, now: Double) throws -> Bool {
        if try db.one(
            sql: "SELECT 1 FROM locks WHERE rule_id = ? AND scope = ? AND name = ? AND rse_id = ?",
            arguments: [rule.id, file.scope, file.name, rse.id]) != nil
        {
            return false
        }
        let existing = try db.one(
            sql: "SELECT * FROM replicas WHERE rse_id = ? AND scope = ? AND name = ?", arguments: [rse.id, file.scope, file.name]
        ).map(Replica.init(row:))
        var lockState = LockState.replicating
        if let r = existing {
            switch r.state {
            case .available: lockState = .ok
            case .copying: lockState = .replicating
            default:
                try db.exec(
                    sql: "UPDATE replicas SET state = \(ReplicaState.copying.sql), updated_at = ? WHERE rse_id = ? AND scope = ? AND name = ?",
                    arguments: [now, rse.id, file.scope, file.name])
                try queueTransfer(db, file: file, rse: rse, rule: rule, now: now)
            }
            try db.exec(
                sql: "UPDATE replicas SET lock_cnt = lock_cnt + 1, tombstone = NULL WHERE rse_id = ? AND scope = ? AND name = ?",
                arguments: [rse.id, file.scope, file.name])
        } else {
            // No byte is written here: the path is checked on disk (symbolic links) when the transfer that fills it is
            // claimed (`ConveyorSubmitter`), so a rule over a million files does not resolve a million paths now.
            let path = try ReplicaStore.replicaPath(
                db, policy: catalog.policy, rse: rse, file: FileSpec(scope: file.scope, name: file.name),
                dsn: rule.didType == .dataset ? rule.name : nil, onDisk: false)
            try db.exec(
                sql:
                    "INSERT INTO replicas (rse_id, scope, name, bytes, md5, adler32, path, state, lock_cnt, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, \(ReplicaState.copying.sql), 1, ?, ?)",
                arguments: [rse.id, file.scope, file.name, file.bytes ?? 0, file.md5, file.adler32, path, now, now])
            try queueTransfer(db, file: file, rse: rse, rule: rule, now: now)
        }
        try db.exec(
            sql: "INSERT INTO locks (rule_id, scope, name, rse_id, account, bytes, state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            arguments: [rule.id, file.scope, file.name, rse.id, rule.account, file.bytes ?? 0, lockState.rawValue, now, now])
        return true
    }

    /// Queues a transfer request for a missing replica, unless one is already active.
    func queueTransfer(_ db: Database, file: DID, rse: RSE, rule: Rule, now: Double) throws {
        if try db.one(
            sql: "SELECT 1 FROM requests WHERE scope = ? AND name = ? AND dest_rse_id = ? AND state IN \(RequestState.live.sql)",
            arguments: [file.scope, file.name, rse.id]) != nil
        {
            return
        }
        try db.exec(
            sql: """
                INSERT INTO requests (id, scope, name, dest_rse_id, state, rule_id, activity, bytes, md5, adler32, account, priority, requested_at, created_at, updated_at)
                VALUES (?, ?, ?, ?, \(RequestState.queued.sql), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                newID(), file.scope, file.name, rse.id, rule.id, rule.activity, file.bytes ?? 0, file.md5, file.adler32, rule.account, rule.priority,
                now, now, now,
            ])
    }

    /// Refuses the change when an account limit set on an RSE would be exceeded.
    static func checkAccountLimits(_ db: Database, account: String, added: [String: Int64]) throws {
        for (rseID, bytes) in added where bytes > 0 {
            guard
                let limit = try Int64.fetchOne(
                    db, sql: "SELECT bytes FROM account_limits WHERE account = ? AND rse_id = ?", arguments: [account, rseID])
            else { continue }
            let used =
                try Int64.fetchOne(
                    db, sql: "SELECT COALESCE(SUM(bytes), 0) FROM locks WHERE account = ? AND rse_id = ?", arguments: [account, rseID]) ?? 0
            if used > limit {
                let rse = try RSEStore.rse(db, id: rseID)
                throw RucioError(
                    .insufficientAccountLimit,
                    "There is insufficient quota on any of the target RSE's to fullfill the operation. Account \(account) would use \(used) bytes on \(rse.rse), limit \(limit)"
                )
            }
        }
    }

    /// New content under a collection with rules gets locks (and transfers) from those rules.
    func rulesFollowAttachment(_ db: Database, parent: DIDRef, children: [DIDRef], now: Double) throws {
        let rules = try RuleStore.rulesCovering(db, parent)
        guard !rules.isEmpty else { return }
        var newFiles: [DID] = []
        for c in children { newFiles += try DIDStore.files(db, c.scope, c.name) }
        for rule in rules {
            var candidates = (try? RSEStore.resolve(db, expression: rule.rseExpression)) ?? []
            if !rule.ignoreAvailability { candidates = candidates.filter(\.availabilityWrite) }
            let existing = try String.fetchAll(db, sql: "SELECT DISTINCT rse_id FROM locks WHERE rule_id = ? ORDER BY rse_id", arguments: [rule.id])
            if rule.grouping != "NONE", existing.count >= rule.copies {
                let targets = try existing.map { try RSEStore.rse(db, id: $0) }
                for rse in targets { for f in newFiles { try createLock(db, rule: rule, file: f, rse: rse, now: now) } }
            } else if candidates.count >= rule.copies {
                try placeLocks(
                    db, rule: rule, files: newFiles, groups: rule.grouping == "NONE" ? newFiles.map { [$0] } : [newFiles], candidates: candidates,
                    now: now)
            }
            try RuleStore.recountRule(db, id: rule.id, now: now)
        }
    }

    /// Content removed from a collection loses the locks of the collection's rules.
    func rulesFollowDetachment(_ db: Database, parent: DIDRef, children: [DIDRef], now: Double) throws {
        for rule in try RuleStore.rulesCovering(db, parent) {
            let keep = Set(try DIDStore.files(db, rule.scope, rule.name).map { DIDRef($0.scope, $0.name) })
            let locks = try db.all(sql: "SELECT scope, name, rse_id FROM locks WHERE rule_id = ?", arguments: [rule.id])
            for l in locks where !keep.contains(DIDRef(l["scope"], l["name"])) {
                try RuleStore.releaseLock(
                    db, ruleID: rule.id, scope: l["scope"], name: l["name"], rseID: l["rse_id"], purge: rule.purgeReplicas, now: now)
            }
            try RuleStore.recountRule(db, id: rule.id, now: now)
        }
    }
}
