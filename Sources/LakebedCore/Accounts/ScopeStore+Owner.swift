import Foundation
import GRDB

extension ScopeStore {
    /// Gives a scope to another account (`update_scope`); admins only.
    public func updateScope(_ scope: String, account: String, by issuer: Issuer) async throws {
        try catalog.policy.permission.requireAdmin(issuer, "update_scope")
        try await db.write { db in
            try AccountStore.requireAccount(db, account)
            try db.execute(sql: "UPDATE scopes SET account = ? WHERE scope = ?", arguments: [account, scope])
            guard db.changesCount > 0 else { throw RucioError(.scopeNotFound, "Scope '\(Validation.printable(scope))' does not exist") }
        }
    }
}
