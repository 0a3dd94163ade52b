public import Foundation
import GRDB

/// A transfer request's state, as the catalog stores it (Rucio's `RequestState` names).
public enum RequestState: String, Sendable, CaseIterable {
    case queued = "QUEUED", submitted = "SUBMITTED", waiting = "WAITING", done = "DONE", failed = "FAILED"

    /// States of a request that will still finish (at most one per file and destination).
    public static let live: [RequestState] = [.queued, .submitted, .waiting]
}

/// A transfer request as Rucio's conveyor sees it.
public struct TransferRequest: Sendable, Equatable {
    public var id: String
    public var scope: String
    public var name: String
    public var destRSEID: String
    public var destRSE: String
    public var sourceRSEID: String?
    public var sourceRSE: String?
    public var state: RequestState
    public var retryCount: Int
    public var errMsg: String?
    public var ruleID: String?
    public var activity: String?
    public var bytes: Int64
    public var md5: String?
    public var adler32: String?
    public var account: String?
    public var priority: Int
    public var externalID: String?
    public var externalHost: String?
    public var requestedAt: Date?
    public var submittedAt: Date?
    public var startedAt: Date?
    public var transferredAt: Date?
    public var notBefore: Date?
    public var createdAt: Date
    public var updatedAt: Date

    init(row: Row) {
        id = row["id"]; scope = row["scope"]; name = row["name"]; destRSEID = row["dest_rse_id"]; destRSE = row["dest_rse"] ?? ""
        sourceRSEID = row["source_rse_id"]; sourceRSE = row["source_rse"]; state = row["state"]; retryCount = row["retry_count"]
        errMsg = row["err_msg"]; ruleID = row["rule_id"]; activity = row["activity"]; bytes = row["bytes"] ?? 0; md5 = row["md5"]
        adler32 = row["adler32"]; account = row["account"]; priority = row["priority"]; externalID = row["external_id"]
        externalHost = row["external_host"]; requestedAt = Date(stamp: row["requested_at"]); submittedAt = Date(stamp: row["submitted_at"])
        startedAt = Date(stamp: row["started_at"]); transferredAt = Date(stamp: row["transferred_at"]); notBefore = Date(stamp: row["not_before"])
        createdAt = Date(timeIntervalSince1970: row["created_at"]); updatedAt = Date(timeIntervalSince1970: row["updated_at"])
    }
}

/// Transfer requests as clients see them (Rucio's `core/request.py`).
public struct RequestStore: CatalogStore {
    /// The catalog this works on.
    public let catalog: Catalog
    /// Works on `catalog`.
    public init(catalog: Catalog) { self.catalog = catalog }

    static let requestSelect = """
        SELECT q.*, d.rse AS dest_rse, s.rse AS source_rse FROM requests q
        JOIN rses d ON d.id = q.dest_rse_id LEFT JOIN rses s ON s.id = q.source_rse_id
        """

    /// Requests for a file towards an RSE (newest first), `RequestNotFound` if none.
    public func requests(scope: String, name: String, rse: String) async throws -> [TransferRequest] {
        try await db.read { db in
            let dest = try RSEStore.rse(db, name: rse)
            let rows = try db.all(sql: Self.requestSelect + " WHERE q.scope = ? AND q.name = ? AND q.dest_rse_id = ? ORDER BY q.created_at DESC, q.id",
                                        arguments: [scope, name, dest.id]).map(TransferRequest.init(row:))
            if rows.isEmpty { throw RucioError(.requestNotFound, "Could not find request for \(scope):\(name) at \(rse)") }
            return rows
        }
    }

    /// Requests filtered by source and destination RSE names and states (Rucio's `/requests/list`).
    public func listRequests(sources: [String], destinations: [String], states: [String], limit: Int = 10_000) async throws -> [TransferRequest] {
        try await db.read { db in
            var clauses: [String] = [], args: [any DatabaseValueConvertible] = []
            if !sources.isEmpty { clauses.append("s.rse IN (\(sources.map { _ in "?" }.joined(separator: ",")))"); args += sources }
            if !destinations.isEmpty { clauses.append("d.rse IN (\(destinations.map { _ in "?" }.joined(separator: ",")))"); args += destinations }
            if !states.isEmpty { clauses.append("q.state IN (\(states.map { _ in "?" }.joined(separator: ",")))"); args += states }
            let whereSQL = clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND ")
            args.append(limit)
            return try db.all(sql: Self.requestSelect + whereSQL + " ORDER BY q.requested_at, q.id LIMIT ?", arguments: StatementArguments(args)).map(TransferRequest.init(row:))
        }
    }

    /// Counts of requests by state.
    public func requestCounts() async throws -> [String: Int] {
        try await db.read { db in
            var out: [String: Int] = [:]
            for r in try db.all(sql: "SELECT state, COUNT(*) AS n FROM requests GROUP BY state") { out[r["state"]] = r["n"] }
            return out
        }
    }
}
