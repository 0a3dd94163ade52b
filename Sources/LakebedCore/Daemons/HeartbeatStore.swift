public import Foundation
import GRDB

/// A daemon's last sign of life (Rucio's `heartbeats`).
public struct Heartbeat: Sendable {
    /// The daemon's executable, as it reported it.
    public var executable: String
    /// The host it runs on.
    public var hostname: String
    /// Its process id.
    public var pid: Int64
    /// The thread that reported.
    public var threadName: String
    /// What the daemon says it works on; nil = nothing said.
    public var payload: String?
    /// Its first heartbeat.
    public var createdAt: Date
    /// Its last heartbeat.
    public var updatedAt: Date
}

/// Heartbeats that daemons outside the lake send over `/heartbeats` (Rucio's `core/heartbeat.py`). Lakebed's own
/// daemons run inside the lake's driver and send none.
public struct HeartbeatStore: CatalogStore {
    /// The catalog this works on.
    public let catalog: Catalog
    /// Works on `catalog`.
    public init(catalog: Catalog) { self.catalog = catalog }

    /// Every heartbeat, by executable, host and thread; admins only.
    public func list(issuer: Issuer) async throws -> [Heartbeat] {
        try catalog.policy.permission.requireAdmin(issuer, "list_heartbeats")
        return try await db.read { db in
            try db.all(sql: "SELECT * FROM heartbeats ORDER BY executable, hostname, thread_name").map {
                Heartbeat(
                    executable: $0["executable"], hostname: $0["hostname"], pid: $0["pid"], threadName: $0["thread_name"], payload: $0["payload"],
                    createdAt: Date(timeIntervalSince1970: $0["created_at"]), updatedAt: Date(timeIntervalSince1970: $0["updated_at"]))
            }
        }
    }

    /// Records a heartbeat; with `olderThan` seconds, the executable's heartbeats not renewed for that long go. Admins only.
    public func live(
        executable: String, hostname: String, pid: Int64, thread: String, olderThan: Double?, payload: String?, issuer: Issuer
    ) async throws {
        try catalog.policy.permission.requireAdmin(issuer, "send_heartbeats")
        let now = nowStamp
        try await db.write { db in
            try db.exec(
                sql: """
                    INSERT INTO heartbeats (executable, hostname, pid, thread_name, payload, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(executable, hostname, pid, thread_name) DO UPDATE SET payload = excluded.payload, updated_at = excluded.updated_at
                    """, arguments: [executable, hostname, pid, thread, payload, now, now])
            if let olderThan {
                try db.exec(sql: "DELETE FROM heartbeats WHERE executable = ? AND updated_at < ?", arguments: [executable, now - olderThan])
            }
        }
    }
}
