import Foundation
import GRDB

extension String {
    /// A SQL LIKE pattern for Rucio's `*` wildcard, escaping `%` and `_`.
    var likePattern: String {
        var out = ""
        for c in self {
            switch c {
            case "*": out += "%"
            case "%": out += "%"
            case "_": out += "\\_"
            case "\\": out += "\\\\"
            default: out.append(c)
            }
        }
        return out
    }
}

/// Accounts and their attributes (Rucio's `core/account.py`).
public struct AccountStore: CatalogStore {
    /// The catalog this works on.
    public let catalog: Catalog
    /// Works on `catalog`.
    public init(catalog: Catalog) { self.catalog = catalog }

    static let accountTypes = ["USER", "GROUP", "SERVICE"]

    /// Creates an account.
    public func addAccount(_ account: String, type: String, email: String?, by issuer: Issuer?) async throws {
        if let issuer { try catalog.policy.permission.requireAdmin(issuer, "add_account") }
        try catalog.policy.schema.checkAccount(account)
        guard Self.accountTypes.contains(type) else {
            throw RucioError(
                .invalidAccountType, "\(Validation.printable(type)) is an invalid account type. Choose from ['USER', 'GROUP', 'SERVICE']")
        }
        let now = nowStamp
        try await db.write { db in
            if try Row.fetchOne(db, sql: "SELECT 1 FROM accounts WHERE account = ?", arguments: [account]) != nil {
                throw RucioError.duplicate("Account ID '\(account)' already exists!")
            }
            try db.execute(
                sql: "INSERT INTO accounts (account, account_type, status, email, created_at, updated_at) VALUES (?, ?, 'ACTIVE', ?, ?, ?)",
                arguments: [account, type, email, now, now])
        }
    }

    /// Reads one account.
    public func account(_ account: String) async throws -> Account {
        try cachedRead("account\u{0}\(account)") { db in try Self.account(db, account) }
    }

