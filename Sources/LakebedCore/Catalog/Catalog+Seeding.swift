import Foundation
import GRDB

extension Catalog {
    /// Registers many files with AVAILABLE replicas on the given RSEs in one transaction (scenario seeding).
    /// `writeBytes` is called with each replica's absolute path before it is registered (not for virtual files),
    /// so a replica is never registered without its bytes. Files may be attached to a dataset.
    public func seedFiles(_ files: [FileSpec], rses: [String], dataset: DIDRef?, virtual: Bool, account: String,
                          writeBytes: @escaping @Sendable (FileSpec, String) throws -> Void) async throws {
        let now = nowStamp
        try await db.write { db in
            let models = try rses.map { try Self.rse(db, name: $0) }
            let algos = try models.map { try Self.lfn2pfnAlgorithm(db, rseID: $0.id) }
            var parent: DID? = nil
            if let dataset { parent = try Self.did(db, dataset.scope, dataset.name) }
            // Prepared once per batch: seeding a million files is mostly statement execution.
            let exists = try db.cachedStatement(sql: "SELECT did_type, bytes, adler32 FROM dids WHERE scope = ? AND name = ?")
            let insertDID = try db.cachedStatement(sql: """
                INSERT INTO dids (scope, name, did_type, account, bytes, length, md5, adler32, availability, created_at, updated_at)
                VALUES (?, ?, 'FILE', ?, ?, 1, ?, ?, 'AVAILABLE', ?, ?)
                """)
            let insertReplica = try db.cachedStatement(sql: """
                INSERT OR IGNORE INTO replicas (rse_id, scope, name, bytes, md5, adler32, path, state, lock_cnt, virtual, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, 'A', 0, ?, ?, ?)
                """)
            let insertContent = try db.cachedStatement(sql: """
                INSERT OR IGNORE INTO contents (scope, name, child_scope, child_name, did_type, child_type, bytes, adler32, md5, created_at)
                VALUES (?, ?, ?, ?, ?, 'FILE', ?, ?, ?, ?)
                """)
            for f in files {
                let bytes = f.bytes ?? 0
                if let row = try Row.fetchOne(exists, arguments: [f.scope, f.name]) {
                    guard (row["did_type"] as String) == "FILE" else { throw RucioError("UnsupportedOperation", "\(f.scope):\(f.name) is not a file") }
                    if (row["bytes"] as Int64?) != bytes || (row["adler32"] as String?) != f.adler32 {
                        throw RucioError("FileConsistencyMismatch", "\(f.scope):\(f.name) exists with other bytes or checksum")
                    }
                } else {
                    try Validation.checkName(f.name)
                    if !f.meta.isEmpty { _ = try Self.ensureFile(db, f, account: account, now: now) }
                    else { try insertDID.execute(arguments: [f.scope, f.name, account, bytes, f.md5, f.adler32, now, now]) }
                }
                for (rse, algo) in zip(models, algos) {
                    let path = algo.path(scope: f.scope, name: f.name)
                    if !virtual { try writeBytes(f, try containedPath(root: rse.root, relative: path)) }
                    try insertReplica.execute(arguments: [rse.id, f.scope, f.name, bytes, f.md5, f.adler32, path, virtual ? 1 : 0, now, now])
                }
                if let parent {
                    try insertContent.execute(arguments: [parent.scope, parent.name, f.scope, f.name, parent.type.rawValue, bytes, f.adler32, f.md5, now])
                }
            }
        }
    }

    /// Number of AVAILABLE replicas on an RSE.
    public func availableReplicaCount(rse: String) async throws -> Int {
        try await db.read { db in
            let r = try Self.rse(db, name: rse)
            return try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM replicas WHERE rse_id = ? AND state = 'A'", arguments: [r.id]) ?? 0
        }
    }

    /// Files with no AVAILABLE replica anywhere, and AVAILABLE real replicas whose bytes are gone from disk.
    public func lostReplicas(limit: Int = 100) async throws -> [String] {
        let rows = try await db.read { db in
            let noCopy = try Row.fetchAll(db, sql: """
                SELECT d.scope, d.name FROM dids d WHERE d.did_type = 'FILE'
                AND NOT EXISTS (SELECT 1 FROM replicas r WHERE r.scope = d.scope AND r.name = d.name AND r.state = 'A') LIMIT ?
                """, arguments: [limit]).map { "\($0["scope"] as String):\($0["name"] as String) has no available replica" }
            let real = try Row.fetchAll(db, sql: """
                SELECT r.scope, r.name, r.path, r.bytes, s.root, s.rse FROM replicas r JOIN rses s ON s.id = r.rse_id WHERE r.state = 'A' AND r.virtual = 0
                """)
            return (noCopy, real)
        }
        var out = rows.0
        for r in rows.1 where out.count < limit {
            guard let p = try? containedPath(root: r["root"], relative: r["path"]) else { continue }
            let size = (try? FileManager.default.attributesOfItem(atPath: p)[.size] as? NSNumber)?.int64Value
            if size != (r["bytes"] as Int64) { out.append("\(r["scope"] as String):\(r["name"] as String) at \(r["rse"] as String): bytes missing or wrong size") }
        }
        return out
    }

