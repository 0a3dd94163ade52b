import Foundation
import GRDB

extension RequestStore {
    /// States of requests Rucio has archived into its request history: finished one way or the other.
    static let historyStates: [RequestState] = [.done, .failed]

    /// The newest finished request of a file towards an RSE (`get_request_history_by_did`).
    public func historyRequest(scope: String, name: String, rse: String) async throws -> TransferRequest {
        try await db.read { db in
            let dest = try RSEStore.rse(db, name: rse)
            guard
                let row = try db.one(
                    sql: Self.requestSelect + """
                         WHERE q.scope = ? AND q.name = ? AND q.dest_rse_id = ? AND q.state IN \(Self.historyStates.sql) ORDER BY q.updated_at DESC, q.id LIMIT 1
                        """, arguments: [scope, name, dest.id])
            else {
                throw RucioError(.requestNotFound, "No request found for DID \(scope):\(name) at RSE \(rse)")
            }
            return TransferRequest(row: row)
        }
    }

    /// Finished requests between RSEs (`list_requests_history`); `states` empty means every finished state.
    public func history(sources: [String], destinations: [String], states: [String], limit: Int = 10_000) async throws -> [TransferRequest] {
        let finished = Self.historyStates.map(\.rawValue)
        let wanted = states.isEmpty ? finished : states.filter(finished.contains)
        if wanted.isEmpty { return [] }
        return try await listRequests(sources: sources, destinations: destinations, states: wanted, limit: limit)
    }
}
