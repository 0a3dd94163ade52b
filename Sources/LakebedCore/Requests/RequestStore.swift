public import Foundation
import GRDB

/// A transfer request's state, as the catalog stores it (Rucio's `RequestState` names).
public enum RequestState: String, Sendable, CaseIterable {
    case queued = "QUEUED"
    case submitted = "SUBMITTED"
    case waiting = "WAITING"
    case done = "DONE"
    case failed = "FAILED"

    /// States of a request that will still finish (at most one per file and destination).
    public static let live: [RequestState] = [.queued, .submitted, .waiting]
}

/// A transfer request as Rucio's conveyor sees it.
public struct TransferRequest: Sendable, Equatable {
    /// Rucio request id: 32 lower-case hex digits (seeded in scenarios).
    public var id: String
    /// Scope of the file to transfer.
    public var scope: String
    /// Name of the file to transfer.
    public var name: String
    /// Id of the RSE the file is to be copied to.
    public var destRSEID: String
    /// Name of the destination RSE (empty if the row was read without the RSE join).
    public var destRSE: String
    /// Id of the RSE the current attempt copies from; nil while QUEUED (cleared on each retry).
    public var sourceRSEID: String?
    /// Name of the source RSE of the current attempt; nil while QUEUED.
    public var sourceRSE: String?
    /// QUEUED (waiting for the submitter), SUBMITTED (handed to FTS), DONE or FAILED; WAITING is never set here.
    public var state: RequestState
    /// Failed attempts so far; at `maxAttempts` the request turns FAILED and its locks STUCK.
    public var retryCount: Int
    /// Last error: the FTS failure reason, or why no source or destination was usable; nil = none.
    public var errMsg: String?
    /// Rule whose lock the request serves; nil once that rule is deleted.
    public var ruleID: String?
    /// Rucio/FTS activity, copied from the rule.
    public var activity: String?
    /// Size of the file in bytes.
    public var bytes: Int64
    /// Expected MD5 of the file (hex); nil = unknown.
    public var md5: String?
    /// Expected adler32 of the file (8 hex digits), checked by FTS on the destination; nil = not checked.
    public var adler32: String?
    /// Account of the rule that made the request.
    public var account: String?
    /// Transfer priority copied from the rule (Rucio default 3); changing the rule's priority updates QUEUED requests.
    public var priority: Int
    /// FTS job id of the current attempt (Rucio `external_id`); nil while QUEUED.
    public var externalID: String?
    /// FTS host that took the current attempt (Rucio `external_host`, `lakebed-fts`); nil until first submitted.
    public var externalHost: String?
    /// When the rule's evaluation created the request.
    public var requestedAt: Date?
    /// When the current attempt was handed to FTS; nil while QUEUED.
    public var submittedAt: Date?
    /// When FTS started moving the current attempt's bytes; nil until then.
    public var startedAt: Date?
    /// When the transfer finished and the request turned DONE; nil before.
    public var transferredAt: Date?
    /// Earliest time the submitter may pick the request up again (retry back-off, no source); nil = at once.
    public var notBefore: Date?
    /// When the request row was created.
    public var createdAt: Date
    /// When the request row last changed.
    public var updatedAt: Date

    init(row: Row) {
        id = row["id"]
        scope = row["scope"]
        name = row["name"]
        destRSEID = row["dest_rse_id"]
        destRSE = row["dest_rse"] ?? ""
        sourceRSEID = row["source_rse_id"]
        sourceRSE = row["source_rse"]
        state = row["state"]
        retryCount = row["retry_count"]
        errMsg = row["err_msg"]
        ruleID = row["rule_id"]
        activity = row["activity"]
        bytes = row["bytes"] ?? 0
        md5 = row["md5"]
        adler32 = row["adler32"]
        account = row["account"]
        priority = row["priority"]
        externalID = row["external_id"]
        externalHost = row["external_host"]
        requestedAt = Date(stamp: row["requested_at"])
        submittedAt = Date(stamp: row["submitted_at"])
        startedAt = Date(stamp: row["started_at"])
        transferredAt = Date(stamp: row["transferred_at"])
        notBefore = Date(stamp: row["not_before"])
        createdAt = Date(timeIntervalSince1970: row["created_at"])
        updatedAt = Date(timeIntervalSince1970: row["updated_at"])
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
            let rows = try db.all(
                sql: Self.requestSelect + " WHERE q.scope = ? AND q.name = ? AND q.dest_rse_id = ? ORDER BY q.created_at DESC, q.id",
                arguments: [scope, name, dest.id]
            ).map(TransferRequest.init(row:))
            if rows.isEmpty { throw RucioError(.requestNotFound, "Could not find request for \(scope):\(name) at \(rse)") }
            return rows
        }
    }

    /// Requests filtered by source and destination RSE names and states (Rucio's `/requests/list`).
    public func listRequests(sources: [String], destinations: [String], states: [String], limit: Int = 10_000) async throws -> [TransferRequest] {
        try await db.read { db in
            var clauses: [String] = []
            var args: [any DatabaseValueConvertible] = []
            if !sources.isEmpty {
                clauses.append("s.rse IN (\(sources.map { _ in "?" }.joined(separator: ",")))")
                args += sources
            }
            if !destinations.isEmpty {
                clauses.append("d.rse IN (\(destinations.map { _ in "?" }.joined(separator: ",")))")
                args += destinations
            }
            if !states.isEmpty {
                clauses.append("q.state IN (\(states.map { _ in "?" }.joined(separator: ",")))")
                args += states
            }
            let whereSQL = clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND ")
            args.append(limit)
            return try db.all(sql: Self.requestSelect + whereSQL + " ORDER BY q.requested_at, q.id LIMIT ?", arguments: StatementArguments(args)).map(
                TransferRequest.init(row:))
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
