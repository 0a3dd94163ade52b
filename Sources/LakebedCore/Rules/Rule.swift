public import Foundation
public import GRDB

/// What a client asks for when it adds a rule.
public struct RuleSpec: Sendable {
    public var dids: [DIDRef]
    public var copies: Int
    public var rseExpression: String
    public var weight: String?
    public var lifetime: Double?
    public var grouping: String
    public var account: String?
    public var locked: Bool
    public var sourceReplicaExpression: String?
    public var activity: String
    public var notify: String
    public var purgeReplicas: Bool
    public var ignoreAvailability: Bool
    public var comment: String?
    public var priority: Int
    public var meta: String?
    /// The subscription that made the rule (the transmogrifier sets it).
    public var subscriptionID: String?

    /// A rule as `add_replication_rule` takes it; the defaults are Rucio's.
    public init(dids: [DIDRef] = [], copies: Int = 1, rseExpression: String = "", weight: String? = nil, lifetime: Double? = nil,
                grouping: String = "DATASET", account: String? = nil, locked: Bool = false, sourceReplicaExpression: String? = nil,
                activity: String = "User Subscriptions", notify: String = "N", purgeReplicas: Bool = false,
                ignoreAvailability: Bool = false, comment: String? = nil, priority: Int = 3, meta: String? = nil,
                subscriptionID: String? = nil) {
        self.dids = dids
        self.copies = copies
        self.rseExpression = rseExpression
        self.weight = weight
        self.lifetime = lifetime
        self.grouping = grouping
        self.account = account
        self.locked = locked
        self.sourceReplicaExpression = sourceReplicaExpression
        self.activity = activity
        self.notify = notify
        self.purgeReplicas = purgeReplicas
        self.ignoreAvailability = ignoreAvailability
        self.comment = comment
        self.priority = priority
        self.meta = meta
        self.subscriptionID = subscriptionID
    }
}

/// Rule states with Rucio's codes.
public enum RuleState: String, Sendable, CaseIterable {
    case replicating = "R", ok = "O", stuck = "S", suspended = "U", waitingApproval = "W", inject = "I"
    public var name: String {
        switch self {
        case .replicating: return "REPLICATING"
        case .ok: return "OK"
        case .stuck: return "STUCK"
        case .suspended: return "SUSPENDED"
        case .waitingApproval: return "WAITING_APPROVAL"
        case .inject: return "INJECT"
        }
    }
    public init?(loose: String) {
        if let s = RuleState(rawValue: loose.uppercased()) { self = s; return }
        guard let s = RuleState.allCases.first(where: { $0.name == loose.uppercased() }) else { return nil }
        self = s
    }
}

/// Lock states with Rucio's codes.
/// A rule's locks counted by state.
public struct LockCounts: Sendable, Equatable {
    /// Locks whose replica is AVAILABLE.
    public var ok: Int
    /// Locks waiting for a transfer.
    public var replicating: Int
    /// Locks whose transfers failed for good (until the judge-repairer retries them).
    public var stuck: Int
    /// The state a rule with these locks is in (unless suspended): STUCK if any is stuck, else REPLICATING if any
    /// is replicating, else OK.
    public var ruleState: RuleState { stuck > 0 ? .stuck : (replicating > 0 ? .replicating : .ok) }
}

public enum LockState: String, Sendable {
    case ok = "O", replicating = "R", stuck = "S"
    public var name: String { switch self { case .ok: "OK"; case .replicating: "REPLICATING"; case .stuck: "STUCK" } }
}

/// A replication rule: N copies of a DID on RSEs matching an expression.
public struct Rule: Sendable {
    public var id: String, account: String, scope: String, name: String, didType: DIDType, state: RuleState, error: String?
    public var rseExpression: String, copies: Int, expiresAt: Date?, weight: String?, locked: Bool
    public var locksOK: Int, locksReplicating: Int, locksStuck: Int
    public var sourceReplicaExpression: String?, activity: String, grouping: String, notification: String
    public var stuckAt: Date?, purgeReplicas: Bool, ignoreAvailability: Bool, ignoreAccountLimit: Bool, priority: Int
    public var bytes: Int64?
    public var comments: String?, childRuleID: String?, eolAt: Date?, splitContainer: Bool, meta: String?, subscriptionID: String?
    public var createdAt: Date, updatedAt: Date
    /// The judge-repairer's next retry of a STUCK rule (filled in by the reads clients and dashboards see).
    public var repair: RepairPlan?

    /// The rule's error as clients see it: Rucio's reason, and while STUCK when the repairer tries again
    /// (`… · retry 2 in 20 min`).
    public func shownError(now: Date) -> String? {
        guard let plan = repair else { return error }
        return [error, plan.summary(now: now)].compactMap { $0 }.joined(separator: " · ")
    }

    init(row: Row) {
        id = row["id"]; account = row["account"]; scope = row["scope"]; name = row["name"]
        didType = DIDType(rawValue: row["did_type"]) ?? .file; state = RuleState(rawValue: row["state"]) ?? .replicating; error = row["error"]
        rseExpression = row["rse_expression"]; copies = row["copies"]; expiresAt = Date(stamp: row["expires_at"]); weight = row["weight"]
        locked = row["locked"]; locksOK = row["locks_ok_cnt"]; locksReplicating = row["locks_replicating_cnt"]; locksStuck = row["locks_stuck_cnt"]
        sourceReplicaExpression = row["source_replica_expression"]; activity = row["activity"]; grouping = row["grouping"]
        notification = row["notification"]; stuckAt = Date(stamp: row["stuck_at"]); purgeReplicas = row["purge_replicas"]
        ignoreAvailability = row["ignore_availability"]; ignoreAccountLimit = row["ignore_account_limit"]; priority = row["priority"]
        bytes = row["bytes"]; comments = row["comments"]; childRuleID = row["child_rule_id"]; eolAt = Date(stamp: row["eol_at"]); splitContainer = row["split_container"]
        meta = row["meta"]; subscriptionID = row["subscription_id"]
        createdAt = Date(timeIntervalSince1970: row["created_at"]); updatedAt = Date(timeIntervalSince1970: row["updated_at"])
    }
}

/// A replica lock held by a rule.
public struct ReplicaLock: Sendable {
    public var ruleID: String, scope: String, name: String, rseID: String, rse: String, account: String, bytes: Int64, state: LockState
    public var createdAt: Date, updatedAt: Date
}

