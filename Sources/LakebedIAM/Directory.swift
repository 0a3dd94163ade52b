import Foundation

/// A person known to the IAM: who can log in with the password grant and whose tokens carry groups.
public struct IAMUser: Codable, Sendable, Equatable {
    /// Login name (`preferred_username`).
    public var username: String
    /// Stable subject identifier, a UUID as IAM uses.
    public var sub: String
    /// Password for the `password` grant (kept in clear: this is an emulator's test identity).
    public var password: String
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

    public init(username: String, sub: String, password: String, name: String, email: String, groups: [String],
                organisation: String = "lakebed", rucioAccount: String? = nil) {
        self.username = username
        self.sub = sub
        self.password = password
        self.name = name
        self.email = email
        self.groups = groups
        self.organisation = organisation
        self.rucioAccount = rucioAccount
    }
}

/// An OAuth client registered with the IAM.
public struct IAMClient: Codable, Sendable, Equatable {
    /// `client_id`.
    public var clientID: String
    /// `client_secret`; nil for a public client (token endpoint auth method `none`).
    public var secret: String?
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

    public init(clientID: String, secret: String?, name: String, scopes: [String], grantTypes: [String],
                accessTokenLifetime: Int = 3600, refreshTokenLifetime: Int = 30 * 86400) {
        self.clientID = clientID
        self.secret = secret
        self.name = name
        self.scopes = scopes
        self.grantTypes = grantTypes
        self.accessTokenLifetime = accessTokenLifetime
        self.refreshTokenLifetime = refreshTokenLifetime
    }

    /// Whether the client authenticates with nothing but its id.
    public var isPublic: Bool { secret == nil }
}

/// The grant types the IAM implements.
public enum GrantType {
    public static let clientCredentials = "client_credentials"
    public static let password = "password"
    public static let refreshToken = "refresh_token"
    public static let tokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
    public static let all = [clientCredentials, password, refreshToken, tokenExchange]
}

/// Users and clients of the IAM, kept as `<dataDir>/iam/directory.json` so scenarios and people can edit them.
public struct IAMDirectory: Codable, Sendable, Equatable {
    public var users: [IAMUser]
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
            IAMUser(username: "jdoe", sub: "5c0b1a9e-7d2f-4e3a-9b61-2f8d4c7e1a05", password: "jdoe-password", name: "John Doe",
                    email: "jdoe@example.org", groups: ["/escape", "/escape/users"], rucioAccount: "root"),
            IAMUser(username: "asmith", sub: "a7e3f2c1-4b8d-4f6e-8c2a-9d1e5b3f7a60", password: "asmith-password", name: "Alice Smith",
                    email: "asmith@example.org", groups: ["/escape"]),
        ],
        clients: [
            IAMClient(clientID: "rucio", secret: "rucio-secret", name: "Rucio",
                      scopes: standardScopes + ["fts"], grantTypes: GrantType.all),
            IAMClient(clientID: "lakebed-cli", secret: nil, name: "Scripts and notebooks (public client)",
                      scopes: standardScopes, grantTypes: [GrantType.password, GrantType.refreshToken]),
        ])

    /// The scopes seeded clients may ask for.
    public static let standardScopes = [
        "openid", "profile", "email", "offline_access", "wlcg", "wlcg.groups",
        "storage.read:/", "storage.create:/", "storage.modify:/", "storage.stage:/",
    ]
}
