import Foundation
public import LakebedCore

/// How a client identified itself at an endpoint (HTTP basic or form fields).
public struct ClientCredentials: Sendable, Equatable {
    /// OAuth `client_id`, from HTTP basic auth or the form.
    public var id: String
    /// OAuth `client_secret`; nil (or empty) for public clients, required for confidential ones.
    public var secret: String?
    public init(id: String, secret: String?) {
        self.id = id
        self.secret = secret
    }
}

/// A request to the token endpoint, already decoded from the form.
public struct TokenRequest: Sendable {
    /// OAuth `grant_type`: `client_credentials`, `password`, `refresh_token` or the RFC 8693 token-exchange URN.
    public var grantType: String
    /// Who the client says it is; nil = no credentials (refused as `invalid_client`).
    public var client: ClientCredentials?
    /// Requested scopes, space-separated (nil: the client's or the original grant's).
    public var scope: String?
    /// Requested audiences (`aud`, `audience` or `resource`; each may hold several, space-separated).
    public var audience: [String]
    /// Resource owner's IAM username for the `password` grant; nil otherwise.
    public var username: String?
    /// Resource owner's IAM password for the `password` grant; nil otherwise.
    public var password: String?
    /// The refresh token to redeem for the `refresh_token` grant; nil otherwise.
    public var refreshToken: String?
    /// RFC 8693 `subject_token`: the access token to exchange; nil for other grants.
    public var subjectToken: String?
    /// RFC 8693 `subject_token_type`: the access-token or JWT URN; nil = not given (taken as an access token).
    public var subjectTokenType: String?
    /// The authorization code to redeem for the `authorization_code` grant; nil otherwise.
    public var code: String?
    /// The redirect URI the code was issued for (`authorization_code` grant); nil otherwise.
    public var redirectURI: String?

    public init(
        grantType: String, client: ClientCredentials?, scope: String? = nil, audience: [String] = [], username: String? = nil,
        password: String? = nil, refreshToken: String? = nil, subjectToken: String? = nil, subjectTokenType: String? = nil,
        code: String? = nil, redirectURI: String? = nil
    ) {
        self.code = code
        self.redirectURI = redirectURI
        self.grantType = grantType
        self.client = client
        self.scope = scope
        self.audience = audience
        self.username = username
        self.password = password
        self.refreshToken = refreshToken
        self.subjectToken = subjectToken
        self.subjectTokenType = subjectTokenType
    }
}

/// The token endpoint's answer.
public struct TokenResponse: Sendable {
    /// The signed access token (a JWT, RS256).
    public var accessToken: String
    /// The claims inside `accessToken`, for the caller's use (the JSON body carries only `scope`).
    public var claims: AccessTokenClaims
    /// Seconds of lake time until the access token expires (the client's access-token lifetime).
    public var expiresIn: Int
    /// A refresh token, when `offline_access` was granted to a user (or an exchange); the same one again on refresh. nil = none.
    public var refreshToken: String?
    /// An OIDC ID token for a user when `openid` was granted; nil otherwise.
    public var idToken: String?
    /// Set for token exchange (RFC 8693).
    public var issuedTokenType: String?

    /// The JSON body IAM returns.
    public var json: JSON {
        var o = JSONObject([
            ("access_token", .string(accessToken)), ("token_type", "Bearer"), ("expires_in", .int(Int64(expiresIn))),
            ("scope", .string(claims.scope ?? "")),
        ])
        if let refreshToken { o["refresh_token"] = .string(refreshToken) }
        if let idToken { o["id_token"] = .string(idToken) }
        if let issuedTokenType { o["issued_token_type"] = .string(issuedTokenType) }
        return .object(o)
    }
}

extension IAM {
    static let accessTokenType = "urn:ietf:params:oauth:token-type:access_token"
    static let jwtTokenType = "urn:ietf:params:oauth:token-type:jwt"

    /// The token endpoint: authenticates the client and runs the grant.
    public func token(_ r: TokenRequest) async throws(OAuthError) -> TokenResponse {
        guard GrantType.all.contains(r.grantType) else { throw OAuthError("unsupported_grant_type", "Unsupported grant type: \(r.grantType)") }
        let client = try authenticateClient(r.client)
        guard client.grantTypes.contains(r.grantType) else {
            throw OAuthError("unauthorized_client", "Unauthorized grant type: \(r.grantType)")
        }
        do {
            switch r.grantType {
            case GrantType.clientCredentials:
                let scopes = try grantedScopes(r.scope, client: client, ceiling: nil).filter { $0 != "offline_access" }
                return try await respond(client: client, user: nil, sub: client.clientID, scopes: scopes, audience: r.audience, act: nil)
            case GrantType.password:
                guard let username = r.username, let password = r.password else {
                    throw OAuthError.invalidRequest("username and password are required")
                }
                guard let user = directory.user(named: username), user.checkPassword(password) else {
                    throw OAuthError.invalidGrant("Bad credentials")
                }
                let scopes = try grantedScopes(r.scope, client: client, ceiling: nil)
                return try await respond(client: client, user: user, sub: user.sub, scopes: scopes, audience: r.audience, act: nil)
            case GrantType.refreshToken:
                return try await refresh(r, client: client)
            case GrantType.authorizationCode:
                return try await redeem(r, client: client)
            default:
                return try await exchange(r, client: client)
            }
        } catch let e as OAuthError {
            throw e
        } catch {
            throw OAuthError("server_error", "\(error)")
        }
    }

