import Foundation
import LakebedCore

/// A person known to the IAM: who can log in with the password grant and whose tokens carry groups.
public struct IAMUser: Codable, Sendable, Equatable {
    /// Login name (`preferred_username`).
    public var username: String
    /// Stable subject identifier, a UUID as IAM uses.
    public var sub: String
    /// The password for the `password` grant, salted and hashed (`directory.json` also accepts a clear `password`,
    /// which is hashed when the IAM loads it).
    public var passwordHash: String
    /// Display name.
    public var name: String
    /// E-mail address.
    public var email: String
    /// Group paths, e.g. `/escape`, `/escape/users`.
    public var groups: [String]
    /// Organisation name claim.
    public var organisation: String
    /// Rucio account that gets this user's OIDC identity `SUB=<sub>, ISS=<issuer>` when the server starts (nil: none).
    public var rucioAccount: String?

    public init(
        username: String, sub: String, password: String, name: String, email: String, groups: [String],
        organisation: String = "lakebed", rucioAccount: String? = nil
    ) {
        self.username = username
        self.sub = sub
        self.passwordHash = PasswordHash.make(password)
        self.name = name
        self.email = email
        self.groups = groups
        self.organisation = organisation
        self.rucioAccount = rucioAccount
    }

    /// Whether `password` is this user's.
    public func checkPassword(_ password: String) -> Bool { PasswordHash.verify(password, against: passwordHash) }

    enum CodingKeys: String, CodingKey {
        case username, sub, password
        case passwordHash = "password_hash"
        case name, email, groups, organisation, rucioAccount
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        username = try c.decode(String.self, forKey: .username)
        sub = try c.decode(String.self, forKey: .sub)
        if let hash = try c.decodeIfPresent(String.self, forKey: .passwordHash) {
            passwordHash = hash
        } else {
            passwordHash = PasswordHash.make(try c.decode(String.self, forKey: .password))
        }
        name = try c.decode(String.self, forKey: .name)
        email = try c.decode(String.self, forKey: .email)
        groups = try c.decode([String].self, forKey: .groups)
        organisation = try c.decodeIfPresent(String.self, forKey: .organisation) ?? "lakebed"
        rucioAccount = try c.decodeIfPresent(String.self, forKey: .rucioAccount)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(username, forKey: .username)
        try c.encode(sub, forKey: .sub)
        try c.encode(passwordHash, forKey: .passwordHash)
        try c.encode(name, forKey: .name)
        try c.encode(email, forKey: .email)
        try c.encode(groups, forKey: .groups)
        try c.encode(organisation, forKey: .organisation)
        try c.encodeIfPresent(rucioAccount, forKey: .rucioAccount)
    }
}

/// An OAuth client registered with the IAM.
public struct IAMClient: Codable, Sendable, Equatable {
    /// `client_id`.
    public var clientID: String
    /// `client_secret`, salted and hashed; nil for a public client (token endpoint auth method `none`).
    public var secretHash: String?
    /// Human readable name.
    public var name: String
    /// Scopes the client may request; `storage.read:/data` also allows any path below `/data`.
    public var scopes: [String]
    /// Grant types the client may use (`client_credentials`, `password`, `refresh_token`, token exchange).
    public var grantTypes: [String]
    /// Access token lifetime in seconds.
    public var accessTokenLifetime: Int
    /// Refresh token lifetime in seconds.
    public var refreshTokenLifetime: Int

    public init(
        clientID: String, secret: String?, name: String, scopes: [String], grantTypes: [String],
        accessTokenLifetime: Int = 3600, refreshTokenLifetime: Int = 30 * 86400
    ) {
        self.clientID = clientID
        self.secretHash = secret.map(PasswordHash.make)
        self.name = name
        self.scopes = scopes
        self.grantTypes = grantTypes
        self.accessTokenLifetime = accessTokenLifetime
        self.refreshTokenLifetime = refreshTokenLifetime
    }

    /// Whether the client authenticates with nothing but its id.
    public var isPublic: Bool { secretHash == nil }

