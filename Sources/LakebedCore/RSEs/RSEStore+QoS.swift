import Foundation
import GRDB

extension RSEStore {
    /// The QoS policies of an RSE, in name order.
    public func qosPolicies(_ rse: String) async throws -> [String] {
        try await db.read { db in
            let model = try Self.rse(db, name: rse)
            return try String.fetchAll(db, sql: "SELECT qos_policy FROM rse_qos_policies WHERE rse_id = ? ORDER BY qos_policy", arguments: [model.id])
        }
    }

    /// Adds (`present`) or removes a QoS policy of an RSE; admins only. Removing one the RSE lacks is not an error.
    public func setQoSPolicy(_ rse: String, _ policy: String, present: Bool, by issuer: Issuer) async throws {
        try catalog.policy.permission.requireAdmin(issuer, present ? "add_qos_policy" : "delete_qos_policy")
        let now = nowStamp
        try await db.write { db in
            let model = try Self.rse(db, name: rse)
            if present {
                if try db.one(sql: "SELECT 1 FROM rse_qos_policies WHERE rse_id = ? AND qos_policy = ?", arguments: [model.id, policy]) != nil {
                    throw RucioError.duplicate("QoS policy \(Validation.printable(policy)) already exists on RSE \(model.rse)")
                }
                try db.exec(
                    sql: "INSERT INTO rse_qos_policies (rse_id, qos_policy, created_at) VALUES (?, ?, ?)", arguments: [model.id, policy, now])
            } else {
                try db.exec(sql: "DELETE FROM rse_qos_policies WHERE rse_id = ? AND qos_policy = ?", arguments: [model.id, policy])
            }
        }
    }
}
