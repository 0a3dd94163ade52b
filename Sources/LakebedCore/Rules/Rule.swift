public import Foundation
import GRDB

/// What a client asks for when it adds a rule.
public struct RuleSpec: Sendable {
    /// The rule's id when the caller names it (a scenario's `rule_id`, one DID only); otherwise a new one is made.
    public var id: String?
    /// DIDs to protect; one rule is made per DID, each with the same settings.
    public var dids: [DIDRef]
    /// Copies wanted, each on a different RSE matched by `rseExpression` (at least 1).
    public var copies: Int
    /// Rucio RSE expression naming the candidate RSEs, e.g. `SITE-A|SITE-B` or `tier=1&type=DISK`.
    public var rseExpression: String
    /// Name of an RSE attribute whose values weight the choice of RSEs (RSEs weighted 0 are skipped); nil = no weighting.
    public var weight: String?
    /// Seconds until the rule expires and the judge-cleaner removes it; nil = never.
    public var lifetime: Double?
    /// Rucio grouping: ALL (every file on the same RSEs), DATASET (per dataset) or NONE (per file).
    public var grouping: String
    /// Account the rule is charged to; nil = the issuer's (another account's needs an admin).
    public var account: String?
    /// A locked rule cannot be deleted until it is unlocked.
    public var locked: Bool
    /// RSE expression limiting which replicas may be transfer sources; nil = any AVAILABLE replica.
    public var sourceReplicaExpression: String?
    /// Rucio/FTS activity the transfers run under; Rucio's default is `User Subscriptions`.
    public var activity: String
    /// Rucio `notify`: Y, N, C or P, stored as the rule's notification YES, NO, CLOSE or PROGRESS.
    public var notify: String
    /// On deletion, tombstone the unlocked replicas at the epoch rather than now; the reaper takes both on its next pass.
    public var purgeReplicas: Bool
    /// Pick RSEs even where writing is disabled (transfers to them still wait until writing is enabled again).
    public var ignoreAvailability: Bool
    /// Free text kept as the rule's `comments`; nil = none.
    public var comment: String?
    /// Transfer priority (Rucio default 3) given to the rule's requests and handed on to FTS.
    public var priority: Int
    /// Rucio rule `meta`, kept as given (JSON text); nil = none.
    public var meta: String?
    /// The subscription that made the rule (the transmogrifier sets it).
    public var subscriptionID: String?

    /// A rule as `add_replication_rule` takes it; the defaults are Rucio's.
    public init(
        dids: [DIDRef] = [], copies: Int = 1, rseExpression: String = "", weight: String? = nil, lifetime: Double? = nil,
        grouping: String = "DATASET", account: String? = nil, locked: Bool = false, sourceReplicaExpression: String? = nil,
        activity: String = "User Subscriptions", notify: String = "N", purgeReplicas: Bool = false,
        ignoreAvailability: Bool = false, comment: String? = nil, priority: Int = 3, meta: String? = nil,
        subscriptionID: String? = nil
    ) {
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
        self.id = nil
    }
}

/// Rule states with Rucio's codes.
public enum RuleState: String, Sendable, CaseIterable {
    case replicating = "R"
    case ok = "O"
    case stuck = "S"
    case suspended = "U"
    case waitingApproval = "W"
    case inject = "I"
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
        if let s = RuleState(rawValue: loose.uppercased()) {
            self = s
            return
        }
        guard let s = RuleState.allCases.first(where: { $0.name == loose.uppercased() }) else { return nil }
        self = s
    }
}

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

/// Lock states with Rucio's codes.
public enum LockState: String, Sendable {
    case ok = "O"
    case replicating = "R"
    case stuck = "S"
    public var name: String {
        switch self {
        case .ok: "OK"
        case .replicating: "REPLICATING"
        case .stuck: "STUCK"
        }
    }
}

