public import Foundation
import GRDB

/// A limit on transfers towards (or from) the RSEs of an expression, for an activity (Rucio's `transfer_limits`).
public struct TransferLimit: Sendable {
    /// The limit's id.
    public var id: String
    /// The RSEs it limits.
    public var rseExpression: String
    /// The activity it limits; nil = every activity.
    public var activity: String?
    /// DESTINATION or SOURCE: which end of a transfer the RSEs are.
    public var direction: String
    /// Transfers allowed at once; nil = no count limit.
    public var maxTransfers: Int64?
    /// Bytes allowed (Rucio's throttler's volume); nil = none.
    public var volume: Int64?
    /// Rucio's throttler deadline; nil = none.
    public var deadline: Int64?
    /// Rucio's throttler strategy; nil = default.
    public var strategy: String?
    /// Rucio's throttler counter of transfers; nil = unset.
    public var transfers: Int64?
    /// Rucio's throttler counter of waiting requests; nil = unset.
    public var waitings: Int64?
    /// When it was set.
    public var createdAt: Date
    /// When it last changed.
    public var updatedAt: Date

    /// A limit as the client sets it.
    public init(
        id: String, rseExpression: String, activity: String?, direction: String, maxTransfers: Int64?, volume: Int64?, deadline: Int64?,
        strategy: String?, transfers: Int64?, waitings: Int64?, createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.rseExpression = rseExpression
        self.activity = activity
        self.direction = direction
        self.maxTransfers = maxTransfers
        self.volume = volume
        self.deadline = deadline
        self.strategy = strategy
        self.transfers = transfers
        self.waitings = waitings
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// Transfer limits as Rucio's throttler reads them. Lakebed keeps them and answers them, but its conveyor has no
/// throttler: the emulated FTS's per-link concurrency is what bounds transfers.
public struct TransferLimitStore: CatalogStore {
    /// The catalog this works on.
    public let catalog: Catalog
    /// Works on `catalog`.
    public init(catalog: Catalog) { self.catalog = catalog }

    /// Every limit, by expression and activity.
    public func list() async throws -> [TransferLimit] {
        try await db.read { db in
            try db.all(sql: "SELECT * FROM transfer_limits ORDER BY rse_expression, activity, direction").map {
                TransferLimit(
                    id: $0["id"], rseExpression: $0["rse_expression"], activity: $0["activity"], direction: $0["direction"],
                    maxTransfers: $0["max_transfers"], volume: $0["volume"], deadline: $0["deadline"], strategy: $0["strategy"],
                    transfers: $0["transfers"], waitings: $0["waitings"], createdAt: Date(timeIntervalSince1970: $0["created_at"]),
                    updatedAt: Date(timeIntervalSince1970: $0["updated_at"]))
            }
        }
    }

    /// Sets (adds or replaces) a limit; admins only.
    public func set(_ l: TransferLimit, issuer: Issuer) async throws {
        try catalog.policy.permission.requireAdmin(issuer, "set_transfer_limit")
        guard ["DESTINATION", "SOURCE"].contains(l.direction) else { throw RucioError(.invalidObject, "direction must be DESTINATION or SOURCE") }
        let now = nowStamp
        let id = l.id
        try await db.write { db in
            _ = try RSEStore.resolve(db, expression: l.rseExpression)
            try db.exec(
                sql: "DELETE FROM transfer_limits WHERE rse_expression = ? AND COALESCE(activity, '') = COALESCE(?, '') AND direction = ?",
                arguments: [l.rseExpression, l.activity, l.direction])
            try db.exec(
                sql: """
                    INSERT INTO transfer_limits (id, rse_expression, activity, direction, max_transfers, volume, deadline, strategy, transfers, waitings,
                      created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    id, l.rseExpression, l.activity, l.direction, l.maxTransfers, l.volume, l.deadline, l.strategy, l.transfers, l.waitings, now, now,
                ])
        }
    }

    /// Removes a limit; admins only. Removing one that is not there is not an error, as in Rucio.
    public func delete(rseExpression: String, activity: String?, direction: String, issuer: Issuer) async throws {
        try catalog.policy.permission.requireAdmin(issuer, "delete_transfer_limit")
        try await db.write { db in
            try db.exec(
                sql: "DELETE FROM transfer_limits WHERE rse_expression = ? AND COALESCE(activity, '') = COALESCE(?, '') AND direction = ?",
                arguments: [rseExpression, activity, direction])
        }
    }

    /// A new limit's id (seeded, as every id of the lake).
    public func newLimitID() -> String { newID() }
}