    /// Checks the client's id and secret (public clients present only their id).
    public func authenticateClient(_ c: ClientCredentials?) throws(OAuthError) -> IAMClient {
        guard let c, let client = directory.client(c.id) else { throw OAuthError.invalidClient() }
        if !client.isPublic {
            guard let given = c.secret, client.checkSecret(given) else { throw OAuthError.invalidClient() }
        } else if let given = c.secret, !given.isEmpty {
            throw OAuthError.invalidClient()
        }
        return client
    }

    /// The scopes to grant: those requested (each allowed by the client and, for a refresh, by the original grant),
    /// or when none are requested, everything the ceiling (or the client) allows.
    func grantedScopes(_ requested: String?, client: IAMClient, ceiling: [String]?) throws(OAuthError) -> [String] {
        let asked = ScopeList.split(requested)
        if asked.isEmpty { return ceiling ?? client.scopes }
        for s in asked {
            guard client.scopes.contains(where: { ScopePolicy.permits($0, s) }) else {
                throw OAuthError.invalidScope("Scope not allowed for client '\(client.clientID)': \(s)")
            }
            if let ceiling, !ceiling.contains(where: { ScopePolicy.permits($0, s) }) {
                throw OAuthError.invalidScope("Up-scoping is not allowed: \(s)")
            }
        }
        return asked
    }

    func respond(
        client: IAMClient, user: IAMUser?, sub: String, scopes: [String], audience: [String], act: TokenActor?,
        reuseRefresh: String? = nil, issuedTokenType: String? = nil, nonce: String? = nil
    ) async throws -> TokenResponse {
        let (token, claims) = try await mint(
            user: user, sub: sub, clientID: client.clientID, scopes: scopes, audience: audience,
            lifetime: client.accessTokenLifetime, act: act)
        var refresh: String?
        if let reuseRefresh {
            refresh = reuseRefresh
        } else if scopes.contains("offline_access"), user != nil || act != nil {
            let r = "lbrt-" + UUID().uuidString.lowercased() + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
            let t = Double(now)
            try grants.addRefresh(
                r,
                RefreshGrant(
                    clientID: client.clientID, sub: sub, scopes: scopes, audience: audience,
                    issuedAt: t, expiresAt: t + Double(client.refreshTokenLifetime)), now: t)
            refresh = r
        }
        var idToken: String?
        if let user, scopes.contains("openid") {
            idToken = try await sign(
                IDTokenClaims(
                    iss: issuer, sub: user.sub, aud: client.clientID, exp: claims.exp, iat: claims.iat,
                    jti: UUID().uuidString.lowercased(), name: user.name, preferred_username: user.username,
                    email: user.email, groups: user.groups, nonce: nonce))
        }
        return TokenResponse(
            accessToken: token, claims: claims, expiresIn: client.accessTokenLifetime, refreshToken: refresh,
            idToken: idToken, issuedTokenType: issuedTokenType)
    }

    /// `grant_type=refresh_token`: a new access token for the same subject, scopes at most the original ones.
    func refresh(_ r: TokenRequest, client: IAMClient) async throws -> TokenResponse {
        guard let rt = r.refreshToken, !rt.isEmpty else { throw OAuthError.invalidRequest("refresh_token is required") }
        guard let g = grants.refresh(rt), g.expiresAt > Double(now) else { throw OAuthError.invalidGrant("Invalid refresh token") }
        guard g.clientID == client.clientID else { throw OAuthError.invalidGrant("Client ID does not match the refresh token") }
        let scopes = try grantedScopes(r.scope, client: client, ceiling: g.scopes)
        let user = directory.user(sub: g.sub)
        return try await respond(
            client: client, user: user, sub: g.sub, scopes: scopes, audience: r.audience.isEmpty ? g.audience : r.audience,
            act: nil, reuseRefresh: rt)
    }

    /// Token exchange (RFC 8693): a token for the subject of `subject_token`, acted on by the exchanging client.
    func exchange(_ r: TokenRequest, client: IAMClient) async throws -> TokenResponse {
        guard let st = r.subjectToken, !st.isEmpty else { throw OAuthError.invalidRequest("subject_token is required") }
        if let type = r.subjectTokenType, ![Self.accessTokenType, Self.jwtTokenType].contains(type) {
            throw OAuthError.invalidRequest("Unsupported subject_token_type: \(type)")
        }
        let subject: AccessTokenClaims
        do { subject = try await validate(st) } catch { throw OAuthError.invalidGrant("Invalid subject token: \(error.reason)") }
        let scopes = try grantedScopes(r.scope, client: client, ceiling: nil)
        return try await respond(
            client: client, user: directory.user(sub: subject.sub), sub: subject.sub, scopes: scopes, audience: r.audience,
            act: TokenActor(sub: client.clientID), issuedTokenType: Self.accessTokenType)
    }
}

/// Which requested scope a registered scope allows.
public enum ScopePolicy {
    /// Equal scopes, or a parametric scope (`storage.read:/data`) and a narrower one (`storage.read:/data/run1`).
    public static func permits(_ allowed: String, _ requested: String) -> Bool {
        if allowed == requested { return true }
        guard let a = StorageScope(allowed), let r = StorageScope(requested), a.operation == r.operation else { return false }
        return a.covers(r.path)
    }
}
