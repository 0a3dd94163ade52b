import Foundation
import GRDB

extension Catalog {
    func newID() -> String { ids.next() }

    /// Adds rules (one per DID) and evaluates them into locks, replicas and transfer requests.
    public func addRules(_ spec: RuleSpec, issuer: Issuer) async throws -> [String] {
        try await db.write { db in try self.addRuleInTransaction(db, spec, issuer: issuer) }
    }

    func addRuleInTransaction(_ db: Database, _ spec: RuleSpec, issuer: Issuer) throws -> [String] {
        let now = nowStamp
        let account = spec.account ?? issuer.account
        try Validation.checkAccount(account)
        if account != issuer.account && !issuer.isAdmin {
            throw RucioError.accessDenied("Account \(issuer.account) can not add replication rule for account \(account)")
        }
        try Self.requireAccount(db, account)
        guard spec.copies >= 1 else { throw RucioError("InvalidReplicationRule", "The number of copies must be at least 1") }
        guard ["ALL", "DATASET", "NONE"].contains(spec.grouping) else { throw RucioError("InvalidReplicationRule", "Invalid grouping '\(spec.grouping)'") }
        if let l = spec.lifetime, l <= 0 { throw RucioError("InvalidReplicationRule", "Lifetime must be positive") }
        if let l = spec.lifetime, !Validation.isValidLifetime(l) { throw RucioError("InvalidReplicationRule", "Lifetime must be at most \(Validation.maxLifetime) seconds") }
        guard !spec.dids.isEmpty else { throw RucioError("InvalidReplicationRule", "No DIDs given") }
        var candidates: [RSE]
        do { candidates = try Self.resolve(db, expression: spec.rseExpression) }
        if !spec.ignoreAvailability { candidates = candidates.filter(\.availabilityWrite) }
        if let src = spec.sourceReplicaExpression { _ = try Self.resolve(db, expression: src) }
        if candidates.count < spec.copies {
            throw RucioError("InsufficientTargetRSEs", "There is insufficient quota on any of the target RSE's to fullfill the operation. (\(candidates.count) RSE(s) for \(spec.copies) copies)")
        }
        var ids: [String] = []
        for ref in spec.dids {
            let d = try Self.did(db, ref.scope, ref.name)
            if try db.one(sql: "SELECT 1 FROM rules WHERE scope = ? AND name = ? AND account = ? AND rse_expression = ?", arguments: [ref.scope, ref.name, account, spec.rseExpression]) != nil {
                throw RucioError("DuplicateRule", "A duplicate rule for this account, did, rse_expression, copies already exists")
            }
            let id = newID()
            try db.exec(sql: """
                INSERT INTO rules (id, account, scope, name, did_type, state, rse_expression, copies, expires_at, weight, locked,
                  source_replica_expression, activity, grouping, notification, purge_replicas, ignore_availability, priority, comments, meta, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, 'R', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [id, account, ref.scope, ref.name, d.type.rawValue, spec.rseExpression, spec.copies, spec.lifetime.map { now + $0 },
                                 spec.weight, spec.locked ? 1 : 0, spec.sourceReplicaExpression, spec.activity, spec.grouping,
                                 ["Y": "YES", "C": "CLOSE", "P": "PROGRESS"][spec.notify] ?? "NO", spec.purgeReplicas ? 1 : 0,
                                 spec.ignoreAvailability ? 1 : 0, spec.priority, spec.comment, spec.meta, now, now])
            try db.exec(sql: "INSERT INTO rule_events (time, rule_id, scope, name, old_state, new_state) VALUES (?, ?, ?, ?, NULL, 'R')", arguments: [now, id, ref.scope, ref.name])
            let rule = Rule(row: try db.one(sql: "SELECT * FROM rules WHERE id = ?", arguments: [id])!)
            let files = try Self.files(db, ref.scope, ref.name)
            try placeLocks(db, rule: rule, files: files, groups: try Self.groups(db, rule: rule, files: files), candidates: candidates, now: now)
            try Self.recountRule(db, id: id, now: now)
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
            for row in try db.all(sql: """
                WITH RECURSIVE tree(scope, name, t) AS (SELECT child_scope, child_name, child_type FROM contents WHERE scope = ? AND name = ?
                  UNION SELECT c.child_scope, c.child_name, c.child_type FROM contents c JOIN tree ON c.scope = tree.scope AND c.name = tree.name WHERE tree.t = 'CONTAINER')
                SELECT DISTINCT c.scope, c.name, c.child_scope, c.child_name FROM tree JOIN contents c ON c.scope = tree.scope AND c.name = tree.name
                WHERE tree.t = 'DATASET' ORDER BY c.scope, c.name, c.child_scope, c.child_name
                """, arguments: [rule.scope, rule.name]) {
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
            for row in try db.all(sql: "SELECT rse_id, bytes FROM replicas WHERE scope = ? AND name = ? AND state IN ('A', 'C')", arguments: [f.scope, f.name]) {
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
            if usable.count < rule.copies { throw RucioError("InsufficientTargetRSEs", "Not enough RSEs with a positive weight '\(w)'") }
        }
        let key = group.first.map { "\($0.scope):\($0.name)" } ?? rule.id
        let ranked = candidates.filter { rule.weight == nil || (weights[$0.id] ?? 0) > 0 }.sorted { a, b in
            let pa = present[a.id] ?? 0, pb = present[b.id] ?? 0
            if pa != pb { return pa > pb }
            let wa = weights[a.id] ?? 0, wb = weights[b.id] ?? 0
            if wa != wb { return wa > wb }
            return md5Hex(key + a.rse) < md5Hex(key + b.rse)
        }
        return Array(ranked.prefix(rule.copies))
    }

    /// Creates one lock; makes the replica appear (COPYING, with a transfer request) if it is not there.
    /// Returns whether the lock is new.
    @discardableResult
    func createLock(_ db: Database, rule: Rule, file: DID, rse: RSE, now: Double) throws -> Bool {
        if try db.one(sql: "SELECT 1 FROM locks WHERE rule_id = ? AND scope = ? AND name = ? AND rse_id = ?", arguments: [rule.id, file.scope, file.name, rse.id]) != nil {
            return false
        }
        let existing = try db.one(sql: "SELECT * FROM replicas WHERE rse_id = ? AND scope = ? AND name = ?", arguments: [rse.id, file.scope, file.name]).map(Replica.init(row:))
        var lockState = LockState.replicating
        if let r = existing {
            switch r.state {
            case .available: lockState = .ok
            case .copying: lockState = .replicating
            default:
                try db.exec(sql: "UPDATE replicas SET state = 'C', updated_at = ? WHERE rse_id = ? AND scope = ? AND name = ?", arguments: [now, rse.id, file.scope, file.name])
                try queueTransfer(db, file: file, rse: rse, rule: rule, now: now)
            }
            try db.exec(sql: "UPDATE replicas SET lock_cnt = lock_cnt + 1, tombstone = NULL WHERE rse_id = ? AND scope = ? AND name = ?", arguments: [rse.id, file.scope, file.name])
        } else {
            let path = try Self.replicaPath(db, rse: rse, file: FileSpec(scope: file.scope, name: file.name))
            try db.exec(sql: "INSERT INTO replicas (rse_id, scope, name, bytes, md5, adler32, path, state, lock_cnt, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'C', 1, ?, ?)",
                           arguments: [rse.id, file.scope, file.name, file.bytes ?? 0, file.md5, file.adler32, path, now, now])
            try queueTransfer(db, file: file, rse: rse, rule: rule, now: now)
        }
        try db.exec(sql: "INSERT INTO locks (rule_id, scope, name, rse_id, account, bytes, state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       arguments: [rule.id, file.scope, file.name, rse.id, rule.account, file.bytes ?? 0, lockState.rawValue, now, now])
        return true
    }

    /// Queues a transfer request for a missing replica, unless one is already active.
    func queueTransfer(_ db: Database, file: DID, rse: RSE, rule: Rule, now: Double) throws {
        if try db.one(sql: "SELECT 1 FROM requests WHERE scope = ? AND name = ? AND dest_rse_id = ? AND state IN ('QUEUED', 'SUBMITTED', 'WAITING')", arguments: [file.scope, file.name, rse.id]) != nil { return }
        try db.exec(sql: """
            INSERT INTO requests (id, scope, name, dest_rse_id, state, rule_id, activity, bytes, md5, adler32, account, priority, requested_at, created_at, updated_at)
            VALUES (?, ?, ?, ?, 'QUEUED', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [newID(), file.scope, file.name, rse.id, rule.id, rule.activity, file.bytes ?? 0, file.md5, file.adler32, rule.account, rule.priority, now, now, now])
    }

    /// Refuses the change when an account limit set on an RSE would be exceeded.
    static func checkAccountLimits(_ db: Database, account: String, added: [String: Int64]) throws {
        for (rseID, bytes) in added where bytes > 0 {
            guard let limit = try Int64.fetchOne(db, sql: "SELECT bytes FROM account_limits WHERE account = ? AND rse_id = ?", arguments: [account, rseID]) else { continue }
            let used = try Int64.fetchOne(db, sql: "SELECT COALESCE(SUM(bytes), 0) FROM locks WHERE account = ? AND rse_id = ?", arguments: [account, rseID]) ?? 0
            if used > limit {
                let rse = try Self.rse(db, id: rseID)
                throw RucioError("InsufficientAccountLimit", "There is insufficient quota on any of the target RSE's to fullfill the operation. Account \(account) would use \(used) bytes on \(rse.rse), limit \(limit)")
            }
        }
    }

    /// Moves a rule's lock counters by deltas and derives its state (with the transition recorded).
    static func bumpRuleCounters(_ db: Database, id: String, ok: Int, replicating: Int, stuck: Int, now: Double, error: String? = nil) throws {
        guard let row = try db.one(sql: "SELECT state, scope, name, error, locks_ok_cnt, locks_replicating_cnt, locks_stuck_cnt FROM rules WHERE id = ?", arguments: [id]) else { return }
        let current: String = row["state"]
        let o = max(0, (row["locks_ok_cnt"] as Int) + ok), r = max(0, (row["locks_replicating_cnt"] as Int) + replicating), st = max(0, (row["locks_stuck_cnt"] as Int) + stuck)
        var state = st > 0 ? "S" : (r > 0 ? "R" : "O")
        if current == "U" { state = "U" }
        let err: String? = state == "S" ? (error ?? row["error"]) : nil
        try db.exec(sql: """
            UPDATE rules SET locks_ok_cnt = ?, locks_replicating_cnt = ?, locks_stuck_cnt = ?, state = ?, error = ?,
              stuck_at = CASE WHEN ? = 'S' THEN COALESCE(stuck_at, ?) ELSE NULL END, updated_at = ? WHERE id = ?
            """, arguments: [o, r, st, state, err, state, now, now, id])
        if state != current {
            try db.exec(sql: "INSERT INTO rule_events (time, rule_id, scope, name, old_state, new_state, error) VALUES (?, ?, ?, ?, ?, ?, ?)",
                           arguments: [now, id, row["scope"], row["name"], current, state, err])
        }
    }

    /// Recomputes a rule's lock counters and state from its locks.
    static func recountRule(_ db: Database, id: String, now: Double) throws {
        guard let row = try db.one(sql: """
            SELECT SUM(state = 'O') AS ok, SUM(state = 'R') AS rep, SUM(state = 'S') AS stuck FROM locks WHERE rule_id = ?
            """, arguments: [id]) else { return }
        let ok = (row["ok"] as Int?) ?? 0, rep = (row["rep"] as Int?) ?? 0, stuck = (row["stuck"] as Int?) ?? 0
        guard let currentRow = try db.one(sql: "SELECT state, scope, name, error FROM rules WHERE id = ?", arguments: [id]) else { return }
        let current: String = currentRow["state"]
        var state = stuck > 0 ? "S" : (rep > 0 ? "R" : "O")
        if current == "U" { state = "U" }
        if state != current {
            try db.exec(sql: "INSERT INTO rule_events (time, rule_id, scope, name, old_state, new_state, error) VALUES (?, ?, ?, ?, ?, ?, ?)",
                           arguments: [now, id, currentRow["scope"], currentRow["name"], current, state, state == "S" ? currentRow["error"] : nil])
        }
        try db.exec(sql: """
            UPDATE rules SET locks_ok_cnt = ?, locks_replicating_cnt = ?, locks_stuck_cnt = ?, state = ?,
              stuck_at = CASE WHEN ? = 'S' THEN COALESCE(stuck_at, ?) ELSE NULL END,
              error = CASE WHEN ? = 'S' THEN error ELSE NULL END, updated_at = ?,
              bytes = (SELECT COALESCE(SUM(bytes), 0) FROM (SELECT DISTINCT scope, name, bytes FROM locks WHERE rule_id = ?)) WHERE id = ?
            """, arguments: [ok, rep, stuck, state, state, now, state, now, id, id])
    }

    /// A replica reached AVAILABLE: its locks turn OK, their rules are recounted and its requests are done.
    func replicaBecameAvailable(_ db: Database, rseID: String, scope: String, name: String, now: Double) throws {
        let changed = try db.all(sql: "SELECT rule_id, state FROM locks WHERE scope = ? AND name = ? AND rse_id = ? AND state != 'O'", arguments: [scope, name, rseID])
        try db.exec(sql: "UPDATE locks SET state = 'O', updated_at = ? WHERE scope = ? AND name = ? AND rse_id = ? AND state != 'O'", arguments: [now, scope, name, rseID])
        try db.exec(sql: "UPDATE requests SET state = 'DONE', transferred_at = COALESCE(transferred_at, ?), updated_at = ? WHERE scope = ? AND name = ? AND dest_rse_id = ? AND state IN ('QUEUED', 'SUBMITTED', 'WAITING')",
                       arguments: [now, now, scope, name, rseID])
        // Counters move by the changed locks only (no recount over a rule's every lock: rules can hold millions).
        for row in changed {
            let st: String = row["state"]
            try Self.bumpRuleCounters(db, id: row["rule_id"], ok: 1, replicating: st == "R" ? -1 : 0, stuck: st == "S" ? -1 : 0, now: now)
        }
    }

    /// Rules on `parent` or any of its ancestors.
    static func rulesCovering(_ db: Database, _ parent: DIDRef) throws -> [Rule] {
        try db.all(sql: """
            WITH RECURSIVE up(scope, name) AS (SELECT ?, ? UNION SELECT c.scope, c.name FROM contents c JOIN up ON c.child_scope = up.scope AND c.child_name = up.name)
            SELECT r.* FROM rules r JOIN up ON r.scope = up.scope AND r.name = up.name ORDER BY r.created_at, r.id
            """, arguments: [parent.scope, parent.name]).map(Rule.init(row:))
    }

    /// New content under a collection with rules gets locks (and transfers) from those rules.
    func rulesFollowAttachment(_ db: Database, parent: DIDRef, children: [DIDRef], now: Double) throws {
        let rules = try Self.rulesCovering(db, parent)
        guard !rules.isEmpty else { return }
        var newFiles: [DID] = []
        for c in children { newFiles += try Self.files(db, c.scope, c.name) }
        for rule in rules {
            var candidates = (try? Self.resolve(db, expression: rule.rseExpression)) ?? []
            if !rule.ignoreAvailability { candidates = candidates.filter(\.availabilityWrite) }
            let existing = try String.fetchAll(db, sql: "SELECT DISTINCT rse_id FROM locks WHERE rule_id = ? ORDER BY rse_id", arguments: [rule.id])
            if rule.grouping != "NONE", existing.count >= rule.copies {
                let targets = try existing.map { try Self.rse(db, id: $0) }
                for rse in targets { for f in newFiles { try createLock(db, rule: rule, file: f, rse: rse, now: now) } }
            } else if candidates.count >= rule.copies {
                try placeLocks(db, rule: rule, files: newFiles, groups: rule.grouping == "NONE" ? newFiles.map { [$0] } : [newFiles], candidates: candidates, now: now)
            }
            try Self.recountRule(db, id: rule.id, now: now)
        }
    }

    /// Content removed from a collection loses the locks of the collection's rules.
    func rulesFollowDetachment(_ db: Database, parent: DIDRef, children: [DIDRef], now: Double) throws {
        for rule in try Self.rulesCovering(db, parent) {
            let keep = Set(try Self.files(db, rule.scope, rule.name).map { DIDRef($0.scope, $0.name) })
            let locks = try db.all(sql: "SELECT scope, name, rse_id FROM locks WHERE rule_id = ?", arguments: [rule.id])
            for l in locks where !keep.contains(DIDRef(l["scope"], l["name"])) {
                try Self.releaseLock(db, ruleID: rule.id, scope: l["scope"], name: l["name"], rseID: l["rse_id"], purge: rule.purgeReplicas, now: now)
            }
            try Self.recountRule(db, id: rule.id, now: now)
        }
    }

    /// Drops one lock; a replica left unlocked gets a tombstone (now, or the epoch when purging) for the reaper.
    static func releaseLock(_ db: Database, ruleID: String, scope: String, name: String, rseID: String, purge: Bool, now: Double) throws {
        try db.exec(sql: "DELETE FROM locks WHERE rule_id = ? AND scope = ? AND name = ? AND rse_id = ?", arguments: [ruleID, scope, name, rseID])
        try db.exec(sql: "UPDATE replicas SET lock_cnt = MAX(lock_cnt - 1, 0), updated_at = ? WHERE rse_id = ? AND scope = ? AND name = ?", arguments: [now, rseID, scope, name])
        let left = try Int.fetchOne(db, sql: "SELECT lock_cnt FROM replicas WHERE rse_id = ? AND scope = ? AND name = ?", arguments: [rseID, scope, name]) ?? 0
        if left == 0 {
            try db.exec(sql: "UPDATE replicas SET tombstone = ? WHERE rse_id = ? AND scope = ? AND name = ?", arguments: [purge ? 0 : now, rseID, scope, name])
            // Nobody needs the transfer any more.
            try db.exec(sql: "DELETE FROM requests WHERE scope = ? AND name = ? AND dest_rse_id = ? AND state IN ('QUEUED', 'SUBMITTED', 'WAITING')", arguments: [scope, name, rseID])
        }
    }

    // MARK: reading and changing rules

    public func rule(_ id: String) async throws -> Rule {
        try quickRead { db in try Self.rule(db, id) }
    }

    static func rule(_ db: Database, _ id: String) throws -> Rule {
        guard let row = try db.one(sql: "SELECT * FROM rules WHERE id = ?", arguments: [id]) else {
            throw RucioError("RuleNotFound", "No replication rule found with id \(Validation.printable(id))")
        }
        return Rule(row: row)
    }

    /// Rules matching column filters (`name` accepts `*`).
    public func listRules(filters: [String: String]) async throws -> [Rule] {
        let columns: Set<String> = ["id", "scope", "name", "account", "state", "rse_expression", "activity", "did_type", "grouping", "subscription_id", "locked", "child_rule_id", "purge_replicas", "copies", "priority"]
        var sql = "SELECT * FROM rules WHERE 1"
        var args: [any DatabaseValueConvertible] = []
        for (k, v) in filters.sorted(by: { $0.key < $1.key }) {
            switch k {
            case "created_before": if let d = RucioDate.parse(v) { sql += " AND created_at < ?"; args.append(d.timeIntervalSince1970) }
            case "created_after": if let d = RucioDate.parse(v) { sql += " AND created_at > ?"; args.append(d.timeIntervalSince1970) }
            case "updated_before": if let d = RucioDate.parse(v) { sql += " AND updated_at < ?"; args.append(d.timeIntervalSince1970) }
            case "updated_after": if let d = RucioDate.parse(v) { sql += " AND updated_at > ?"; args.append(d.timeIntervalSince1970) }
            case "state": sql += " AND state = ?"; args.append(RuleState(loose: v)?.rawValue ?? v)
            case "did_type": sql += " AND did_type = ?"; args.append(DIDType(loose: v)?.rawValue ?? v)
            case "name" where v.contains("*"): sql += " AND name LIKE ? ESCAPE '\\'"; args.append(v.likePattern)
            case "locked", "purge_replicas": sql += " AND \(k) = ?"; args.append(["true", "1"].contains(v.lowercased()) ? 1 : 0)
            default:
                guard columns.contains(k) else { continue }
                sql += " AND \(k) = ?"; args.append(v)
            }
        }
        let finalSQL = sql + " ORDER BY created_at, id"
        let finalArgs = args.map { $0.databaseValue }
        return try await db.read { db in try db.all(sql: finalSQL, arguments: StatementArguments(finalArgs)).map(Rule.init(row:)) }
    }

    /// Rules directly on a DID.
    public func rules(onDID scope: String, _ name: String) async throws -> [Rule] {
        try await db.read { db in
            _ = try Self.did(db, scope, name)
            return try db.all(sql: "SELECT * FROM rules WHERE scope = ? AND name = ? ORDER BY created_at, id", arguments: [scope, name]).map(Rule.init(row:))
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
                if rule.locked { throw RucioError("UnsupportedOperation", "The replication rule is locked and has to be unlocked before it can be deleted.") }
            }
            try Self.deleteRuleInTransaction(db, rule: rule, purge: purgeReplicas ?? rule.purgeReplicas, now: now)
        }
    }

    static func deleteRuleInTransaction(_ db: Database, rule: Rule, purge: Bool, now: Double) throws {
        for l in try db.all(sql: "SELECT scope, name, rse_id FROM locks WHERE rule_id = ?", arguments: [rule.id]) {
            try releaseLock(db, ruleID: rule.id, scope: l["scope"], name: l["name"], rseID: l["rse_id"], purge: purge, now: now)
        }
        try db.exec(sql: "UPDATE requests SET rule_id = NULL WHERE rule_id = ?", arguments: [rule.id])
        try db.exec(sql: "DELETE FROM rules WHERE id = ?", arguments: [rule.id])
        try db.exec(sql: "INSERT INTO rule_events (time, rule_id, scope, name, old_state, new_state) VALUES (?, ?, ?, ?, ?, 'X')", arguments: [now, rule.id, rule.scope, rule.name, rule.state.rawValue])
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
                    if !v.isNull && !(secs.map(Validation.isValidLifetime) ?? false) { throw RucioError("InputValidationError", "lifetime must be a number of seconds, at most \(Validation.maxLifetime)") }
                    try db.exec(sql: "UPDATE rules SET expires_at = ?, updated_at = ? WHERE id = ?", arguments: [secs.map { now + $0 }, now, id])
                case "locked":
                    guard let b = v.boolValue else { throw RucioError("InputValidationError", "locked must be a boolean") }
                    try db.exec(sql: "UPDATE rules SET locked = ?, updated_at = ? WHERE id = ?", arguments: [b ? 1 : 0, now, id])
                case "comment":
                    try db.exec(sql: "UPDATE rules SET comments = ?, updated_at = ? WHERE id = ?", arguments: [v.stringValue, now, id])
                case "activity":
                    try db.exec(sql: "UPDATE rules SET activity = ?, updated_at = ? WHERE id = ?", arguments: [v.stringValue ?? rule.activity, now, id])
                case "source_replica_expression":
                    try db.exec(sql: "UPDATE rules SET source_replica_expression = ?, updated_at = ? WHERE id = ?", arguments: [v.stringValue, now, id])
                case "priority":
                    guard let p = v.intValue else { throw RucioError("InputValidationError", "priority must be an integer") }
                    try db.exec(sql: "UPDATE rules SET priority = ?, updated_at = ? WHERE id = ?", arguments: [p, now, id])
                    try db.exec(sql: "UPDATE requests SET priority = ? WHERE rule_id = ? AND state = 'QUEUED'", arguments: [p, id])
                case "purge_replicas":
                    try db.exec(sql: "UPDATE rules SET purge_replicas = ?, updated_at = ? WHERE id = ?", arguments: [(v.boolValue ?? false) ? 1 : 0, now, id])
                case "account":
                    guard issuer.isAdmin, let a = v.stringValue else { throw RucioError.accessDenied("Only admins can change a rule's account") }
                    try Self.requireAccount(db, a)
                    try db.exec(sql: "UPDATE rules SET account = ?, updated_at = ? WHERE id = ?", arguments: [a, now, id])
                    try db.exec(sql: "UPDATE locks SET account = ? WHERE rule_id = ?", arguments: [a, id])
                case "child_rule_id":
                    try db.exec(sql: "UPDATE rules SET child_rule_id = ?, updated_at = ? WHERE id = ?", arguments: [v.stringValue, now, id])
                case "state":
                    guard let s = v.stringValue.flatMap(RuleState.init(loose:)) else { throw RucioError("InputValidationError", "Invalid rule state") }
                    switch s {
                    case .suspended:
                        try db.exec(sql: "UPDATE rules SET state = 'U', updated_at = ? WHERE id = ?", arguments: [now, id])
                    case .stuck, .replicating:
                        // Un-suspend, or ask the engine to retry stuck locks.
                        try db.exec(sql: "UPDATE rules SET state = 'R', updated_at = ? WHERE id = ?", arguments: [now, id])
                        try retryStuckLocks(db, ruleID: id, now: now)
                        try Self.recountRule(db, id: id, now: now)
                    default: throw RucioError("UnsupportedOperation", "The state of a rule can only be set to SUSPENDED, STUCK or REPLICATING")
                    }
                case "meta", "boost_rule", "cancel_requests", "eol_at", "approve", "split_container": continue
                default: throw RucioError("InputValidationError", "\(k) is not a valid option to update")
                }
            }
        }
    }

    /// Stuck locks go back to REPLICATING with a fresh transfer request.
    func retryStuckLocks(_ db: Database, ruleID: String, now: Double) throws {
        let rule = try Self.rule(db, ruleID)
        for l in try db.all(sql: "SELECT scope, name, rse_id FROM locks WHERE rule_id = ? AND state = 'S'", arguments: [ruleID]) {
            try db.exec(sql: "UPDATE locks SET state = 'R', repair_cnt = repair_cnt + 1, updated_at = ? WHERE rule_id = ? AND scope = ? AND name = ? AND rse_id = ?", arguments: [now, ruleID, l["scope"], l["name"], l["rse_id"]])
            let file = try Self.did(db, l["scope"], l["name"])
            try queueTransfer(db, file: file, rse: try Self.rse(db, id: l["rse_id"]), rule: rule, now: now)
        }
    }

    /// Locks of a rule.
    public func locks(ofRule id: String) async throws -> [ReplicaLock] {
        try await db.read { db in
            _ = try Self.rule(db, id)
            return try Self.lockRows(db, where: "l.rule_id = ?", [id])
        }
    }

    /// Locks on the files of a DID.
    public func locks(onDID scope: String, _ name: String) async throws -> [ReplicaLock] {
        try await db.read { db in
            let d = try Self.did(db, scope, name)
            if d.type == .file { return try Self.lockRows(db, where: "l.scope = ? AND l.name = ?", [scope, name]) }
            return try Self.lockRows(db, where: "(l.scope, l.name) IN (\(Self.filesCTE.replacingOccurrences(of: "WITH RECURSIVE", with: "WITH RECURSIVE")) SELECT scope, name FROM files)", [scope, name])
        }
    }

    static func lockRows(_ db: Database, where clause: String, _ args: [any DatabaseValueConvertible]) throws -> [ReplicaLock] {
        try db.all(sql: "SELECT l.*, r.rse AS rse_name FROM locks l JOIN rses r ON r.id = l.rse_id WHERE \(clause) ORDER BY l.scope, l.name, r.rse", arguments: StatementArguments(args)).map {
            ReplicaLock(ruleID: $0["rule_id"], scope: $0["scope"], name: $0["name"], rseID: $0["rse_id"], rse: $0["rse_name"], account: $0["account"], bytes: $0["bytes"],
                        state: LockState(rawValue: $0["state"]) ?? .replicating, createdAt: Date(timeIntervalSince1970: $0["created_at"]), updatedAt: Date(timeIntervalSince1970: $0["updated_at"]))
        }
    }
}
