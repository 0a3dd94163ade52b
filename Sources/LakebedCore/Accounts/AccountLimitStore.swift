import Foundation
import GRDB

/// Account limits (quotas) and usage per RSE (Rucio's `core/account_limit.py`).
public struct AccountLimitStore: CatalogStore {
    /// The catalog this works on.
    public let catalog: Catalog
    /// Works on `catalog`.
    public init(catalog: Catalog) { self.catalog = catalog }

    /// Local account limits by RSE name (nil = no limit set, which Lakebed treats as unlimited).
    public func localAccountLimits(_ account: String, rse: String?) async throws -> [(String, Int64?)] {
        try await db.read { db in
            try AccountStore.requireAccount(db, account)
            if let rse {
                let model = try RSEStore.rse(db, name: rse)
                return [
                    (
                        rse,
                        try Int64.fetchOne(
                            db, sql: "SELECT bytes FROM account_limits WHERE account = ? AND rse_id = ?", arguments: [account, model.id])
                    )
                ]
            }
            return try Row.fetchAll(
                db,
                sql:
                    "SELECT r.rse, l.bytes FROM account_limits l JOIN rses r ON r.id = l.rse_id WHERE l.account = ? AND r.deleted = 0 ORDER BY r.rse",
                arguments: [account]
            ).map { ($0["rse"], $0["bytes"]) }
        }
    }

    public func setLocalAccountLimit(_ account: String, rse: String, bytes: Int64?, by issuer: Issuer?) async throws {
        if let issuer { try catalog.policy.permission.requireAdmin(issuer, "set_local_account_limit") }
        try await db.write { db in
            try AccountStore.requireAccount(db, account)
            let model = try RSEStore.rse(db, name: rse)
            if let bytes {
                try db.execute(
                    sql: "INSERT OR REPLACE INTO account_limits (account, rse_id, bytes) VALUES (?, ?, ?)", arguments: [account, model.id, bytes])
            } else {
                try db.execute(sql: "DELETE FROM account_limits WHERE account = ? AND rse_id = ?", arguments: [account, model.id])
            }
        }
    }

    public func globalAccountLimits(_ account: String, expression: String?) async throws -> [(String, [RSE], Int64)] {
        try await db.read { db in
            try AccountStore.requireAccount(db, account)
            var rows = try Row.fetchAll(
                db, sql: "SELECT rse_expression, bytes FROM global_account_limits WHERE account = ? ORDER BY rse_expression", arguments: [account])
            if let expression { rows = rows.filter { ($0["rse_expression"] as String) == expression } }
            return rows.map { ($0["rse_expression"], (try? RSEStore.resolve(db, expression: $0["rse_expression"])) ?? [], $0["bytes"]) }
        }
    }

    public func setGlobalAccountLimit(_ account: String, expression: String, bytes: Int64?, by issuer: Issuer) async throws {
        try catalog.policy.permission.requireAdmin(issuer, "set_global_account_limit")
        try await db.write { db in
            try AccountStore.requireAccount(db, account)
            _ = try RSEStore.resolve(db, expression: expression)
            if let bytes {
                try db.execute(
                    sql: "INSERT OR REPLACE INTO global_account_limits (account, rse_expression, bytes) VALUES (?, ?, ?)",
                    arguments: [account, expression, bytes])
            } else {
                try db.execute(sql: "DELETE FROM global_account_limits WHERE account = ? AND rse_expression = ?", arguments: [account, expression])
            }
        }
    }

    /// Usage of an account per RSE, counted from its rules' locks.
    public struct AccountUsage: Sendable {
        /// The RSE the usage is on.
        public var rse: RSE
        /// Bytes of the distinct files the account's rules lock on the RSE.
        public var bytes: Int64
        /// Number of distinct files the account's rules lock on the RSE.
        public var files: Int64
        /// The account's local limit on the RSE in bytes; nil = no limit set.
        public var limit: Int64?
    }

    public func localAccountUsage(_ account: String, rse: String?) async throws -> [AccountUsage] {
        try await db.read { db in
            try AccountStore.requireAccount(db, account)
            var rses = try RSEStore.allRSEs(db)
            if let rse { rses = [try RSEStore.rse(db, name: rse)] }
            var out: [AccountUsage] = []
            for r in rses {
                let row = try Row.fetchOne(
                    db,
                    sql:
                        "SELECT COALESCE(SUM(bytes), 0) AS b, COUNT(*) AS n FROM (SELECT DISTINCT scope, name, bytes FROM locks WHERE account = ? AND rse_id = ?)",
                    arguments: [account, r.id])!
                let limit = try Int64.fetchOne(
                    db, sql: "SELECT bytes FROM account_limits WHERE account = ? AND rse_id = ?", arguments: [account, r.id])
                let b: Int64 = row["b"]
                let n: Int64 = row["n"]
                if rse == nil && b == 0 && limit == nil { continue }
                out.append(AccountUsage(rse: r, bytes: b, files: n, limit: limit))
            }
            return out
        }
    }
}
