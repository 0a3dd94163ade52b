import Crypto
public import Foundation
import GRDB
import Synchronization

/// Recently validated tokens, so most requests never touch SQLite to authenticate.
final class TokenCache: Sendable {
    private let entries = Mutex<[String: TokenInfo]>([:])
    /// Whether an account is an admin, so authenticating a request needs no SQLite read at all.
    private let admins = Mutex<[String: Bool]>([:])
    func admin(_ account: String) -> Bool? { admins.withLock { $0[account] } }
    func setAdmin(_ account: String, _ v: Bool) { admins.withLock { $0[account] = v } }
    func forgetAdmin(_ account: String) { _ = admins.withLock { $0.removeValue(forKey: account) } }
    func get(_ token: String) -> TokenInfo? { entries.withLock { $0[token] } }
    func put(_ info: TokenInfo) {
        entries.withLock {
            if $0.count > 100_000 { $0.removeAll() }
            $0[info.token] = info
        }
    }
    func remove(_ token: String) { _ = entries.withLock { $0.removeValue(forKey: token) } }
    func removeAll(account: String) {
        entries.withLock { $0 = $0.filter { $0.value.account != account } }
        forgetAdmin(account)
    }
    func clear() {
        entries.withLock { $0.removeAll() }
        admins.withLock { $0.removeAll() }
    }
}

extension TokenInfo {
    /// Whether a bearer token is a JWT (three dot-separated parts): such tokens are the IAM's, and only the IAM may
    /// say whether one is still good (signature, expiry, revocation, retired keys), on every request.
    /// How the catalog keys a token: its SHA-256, so a copy of `catalog.sqlite` holds no usable token.
    public static func storageKey(_ token: String) -> String {
        "sha256:" + SHA256.hash(data: Data(token.utf8)).lowerHex
    }

    public static func looksLikeJWT(_ token: String) -> Bool {
        // Counted over the bytes: every authenticated request asks, and splitting would build three substrings.
        var dots = 0
        for byte in token.utf8 where byte == UInt8(ascii: ".") {
            dots += 1
            if dots > 2 { return false }
        }
        return dots == 2
    }

    /// A token as the catalog records it; other modules build these for tokens they validate (the IAM's JWTs).
    public static func external(token: String, account: String, identity: String, expiresAt: Date, audience: String?, scope: String?) -> TokenInfo {
        TokenInfo(token: token, account: account, identity: identity, expiresAt: expiresAt, audience: audience, scope: scope)
    }
}

/// Identities, logins and the lake's own tokens (Rucio's `core/identity.py` and `core/authentication.py`).
public struct AuthStore: CatalogStore {
    /// The catalog this works on.
    public let catalog: Catalog
    /// Works on `catalog`.
    public init(catalog: Catalog) { self.catalog = catalog }

    static let identityTypes = ["USERPASS", "X509", "GSS", "SSH", "OIDC", "SAML"]

