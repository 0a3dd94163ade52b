import Foundation
import GRDB
public import LakebedCore
public import LakebedIAM

/// Rucio's OIDC login (`rucio.core.oidc`: `get_auth_oidc`, `redirect_auth_oidc`, `get_token_oidc`,
/// `refresh_cli_auth_token`) with the lake's IAM as the identity provider. The client asks for a login URL, the user's
/// browser follows it to the IAM's sign-in form, the IAM sends it back to `/auth/oidc_code` with a code, which this
/// server redeems (as the IAM client `[oidc] client_id`, default `rucio`) for the user's tokens; the client then fetches
/// its token by polling or with the code the page shows. Sessions are Rucio's `oauth_requests` rows.
public struct OIDCLogin: Sendable {
    /// The catalog (sessions, identities, tokens).
    public let catalog: Catalog
    /// The identity provider.
    public let iam: IAM

    public init(catalog: Catalog, iam: IAM) {
        self.catalog = catalog
        self.iam = iam
    }

    /// Rucio's `[oidc] expected_scope` and `expected_audience`.
    public static let expectedScope = "openid profile"
    public static let expectedAudience = "rucio"
    /// How long a login session waits for the user (Rucio's 5 minutes).
    static let sessionLifetime: Double = 300
    /// Rucio's default refresh lifetime (hours).
    static let defaultRefreshLifetime = 96

    /// What the client sends to `/auth/oidc`.
    public struct Start: Sendable {
        public var account: String?
        public var scope: String
        public var audience: String
        public var issuer: String?
        public var polling: Bool
        public var refreshLifetime: Int?
        public init(account: String?, scope: String, audience: String, issuer: String?, polling: Bool, refreshLifetime: Int?) {
            self.account = account
            self.scope = scope
            self.audience = audience
            self.issuer = issuer
            self.polling = polling
            self.refreshLifetime = refreshLifetime
        }
    }

