import Foundation
import GRDB

extension ReplicaStore {
    /// Registers many files with AVAILABLE replicas on the given RSEs in one transaction (scenario seeding).
    /// `writeBytes` is called with each replica's absolute path before it is registered (not for virtual files),
    /// so a replica is never registered without its bytes. Files may be attached to a dataset.
    public func seedFiles(
        _ files: [FileSpec], rses: [String], dataset: DIDRef?, virtual: Bool, account: String,
        writeBytes: @escaping @Sendable (FileSpec, String) throws -> Void
    ) async throws {
        let now = nowStamp
        try await db.write { db in
            let models = try rses.map { try RSEStore.rse(db, name: $0) }
            let policy = catalog.policy
            let algos = try models.map { try policy.lfn2pfn(Self.lfn2pfnAlgorithm(db, rseID: $0.id)) }
            var parent: DID? = nil
            if let dataset { parent = try DIDStore.did(db, dataset.scope, dataset.name) }
            // Prepared once per batch: seeding a million files is mostly statement execution. A new file is inserted
            // without looking first (`ON CONFLICT DO NOTHING`); only a file that was there already is read and compared.
            let existing = try db.cachedStatement(sql: "SELECT did_type, bytes, adler32 FROM dids WHERE scope = ? AND name = ?")
            let insertDID = try db.cachedStatement(
                sql: """
                    INSERT INTO dids (scope, name, did_type, account, bytes, length, md5, adler32, availability, created_at, updated_at)
                    VALUES (?, ?, 'FILE', ?, ?, 1, ?, ?, 'AVAILABLE', ?, ?) ON CONFLICT (scope, name) DO NOTHING
                    """)
            let insertReplica = try db.cachedStatement(
                sql: """
                    INSERT OR IGNORE INTO replicas (rse_id, scope, name, bytes, md5, adler32, path, state, lock_cnt, virtual, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, \(ReplicaState.available.sql), 0, ?, ?, ?)
                    """)
            let insertContent = try db.cachedStatement(
                sql: """
                    INSERT OR IGNORE INTO contents (scope, name, child_scope, child_name, did_type, child_type, bytes, adler32, md5, created_at)
                    VALUES (?, ?, ?, ?, ?, 'FILE', ?, ?, ?, ?)
                    """)
            func checkExisting(_ f: FileSpec, bytes: Int64) throws -> Bool {
                guard let row = try Row.fetchOne(existing, arguments: [f.scope, f.name]) else { return false }
                guard (row[0] as String) == "FILE" else { throw RucioError(.unsupportedOperation, "\(f.scope):\(f.name) is not a file") }
                if (row[1] as Int64?) != bytes || (row[2] as String?) != f.adler32 {
                    throw RucioError(.fileConsistencyMismatch, "\(f.scope):\(f.name) exists with other bytes or checksum")
                }
                return true
            }
            for f in files {
                let bytes = f.bytes ?? 0
                let valid = (try? policy.schema.checkDID(scope: f.scope, name: f.name, type: .file)) != nil
                if !valid || !f.meta.isEmpty {
                    // The careful path: a name only an existing file may have, or metadata to set on a new one.
                    if try !checkExisting(f, bytes: bytes) {
                        try policy.schema.checkDID(scope: f.scope, name: f.name, type: .file)
                        if !f.meta.isEmpty {
                            _ = try DIDStore.ensureFile(db, f, schema: policy.schema, account: account, now: now)
                        } else {
                            try insertDID.execute(arguments: [f.scope, f.name, account, bytes, f.md5, f.adler32, now, now])
                        }
                    }
                } else {
                    try insertDID.execute(arguments: [f.scope, f.name, account, bytes, f.md5, f.adler32, now, now])
                    if db.changesCount == 0 { _ = try checkExisting(f, bytes: bytes) }
                }
                for (rse, algo) in zip(models, algos) {
                    let path = try policy.lfn2pfnPath(algorithm: algo.rawValue, scope: f.scope, name: f.name)
                    if !virtual { try writeBytes(f, try containedPath(root: rse.root, relative: path)) }
                    try insertReplica.execute(arguments: [rse.id, f.scope, f.name, bytes, f.md5, f.adler32, path, virtual ? 1 : 0, now, now])
                }
                if let parent {
                    try insertContent.execute(arguments: [
                        parent.scope, parent.name, f.scope, f.name, parent.type.rawValue, bytes, f.adler32, f.md5, now,
                    ])
                }
            }
        }
    }

