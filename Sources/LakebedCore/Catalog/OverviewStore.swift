import Foundation
import GRDB

/// One RSE with its live usage, as an overview shows it: what is there (AVAILABLE replicas, what `rucio replica list`
/// lists) apart from what is on its way (COPYING replicas) and what is stuck (locks whose transfers gave up).
public struct RSEOverview: Sendable {
    /// The RSE (only RSEs not deleted are listed).
    public var rse: RSE
    /// Bytes of the AVAILABLE replicas.
    public var usedBytes: Int64
    /// AVAILABLE replicas.
    public var files: Int64
    /// Replicas being copied to the RSE (COPYING, and not only waited for by STUCK locks).
    public var incomingFiles: Int64 = 0
    /// Bytes of the replicas being copied to the RSE (those counted in `incomingFiles`).
    public var incomingBytes: Int64 = 0
    /// Replicas on the RSE that a STUCK lock waits for.
    public var stuckFiles: Int64 = 0
}

/// Two RSEs with a distance between them: a link a transfer may take.
public struct RSEPair: Sendable {
    /// Name of the source RSE.
    public var source: String
    /// Name of the destination RSE.
    public var destination: String
    /// Rucio distance from source to destination (lower = closer, preferred as a transfer source).
    public var distance: Int
}

/// Whole-lake summaries for dashboards and metrics: each is one query, whatever the size of the lake.

/// Counts for the dashboard and metrics: bytes per RSE, rules and locks by state.
public struct OverviewStore: CatalogStore {
    /// The catalog this works on.
    public let catalog: Catalog
    /// Works on `catalog`.
    public init(catalog: Catalog) { self.catalog = catalog }

    /// Every RSE with its AVAILABLE, COPYING and stuck replicas (grouped queries instead of some per RSE).
    public func rseOverview() async throws -> [RSEOverview] {
        try await db.read { db in
            var available: [String: (Int64, Int64)] = [:]
            var incoming: [String: (Int64, Int64)] = [:]
            let replicas =
                "SELECT rse_id, COALESCE(SUM(bytes), 0) AS b, COUNT(*) AS n FROM replicas WHERE state = \(ReplicaState.available.sql) GROUP BY rse_id"
            for r in try Row.fetchAll(db, sql: replicas) { available[r["rse_id"]] = (r["b"], r["n"]) }
            // On its way: COPYING, unless only STUCK locks wait for it (then it waits for the repairer, not a transfer).
            for r in try Row.fetchAll(
                db,
                sql: """
                    SELECT rse_id, COALESCE(SUM(bytes), 0) AS b, COUNT(*) AS n FROM replicas r WHERE state = \(ReplicaState.copying.sql)
                      AND (NOT EXISTS (SELECT 1 FROM locks l WHERE l.scope = r.scope AND l.name = r.name AND l.rse_id = r.rse_id AND l.state = \(LockState.stuck.sql))
                           OR EXISTS (SELECT 1 FROM locks l WHERE l.scope = r.scope AND l.name = r.name AND l.rse_id = r.rse_id AND l.state = \(LockState.replicating.sql)))
                    GROUP BY rse_id
                    """)
            { incoming[r["rse_id"]] = (r["b"], r["n"]) }
            var stuck: [String: Int64] = [:]
            let stuckLocks =
                "SELECT rse_id, COUNT(DISTINCT scope || ':' || name) AS n FROM locks WHERE state = \(LockState.stuck.sql) GROUP BY rse_id"
            for r in try Row.fetchAll(db, sql: stuckLocks) { stuck[r["rse_id"]] = r["n"] }
            return try Row.fetchAll(db, sql: "SELECT * FROM rses WHERE deleted = 0 ORDER BY rse").map { row in
                let rse = RSE(row: row)
                let a = available[rse.id] ?? (0, 0)
                let c = incoming[rse.id] ?? (0, 0)
                return RSEOverview(rse: rse, usedBytes: a.0, files: a.1, incomingFiles: c.1, incomingBytes: c.0, stuckFiles: stuck[rse.id] ?? 0)
            }
        }
    }

    /// Every pair of RSEs with a distance, by name: the links of the lake's topology, used or not.
    public func distancePairs() async throws -> [RSEPair] {
        try await db.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT s.rse AS src, d.rse AS dst, x.distance FROM distances x JOIN rses s ON s.id = x.src_rse_id JOIN rses d ON d.id = x.dest_rse_id
                    WHERE s.deleted = 0 AND d.deleted = 0 ORDER BY s.rse, d.rse
                    """
            ).map { RSEPair(source: $0["src"], destination: $0["dst"], distance: $0["distance"]) }
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
        let policy = catalog.retryPolicy
        return try await db.read { db in
            let rules = try Row.fetchAll(
                db, sql: "SELECT * FROM rules ORDER BY (state = \(RuleState.ok.sql)), created_at DESC, id LIMIT ?", arguments: [limit]
            ).map(Rule.init(row:))
            return try JudgeRepairer.planned(db, rules, policy: policy)
        }
    }

    /// Every transfer request made for a rule, oldest first (its transfer history).
    public func requests(ofRule id: String, limit: Int = 1_000) async throws -> [TransferRequest] {
        try await db.read { db in
            try Row.fetchAll(
                db, sql: RequestStore.requestSelect + " WHERE q.rule_id = ? ORDER BY q.created_at, q.id LIMIT ?", arguments: [id, limit]
            ).map(TransferRequest.init(row:))
        }
    }
}
