import Foundation
import GRDB

/// One RSE with its live usage, as an overview shows it.
public struct RSEOverview: Sendable {
    public var rse: RSE
    public var usedBytes: Int64
    public var files: Int64
}

/// Whole-lake summaries for dashboards and metrics: each is one query, whatever the size of the lake.

/// Counts for the dashboard and metrics: bytes per RSE, rules and locks by state.
public struct OverviewStore: CatalogStore {
    /// The catalog this works on.
    public let catalog: Catalog
    /// Works on `catalog`.
    public init(catalog: Catalog) { self.catalog = catalog }

    /// Every RSE with the bytes and files of its replicas (one grouped query instead of one per RSE).
    public func rseOverview() async throws -> [RSEOverview] {
        try await db.read { db in
            var usage: [String: (Int64, Int64)] = [:]
            for r in try Row.fetchAll(db, sql: "SELECT rse_id, COALESCE(SUM(bytes), 0) AS b, COUNT(*) AS n FROM replicas WHERE state IN ('A', 'C', 'U', 'B', 'T') GROUP BY rse_id") {
                usage[r["rse_id"]] = (r["b"], r["n"])
            }
            return try Row.fetchAll(db, sql: "SELECT * FROM rses WHERE deleted = 0 ORDER BY rse").map { row in
                let rse = RSE(row: row)
                let u = usage[rse.id] ?? (0, 0)
                return RSEOverview(rse: rse, usedBytes: u.0, files: u.1)
            }
        }
    }

    /// Number of rules in each state.
    public func ruleCounts() async throws -> [RuleState: Int] {
        try await db.read { db in
            var out: [RuleState: Int] = [:]
            for r in try Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS n FROM rules GROUP BY state") {
                if let s = RuleState(rawValue: r["state"]) { out[s] = r["n"] }
            }
            return out
        }
    }

    /// Number of replica locks in each state.
    public func lockCounts() async throws -> [LockState: Int] {
        try await db.read { db in
            var out: [LockState: Int] = [:]
            for r in try Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS n FROM locks GROUP BY state") {
                if let s = LockState(rawValue: r["state"]) { out[s] = r["n"] }
            }
            return out
        }
    }

    /// The most recently created rules, newest first, at most `limit`; rules that are not OK come first so
    /// that a busy lake still shows what needs attention.
    public func recentRules(limit: Int) async throws -> [Rule] {
        try await db.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM rules ORDER BY (state = 'O'), created_at DESC, id LIMIT ?", arguments: [limit]).map(Rule.init(row:))
        }
    }

    /// Every transfer request made for a rule, oldest first (its transfer history).
    public func requests(ofRule id: String, limit: Int = 1_000) async throws -> [TransferRequest] {
        try await db.read { db in
            try Row.fetchAll(db, sql: RequestStore.requestSelect + " WHERE q.rule_id = ? ORDER BY q.created_at, q.id LIMIT ?", arguments: [id, limit]).map(TransferRequest.init(row:))
        }
    }
}
