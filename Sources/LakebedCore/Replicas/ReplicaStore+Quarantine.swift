import Foundation
import GRDB

extension ReplicaStore {
    /// Files on an RSE the catalog does not know (dark data), kept for a later clean-up (`quarantine_replicas`):
    /// a path that is a registered replica is left out. Admins only.
    public func quarantine(rse: String, replicas: [(path: String, scope: String?, name: String?)], issuer: Issuer) async throws {
        try catalog.policy.permission.requireAdmin(issuer, "quarantine")
        let now = nowStamp
        try await db.write { db in
            let r = try RSEStore.rse(db, name: rse)
            for q in replicas {
                let rel = q.path.hasPrefix("/") ? String(q.path.dropFirst()) : q.path
                if try db.one(sql: "SELECT 1 FROM replicas WHERE rse_id = ? AND (path = ? OR path = ?)", arguments: [r.id, q.path, rel]) != nil {
                    continue
                }
                try db.exec(
                    sql: "INSERT OR IGNORE INTO quarantined_replicas (rse_id, path, scope, name, created_at) VALUES (?, ?, ?, ?, ?)",
                    arguments: [r.id, q.path, q.scope, q.name, now])
            }
        }
    }

    /// The DIDs of PFNs (`get_did_from_pfns`), from the RSEs' protocols and the replicas' paths.
    public func dids(ofPFNs pfns: [String], rse: String?) async throws -> [(pfn: String, did: DIDRef)] {
        try await db.read { db in
            let rses = try rse.map { [try RSEStore.rse(db, name: $0)] } ?? RSEStore.allRSEs(db)
            var out: [(pfn: String, did: DIDRef)] = []
            for pfn in pfns {
                guard let (r, path) = try BadReplicaStore.locate(db, pfn: pfn, rses: rses),
                    let row = try db.one(sql: "SELECT scope, name FROM replicas WHERE rse_id = ? AND path = ?", arguments: [r.id, path])
                else {
                    throw RucioError(.replicaNotFound, "No replica found for PFN \(Validation.printable(pfn))")
                }
                out.append((pfn, DIDRef(row["scope"], row["name"])))
            }
            return out
        }
    }
}
