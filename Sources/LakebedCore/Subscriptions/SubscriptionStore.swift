import Foundation
import GRDB

/// Subscriptions as Rucio keeps them: add, update, list, and the counts of the rules each made.
public struct SubscriptionStore: CatalogStore {
    /// The catalog this works on.
    public let catalog: Catalog
    /// Works on `catalog`.
    public init(catalog: Catalog) { self.catalog = catalog }

    /// What `add_subscription` and `update_subscription` take beside the name and account.
    public struct Options: Sendable {
        /// The filter; checked against Rucio's `subscription_filter` schema.
        public var filter: JSONObject?
        /// The rules to make: a JSON list of rule objects, each with a valid `activity`.
        public var replicationRules: JSON?
        /// Free text for the rules' comments.
        public var comments: String?
        /// Days until the subscription stops, or nil.
        public var lifetimeDays: Double?
        /// Stored as given (Rucio's transmogrifier does not act on it).
        public var retroactive: Bool?
        /// Priority (`policyid`): lower is matched first.
        public var priority: Int?
        /// For an update: a state code (`A`, `I`, …); only `I` (INACTIVE) is kept, any other update makes it UPDATED.
        public var state: String?

        public init() {}
    }

    /// The keys of a subscription filter and the JSON type Rucio's generic schema wants for each.
    static let filterTypes: [String: String] = [
        "datatype": "array", "prod_step": "array", "stream_name": "array", "project": "array", "scope": "array",
        "pattern": "string", "excluded_pattern": "string", "group": "string", "provenance": "string", "grouping": "string",
        "account": "array", "split_rule": "boolean",
    ]

    /// Checks a filter and the rules as Rucio's gateway does (`InvalidObject` for what the schema refuses).
    static func check(filter: JSONObject?, rules: JSON?, requireRules: Bool, schema: NamingSchema) throws {
        if let filter, !filter.isEmpty {
            for (key, value) in filter {
                guard let type = filterTypes[key] else { continue }
                let ok: Bool
                switch type {
                case "array": ok = value.arrayValue != nil
                case "string": ok = value.stringValue != nil
                default: ok = value.boolValue != nil
                }
                guard ok else {
                    throw RucioError(.invalidObject, "Problem validating subscription_filter: \(Self.repr(value)) is not of type '\(type)'")
                }
                if key == "account", let accounts = value.arrayValue {
                    for a in accounts where !(a.stringValue.map(schema.isValidAccount) ?? false) {
                        throw RucioError(.invalidObject, "Problem validating subscription_filter: \(Self.repr(a)) is not a valid account")
                    }
                }
            }
        }
        // As Rucio's `if replication_rules:`: none, or an empty list, is no rules (refused when adding).
        guard let rules, rules.arrayValue?.isEmpty != true else {
            if requireRules { throw RucioError(.invalidObject, "You must specify a rule") }
            return
        }
        guard let list = rules.arrayValue else { throw RucioError(.invalidObject, "replication_rules should be a list") }
        for rule in list {
            guard let o = rule.objectValue else { throw RucioError(.invalidObject, "each replication rule should be a dict") }
            let activity = o["activity"]?.stringValue ?? "default"
            guard schema.activities.contains(activity) else {
                throw RucioError(.invalidObject, "Problem validating activity: '\(activity)' is not one of \(schema.activitiesText)")
            }
        }
    }

    /// Python's repr of a JSON value, as jsonschema's messages show it.
    static func repr(_ v: JSON) -> String {
        if let s = v.stringValue { return "'\(s)'" }
        if let b = v.boolValue { return b ? "True" : "False" }
        return v.serialized()
    }

    /// Rucio's `add_subscription`; returns its id. Only root and admin accounts may add subscriptions.
    public func add(name: String, account: String, options o: Options, issuer: Issuer) async throws -> String {
        guard issuer.isAdmin else { throw RucioError.accessDenied("Account \(issuer.account) can not add subscription. ") }
        try Self.check(filter: o.filter, rules: o.replicationRules, requireRules: true, schema: catalog.policy.schema)
        let now = nowStamp
        let id = newID()
        return try await db.write { db in
            try AccountStore.requireAccount(db, account)
            if try db.one(sql: "SELECT 1 FROM subscriptions WHERE name = ? AND account = ?", arguments: [name, account]) != nil {
                throw RucioError(.subscriptionDuplicate, "Subscription '\(name)' owned by '\(account)' already exists!")
            }
            let state: SubscriptionState = (o.retroactive ?? false) ? .new : .active
            try db.exec(
                sql: """
                    INSERT INTO subscriptions (id, name, account, filter, replication_rules, policyid, state, last_processed, lifetime,
                      retroactive, expired_at, comments, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?)
                    """,
                arguments: [
                    id, name, account, JSON.object(o.filter ?? JSONObject()).serialized(), (o.replicationRules ?? .array([])).serialized(),
                    o.priority ?? 3, state, now, o.lifetimeDays.map { now + $0 * 86_400 }, (o.retroactive ?? false) ? 1 : 0,
                    o.comments, now, now,
                ])
            return id
        }
    }

