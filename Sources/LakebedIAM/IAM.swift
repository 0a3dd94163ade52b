public import Foundation
import JWTKit
public import LakebedCore

/// Lakebed's INDIGO-IAM-like token issuer: its keys, users and clients, and the tokens it signs and checks.
///
/// State lives under `<dataDir>/iam/`: `keys/` (RS256 PEM files), `directory.json` (users and clients),
/// `grants.json` (refresh tokens, revocations) and `issuer` (the issuer URL of the running server).
/// Time is the lake's clock, so tokens expire in lake time.
public actor IAM {
    /// The `iam` folder inside the data folder.
    public nonisolated let folder: String
    /// Where time comes from.
    public nonisolated let clock: any LakeClock
    /// The issuer URL, always ending in `/` as IAM's does.
    public private(set) var issuer: String
    /// Users and clients.
    public private(set) var directory: IAMDirectory
    var keys: KeyStore
    var verifier: JWTKeyCollection
    /// The key folder's listing when `keys` was loaded: a rotation by another process changes it.
    var keyFiles: [String]
    var grants: GrantStore
    /// Authorization codes not yet exchanged (they live a minute, in memory: a restart ends pending logins).
    var codes: [String: AuthorizationCode] = [:]

    /// The audience IAM's WLCG profile writes when a client asks for none.
    public static let anyAudience = "https://wlcg.cern.ch/jwt/v1/any"
    /// The issuer used when neither the caller nor the data folder names one.
    public static let defaultIssuer = "http://127.0.0.1:8080/iam/"

    /// Opens (creating keys and the seed directory if missing) the IAM of a data folder.
    /// `issuer` defaults to the one the last server run wrote into the data folder.
    public init(dataDir: String, clock: any LakeClock, issuer: String? = nil) async throws {
        let folder = (dataDir as NSString).standardizingPath + "/iam"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        self.folder = folder
        self.clock = clock
        self.issuer = Self.normalizedIssuer(issuer ?? Self.savedIssuer(dataDir: dataDir) ?? Self.defaultIssuer)
        self.directory = try Self.loadDirectory(folder + "/directory.json")
        let keys = try KeyStore.open(directory: folder + "/keys")
        self.keys = keys
        self.verifier = await keys.collection()
        self.keyFiles = KeyStore.fileNames(keys.directory)
        self.grants = GrantStore(path: folder + "/grants.json")
    }

    // MARK: issuer and directory

    /// The issuer a server run wrote into the data folder, if any.
    public static func savedIssuer(dataDir: String) -> String? {
        let path = (dataDir as NSString).standardizingPath + "/iam/issuer"
        guard let s = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        let t = s.trimmingCharacters(in: .whitespacesAndNewlines)
        return t.isEmpty ? nil : t
    }

    /// Adds the trailing slash IAM's issuer always has.
    public static func normalizedIssuer(_ s: String) -> String { s.hasSuffix("/") ? s : s + "/" }

    /// Sets the issuer (the running server's URL plus `/iam/`) and records it for `lakebed token`.
    public func setIssuer(_ url: String) throws {
        issuer = Self.normalizedIssuer(url)
        try Data((issuer + "\n").utf8).write(to: URL(fileURLWithPath: folder + "/issuer"), options: .atomic)
    }

    /// Replaces users and clients (scenarios do this) and saves them.
    public func setDirectory(_ d: IAMDirectory) throws {
        directory = d
        try Self.save(d, folder + "/directory.json")
    }

    static func loadDirectory(_ path: String) throws -> IAMDirectory {
        if let data = FileManager.default.contents(atPath: path) {
            return try JSONDecoder().decode(IAMDirectory.self, from: data)
        }
        try save(IAMDirectory.seed, path)
        return IAMDirectory.seed
    }

    static func save(_ d: IAMDirectory, _ path: String) throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        try enc.encode(d).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    // MARK: keys

    /// The JWKS document (the key folder as it is now: a rotation by `lakebed rotate-keys` shows at once).
    public func jwks() async -> JSON {
        await refreshKeys()
        return keys.jwks
    }

    /// The key id that signs new tokens.
    public var currentKeyID: String {
        get async {
            await refreshKeys()
            return keys.current.kid
        }
    }

    /// Generates a new signing key; the previous one keeps verifying, older ones are dropped (and stop verifying).
    @discardableResult
    public func rotateKeys() async throws -> String {
        await refreshKeys()
        let kid = try keys.rotate()
        verifier = await keys.collection()
        keyFiles = KeyStore.fileNames(keys.directory)
        return kid
    }

    /// Follows the key folder: keys rotated there by another process (`lakebed rotate-keys` on a stopped-looking
    /// lake, or by hand) sign, verify and appear in the JWKS at once, and the keys it dropped stop verifying.
    /// One directory listing per call, against an RSA signature check per token.
    func refreshKeys() async {
        let names = KeyStore.fileNames(keys.directory)
        // A key file half-written by the other process does not parse yet: keep the old keys, look again next time.
        guard names != keyFiles, let fresh = try? KeyStore.open(directory: keys.directory) else { return }
        keys = fresh
        verifier = await fresh.collection()
        keyFiles = KeyStore.fileNames(keys.directory)
    }

    // MARK: signing

    var now: Int64 { Int64(clock.now().timeIntervalSince1970.rounded(.down)) }

    /// Signs an access token for a user (or, with `username == nil`, for the client itself) without any
    /// authentication or scope policy: what `lakebed token` and tests use. A negative lifetime makes an expired token.
    public func issueAccessToken(username: String?, clientID: String, scope: String, audience: [String], lifetime: Int = 3600) async throws -> String
    {
        let user: IAMUser?
        if let username {
            guard let u = directory.user(named: username) else { throw OAuthError.invalidRequest("Unknown user '\(username)'") }
            user = u
        } else {
            user = nil
        }
        return try await mint(
            user: user, sub: user?.sub ?? clientID, clientID: clientID, scopes: ScopeList.split(scope),
            audience: audience, lifetime: lifetime, act: nil
        ).token
    }

    /// Builds and signs an access token.
    func mint(
        user: IAMUser?, sub: String, clientID: String, scopes: [String], audience: [String], lifetime: Int,
        act: TokenActor?
    ) async throws -> (token: String, claims: AccessTokenClaims) {
        let t = now
        let claims = AccessTokenClaims(
            iss: issuer, sub: sub, aud: audience.isEmpty ? [Self.anyAudience] : audience, exp: t + Int64(lifetime), iat: t, nbf: t,
            jti: UUID().uuidString.lowercased(), clientID: clientID, scope: ScopeList.join(scopes),
            groups: user?.groups, wlcgGroups: user?.groups, wlcgVer: "1.0", act: act)
        return (try await sign(claims), claims)
    }

    func sign(_ payload: some JWTPayload) async throws -> String {
        await refreshKeys()
        var header = JWTHeader()
        header.typ = "JWT"
        return try await verifier.sign(payload, kid: JWKIdentifier(string: keys.current.kid), header: header)
    }

    // MARK: validation

    /// Checks an access token this IAM signed: RS256 signature by one of its keys, issuer, `exp`/`nbf` on the lake clock,
    /// and not revoked. Throws `InvalidToken` with the reason otherwise.
    public func validate(_ token: String) async throws(InvalidToken) -> AccessTokenClaims {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let headerData = Base64URL.decode(parts[0]),
            let header = try? JSONParser.parse(Array(headerData)).objectValue
        else { throw InvalidToken("malformed token") }
        guard header["alg"]?.stringValue == "RS256" else { throw InvalidToken("unsupported algorithm") }
        guard let kid = header["kid"]?.stringValue else { throw InvalidToken("no key id") }
        await refreshKeys()
        let claims: AccessTokenClaims
        do { claims = try await verifier.verify(token, as: AccessTokenClaims.self) } catch {
            throw InvalidToken(keys.keys.contains(where: { $0.kid == kid }) ? "bad signature" : "unknown signing key '\(kid)'")
        }
        try check(claims)
        return claims
    }

    /// The claim checks, on the lake clock.
    func check(_ claims: AccessTokenClaims) throws(InvalidToken) {
        guard claims.iss == issuer else { throw InvalidToken("issuer '\(claims.iss)' is not '\(issuer)'") }
        let t = now
        guard claims.exp > t else { throw InvalidToken("token expired") }
        if let nbf = claims.nbf, nbf > t + 60 { throw InvalidToken("token not yet valid") }
        guard !grants.isRevoked(jti: claims.jti) else { throw InvalidToken("token revoked") }
        if let cutoff = issuedBeforeCutoff, claims.iat < cutoff { throw InvalidToken("token expired early (scenario)") }
    }

    /// Tokens issued before this instant (seconds since 1970) are refused: scenarios' "tokens expire early".
    var issuedBeforeCutoff: Int64?
    public func refuseTokensIssued(before date: Date?) { issuedBeforeCutoff = date.map { Int64($0.timeIntervalSince1970.rounded(.down)) } }
}