    static func account(_ db: Database, _ account: String) throws -> Account {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM accounts WHERE account = ?", arguments: [account]) else {
            throw RucioError.accountNotFound(account)
        }
        return Account(row: row)
    }

    static func requireAccount(_ db: Database, _ account: String) throws {
        guard try Row.fetchOne(db, sql: "SELECT 1 FROM accounts WHERE account = ? AND status != 'DELETED'", arguments: [account]) != nil else {
            throw RucioError.accountNotFound(account)
        }
    }

    /// Whether the catalog has no account at all (a data folder never seeded).
    public func isEmpty() async throws -> Bool {
        try await db.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM accounts") ?? 0 } == 0
    }

    /// Lists accounts, optionally by type, identity, or attribute filters.
    public func listAccounts(type: String?, identity: String?, filters: [String: String]) async throws -> [Account] {
        try await db.read { db in
            var sql = "SELECT * FROM accounts a WHERE status != 'DELETED'"
            var args: [any DatabaseValueConvertible] = []
            if let type {
                sql += " AND account_type = ?"
                args.append(type.uppercased())
            }
            if let identity {
                sql += " AND EXISTS (SELECT 1 FROM identities i WHERE i.account = a.account AND i.identity = ?)"
                args.append(identity)
            }
            var attributes: [(String, String)] = []
            for (k, v) in filters.sorted(by: { $0.key < $1.key }) {
                if k == "account" {
                    sql += " AND account LIKE ? ESCAPE '\\'"
                    args.append(v.likePattern)
                } else if k == "email" {
                    sql += " AND email = ?"
                    args.append(v)
                } else {
                    attributes.append((k, JSON.string(v).serialized()))
                }
            }
            if !attributes.isEmpty {
                // One subquery for every attribute filter (not one each): a query string of hundreds of keys must not
                // grow SQLite's expression tree past its limit.
                sql +=
                    " AND a.account IN (SELECT account FROM account_attributes WHERE (key, value) IN (VALUES "
                    + attributes.map { _ in "(?, ?)" }.joined(separator: ", ") + ") GROUP BY account HAVING COUNT(*) = ?)"
                for (k, v) in attributes {
                    args.append(k)
                    args.append(v)
                }
                args.append(attributes.count)
            }
            sql += " ORDER BY account"
            return try Row.fetchAll(db, sql: sql, arguments: StatementArguments(args)).map(Account.init(row:))
        }
    }

    /// Changes an account's status, type or email.
    public func updateAccount(_ account: String, key: String, value: JSON, by issuer: Issuer) async throws {
        defer { if key == "status" { tokenCache.removeAll(account: account) } else { tokenCache.forgetAdmin(account) } }
        try catalog.policy.permission.requireAdmin(issuer, "update_account")
        let now = nowStamp
        try await db.write { db in
            try Self.requireAccount(db, account)
            switch key {
            case "status":
                guard let s = value.stringValue?.uppercased(), ["ACTIVE", "SUSPENDED"].contains(s) else {
                    throw RucioError(.invalidObject, "Invalid status")
                }
                try db.execute(
                    sql: "UPDATE accounts SET status = ?, suspended_at = ?, updated_at = ? WHERE account = ?",
                    arguments: [s, s == "SUSPENDED" ? now : nil, now, account])
                // A suspended account's tokens end now, the cached ones too (they would skip the status check).
                if s == "SUSPENDED" { try db.execute(sql: "DELETE FROM tokens WHERE account = ?", arguments: [account]) }
            case "email":
                try db.execute(sql: "UPDATE accounts SET email = ?, updated_at = ? WHERE account = ?", arguments: [value.stringValue, now, account])
            case "account_type":
                guard let t = value.stringValue?.uppercased(), Self.accountTypes.contains(t) else {
                    throw RucioError(.invalidObject, "Invalid account type")
                }
                try db.execute(sql: "UPDATE accounts SET account_type = ?, updated_at = ? WHERE account = ?", arguments: [t, now, account])
            default:
                break  // Rucio's update_account ignores keys it does not know
            }
        }
    }

    /// Marks an account deleted and drops its tokens.
    public func deleteAccount(_ account: String, by issuer: Issuer) async throws {
        try catalog.policy.permission.requireAdmin(issuer, "del_account")
        let now = nowStamp
        try await db.write { db in
            try Self.requireAccount(db, account)
            try db.execute(
                sql: "UPDATE accounts SET status = 'DELETED', deleted_at = ?, updated_at = ? WHERE account = ?", arguments: [now, now, account])
            try db.execute(sql: "DELETE FROM tokens WHERE account = ?", arguments: [account])
        }
        tokenCache.removeAll(account: account)
    }

    // MARK: attributes

    /// Account attributes as key/value pairs.
    public func accountAttributes(_ account: String) async throws -> [(String, JSON)] {
        try await db.read { db in
            try Self.requireAccount(db, account)
            return try Row.fetchAll(db, sql: "SELECT key, value FROM account_attributes WHERE account = ? ORDER BY key", arguments: [account]).map {
                (($0["key"] as String), (try? JSONParser.parse($0["value"] as String)) ?? .null)
            }
        }
    }

    public func addAccountAttribute(_ account: String, key: String, value: JSON, by issuer: Issuer) async throws {
        defer { tokenCache.forgetAdmin(account) }
        try catalog.policy.permission.requireAdmin(issuer, "add_account_attribute")
        try await db.write { db in
            try Self.requireAccount(db, account)
            if try Row.fetchOne(db, sql: "SELECT 1 FROM account_attributes WHERE account = ? AND key = ?", arguments: [account, key]) != nil {
                throw RucioError.duplicate("Attribute '\(key)' already exists for account '\(account)'")
            }
            try db.execute(
                sql: "INSERT INTO account_attributes (account, key, value) VALUES (?, ?, ?)", arguments: [account, key, value.serialized()])
        }
    }

    public func deleteAccountAttribute(_ account: String, key: String, by issuer: Issuer) async throws {
        defer { tokenCache.forgetAdmin(account) }
        try catalog.policy.permission.requireAdmin(issuer, "del_account_attribute")
        try await db.write { db in
            try Self.requireAccount(db, account)
            try db.execute(sql: "DELETE FROM account_attributes WHERE account = ? AND key = ?", arguments: [account, key])
            if db.changesCount == 0 { throw RucioError(.accountNotFound, "Attribute '\(key)' not found for account '\(account)'") }
        }
    }

    static func isAdmin(_ db: Database, _ account: String) throws -> Bool {
        if account == "root" { return true }
        let v = try String.fetchOne(db, sql: "SELECT value FROM account_attributes WHERE account = ? AND key = 'admin'", arguments: [account])
        return v.map { ["true", "\"true\"", "1", "\"1\""].contains($0.lowercased()) } ?? false
    }
}