    /// Starts a login: the URL (`<base>/auth/oidc_redirect?<code>`) the user opens; nil when the account does not exist.
    /// `base` is this server's own address as the client reached it.
    public func start(_ s: Start, base: String) async throws -> String? {
        let scope = s.scope.isEmpty ? Self.expectedScope : s.scope
        let audience = s.audience.isEmpty ? Self.expectedAudience : s.audience
        guard Self.covers(scope, Self.expectedScope), Self.covers(audience, Self.expectedAudience) else {
            throw RucioError.cannotAuthenticate("Requirements of scope and audience do not satisfy minimal requirements of the Rucio server.")
        }
        let issuer = await iam.issuer
        if let wanted = s.issuer, !wanted.isEmpty, IAM.normalizedIssuer(wanted) != issuer {
            throw RucioError.cannotAuthenticate("Unknown identity provider '\(wanted)': this lake's is \(issuer)")
        }
        // Rucio's 'webui' sentinel: no account named, the identity's default account is taken after the login.
        let account = s.account ?? "webui"
        let state = Self.random(50)
        let nonce = Self.random(50)
        let accessMsg = Self.random(23) + (s.polling ? "_polling" : "")
        var url = URLComponents(string: issuer + "authorize")!
        url.queryItems = [
            URLQueryItem(name: "response_type", value: "code"), URLQueryItem(name: "client_id", value: try await clientID()),
            URLQueryItem(name: "redirect_uri", value: base + "/auth/oidc_code"), URLQueryItem(name: "scope", value: scope),
            URLQueryItem(name: "state", value: state), URLQueryItem(name: "nonce", value: nonce), URLQueryItem(name: "audience", value: audience),
        ]
        let authURL = url.string!
        let now = catalog.nowStamp
        let made = try await catalog.db.write { db -> Bool in
            if account != "webui" {
                guard try Row.fetchOne(db, sql: "SELECT 1 FROM accounts WHERE account = ?", arguments: [account]) != nil else { return false }
            }
            try db.execute(sql: "DELETE FROM oauth_requests WHERE expires_at < ?", arguments: [now])
            try db.execute(
                sql: """
                    INSERT INTO oauth_requests (state, nonce, account, access_msg, redirect_msg, refresh_lifetime, expires_at, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [state, nonce, account, accessMsg, authURL, s.refreshLifetime, now + Self.sessionLifetime, now])
            return true
        }
        return made ? base + "/auth/oidc_redirect?" + accessMsg : nil
    }

    /// `/auth/oidc_redirect?<code>`: for a browser, the IAM URL to go to; for a client fetching its token
    /// (`fetchToken`), the token once the login is done (and the session is used up). Nil when there is nothing.
    public func redirect(code: String, fetchToken: Bool) async throws -> String? {
        let now = catalog.nowStamp
        return try await catalog.db.write { db -> String? in
            guard
                let row = try Row.fetchOne(
                    db, sql: "SELECT state, redirect_msg FROM oauth_requests WHERE access_msg = ? AND expires_at >= ?", arguments: [code, now])
            else { return nil }
            let msg: String = row["redirect_msg"]
            let isURL = msg.contains("http")
            if fetchToken && !isURL {
                try db.execute(sql: "DELETE FROM oauth_requests WHERE state = ?", arguments: [row["state"] as String])
                return msg
            }
            return !fetchToken && isURL ? msg : nil
        }
    }

    /// What the page at `/auth/oidc_code` tells the user.
    public enum Finished: Sendable, Equatable {
        /// The code to paste into the waiting client.
        case fetchCode(String)
        /// The polling client will pick the token up by itself.
        case polling
    }

    /// `/auth/oidc_code?code=…&state=…`: redeems the IAM's code, checks the ID token's nonce, maps the identity
    /// `SUB=<sub>, ISS=<iss>` to the account, keeps the token (and the IAM's refresh token, for `/auth/oidc_refresh`).
    /// Nil when the login cannot be finished (Rucio's "no authorization content").
    public func finish(code: String, state: String) async throws -> Finished? {
        let now = catalog.nowStamp
        guard
            let session = try catalog.db.read({ db in
                try Row.fetchOne(db, sql: "SELECT * FROM oauth_requests WHERE state = ? AND expires_at >= ?", arguments: [state, now])
            })
        else { return nil }
        let authURL = URLComponents(string: session["redirect_msg"] as String)
        func param(_ k: String) -> String? { authURL?.queryItems?.first { $0.name == k }?.value }
        let client = ClientCredentials(id: try await clientID(), secret: try await clientSecret())
        let tokens: TokenResponse
        do {
            tokens = try await iam.token(
                TokenRequest(grantType: GrantType.authorizationCode, client: client, code: code, redirectURI: param("redirect_uri")))
        } catch {
            return nil
        }
        guard let idToken = tokens.idToken, let id = Self.claims(idToken), (id["nonce"]?.stringValue) == (session["nonce"] as String) else {
            throw RucioError.cannotAuthenticate(
                "ID token could not be associated with the Rucio OIDC Client session. This points to possible replay attack !")
        }
        let identity = IAM.rucioIdentity(sub: tokens.claims.sub, iss: tokens.claims.iss)
        var account: String = session["account"]
        if account == "webui" {
            guard let d = try await catalog.auth.defaultAccount(identity: identity, type: "OIDC") else {
                throw RucioError.cannotAuthenticate("OIDC identity '\(identity)' is not mapped to any Rucio account.")
            }
            account = d
        }
        guard try await catalog.auth.accounts(forIdentity: identity, type: "OIDC").contains(account) else {
            throw RucioError.cannotAuthenticate("OIDC identity '\(identity)' of the '\(account)' account is unknown to Rucio.")
        }
        let expires = Date(timeIntervalSince1970: Double(tokens.claims.exp))
        let info = TokenInfo.external(
            token: tokens.accessToken, account: account, identity: identity, expiresAt: expires, audience: tokens.claims.aud.joined(separator: " "),
            scope: tokens.claims.scope)
        try await catalog.auth.rememberToken(info)
        let accessMsg: String = session["access_msg"]
        let polling = accessMsg.hasSuffix("_polling")
        let fetchCode = polling ? accessMsg : Self.random(50)
        let lifetime = (session["refresh_lifetime"] as Int?) ?? Self.defaultRefreshLifetime
        try await catalog.db.write { db in
            if let refresh = tokens.refreshToken {
                try Self.keep(
                    db, info, refreshToken: refresh, lifetimeHours: lifetime, start: now, refreshExpires: now + Double(lifetime) * 3600, now: now)
            }
            // The token waits under the client's code (polling) or a new code the page shows.
            try db.execute(
                sql: "UPDATE oauth_requests SET access_msg = ?, redirect_msg = ? WHERE state = ?", arguments: [fetchCode, tokens.accessToken, state])
        }
        return polling ? .polling : .fetchCode(fetchCode)
    }

    /// `/auth/oidc_refresh`: for a token of `account` that came with a refresh token, a fresh access token from the
    /// IAM and its expiry (epoch seconds). Within 5 minutes of its last change a token is answered as it is; a token
    /// already refreshed is answered with its successor of the same scope and audience. Nil when there is none (Rucio
    /// then answers empty headers).
    public func refresh(token: String, account: String) async throws -> (token: String, expiresAt: Int)? {
        let now = catalog.nowStamp
        guard
            let row = try catalog.db.read({ db in
                try Row.fetchOne(
                    db, sql: "SELECT * FROM oidc_refresh WHERE token = ? AND account = ? AND expires_at > ?",
                    arguments: [TokenInfo.storageKey(token), account, now])
            })
        else { return nil }
        guard (row["refresh"] as Int) == 1 else {
            let newer = try catalog.db.read { db in
                try Row.fetchOne(
                    db,
                    sql: """
                        SELECT access_token, expires_at FROM oidc_refresh WHERE account = ? AND refresh = 1 AND refresh_expires_at > ?
                        AND expires_at > ? AND COALESCE(scope, '') = ? AND COALESCE(audience, '') = ? ORDER BY updated_at DESC LIMIT 1
                        """, arguments: [account, now, now, (row["scope"] as String?) ?? "", (row["audience"] as String?) ?? ""])
            }
            return newer.map { ($0["access_token"], Int($0["expires_at"] as Double)) }
        }
        if (row["updated_at"] as Double) > now - 300 { return (token, Int(row["expires_at"] as Double)) }
        let lifetimeHours = row["refresh_lifetime"] as Int
        if now - (row["refresh_start"] as Double) > Double(lifetimeHours) * 3600 {
            try await stopRefreshing(row["token"])
            return nil
        }
        let client = ClientCredentials(id: try await clientID(), secret: try await clientSecret())
        let fresh: TokenResponse
        do {
            fresh = try await iam.token(TokenRequest(grantType: GrantType.refreshToken, client: client, refreshToken: row["refresh_token"]))
        } catch {
            throw RucioError(.cannotAuthorize, "The identity provider refused the refresh: \(error)")
        }
        let info = TokenInfo.external(
            token: fresh.accessToken, account: account, identity: row["identity"],
            expiresAt: Date(timeIntervalSince1970: Double(fresh.claims.exp)), audience: fresh.claims.aud.joined(separator: " "),
            scope: fresh.claims.scope)
        try await catalog.auth.rememberToken(info)
        let (key, refreshToken) = (row["token"] as String, fresh.refreshToken ?? (row["refresh_token"] as String))
        let (start, refreshExpires) = (row["refresh_start"] as Double, row["refresh_expires_at"] as Double)
        try await catalog.db.write { db in
            try db.execute(sql: "UPDATE oidc_refresh SET refresh = 0, updated_at = ? WHERE token = ?", arguments: [now, key])
            try Self.keep(db, info, refreshToken: refreshToken, lifetimeHours: lifetimeHours, start: start, refreshExpires: refreshExpires, now: now)
        }
        return (fresh.accessToken, Int(fresh.claims.exp))
    }

    /// Keeps an access token with the IAM refresh token it came with.
    static func keep(
        _ db: Database, _ info: TokenInfo, refreshToken: String, lifetimeHours: Int, start: Double, refreshExpires: Double, now: Double
    )
        throws
    {
        try db.execute(
            sql: """
                INSERT OR REPLACE INTO oidc_refresh (token, access_token, account, identity, refresh_token, refresh, refresh_lifetime,
                refresh_start, refresh_expires_at, expires_at, scope, audience, updated_at) VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                TokenInfo.storageKey(info.token), info.token, info.account, info.identity, refreshToken, lifetimeHours, start, refreshExpires,
                info.expiresAt.timeIntervalSince1970, info.scope, info.audience, now,
            ])
    }

