import Foundation
import GRDB

extension DIDStore {
    /// A DID flagged new, as `GET /dids/new` lists it.
    public struct NewDID: Sendable, Equatable {
        /// The DID's scope.
        public var scope: String
        /// The DID's name.
        public var name: String
        /// FILE, DATASET or CONTAINER.
        public var type: DIDType
    }

    /// DIDs the transmogrifier has not looked at yet (Rucio's `list_new_dids`): flagged new, with no rule of theirs still
    /// in INJECT, optionally of one type, at most `limit` (Rucio's chunk of 1,000).
    public func listNew(type: DIDType?, limit: Int = 1000) async throws -> [NewDID] {
        try await db.read { db in
            var sql = """
                SELECT d.scope, d.name, d.did_type FROM dids d WHERE d.is_new = 1
                AND NOT EXISTS (SELECT 1 FROM rules r WHERE r.scope = d.scope AND r.name = d.name AND r.state = 'I')
                """
            var args: StatementArguments = []
            if let type {
                sql += " AND d.did_type = ?"
                args += [type.rawValue]
            }
            sql += " ORDER BY d.created_at, d.scope, d.name LIMIT ?"
            args += [limit]
            return try db.all(sql: sql, arguments: args).map {
                NewDID(scope: $0["scope"], name: $0["name"], type: DIDType(rawValue: $0["did_type"]) ?? .file)
            }
        }
    }
}
