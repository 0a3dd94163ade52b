public import Foundation
public import GRDB

/// A subscription's state, with Rucio's codes.
public enum SubscriptionState: String, Sendable, CaseIterable {
    case active = "A"
    case inactive = "I"
    case new = "N"
    case updated = "U"
    case broken = "B"

    /// The name clients see (`ACTIVE`, …).
    public var name: String {
        switch self {
        case .active: "ACTIVE"
        case .inactive: "INACTIVE"
        case .new: "NEW"
        case .updated: "UPDATED"
        case .broken: "BROKEN"
        }
    }
}

extension SubscriptionState: DatabaseValueConvertible {}

/// A subscription: rules the transmogrifier makes for every new dataset or container that matches a filter.
public struct Subscription: Sendable {
    /// Rucio's id for it (32 hex digits).
    public var id: String
    /// Its name, unique per account.
    public var name: String
    /// The account that owns it, and the rules it makes unless a rule names another.
    public var account: String
    /// The filter as JSON text (`{"scope": ["user.jdoe"], "pattern": "data.*", "did_type": ["DATASET"]}`).
    public var filter: String
    /// The rules to make, as JSON text: a list of `{"copies": 1, "rse_expression": "…", "activity": "…", …}`.
    public var replicationRules: String
    /// Its priority: lower numbers are matched first (Rucio's `policyid`).
    public var policyID: Int
    /// ACTIVE and UPDATED subscriptions are matched; NEW (retroactive), INACTIVE and BROKEN ones are not.
    public var state: SubscriptionState
    /// When the transmogrifier last went through it.
    public var lastProcessed: Date?
    /// When it stops (it turns INACTIVE), or nil for never.
    public var lifetime: Date?
    /// Whether it was meant to apply to DIDs created before it (stored; Rucio's transmogrifier does not act on it).
    public var retroactive: Bool
    /// When it was made INACTIVE.
    public var expiredAt: Date?
    /// Free text, copied into the comment of every rule it makes.
    public var comments: String?
    /// When it was added.
    public var createdAt: Date
    /// When it last changed.
    public var updatedAt: Date

    init(row: Row) {
        id = row["id"]
        name = row["name"]
        account = row["account"]
        filter = row["filter"]
        replicationRules = row["replication_rules"]
        policyID = row["policyid"]
        state = row["state"]
        lastProcessed = Date(stamp: row["last_processed"])
        lifetime = Date(stamp: row["lifetime"])
        retroactive = (row["retroactive"] as Int) != 0
        expiredAt = Date(stamp: row["expired_at"])
        comments = row["comments"]
        createdAt = Date(timeIntervalSince1970: row["created_at"])
        updatedAt = Date(timeIntervalSince1970: row["updated_at"])
    }
}

/// How many rules of a subscription are in one state (`state` nil: a subscription without rules).
public struct SubscriptionRuleCount: Sendable, Equatable {
    /// The subscription's account.
    public var account: String
    /// The subscription's name.
    public var name: String
    /// A state of its rules, or nil when it has made none.
    public var state: RuleState?
    /// Rules in that state.
    public var count: Int
}
