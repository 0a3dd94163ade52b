import Foundation
import GRDB

/// What storage may do to bytes the catalog holds: a write or delete at the storage itself (WebDAV, an FTS job
/// with `overwrite`) over a replica's file removes data the catalog says is there, so it needs the same right as
/// deleting that replica (Rucio's generic `perm_delete_replicas` as Lakebed applies it: root or an admin account).
extension ReplicaStore {
    /// A replica whose bytes sit at or under a storage path.
    public struct HeldReplica: Sendable, Equatable {
        public var did: String
        public var state: ReplicaState
    }

    /// States whose bytes the catalog counts on. COPYING replicas are being written by their upload (rucio upload
    /// registers the replica, then writes the bytes); UNAVAILABLE and BAD ones are known to be missing or broken.
    static let heldStates: [ReplicaState] = [.available, .temporaryUnavailable, .beingDeleted, .source]

    /// Replicas on `rse` whose file is `path` (relative to the RSE root), or lies under it when `subtree`
    /// (a collection; `""` is the whole RSE). At most `limit` of them, in path order.
    public func heldReplicas(rse: String, path: String, subtree: Bool, limit: Int = 1) async throws -> [HeldReplica] {
        let model = try await catalog.rses.rse(rse)
        let rel = path.split(separator: "/", omittingEmptySubsequences: true).joined(separator: "/")
        let states = Self.heldStates.map { "'\($0.rawValue)'" }.joined(separator: ", ")
        return try quickRead { db in
            // Stored paths are relative, some with a leading slash (from a PFN): both spellings are looked up.
            var conditions = ["path = ?", "path = ?"]
            var args: [any DatabaseValueConvertible] = [model.id, rel, "/" + rel]
            if subtree {
                if rel.isEmpty {
                    conditions = ["1"]
                    args = [model.id]
                } else {
                    // Everything after "<rel>/" and before "<rel>0" ('0' follows '/' in byte order) lies under it.
                    for p in [rel, "/" + rel] {
                        conditions.append("(path > ? AND path < ?)")
                        args += [p + "/", p + "0"]
                    }
                }
            }
            args.append(limit)
            let sql = """
                SELECT scope, name, state FROM replicas WHERE rse_id = ? AND virtual = 0 AND state IN (\(states))
                AND (\(conditions.joined(separator: " OR "))) ORDER BY path LIMIT ?
                """
            return try Row.fetchAll(db, sql: sql, arguments: StatementArguments(args)).map { row in
                HeldReplica(
                    did: "\(row["scope"] as String):\(row["name"] as String)",
                    state: ReplicaState(rawValue: row["state"]) ?? .available)
            }
        }
    }

    /// Refuses a storage write or delete over `path` unless `issuer` may delete the replicas held there
    /// (nil issuer: no Rucio identity came with the request). Returns the refusal, or nil when allowed.
    public func storageChangeRefusal(rse: String, path: String, subtree: Bool, issuer: Issuer?) async throws -> RucioError? {
        if issuer?.isAdmin == true { return nil }
        guard let held = try await heldReplicas(rse: rse, path: path, subtree: subtree).first else { return nil }
        let who = issuer.map { "Account \($0.account)" } ?? "A request without a Rucio identity"
        return RucioError.accessDenied(
            """
            \(who) can not overwrite or delete the bytes of \(held.state.name) replica \(held.did) on \(rse): \
            that needs the right to delete replicas (root or an admin account)
            """)
    }
}