    /// Runs `body` (scenario seeding: many large `seedFiles` batches) with a page cache of `megabytes` on the writer,
    /// so a batch's changed pages stay in memory until its commit instead of being written to the WAL again and
    /// again; afterwards the cache is back to the catalog's own (`Catalog.writerCacheKiB`, SQLite's default unless a
    /// simulation asked for more) and the memory above it is given back.
    public func withSeedingCache<T: Sendable>(megabytes: Int = 128, _ body: () async throws -> T) async throws -> T {
        let standing = catalog.writerCacheKiB
        try await db.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA cache_size = -\(max(megabytes * 1024, standing))") }
        func restore() async throws {
            try await db.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA cache_size = -\(standing)")
                try db.execute(sql: "PRAGMA shrink_memory")
            }
            ReleaseMemory.now()
        }
        do {
            let result = try await body()
            try await restore()
            return result
        } catch {
            try? await restore()
            throw error
        }
    }

    /// Number of AVAILABLE replicas on an RSE.
    public func availableReplicaCount(rse: String) async throws -> Int {
        try await db.read { db in
            let r = try RSEStore.rse(db, name: rse)
            return try Int.fetchOne(
                db, sql: "SELECT COUNT(*) FROM replicas WHERE rse_id = ? AND state = \(ReplicaState.available.sql)", arguments: [r.id]) ?? 0
        }
    }

    /// Files with no AVAILABLE replica anywhere, and AVAILABLE real replicas whose bytes are gone from disk.
    public func lostReplicas(limit: Int = 100) async throws -> [String] {
        let rows = try db.read { db in
            let noCopy = try Row.fetchAll(
                db,
                sql: """
                    SELECT d.scope, d.name FROM dids d WHERE d.did_type = 'FILE'
                    AND NOT EXISTS (SELECT 1 FROM replicas r WHERE r.scope = d.scope AND r.name = d.name AND r.state = \(ReplicaState.available.sql)) LIMIT ?
                    """, arguments: [limit]
            ).map { "\($0["scope"] as String):\($0["name"] as String) has no available replica" }
            let real = try Row.fetchAll(
                db,
                sql: """
                    SELECT r.scope, r.name, r.path, r.bytes, s.root, s.rse FROM replicas r JOIN rses s ON s.id = r.rse_id WHERE r.state = \(ReplicaState.available.sql) AND r.virtual = 0
                    """)
            return (noCopy, real)
        }
        var out = rows.0
        for r in rows.1 where out.count < limit {
            guard let p = try? containedPath(root: r["root"], relative: r["path"]) else { continue }
            let size = (try? FileManager.default.attributesOfItem(atPath: p)[.size] as? NSNumber)?.int64Value
            if size != (r["bytes"] as Int64) {
                out.append("\(r["scope"] as String):\(r["name"] as String) at \(r["rse"] as String): bytes missing or wrong size")
            }
        }
        return out
    }

    /// Absolute path of a replica's bytes.
    public func replicaFile(_ did: DIDRef, rse: String) async throws -> String {
        try await db.read { db in
            let r = try RSEStore.rse(db, name: rse)
            guard
                let path = try String.fetchOne(
                    db, sql: "SELECT path FROM replicas WHERE rse_id = ? AND scope = ? AND name = ?", arguments: [r.id, did.scope, did.name])
            else {
                throw RucioError(.replicaNotFound, "No replica of \(did) on \(rse)")
            }
            return try containedPath(root: r.root, relative: path)
        }
    }

    // MARK: snapshots
}
