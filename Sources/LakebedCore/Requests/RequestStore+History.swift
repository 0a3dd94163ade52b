import Foundation
import GRDB

extension RequestStore {
    /// States of requests Rucio has archived into its request history (finished one way or another).
    static let historyStates = ["DONE", "FAILED", "LOST", "NO_SOURCES", "SUBMISSION_FAILED"]

    /// The newest finished request of a file towards an RSE (`get_request_history_by_did`).
    public func historyRequest(scope: String, name: String, rse: String) async throws -> TransferRequest {
        try await db.read { db in
            let dest = try RSEStore.rse(db, name: rse)
            let states = Self.historyStates.map { "'\($0)'" }.joined(separator: ",")
            guard let row = try db.one(sql: Self.requestSelect + """
                 WHERE q.scope = ? AND q.name = ? AND q.dest_rse_id = ? AND q.state IN (\(states)) ORDER BY q.updated_at DESC, q.id LIMIT 1
                """, arguments: [scope, name, dest.id]) else {
                throw RucioError(.requestNotFound, "No request found for DID \(scope):\(name) at RSE \(rse)")
            }
            return TransferRequest(row: row)
        }
    }

    /// Finished requests between RSEs (`list_requests_history`); `states` empty means every finished state.
    public func history(sources: [String], destinations: [String], states: [String], limit: Int = 10_000) async throws -> [TransferRequest] {
        let wanted = states.isEmpty ? Self.historyStates : states.filter(Self.historyStates.contains)
        if wanted.isEmpty { return [] }
        return try await listRequests(sources: sources, destinations: destinations, states: wanted, limit: limit)
    }
}
