import Foundation
import GRDB

extension ReplicaStore {
    /// Gives an unlocked replica a tombstone of now, so the reaper deletes it (`set_tombstone`).
    public func setTombstone(rse: String, scope: String, name: String, issuer: Issuer) async throws {
        let now = nowStamp
        try await db.write { db in
            let r = try RSEStore.rse(db, name: rse)
            guard
                let row = try db.one(
                    sql: "SELECT lock_cnt FROM replicas WHERE rse_id = ? AND scope = ? AND name = ?", arguments: [r.id, scope, name])
            else {
                throw RucioError(.replicaNotFound, "Replica \(scope):\(name) on RSE \(r.rse) could not be found.")
            }
            guard (row["lock_cnt"] as Int) == 0 else { throw RucioError(.replicaIsLocked, "Replica \(scope):\(name) on RSE \(r.rse) is locked.") }
            try db.exec(
                sql: "UPDATE replicas SET tombstone = ?, updated_at = ? WHERE rse_id = ? AND scope = ? AND name = ?",
                arguments: [now, now, r.id, scope, name])
        }
    }

    /// `datasetReplicas`, or nil when there is no such DID (bulk listings skip it).
    public func datasetReplicasIfKnown(_ scope: String, _ name: String) async throws -> [DatasetReplica]? {
        do { return try await datasetReplicas(scope, name) } catch let e as RucioError where e.exceptionClass == .dataIdentifierNotFound {
            return nil
        }
    }
}

extension ReplicaStore {
    /// The DIDs among `dids` the catalog knows, in order (replica listings skip the others, as Rucio's do).
    public func knownDIDs(_ dids: [DIDRef]) async throws -> [DIDRef] {
        try await db.read { db in
            try dids.filter { try db.one(sql: "SELECT 1 FROM dids WHERE scope = ? AND name = ?", arguments: [$0.scope, $0.name]) != nil }
        }
    }
}