/// A replication rule: N copies of a DID on RSEs matching an expression.
public struct Rule: Sendable {
    /// Rucio rule id: 32 lower-case hex digits (seeded in scenarios).
    public var id: String
    /// Account the rule belongs to and whose limits it counts against.
    public var account: String
    /// Scope of the rule's DID.
    public var scope: String
    /// Name of the rule's DID.
    public var name: String
    /// Type of the rule's DID when the rule was added: FILE, DATASET or CONTAINER.
    public var didType: DIDType
    /// OK, REPLICATING or STUCK as its locks say, or SUSPENDED (kept until changed); WAITING_APPROVAL and INJECT are never set here.
    public var state: RuleState
    /// Why the rule is STUCK (the last transfer error); nil in every other state.
    public var error: String?
    /// The RSE expression the rule's locks were placed by.
    public var rseExpression: String
    /// Copies the rule keeps, each on a different RSE.
    public var copies: Int
    /// When the rule expires and the judge-cleaner removes it; nil = never.
    public var expiresAt: Date?
    /// RSE attribute that weighted the choice of RSEs; nil = none.
    public var weight: String?
    /// Whether the rule is locked against deletion.
    public var locked: Bool
    /// Locks of the rule whose replica is AVAILABLE (Rucio `locks_ok_cnt`).
    public var locksOK: Int
    /// Locks of the rule waiting for a transfer (Rucio `locks_replicating_cnt`).
    public var locksReplicating: Int
    /// Locks of the rule whose transfers failed for good (Rucio `locks_stuck_cnt`).
    public var locksStuck: Int
    /// RSE expression limiting the transfer sources; nil = any AVAILABLE replica.
    public var sourceReplicaExpression: String?
    /// Rucio/FTS activity the rule's transfers run under.
    public var activity: String
    /// Rucio grouping the locks were placed by: ALL, DATASET or NONE.
    public var grouping: String
    /// Rucio notification: NO, YES, CLOSE or PROGRESS; stored and reported only.
    public var notification: String
    /// When the rule went STUCK (kept while it stays so); the judge-repairer's waits count from it (see `repair`). nil = not stuck.
    public var stuckAt: Date?
    /// On deletion, tombstone the unlocked replicas at the epoch rather than now (the reaper takes both on its next pass).
    public var purgeReplicas: Bool
    /// Whether RSEs were picked regardless of write availability (transfers to them still wait for it).
    public var ignoreAvailability: Bool
    /// Rucio `ignore_account_limit`; always false here (never set) and account limits always apply.
    public var ignoreAccountLimit: Bool
    /// Transfer priority of the rule's requests (Rucio default 3).
    public var priority: Int
    /// Bytes of the distinct files the rule locks; nil until the rule is first counted.
    public var bytes: Int64?
    /// The comment given when the rule was added; nil = none.
    public var comments: String?
    /// Id of the rule that replaces this one after a move (`move_rule`); this rule is removed once the child is OK. nil = none.
    public var childRuleID: String?
    /// Rucio `eol_at` (end of life); never set here, always nil.
    public var eolAt: Date?
    /// Rucio `split_container`; never set here, always false.
    public var splitContainer: Bool
    /// Rucio rule `meta` as given (JSON text); nil = none.
    public var meta: String?
    /// Id of the Rucio subscription whose transmogrifier pass made the rule; nil for rules added directly.
    public var subscriptionID: String?
    /// When the rule was added.
    public var createdAt: Date
    /// When the rule's row last changed (lock counts, state, options).
    public var updatedAt: Date
    /// The judge-repairer's next retry of a STUCK rule (filled in by the reads clients and dashboards see).
    public var repair: RepairPlan?

    /// The rule's error as clients see it: Rucio's reason, and while STUCK when the repairer tries again
    /// (`… · retry 2 in 20 min`).
    public func shownError(now: Date) -> String? {
        guard let plan = repair else { return error }
        return [error, plan.summary(now: now)].compactMap { $0 }.joined(separator: " · ")
    }

    init(row: Row) {
        id = row["id"]
        account = row["account"]
        scope = row["scope"]
        name = row["name"]
        didType = DIDType(rawValue: row["did_type"]) ?? .file
        state = RuleState(rawValue: row["state"]) ?? .replicating
        error = row["error"]
        rseExpression = row["rse_expression"]
        copies = row["copies"]
        expiresAt = Date(stamp: row["expires_at"])
        weight = row["weight"]
        locked = row["locked"]
        locksOK = row["locks_ok_cnt"]
        locksReplicating = row["locks_replicating_cnt"]
        locksStuck = row["locks_stuck_cnt"]
        sourceReplicaExpression = row["source_replica_expression"]
        activity = row["activity"]
        grouping = row["grouping"]
        notification = row["notification"]
        stuckAt = Date(stamp: row["stuck_at"])
        purgeReplicas = row["purge_replicas"]
        ignoreAvailability = row["ignore_availability"]
        ignoreAccountLimit = row["ignore_account_limit"]
        priority = row["priority"]
        bytes = row["bytes"]
        comments = row["comments"]
        childRuleID = row["child_rule_id"]
        eolAt = Date(stamp: row["eol_at"])
        splitContainer = row["split_container"]
        meta = row["meta"]
        subscriptionID = row["subscription_id"]
        createdAt = Date(timeIntervalSince1970: row["created_at"])
        updatedAt = Date(timeIntervalSince1970: row["updated_at"])
    }
}

/// A replica lock held by a rule.
public struct ReplicaLock: Sendable {
    /// Id of the rule that holds the lock.
    public var ruleID: String
    /// Scope of the locked file.
    public var scope: String
    /// Name of the locked file.
    public var name: String
    /// Id of the RSE the lock is on.
    public var rseID: String
    /// Name of the RSE the lock is on.
    public var rse: String
    /// Account of the rule that holds the lock.
    public var account: String
    /// Size of the locked file in bytes.
    public var bytes: Int64
    /// OK (replica AVAILABLE), REPLICATING (transfer pending) or STUCK (transfers failed for good).
    public var state: LockState
    /// When the lock was placed.
    public var createdAt: Date
    /// When the lock's state last changed.
    public var updatedAt: Date
}
