public import Foundation
import GRDB

/// Rucio's transmogrifier: matches every new dataset and container against the active subscriptions (by priority)
/// and adds the rules of each subscription it matches, then clears the DIDs' `is_new` flag.
///
/// As Rucio's: a filter's `pattern`, `excluded_pattern` and `scope` entries are regular expressions matched at the
/// start of the name or scope; `account` and `did_type` are lists of exact values; `min_avg_file_size` and
/// `max_avg_file_size` apply once the collection has files; any other key must be a metadata column of the DID whose
/// value one of the listed regular expressions matches. `split_rule` makes one single-copy rule per chosen RSE,
/// preferring RSEs the subscription's earlier rules on the DID already use. Rules that cannot be made (no RSE, a
/// duplicate) are skipped, as Rucio logs and skips them.
public struct Transmogrifier: CatalogStore {
    /// The catalog this works on.
    public let catalog: Catalog
    /// Works on `catalog`.
    public init(catalog: Catalog) { self.catalog = catalog }

    /// Whether a pass has work: new collections and subscriptions that may match them.
    public func hasWork() async throws -> Bool {
        try await db.read { db in
            try Self.hasNewCollections(db)
                && db.one(
                    sql: "SELECT 1 FROM subscriptions WHERE state IN (?, ?) LIMIT 1",
                    arguments: [SubscriptionState.active, SubscriptionState.updated]) != nil
        }
    }

    static func hasNewCollections(_ db: Database) throws -> Bool { try db.one(sql: "SELECT 1 FROM dids WHERE is_new = 1 LIMIT 1") != nil }

    /// Subscriptions whose lifetime has run out but that are not INACTIVE yet.
    static let expiredSQL = "state != ? AND lifetime IS NOT NULL AND lifetime < ?"

    /// One pass at `now`; returns the number of rules made.
    @discardableResult
    public func run(at now: Date) async throws -> Int {
        let stamp = now.timeIntervalSince1970
        // Only a pass with something to do writes: the daemons tick several times a second.
        let due = try await db.read { db in
            try Self.hasNewCollections(db)
                || db.one(sql: "SELECT 1 FROM subscriptions WHERE \(Self.expiredSQL) LIMIT 1", arguments: [SubscriptionState.inactive, stamp]) != nil
        }
        guard due else { return 0 }
        return try await db.write { db in
            // Subscriptions past their lifetime stop; the others are matched in priority order.
            try db.exec(
                sql: "UPDATE subscriptions SET state = ?, expired_at = ?, updated_at = ? WHERE \(Self.expiredSQL)",
                arguments: [SubscriptionState.inactive, stamp, stamp, SubscriptionState.inactive, stamp])
            let subs = try db.all(
                sql: "SELECT * FROM subscriptions WHERE state IN (?, ?) ORDER BY policyid, created_at, id",
                arguments: [SubscriptionState.active, SubscriptionState.updated]
            ).map { Matcher(Subscription(row: $0)) }
            let fresh = try db.all(sql: "SELECT scope, name FROM dids WHERE is_new = 1 ORDER BY created_at, scope, name")
            var made = 0
            for row in fresh {
                let did = try DIDStore.did(db, row["scope"], row["name"])
                guard did.type != .file else { continue }
                for sub in subs where Self.matches(sub.filter, did) {
                    made += try self.addRules(db, for: sub, did: did)
                }
            }
            try db.exec(sql: "UPDATE dids SET is_new = 0 WHERE is_new = 1")
            if !subs.isEmpty {
                try db.exec(
                    sql: "UPDATE subscriptions SET last_processed = ? WHERE state IN (?, ?)",
                    arguments: [stamp, SubscriptionState.active, SubscriptionState.updated])
            }
            return made
        }
    }

    /// A subscription with its filter and rules parsed once for a pass (nil filter: text that is not a JSON object,
    /// which matches nothing, as Rucio skips such a subscription).
    struct Matcher {
        let subscription: Subscription
        let filter: JSONObject?
        let rules: [JSON]
        var split: Bool { filter?["split_rule"]?.boolValue ?? false }

        init(_ s: Subscription) {
            subscription = s
            filter = (try? JSONParser.parse(s.filter))?.objectValue
            rules = (try? JSONParser.parse(s.replicationRules))?.arrayValue ?? []
        }
    }

    /// Whether `did` matches a subscription's filter, key by key as Rucio's transmogrifier decides.
    static func matches(_ filter: JSONObject?, _ did: DID) -> Bool {
        guard let filter else { return false }
        let meta = did.columns
        if meta["hidden"]?.boolValue == true { return false }
        func list(_ v: JSON) -> [JSON] { v.arrayValue ?? [v] }
        for (key, value) in filter {
            switch key {
            case "pattern":
                guard let p = value.stringValue, Self.matchesAtStart(p, did.name) else { return false }
            case "excluded_pattern":
                if let p = value.stringValue, Self.matchesAtStart(p, did.name) { return false }
            case "split_rule":
                continue
            case "scope":
                guard list(value).contains(where: { $0.stringValue.map { Self.matchesAtStart($0, did.scope) } ?? false }) else { return false }
            case "account":
                guard list(value).contains(where: { $0.stringValue == did.account }) else { return false }
            case "did_type":
                guard list(value).contains(where: { $0.stringValue?.uppercased() == did.type.rawValue }) else { return false }
            case "min_avg_file_size", "max_avg_file_size":
                guard let length = did.length, length > 0, let bytes = did.bytes, bytes > 0, let limit = value.doubleValue else { continue }
                let average = Double(bytes) / Double(length)
                if key == "min_avg_file_size" && average < limit { return false }
                if key == "max_avg_file_size" && average > limit { return false }
            default:
                guard let have = meta[key] else { return false }
                let text = Self.pythonText(have)
                guard list(value).contains(where: { Self.matchesAtStart(Self.pythonText($0), text) }) else { return false }
            }
        }
        return true
    }

