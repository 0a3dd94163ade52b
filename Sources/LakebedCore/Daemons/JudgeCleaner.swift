public import Foundation
import GRDB

/// Rucio's judge-cleaner: removes rules whose lifetime has passed, and moved rules once their child is OK.
public struct JudgeCleaner: CatalogStore {
    /// The catalog this works on.
    public let catalog: Catalog
    /// Works on `catalog`.
    public init(catalog: Catalog) { self.catalog = catalog }

    /// Removes rules whose child rule (from a move) has reached OK.
    public func retireMovedRules() async throws -> Int {
        let now = nowStamp
        return try await db.write { db in
            let rules = try Row.fetchAll(
                db, sql: "SELECT p.* FROM rules p JOIN rules c ON c.id = p.child_rule_id WHERE c.state = \(RuleState.ok.sql)"
            ).map(Rule.init(row:))
            for r in rules { try RuleStore.deleteRuleInTransaction(db, rule: r, purge: r.purgeReplicas, now: now) }
            return rules.count
        }
    }

    /// Deletes rules whose lifetime has passed (unless locked), as the judge-cleaner does.
    public func expireRules() async throws -> Int {
        let now = nowStamp
        return try await db.write { db in
            let rules = try Row.fetchAll(
                db, sql: "SELECT * FROM rules WHERE expires_at IS NOT NULL AND expires_at <= ? AND locked = 0", arguments: [now]
            ).map(Rule.init(row:))
            for r in rules { try RuleStore.deleteRuleInTransaction(db, rule: r, purge: r.purgeReplicas, now: now) }
            return rules.count
        }
    }

    /// The earliest expiry of an unlocked rule.
    public func nextRuleExpiry() async throws -> Date? {
        try await db.read { db in
            try Double.fetchOne(db, sql: "SELECT MIN(expires_at) FROM rules WHERE expires_at IS NOT NULL AND locked = 0").map {
                Date(timeIntervalSince1970: $0)
            }
        }
    }
}