    /// Sets an RSE's availability flags (scenarios: a site goes down and comes back).
    public func setRSEAvailability(_ rse: String, read: Bool?, write: Bool?, delete: Bool?) async throws {
        let now = nowStamp
        try await db.write { db in
            let r = try Self.rse(db, name: rse)
            if let read { try db.execute(sql: "UPDATE rses SET availability_read = ?, updated_at = ? WHERE id = ?", arguments: [read, now, r.id]) }
            if let write { try db.execute(sql: "UPDATE rses SET availability_write = ?, updated_at = ? WHERE id = ?", arguments: [write, now, r.id]) }
            if let delete { try db.execute(sql: "UPDATE rses SET availability_delete = ?, updated_at = ? WHERE id = ?", arguments: [delete, now, r.id]) }
        }
    }

    /// Every RSE's read/write availability, by name.
    public func rseAvailability() async throws -> [String: (read: Bool, write: Bool)] {
        try await db.read { db in
            var out: [String: (read: Bool, write: Bool)] = [:]
            for r in try Row.fetchAll(db, sql: "SELECT rse, availability_read, availability_write FROM rses WHERE deleted = 0") {
                out[r["rse"]] = ((r["availability_read"] as Int) == 1, (r["availability_write"] as Int) == 1)
            }
            return out
        }
    }

    /// Absolute path of a replica's bytes.
    public func replicaFile(_ did: DIDRef, rse: String) async throws -> String {
        try await db.read { db in
            let r = try Self.rse(db, name: rse)
            guard let path = try String.fetchOne(db, sql: "SELECT path FROM replicas WHERE rse_id = ? AND scope = ? AND name = ?", arguments: [r.id, did.scope, did.name]) else {
                throw RucioError("ReplicaNotFound", "No replica of \(did) on \(rse)")
            }
            return try containedPath(root: r.root, relative: path)
        }
    }

    // MARK: snapshots

    /// Copies the catalog (SQLite online backup) and every RSE directory into `directory`.
    public func snapshot(to directory: String) async throws {
        let fm = FileManager.default
        try? fm.removeItem(atPath: directory)
        try fm.createDirectory(atPath: directory + "/rses", withIntermediateDirectories: true)
        let target = try DatabaseQueue(path: directory + "/catalog.sqlite")
        try db.backup(to: target)
        try target.close()
        for rse in try await listRSEs() where fm.fileExists(atPath: rse.root) {
            try fm.copyItem(atPath: rse.root, toPath: directory + "/rses/" + rse.id)
        }
    }

    /// Puts the catalog and RSE directories back as they were in a snapshot. Login tokens are kept, so clients
    /// stay logged in across a reset.
    public func restore(from directory: String) async throws {
        let fm = FileManager.default
        guard fm.fileExists(atPath: directory + "/catalog.sqlite") else { throw RucioError("NotFound", "No snapshot at \(directory)") }
        // The catalog and the RSE directories cannot change in one atomic step: a marker names the snapshot until both
        // are back, and a lake killed in between finishes the restore when it starts (`resumeInterruptedRestore`).
        try directory.write(toFile: restoreMarker, atomically: true, encoding: .utf8)
        let tokens = try await db.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM tokens").map { r -> [DatabaseValue] in
                ["token", "account", "identity", "expires_at", "audience", "scope", "created_at"].map { r[$0] as DatabaseValue }
            }
        }
        let before = try await listRSEs()
        let source = try DatabaseQueue(path: directory + "/catalog.sqlite")
        try source.backup(to: db)
        try source.close()
        try await db.write { db in
            for t in tokens {
                try db.execute(sql: "INSERT OR IGNORE INTO tokens (token, account, identity, expires_at, audience, scope, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                               arguments: StatementArguments(t))
            }
        }
        tokenCache.clear()
        CrashPoint.reach("restore:catalog")
        let after = try await listRSEs()
        for rse in Set(before.map(\.root)).union(after.map(\.root)) { try? fm.removeItem(atPath: rse) }
        for rse in after {
            let saved = directory + "/rses/" + rse.id
            if fm.fileExists(atPath: saved) { try fm.copyItem(atPath: saved, toPath: rse.root) }
            else { try fm.createDirectory(atPath: rse.root, withIntermediateDirectories: true) }
        }
        try fm.removeItem(atPath: restoreMarker)
    }

    var restoreMarker: String { dataDir + "/.restoring" }

    /// Finishes a restore that a crash interrupted (see `restore(from:)`); returns the snapshot it came from, if any.
    public func resumeInterruptedRestore() async throws -> String? {
        guard let directory = try? String(contentsOfFile: restoreMarker, encoding: .utf8) else { return nil }
        guard FileManager.default.fileExists(atPath: directory + "/catalog.sqlite") else {
            try? FileManager.default.removeItem(atPath: restoreMarker)
            return nil
        }
        try await restore(from: directory)
        return directory
    }
}