    /// Python's `re.match`: the expression must match at the start of the text (not necessarily all of it).
    static func matchesAtStart(_ pattern: String, _ text: String) -> Bool {
        guard let re = try? NSRegularExpression(pattern: pattern) else { return false }
        return re.firstMatch(in: text, options: [.anchored], range: NSRange(text.startIndex..., in: text)) != nil
    }

    /// A value as Python's `str()` prints it (`None`, `True`, `5`).
    static func pythonText(_ v: JSON) -> String {
        switch v {
        case .null: "None"
        case .bool(let b): b ? "True" : "False"
        case .string(let s): s
        case .int(let i): String(i)
        case .double(let d): String(d)
        default: v.serialized()
        }
    }

    /// Adds the subscription's rules for `did`; returns how many were made.
    func addRules(_ db: Database, for matcher: Matcher, did: DID) throws -> Int {
        let sub = matcher.subscription, split = matcher.split
        var made = 0
        for case .object(let r) in matcher.rules {
            var spec = try Self.spec(r, subscription: sub, did: did, db: db)
            let issuer = Issuer(account: spec.account ?? sub.account, identity: "transmogrifier", isAdmin: true)
            var expressions = [spec.rseExpression]
            if split {
                expressions = try Self.splitRSEs(db, subscription: sub, did: did, expression: spec.rseExpression, copies: spec.copies)
                spec.copies = 1
            }
            for expression in expressions {
                spec.rseExpression = expression
                do {
                    try db.inSavepoint {
                        _ = try JudgeEvaluator(catalog: catalog).addRuleInTransaction(db, spec, issuer: issuer)
                        return .commit
                    }
                    made += 1
                } catch let e as RucioError {
                    // Rucio's transmogrifier logs a rule it cannot make and goes on with the others.
                    _ = events.append(
                        clock.now(), "transmogrifier.rule_failed",
                        [("subscription", sub.name), ("did", "\(did.scope):\(did.name)"), ("error", e.description)])
                }
            }
        }
        return made
    }

    /// The rule a subscription's rule entry stands for (Rucio's `__get_rule_dict`).
    static func spec(_ r: JSONObject, subscription sub: Subscription, did: DID, db: Database) throws -> RuleSpec {
        var copies = Int(r["copies"]?.intValue ?? Int64(r["copies"]?.stringValue ?? "") ?? 1)
        let expression = r["rse_expression"].map(pythonText) ?? ""
        if r["copies"]?.stringValue == "*" { copies = (try? RSEStore.resolve(db, expression: expression).count) ?? 1 }
        // As Rucio's: only the string "True" locks or purges.
        return RuleSpec(
            dids: [DIDRef(did.scope, did.name)], copies: copies, rseExpression: expression, weight: r["weight"]?.stringValue,
            lifetime: r["lifetime"].flatMap { $0.doubleValue ?? $0.stringValue.flatMap(Double.init) },
            grouping: r["grouping"]?.stringValue ?? "DATASET", account: r["account"]?.stringValue ?? sub.account,
            locked: r["locked"]?.stringValue == "True", sourceReplicaExpression: r["source_replica_expression"]?.stringValue,
            activity: r["activity"]?.stringValue ?? "default", purgeReplicas: r["purge_replicas"]?.stringValue == "True",
            ignoreAvailability: r["ignore_availability"]?.boolValue ?? false,
            comment: r["comments"].map(pythonText) ?? sub.comments.map { String($0.prefix(255)) }, subscriptionID: sub.id)
    }

    /// The RSEs for a split rule: `copies` of those the expression names, first the ones the subscription's rules on
    /// the DID already use, then writable ones before blocked ones, then a stable order per DID.
    static func splitRSEs(_ db: Database, subscription sub: Subscription, did: DID, expression: String, copies: Int) throws -> [String] {
        let candidates = try RSEStore.resolve(db, expression: expression)
        var preferred = Set<String>()
        for e in try String.fetchAll(
            db, sql: "SELECT rse_expression FROM rules WHERE subscription_id = ? AND scope = ? AND name = ?",
            arguments: [sub.id, did.scope, did.name])
        {
            for rse in (try? RSEStore.resolve(db, expression: e)) ?? [] { preferred.insert(rse.rse) }
        }
        let key = "\(did.scope):\(did.name)"
        let ranked = candidates.sorted { a, b in
            let pa = preferred.contains(a.rse)
            let pb = preferred.contains(b.rse)
            if pa != pb { return pa }
            if a.availabilityWrite != b.availabilityWrite { return a.availabilityWrite }
            return md5Hex(key + a.rse) < md5Hex(key + b.rse)
        }
        let chosen = ranked.prefix(copies)
        // Enough copies are already where the subscription put them: nothing new.
        return chosen.filter { !preferred.contains($0.rse) }.map(\.rse)
    }
}
