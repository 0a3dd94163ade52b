import Foundation
import GRDB

/// Named copies of the whole lake (catalog and RSE bytes) to go back to: scenario reset and restore.
public struct SnapshotStore: CatalogStore {
    /// The catalog this works on.
    public let catalog: Catalog
    /// Works on `catalog`.
    public init(catalog: Catalog) { self.catalog = catalog }

    /// Copies the catalog (SQLite online backup) and every RSE directory into `directory`.
    public func snapshot(to directory: String) async throws {
        let fm = FileManager.default
        try? fm.removeItem(atPath: directory)
        try fm.createDirectory(atPath: directory + "/rses", withIntermediateDirectories: true)
        let target = try DatabaseQueue(path: directory + "/catalog.sqlite")
        try db.backup(to: target)
        try target.close()
        for rse in try await catalog.rses.listRSEs() where fm.fileExists(atPath: rse.root) {
            try fm.copyItem(atPath: rse.root, toPath: directory + "/rses/" + rse.id)
        }
    }

    /// Puts the catalog and RSE directories back as they were in a snapshot. Login tokens are kept, so clients
    /// stay logged in across a reset.
    public func restore(from directory: String) async throws {
        let fm = FileManager.default
        guard fm.fileExists(atPath: directory + "/catalog.sqlite") else { throw LakeError.notFound("No snapshot at \(directory)") }
        // The catalog and the RSE directories cannot change in one atomic step: a marker names the snapshot until both
        // are back, and a lake killed in between finishes the restore when it starts (`resumeInterruptedRestore`).
        try directory.write(toFile: restoreMarker, atomically: true, encoding: .utf8)
        let tokens = try await db.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM tokens").map { r -> [DatabaseValue] in
                ["token", "account", "identity", "expires_at", "audience", "scope", "created_at"].map { r[$0] as DatabaseValue }
            }
        }
        let before = try await catalog.rses.listRSEs()
        let countBefore = (try? catalog.commitCount()) ?? 0
        let source = try DatabaseQueue(path: directory + "/catalog.sqlite")
        try source.backup(to: db)
        // SQLite's backup API replaces the pages without a commit the read cache would see.
        catalog.readCache.invalidate()
        try source.close()
        // A snapshot taken by an older Lakebed lacks the newer tables and indexes.
        try Schema.migrator.migrate(db)
        try await catalog.advanceCommitCountPastMark(countBefore)
        try await db.write { db in
            for t in tokens {
                try db.execute(
                    sql:
                        "INSERT OR IGNORE INTO tokens (token, account, identity, expires_at, audience, scope, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    arguments: StatementArguments(t))
            }
        }
        tokenCache.clear()
        CrashPoint.reach("restore:catalog")
        let after = try await catalog.rses.listRSEs()
        for rse in Set(before.map(\.root)).union(after.map(\.root)) { try? fm.removeItem(atPath: rse) }
        for rse in after {
            let saved = directory + "/rses/" + rse.id
            if fm.fileExists(atPath: saved) {
                try fm.copyItem(atPath: saved, toPath: rse.root)
            } else {
                try fm.createDirectory(atPath: rse.root, withIntermediateDirectories: true)
            }
        }
        try fm.removeItem(atPath: restoreMarker)
    }

    var restoreMarker: String { dataDir + "/.restoring" }

    /// Whether `error` (from copying files or SQLite's backup) means the device holding `folder` is full.
    public static func isOutOfSpace(_ error: any Error, at folder: String) -> Bool {
        let ns = error as NSError
        if ns.code == CocoaError.fileWriteOutOfSpace.rawValue || (ns.domain == NSPOSIXErrorDomain && ns.code == Int(ENOSPC)) { return true }
        if let db = error as? DatabaseError, db.resultCode == .SQLITE_FULL { return true }
        let text = String(describing: error)
        if text.contains("No space left") || text.contains("disk is full") { return true }
        // Some copy errors do not say why: a device with almost nothing left answers for them.
        let free = (try? FileManager.default.attributesOfFileSystem(forPath: folder))?[.systemFreeSize] as? NSNumber
        return (free?.int64Value ?? .max) < 4 << 20
    }

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
