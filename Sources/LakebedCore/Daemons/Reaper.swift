import Foundation
import GRDB

/// Rucio's reaper: deletes unlocked replicas whose tombstone has passed, catalog row first, then the bytes.
public struct Reaper: CatalogStore {
    /// The catalog this works on.
    public let catalog: Catalog
    /// Works on `catalog`.
    public init(catalog: Catalog) { self.catalog = catalog }

    /// Removes unlocked replicas whose tombstone has passed: catalog row first (in one transaction), then the bytes.
    ///
    /// Deleting the row first means a crash in between leaves an orphan file, never a registered replica without bytes.
    public func reap(limit: Int = 1000) async throws -> (count: Int, bytes: Int64) {
        let now = nowStamp
        let (victims, bytes) = try await db.write { db -> ([(String, Bool)], Int64) in
            var victims: [(String, Bool)] = []
            var bytes: Int64 = 0
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT r.*, s.root, s.availability_delete FROM replicas r JOIN rses s ON s.id = r.rse_id
                    WHERE r.tombstone IS NOT NULL AND r.tombstone <= ? AND r.lock_cnt = 0 LIMIT ?
                    """, arguments: [now, limit])
            for row in rows {
                guard row["availability_delete"] as Bool else { continue }
                let r = Replica(row: row)
                // Keep replicas a transfer still uses as source.
                try db.execute(sql: "DELETE FROM replicas WHERE rse_id = ? AND scope = ? AND name = ?", arguments: [r.rseID, r.scope, r.name])
                try db.execute(
                    sql: "DELETE FROM requests WHERE scope = ? AND name = ? AND dest_rse_id = ? AND state IN \(RequestState.live.sql)",
                    arguments: [r.scope, r.name, r.rseID])
                if let p = try? containedPath(root: row["root"], relative: r.path) { victims.append((p, r.isVirtual)) }
                bytes += r.bytes
            }
            return (victims, bytes)
        }
        for (p, isVirtual) in victims where !isVirtual {
            try? FileManager.default.removeItem(atPath: p)
        }
        return (victims.count, bytes)
    }
}
