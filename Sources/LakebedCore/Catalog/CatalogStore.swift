import Foundation
import GRDB

/// One concept's view of the catalog (accounts, DIDs, replicas, rules, …) or one daemon working on it.
///
/// Every store works on the same database, so a change that spans concepts (a rule placing locks and queueing
/// transfers) is still one transaction; the store only says which concept a function belongs to.
public protocol CatalogStore: Sendable {
    /// The catalog whose database this store reads and writes.
    var catalog: Catalog { get }
}

extension CatalogStore {
    var db: DatabasePool { catalog.db }
    var nowStamp: Double { catalog.nowStamp }
    var clock: any LakeClock { catalog.clock }
    var dataDir: String { catalog.dataDir }
    var events: EventLog { catalog.events }
    var faults: Faults { catalog.faults }
    var tokenLifetime: TimeInterval { catalog.tokenLifetime }
    var tokenCache: TokenCache { catalog.tokenCache }
    /// A new identifier for a rule or request (seeded, so replays are identical).
    func newID() -> String { catalog.ids.next() }
    /// See `Catalog.quickRead`.
    func quickRead<T>(_ block: (Database) throws -> T) throws -> T { try catalog.quickRead(block) }
    /// See `Catalog.cachedRead`.
    func cachedRead<T: Sendable>(_ key: String, _ block: (Database) throws -> T) throws -> T { try catalog.cachedRead(key, block) }
}

extension Catalog {
    /// Subscriptions (the transmogrifier turns them into rules).
    public var subscriptions: SubscriptionStore { SubscriptionStore(catalog: self) }
    /// Accounts and their attributes.
    public var accounts: AccountStore { AccountStore(catalog: self) }
    /// Identities, logins and tokens.
    public var auth: AuthStore { AuthStore(catalog: self) }
    /// Scopes.
    public var scopes: ScopeStore { ScopeStore(catalog: self) }
    /// Account limits and usage.
    public var accountLimits: AccountLimitStore { AccountLimitStore(catalog: self) }
    /// Files, datasets and containers.
    public var dids: DIDStore { DIDStore(catalog: self) }
    /// Replicas.
    public var replicas: ReplicaStore { ReplicaStore(catalog: self) }
    /// Bad and suspicious replicas.
    public var badReplicas: BadReplicaStore { BadReplicaStore(catalog: self) }
    /// Lifetime exceptions.
    public var lifetimeExceptions: LifetimeExceptionStore { LifetimeExceptionStore(catalog: self) }
    /// Metadata conventions (keys and their allowed values).
    public var metaConventions: MetaConventionStore { MetaConventionStore(catalog: self) }
    /// Transfer limits (kept, not enforced).
    public var transferLimits: TransferLimitStore { TransferLimitStore(catalog: self) }
    /// Heartbeats of daemons that report to the lake.
    public var heartbeats: HeartbeatStore { HeartbeatStore(catalog: self) }
    /// The configuration table (`rucio-admin config`).
    public var config: ConfigStore { ConfigStore(catalog: self) }
    /// RSEs, protocols, attributes, distances.
    public var rses: RSEStore { RSEStore(catalog: self) }
    /// Rules and locks.
    public var rules: RuleStore { RuleStore(catalog: self) }
    /// Transfer requests.
    public var requests: RequestStore { RequestStore(catalog: self) }
    /// Snapshots of the whole lake.
    public var snapshots: SnapshotStore { SnapshotStore(catalog: self) }
    /// ESAP's shopping baskets.
    public var baskets: BasketStore { BasketStore(catalog: self) }
    /// Counts for the dashboard and metrics.
    public var overview: OverviewStore { OverviewStore(catalog: self) }
}
