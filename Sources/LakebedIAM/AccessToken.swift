import Foundation
public import JWTKit

/// The actor of an exchanged token: the client that exchanged it (RFC 8693 `act`).
public struct TokenActor: Codable, Sendable, Equatable {
    /// Client id of the client that exchanged the token (the actor acting for the token's subject).
    public var sub: String
    public init(sub: String) { self.sub = sub }
}

/// The claims of an IAM access token, as IAM's WLCG profile writes them.
public struct AccessTokenClaims: JWTPayload, Equatable {
    /// JWT `iss`: the issuer URL, ending in `/` (e.g. `http://127.0.0.1:8080/iam/`).
    public var iss: String
    /// JWT `sub`: the user's stable UUID, or the client id for a client-credentials token.
    public var sub: String
    /// Audiences; one is written as a string, several as a list.
    public var aud: [String]
    /// JWT `exp`: expiry, in Unix seconds of lake time.
    public var exp: Int64
    /// JWT `iat`: issue time, in Unix seconds of lake time (0 when a decoded token has none).
    public var iat: Int64
    /// JWT `nbf`: not valid before, in Unix seconds of lake time; nil = not written.
    public var nbf: Int64?
    /// JWT `jti`: a UUID unique to the token (empty when a decoded token has none); what revocation lists name.
    public var jti: String
    /// IAM `client_id` claim: the client the token was issued to; nil = not written.
    public var clientID: String?
    /// Space-separated scopes.
    public var scope: String?
    /// IAM `groups` claim: the user's IAM groups; nil for client tokens.
    public var groups: [String]?
    /// WLCG `wlcg.groups` claim: the same groups as `groups` in tokens this IAM signs; nil for client tokens.
    public var wlcgGroups: [String]?
    /// WLCG `wlcg.ver` claim: the WLCG token profile version, `1.0`.
    public var wlcgVer: String?
    /// RFC 8693 `act` claim: the client that exchanged the token; nil for tokens not from an exchange.
    public var act: TokenActor?
    /// OIDC `preferred_username`, kept when decoding a token; this IAM writes it only in ID tokens and userinfo.
    public var preferredUsername: String?
    /// OIDC `name` (display name), kept when decoding a token; this IAM never writes it in access tokens.
    public var name: String?
    /// OIDC `email`, kept when decoding a token; this IAM never writes it in access tokens.
    public var email: String?
    /// IAM `organisation_name`, kept when decoding a token; this IAM never writes it in access tokens.
    public var organisationName: String?

    public init(
        iss: String, sub: String, aud: [String], exp: Int64, iat: Int64, nbf: Int64?, jti: String, clientID: String?,
        scope: String?, groups: [String]? = nil, wlcgGroups: [String]? = nil, wlcgVer: String? = "1.0", act: TokenActor? = nil,
        preferredUsername: String? = nil, name: String? = nil, email: String? = nil, organisationName: String? = nil
    ) {
        self.iss = iss
        self.sub = sub
        self.aud = aud
        self.exp = exp
        self.iat = iat
        self.nbf = nbf
        self.jti = jti
        self.clientID = clientID
        self.scope = scope
        self.groups = groups
        self.wlcgGroups = wlcgGroups
        self.wlcgVer = wlcgVer
        self.act = act
        self.preferredUsername = preferredUsername
        self.name = name
        self.email = email
        self.organisationName = organisationName
    }

    /// The scopes as a list.
    public var scopes: [String] { ScopeList.split(scope) }

    enum CodingKeys: String, CodingKey {
        case iss, sub, aud, exp, iat, nbf, jti, scope, groups, act, name, email
        case clientID = "client_id"
        case wlcgGroups = "wlcg.groups"
        case wlcgVer = "wlcg.ver"
        case preferredUsername = "preferred_username"
        case organisationName = "organisation_name"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        iss = try c.decode(String.self, forKey: .iss)
        sub = try c.decode(String.self, forKey: .sub)
        if let one = try? c.decode(String.self, forKey: .aud) { aud = [one] } else { aud = try c.decodeIfPresent([String].self, forKey: .aud) ?? [] }
        exp = Int64(try c.decode(Double.self, forKey: .exp))
        iat = Int64(try c.decodeIfPresent(Double.self, forKey: .iat) ?? 0)
        nbf = try c.decodeIfPresent(Double.self, forKey: .nbf).map { Int64($0) }
        jti = try c.decodeIfPresent(String.self, forKey: .jti) ?? ""
        clientID = try c.decodeIfPresent(String.self, forKey: .clientID)
        // Some issuers write scope as a list.
        if let list = try? c.decode([String].self, forKey: .scope) {
            scope = list.joined(separator: " ")
        } else {
            scope = try c.decodeIfPresent(String.self, forKey: .scope)
        }
        groups = try c.decodeIfPresent([String].self, forKey: .groups)
        wlcgGroups = try c.decodeIfPresent([String].self, forKey: .wlcgGroups)
        wlcgVer = try c.decodeIfPresent(String.self, forKey: .wlcgVer)
        act = try c.decodeIfPresent(TokenActor.self, forKey: .act)
        preferredUsername = try c.decodeIfPresent(String.self, forKey: .preferredUsername)
        name = try c.decodeIfPresent(String.self, forKey: .name)
        email = try c.decodeIfPresent(String.self, forKey: .email)
        organisationName = try c.decodeIfPresent(String.self, forKey: .organisationName)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(iss, forKey: .iss)
        try c.encode(sub, forKey: .sub)
        if aud.count == 1 { try c.encode(aud[0], forKey: .aud) } else if !aud.isEmpty { try c.encode(aud, forKey: .aud) }
        try c.encode(exp, forKey: .exp)
        try c.encode(iat, forKey: .iat)
        try c.encodeIfPresent(nbf, forKey: .nbf)
        try c.encode(jti, forKey: .jti)
        try c.encodeIfPresent(clientID, forKey: .clientID)
        try c.encodeIfPresent(scope, forKey: .scope)
        try c.encodeIfPresent(groups, forKey: .groups)
        try c.encodeIfPresent(wlcgGroups, forKey: .wlcgGroups)
        try c.encodeIfPresent(wlcgVer, forKey: .wlcgVer)
        try c.encodeIfPresent(act, forKey: .act)
        try c.encodeIfPresent(preferredUsername, forKey: .preferredUsername)
        try c.encodeIfPresent(name, forKey: .name)
        try c.encodeIfPresent(email, forKey: .email)
        try c.encodeIfPresent(organisationName, forKey: .organisationName)
    }

    /// Claims are checked by the IAM against the lake clock, not here against the wall clock.
    public func verify(using algorithm: some JWTAlgorithm) async throws {}
}

/// The claims of an OpenID Connect ID token.
struct IDTokenClaims: JWTPayload {
    var iss: String
    var sub: String
    var aud: String
    var exp: Int64
    var iat: Int64
    var jti: String
    var name: String?
    var preferred_username: String?
    var email: String?
    var groups: [String]?
    /// The `nonce` of the authorization request, echoed so the client can tie the ID token to its login.
    var nonce: String?
    func verify(using algorithm: some JWTAlgorithm) async throws {}
}

/// Space-separated scope strings.
public enum ScopeList {
    /// Splits a space-separated list, dropping empty entries and duplicates, keeping order.
    public static func split(_ s: String?) -> [String] {
        var seen = Set<String>()
        return (s ?? "").split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).map(String.init).filter { seen.insert($0).inserted }
    }
    public static func join(_ l: [String]) -> String { l.joined(separator: " ") }
}