    /// Whether `secret` is this client's.
    public func checkSecret(_ secret: String) -> Bool { secretHash.map { PasswordHash.verify(secret, against: $0) } ?? false }

    enum CodingKeys: String, CodingKey {
        case clientID, secret
        case secretHash = "secret_hash"
        case name, scopes, grantTypes, accessTokenLifetime, refreshTokenLifetime
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        clientID = try c.decode(String.self, forKey: .clientID)
        if let hash = try c.decodeIfPresent(String.self, forKey: .secretHash) {
            secretHash = hash
        } else {
            secretHash = try c.decodeIfPresent(String.self, forKey: .secret).map(PasswordHash.make)
        }
        name = try c.decode(String.self, forKey: .name)
        scopes = try c.decode([String].self, forKey: .scopes)
        grantTypes = try c.decode([String].self, forKey: .grantTypes)
        accessTokenLifetime = try c.decodeIfPresent(Int.self, forKey: .accessTokenLifetime) ?? 3600
        refreshTokenLifetime = try c.decodeIfPresent(Int.self, forKey: .refreshTokenLifetime) ?? 30 * 86400
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(clientID, forKey: .clientID)
        try c.encodeIfPresent(secretHash, forKey: .secretHash)
        try c.encode(name, forKey: .name)
        try c.encode(scopes, forKey: .scopes)
        try c.encode(grantTypes, forKey: .grantTypes)
        try c.encode(accessTokenLifetime, forKey: .accessTokenLifetime)
        try c.encode(refreshTokenLifetime, forKey: .refreshTokenLifetime)
    }
}

/// The grant types the IAM implements.
public enum GrantType {
    public static let clientCredentials = "client_credentials"
    public static let password = "password"
    public static let refreshToken = "refresh_token"
    public static let tokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
    /// The browser login: a user signs in at `/iam/authorize`, the client redeems the code it is sent back.
    public static let authorizationCode = "authorization_code"
    public static let all = [clientCredentials, password, refreshToken, tokenExchange, authorizationCode]
}

/// Users and clients of the IAM, kept as `<dataDir>/iam/directory.json` (passwords and secrets hashed) so scenarios and
/// people can edit them.
public struct IAMDirectory: Codable, Sendable, Equatable {
    /// Users who can log in with the password grant; lookups by username or sub take the first match.
    public var users: [IAMUser]
    /// Registered OAuth clients, in file order.
    public var clients: [IAMClient]

    public init(users: [IAMUser], clients: [IAMClient]) {
        self.users = users
        self.clients = clients
    }

    public func user(named username: String) -> IAMUser? { users.first { $0.username == username } }
    public func user(sub: String) -> IAMUser? { users.first { $0.sub == sub } }
    public func client(_ id: String) -> IAMClient? { clients.first { $0.clientID == id } }

    /// The directory a new data folder starts with.
    public static let seed = IAMDirectory(
        users: [
            IAMUser(
                username: "jdoe", sub: "5c0b1a9e-7d2f-4e3a-9b61-2f8d4c7e1a05", password: "jdoe-password", name: "John Doe",
                email: "jdoe@example.org", groups: ["/escape", "/escape/users"], rucioAccount: "root"),
            IAMUser(
                username: "asmith", sub: "a7e3f2c1-4b8d-4f6e-8c2a-9d1e5b3f7a60", password: "asmith-password", name: "Alice Smith",
                email: "asmith@example.org", groups: ["/escape"]),
        ],
        clients: [
            IAMClient(
                clientID: "rucio", secret: "rucio-secret", name: "Rucio",
                scopes: standardScopes + ["fts"], grantTypes: GrantType.all),
            IAMClient(
                clientID: "lakebed-cli", secret: nil, name: "Scripts and notebooks (public client)",
                scopes: standardScopes, grantTypes: [GrantType.password, GrantType.refreshToken]),
        ])

    /// The scopes seeded clients may ask for.
    public static let standardScopes = [
        "openid", "profile", "email", "offline_access", "wlcg", "wlcg.groups",
        "storage.read:/", "storage.create:/", "storage.modify:/", "storage.stage:/",
    ]
}