    /// Adds a login identity to an account (passwords are stored salted and hashed).
    public func addIdentity(
        account: String, identity: String, type: String, email: String?, password: String?, isDefault: Bool, by issuer: Issuer?
    ) async throws {
        if let issuer { try catalog.policy.permission.requireAdmin(issuer, "add_identity") }
        let t = type.uppercased()
        guard Self.identityTypes.contains(t) else {
            throw RucioError(.invalidObject, "Provided object does not match schema. Details: Invalid identity type '\(type)'")
        }
        guard !identity.isEmpty, identity.utf8.count <= 2048 else { throw RucioError(.identityError, "Identity must not be empty") }
        if t == "USERPASS" && (password ?? "").isEmpty { throw RucioError(.identityError, "You must provide a password for USERPASS identity") }
        let hashed = t == "USERPASS" ? PasswordHash.make(password!) : nil
        let now = nowStamp
        try await db.write { db in
            try AccountStore.requireAccount(db, account)
            if try Row.fetchOne(
                db, sql: "SELECT 1 FROM identities WHERE identity = ? AND id_type = ? AND account = ?", arguments: [identity, t, account]) != nil
            {
                throw RucioError.duplicate("Identity pair '\(identity)','\(t)' already exists!")
            }
            let hasDefault =
                try Row.fetchOne(db, sql: "SELECT 1 FROM identities WHERE identity = ? AND id_type = ? AND is_default = 1", arguments: [identity, t])
                != nil
            // Rucio keeps one password per userpass identity.
            if t == "USERPASS" {
                try db.execute(sql: "UPDATE identities SET password = ? WHERE identity = ? AND id_type = 'USERPASS'", arguments: [hashed, identity])
            }
            try db.execute(
                sql: "INSERT INTO identities (identity, id_type, account, is_default, password, email, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                arguments: [identity, t, account, (isDefault || !hasDefault) ? 1 : 0, hashed, email, now])
            if isDefault && hasDefault {
                try db.execute(
                    sql: "UPDATE identities SET is_default = 0 WHERE identity = ? AND id_type = ? AND account != ?",
                    arguments: [identity, t, account])
            }
        }
    }

    /// Identities of an account.
    public func listIdentities(account: String) async throws -> [Identity] {
        try await db.read { db in
            try AccountStore.requireAccount(db, account)
            return try Row.fetchAll(db, sql: "SELECT * FROM identities WHERE account = ? ORDER BY identity", arguments: [account]).map {
                Identity(
                    identity: $0["identity"], type: $0["id_type"], account: $0["account"], email: $0["email"],
                    isDefault: ($0["is_default"] as Int) == 1)
            }
        }
    }

    public func deleteIdentity(account: String, identity: String, type: String, by issuer: Issuer) async throws {
        try catalog.policy.permission.requireAdmin(issuer, "del_identity")
        try await db.write { db in
            try db.execute(
                sql: "DELETE FROM identities WHERE account = ? AND identity = ? AND id_type = ?", arguments: [account, identity, type.uppercased()])
            if db.changesCount == 0 { throw RucioError(.identityError, "Identity ('\(identity)','\(type)') does not exist for account '\(account)'") }
            // Tokens that identity obtained for the account end with it.
            try db.execute(sql: "DELETE FROM tokens WHERE account = ? AND identity = ?", arguments: [account, identity])
        }
        tokenCache.removeAll(account: account)
    }

    /// Accounts an identity may act as.
    public func accounts(forIdentity identity: String, type: String) async throws -> [String] {
        try await db.read { db in
            try String.fetchAll(
                db,
                sql:
                    "SELECT i.account FROM identities i JOIN accounts a ON a.account = i.account WHERE i.identity = ? AND i.id_type = ? AND a.status = 'ACTIVE' ORDER BY i.is_default DESC, i.account",
                arguments: [identity, type])
        }
    }

    /// The default account of an identity (Rucio's `get_default_account`), if that account is active.
    public func defaultAccount(identity: String, type: String) async throws -> String? {
        try await db.read { db in
            try String.fetchOne(
                db,
                sql:
                    "SELECT i.account FROM identities i JOIN accounts a ON a.account = i.account WHERE i.identity = ? AND i.id_type = ? AND i.is_default = 1 AND a.status = 'ACTIVE'",
                arguments: [identity, type])
        }
    }

    /// Result of a userpass login.
    public enum LoginResult: Sendable {
        case token(TokenInfo)
        /// The identity maps to several accounts and none was named.
        case chooseAccount([String])
    }

    /// Checks a username and password and issues a token (`GET /auth/userpass`).
    public func loginUserpass(username: String, password: String, account: String?, appID: String?) async throws -> LoginResult {
        let rows = try quickRead { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT i.account, i.password, a.status FROM identities i JOIN accounts a ON a.account = i.account
                    WHERE i.identity = ? AND i.id_type = 'USERPASS' ORDER BY i.is_default DESC, i.account
                    """, arguments: [username])
        }
        guard let stored = rows.first?["password"] as String?, PasswordHash.verify(password, against: stored) else {
            throw RucioError.cannotAuthenticate("Cannot authenticate to account \(account ?? "") with given credentials")
        }
        let accounts = rows.filter { ($0["status"] as String) == "ACTIVE" }.map { $0["account"] as String }
        let chosen: String
        if let account, !account.isEmpty {
            guard accounts.contains(account) else {
                throw RucioError.cannotAuthenticate("Cannot authenticate to account \(account) with given credentials")
            }
            chosen = account
        } else if accounts.count == 1 {
            chosen = accounts[0]
        } else if accounts.isEmpty {
            throw RucioError.cannotAuthenticate("Cannot authenticate with given credentials")
        } else {
            return .chooseAccount(accounts)
        }
        return .token(try await issueToken(account: chosen, identity: username, appID: appID))
    }

    /// Issues a native Rucio token, `<account>-<identity>-<appid>-<uuid>`.
    public func issueToken(account: String, identity: String, appID: String?, lifetime: TimeInterval? = nil) async throws -> TokenInfo {
        let safeIdentity = identity.filter { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "." }.prefix(40)
        let app = (appID ?? "unknown").filter { $0.isLetter || $0.isNumber }.prefix(20)
        let token =
            "\(account)-\(safeIdentity)-\(app.isEmpty ? "unknown" : String(app))-\(UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased())"
        let now = nowStamp
        let exp = now + (lifetime ?? tokenLifetime)
        try await db.write { db in
            try db.execute(
                sql: "INSERT INTO tokens (token, account, identity, expires_at, created_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [TokenInfo.storageKey(token), account, identity, exp, now])
            // Old expired tokens are swept while we are here.
            try db.execute(sql: "DELETE FROM tokens WHERE expires_at < ?", arguments: [now - 86400])
        }
        let info = TokenInfo(
            token: token, account: account, identity: identity, expiresAt: Date(timeIntervalSince1970: exp), audience: nil, scope: nil)
        tokenCache.put(info)
        return info
    }

    /// Stores an externally issued token (a validated JWT) so later requests find it quickly.
    public func rememberToken(_ info: TokenInfo) async throws {
        let now = nowStamp
        try await db.write { db in
            try db.execute(
                sql: "INSERT OR REPLACE INTO tokens (token, account, identity, expires_at, audience, scope, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                arguments: [
                    TokenInfo.storageKey(info.token), info.account, info.identity, info.expiresAt.timeIntervalSince1970, info.audience,
                    info.scope, now,
                ])
        }
        tokenCache.put(info)
    }

    /// The account behind a native token, or nil if unknown or expired.
    public func validateNativeToken(_ token: String) async throws -> TokenInfo? {
        let now = clock.now()
        if let cached = tokenCache.get(token) {
            if cached.expiresAt > now { return cached }
            tokenCache.remove(token)
            return nil
        }
        guard token.utf8.count <= 4096 else { return nil }
        let row = try quickRead { db in
            try Row.fetchOne(
                db, sql: "SELECT t.*, a.status FROM tokens t JOIN accounts a ON a.account = t.account WHERE t.token = ?",
                arguments: [TokenInfo.storageKey(token)])
        }
        guard let row, (row["status"] as String) == "ACTIVE" else { return nil }
        let info = TokenInfo(
            token: token, account: row["account"], identity: row["identity"] ?? "", expiresAt: Date(timeIntervalSince1970: row["expires_at"]),
            audience: row["audience"], scope: row["scope"])
        guard info.expiresAt > now else { return nil }
        tokenCache.put(info)
        return info
    }

    /// Every token stops working now (scenarios' "tokens expire early"); clients must log in again.
    public func expireAllTokens() async throws {
        try await db.write { db in try db.execute(sql: "DELETE FROM tokens") }
        tokenCache.clear()
        faults.expireTokensIssued(before: clock.now())
    }

    /// Builds the issuer for a validated token.
    public func issuer(for info: TokenInfo) async throws -> Issuer {
        if let cached = tokenCache.admin(info.account) { return Issuer(account: info.account, identity: info.identity, isAdmin: cached) }
        let admin = try quickRead { db in try AccountStore.isAdmin(db, info.account) }
        tokenCache.setAdmin(info.account, admin)
        return Issuer(account: info.account, identity: info.identity, isAdmin: admin)
    }

    /// Forgets every cached token (after a reset or restore).
    public func dropTokenCache() { tokenCache.clear() }
}
