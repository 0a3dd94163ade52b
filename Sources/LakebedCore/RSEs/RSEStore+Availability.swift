import Foundation
import GRDB

extension RSEStore {
    /// Sets an RSE's availability flags (scenarios: a site goes down and comes back).
    public func setRSEAvailability(_ rse: String, read: Bool?, write: Bool?, delete: Bool?) async throws {
        let now = nowStamp
        try await db.write { db in
            let r = try Self.rse(db, name: rse)
            if let read { try db.execute(sql: "UPDATE rses SET availability_read = ?, updated_at = ? WHERE id = ?", arguments: [read, now, r.id]) }
            if let write {
                try db.execute(sql: "UPDATE rses SET availability_write = ?, updated_at = ? WHERE id = ?", arguments: [write, now, r.id])
            }
            if let delete {
                try db.execute(sql: "UPDATE rses SET availability_delete = ?, updated_at = ? WHERE id = ?", arguments: [delete, now, r.id])
            }
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
}