    /// Rucio's `update_subscription`: the given keys change and the state becomes UPDATED, or INACTIVE when asked.
    public func update(name: String, account: String, options o: Options, issuer: Issuer) async throws {
        guard issuer.isAdmin else { throw RucioError.accessDenied("Account \(issuer.account) can not update subscription. ") }
        try Self.check(filter: o.filter, rules: o.replicationRules, requireRules: false, schema: catalog.policy.schema)
        let inactive: Bool
        if let s = o.state {
            guard let st = SubscriptionState(rawValue: s) else { throw RucioError(.invalidObject, "Invalid subscription state: \(s)") }
            inactive = st == .inactive
        } else {
            inactive = false
        }
        let now = nowStamp
        try await db.write { db in
            guard try db.one(sql: "SELECT 1 FROM subscriptions WHERE name = ? AND account = ?", arguments: [name, account]) != nil else {
                throw RucioError(.subscriptionNotFound, "Subscription for account '\(account)' named '\(name)' not found")
            }
            var sets = ["state = ?", "updated_at = ?"]
            var args: [any DatabaseValueConvertible] = [inactive ? SubscriptionState.inactive : SubscriptionState.updated, now]
            if inactive {
                sets.append("expired_at = ?")
                args.append(now)
            }
            if let f = o.filter, !f.isEmpty {
                sets.append("filter = ?")
                args.append(JSON.object(f).serialized())
            }
            if let r = o.replicationRules, !(r.arrayValue?.isEmpty ?? true) {
                sets.append("replication_rules = ?")
                args.append(r.serialized())
            }
            if let l = o.lifetimeDays, l != 0 {
                sets.append("lifetime = ?")
                args.append(now + l * 86_400)
            }
            if o.retroactive == true { sets.append("retroactive = 1") }
            if let c = o.comments, !c.isEmpty {
                sets.append("comments = ?")
                args.append(c)
            }
            if let p = o.priority, p != 0 {
                sets.append("policyid = ?")
                args.append(p)
            }
            args += [name, account]
            try db.exec(
                sql: "UPDATE subscriptions SET \(sets.joined(separator: ", ")) WHERE name = ? AND account = ?", arguments: StatementArguments(args))
        }
    }

    /// Rucio's `list_subscriptions`: by name and/or account (`*` matches any run of characters); none is
    /// `SubscriptionNotFound`.
    public func list(name: String? = nil, account: String? = nil, state: SubscriptionState? = nil) async throws -> [Subscription] {
        try await db.read { db in
            var sql = "SELECT * FROM subscriptions WHERE 1"
            var args: [any DatabaseValueConvertible] = []
            if let name, !name.isEmpty {
                sql += " AND name = ?"
                args.append(name)
            }
            if let account, !account.isEmpty {
                if account.contains("*") {
                    sql += " AND account LIKE ? ESCAPE '\\'"
                    args.append(account.likePattern)
                } else {
                    sql += " AND account = ?"
                    args.append(account)
                }
            }
            if let state {
                sql += " AND state = ?"
                args.append(state)
            }
            let rows = try db.all(sql: sql + " ORDER BY created_at, id", arguments: StatementArguments(args)).map(Subscription.init(row:))
            if rows.isEmpty {
                throw RucioError(.subscriptionNotFound, "Subscription for account '\(account ?? "*")' named '\(name ?? "None")' not found")
            }
            return rows
        }
    }

    /// One subscription by id.
    public func subscription(id: String) async throws -> Subscription {
        try await db.read { db in
            guard let row = try db.one(sql: "SELECT * FROM subscriptions WHERE id = ?", arguments: [id]) else {
                throw RucioError(.subscriptionNotFound, "No subscription with the id \(id) found")
            }
            return Subscription(row: row)
        }
    }

    /// Rules per state of each subscription of `account` (and `name`), subscriptions without rules included.
    public func ruleCounts(name: String?, account: String) async throws -> [(Subscription, SubscriptionRuleCount)] {
        try await db.read { db in
            var sql = """
                SELECT s.*, r.state AS rule_state, COUNT(r.id) AS n FROM subscriptions s LEFT JOIN rules r ON r.subscription_id = s.id
                WHERE 1
                """
            var args: [any DatabaseValueConvertible] = []
            if let name, !name.isEmpty {
                sql += " AND s.name = ?"
                args.append(name)
            }
            if account.contains("*") {
                sql += " AND s.account LIKE ? ESCAPE '\\'"
                args.append(account.likePattern)
            } else {
                sql += " AND s.account = ?"
                args.append(account)
            }
            sql += " GROUP BY s.id, r.state ORDER BY s.created_at, s.id, r.state"
            return try db.all(sql: sql, arguments: StatementArguments(args)).map { row in
                let s = Subscription(row: row)
                let state: String? = row["rule_state"]
                return (s, SubscriptionRuleCount(account: s.account, name: s.name, state: state.flatMap(RuleState.init(rawValue:)), count: row["n"]))
            }
        }
    }
}
