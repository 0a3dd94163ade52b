import Foundation
import GRDB

/// Scopes and who owns them (Rucio's `core/scope.py`).
public struct ScopeStore: CatalogStore {
    /// The catalog this works on.
    public let catalog: Catalog
    /// Works on `catalog`.
    public init(catalog: Catalog) { self.catalog = catalog }

    /// Creates a scope owned by `account`.
    public func addScope(_ scope: String, account: String, by issuer: Issuer?) async throws {
        if let issuer { try catalog.policy.permission.requireAdmin(issuer, "add_scope") }
        try catalog.policy.schema.checkScope(scope)
        try catalog.policy.schema.checkAccount(account)
        let now = nowStamp
        try await db.write { db in
            try AccountStore.requireAccount(db, account)
            if try Row.fetchOne(db, sql: "SELECT 1 FROM scopes WHERE scope = ?", arguments: [scope]) != nil {
                throw RucioError.duplicate("Scope '\(scope)' already exists!")
            }
            try db.execute(sql: "INSERT INTO scopes (scope, account, created_at) VALUES (?, ?, ?)", arguments: [scope, account, now])
        }
    }

    /// All scope names.
    public func listScopes() async throws -> [String] {
        try await db.read { db in try String.fetchAll(db, sql: "SELECT scope FROM scopes ORDER BY scope") }
    }

    /// All scopes with their owners.
    public func listScopeOwners() async throws -> [(scope: String, account: String)] {
        try await db.read { db in
            try Row.fetchAll(db, sql: "SELECT scope, account FROM scopes ORDER BY scope").map { ($0["scope"], $0["account"]) }
        }
    }

    /// Scopes owned by an account.
    public func listScopes(ofAccount account: String) async throws -> [String] {
        try quickRead { db in
            try AccountStore.requireAccount(db, account)
            return try String.fetchAll(db, sql: "SELECT scope FROM scopes WHERE account = ? ORDER BY scope", arguments: [account])
        }
    }

    /// The owner of a scope, or `ScopeNotFound`.
    static func scopeOwner(_ db: Database, _ scope: String) throws -> String {
        guard let owner = try String.fetchOne(db, sql: "SELECT account FROM scopes WHERE scope = ?", arguments: [scope]) else {
            throw RucioError.scopeNotFound(scope)
        }
        return owner
    }

    static func requireScopeWrite(_ db: Database, policy: PermissionPolicy, scope: String, issuer: Issuer, action: String) throws {
        let owner = try scopeOwner(db, scope)
        try policy.requireScopeWrite(scope: scope, owner: owner, issuer, action)
    }
}