    func stopRefreshing(_ key: String) async throws {
        let now = catalog.nowStamp
        try await catalog.db.write { db in
            try db.execute(sql: "UPDATE oidc_refresh SET refresh = 0, refresh_expires_at = ? WHERE token = ?", arguments: [now, key])
        }
    }

    func clientID() async throws -> String { try await catalog.config.value("oidc", "client_id") ?? "rucio" }
    func clientSecret() async throws -> String? { try await catalog.config.value("oidc", "client_secret") ?? "rucio-secret" }

    /// Whether the space-separated `have` holds every item of `need` (Rucio's `all_oidc_req_claims_present`).
    static func covers(_ have: String, _ need: String) -> Bool { Set(ScopeList.split(need)).isSubset(of: Set(ScopeList.split(have))) }

    /// A JWT's claims, unverified (the token came straight from the IAM, in-process).
    static func claims(_ jwt: String) -> JSONObject? {
        let parts = jwt.split(separator: ".")
        guard parts.count == 3 else { return nil }
        var b64 = parts[1].replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        b64 += String(repeating: "=", count: (4 - b64.count % 4) % 4)
        guard let data = Data(base64Encoded: b64) else { return nil }
        return (try? JSONParser.parse([UInt8](data)))?.objectValue
    }

    static func random(_ n: Int) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        return String((0..<n).map { _ in alphabet.randomElement()! })
    }
}
