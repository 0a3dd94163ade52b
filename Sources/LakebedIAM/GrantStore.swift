import Foundation

/// A refresh token and what it may be exchanged for.
struct RefreshGrant: Codable, Sendable {
    var clientID: String
    var sub: String
    var scopes: [String]
    var audience: [String]
    var issuedAt: Double
    var expiresAt: Double
}

/// Refresh tokens and revoked access tokens, kept in `<dataDir>/iam/grants.json` so they survive a restart.
struct GrantStore: Sendable {
    struct Contents: Codable, Sendable {
        var refresh: [String: RefreshGrant] = [:]
        /// Revoked access-token ids and when each token would have expired anyway.
        var revoked: [String: Double] = [:]
    }

    let path: String
    private(set) var contents: Contents

    init(path: String) {
        self.path = path
        let data = FileManager.default.contents(atPath: path)
        self.contents = data.flatMap { try? JSONDecoder().decode(Contents.self, from: $0) } ?? Contents()
    }

    func refresh(_ token: String) -> RefreshGrant? { contents.refresh[token] }
    func isRevoked(jti: String) -> Bool { contents.revoked[jti] != nil }

    mutating func addRefresh(_ token: String, _ grant: RefreshGrant, now: Double) throws {
        contents.refresh[token] = grant
        try save(now: now)
    }

    mutating func removeRefresh(_ token: String, now: Double) throws {
        contents.refresh.removeValue(forKey: token)
        try save(now: now)
    }

    mutating func revoke(jti: String, until exp: Double, now: Double) throws {
        contents.revoked[jti] = exp
        try save(now: now)
    }

    /// Writes the file, forgetting what has expired.
    private mutating func save(now: Double) throws {
        contents.refresh = contents.refresh.filter { $0.value.expiresAt > now }
        contents.revoked = contents.revoked.filter { $0.value > now }
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        try enc.encode(contents).write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}
