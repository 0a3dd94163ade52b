import Foundation
import GRDB

extension DIDStore {
    /// The datasets holding the file with a GUID (`get_dataset_by_guid`); `DataIdentifierNotFound` when no file has it.
    public func datasets(byGUID guid: String) async throws -> [DIDRef] {
        try await db.read { db in
            let files = try db.all(sql: "SELECT scope, name FROM dids WHERE guid = ? AND did_type = 'FILE' ORDER BY scope, name", arguments: [guid])
            guard !files.isEmpty else { throw RucioError(.dataIdentifierNotFound, "No file associated to GUID : \(Validation.printable(guid))") }
            var out: [DIDRef] = []
            for f in files {
                for p in try db.all(
                    sql: "SELECT scope, name FROM contents WHERE child_scope = ? AND child_name = ? AND did_type = 'DATASET' ORDER BY scope, name",
                    arguments: [f["scope"], f["name"]])
                {
                    out.append(DIDRef(p["scope"], p["name"]))
                }
            }
            return out
        }
    }
}
