public import Foundation
import GRDB

extension AuthStore {
    /// How long a client has to sign an SSH challenge (Rucio's 10 seconds, on the lake's clock).
    static let sshChallengeLifetime: TimeInterval = 10

    /// A nonce for SSH public-key login (`GET /auth/ssh_challenge_token`), `challenge-<random>-<account>-<expiry>`; nil
    /// when the account does not exist.
    public func sshChallenge(account: String) async throws -> (token: String, expiresAt: Date)? {
        let now = nowStamp
        let expires = now + Self.sshChallengeLifetime
        let token = "challenge-\(UInt64.random(in: 0...UInt64(Int64.max)))-\(account)-\(Int(expires))"
        let made = try await db.write { db -> Bool in
            guard try db.one(sql: "SELECT 1 FROM accounts WHERE account = ?", arguments: [account]) != nil else { return false }
            try db.exec(sql: "DELETE FROM ssh_challenges WHERE expires_at < ?", arguments: [now])
            try db.exec(
                sql: "INSERT INTO ssh_challenges (token, account, expires_at, created_at) VALUES (?, ?, ?, ?)",
                arguments: [token, account, expires, now])
            return true
        }
        return made ? (token, Date(timeIntervalSince1970: expires)) : nil
    }

    /// Checks a signed challenge against the account's SSH identities (`GET /auth/ssh`) and issues a token; nil when the
    /// account is unknown, no challenge of it is still open, or no key of it made the signature. The challenge that was
    /// signed is used up.
    public func loginSSH(account: String, signature: String, appID: String?) async throws -> TokenInfo? {
        guard let decoded = Data(base64Encoded: SSHPublicKey.padded(signature)) else {
            throw RucioError.cannotAuthenticate("Cannot authenticate to account \(account) with malformed signature")
        }
        let now = nowStamp
        let signed = try await db.write { db -> String? in
            guard try db.one(sql: "SELECT 1 FROM accounts WHERE account = ? AND status = 'ACTIVE'", arguments: [account]) != nil else { return nil }
            let challenges = try String.fetchAll(
                db, sql: "SELECT token FROM ssh_challenges WHERE account = ? AND expires_at >= ?", arguments: [account, now])
            let keys = try String.fetchAll(db, sql: "SELECT identity FROM identities WHERE account = ? AND id_type = 'SSH'", arguments: [account])
                .compactMap(SSHPublicKey.init(identity:))
            let bytes = [UInt8](decoded)
            guard let challenge = challenges.first(where: { c in keys.contains { $0.verifies(bytes, of: Array(c.utf8)) } }) else { return nil }
            try db.exec(sql: "DELETE FROM ssh_challenges WHERE token = ?", arguments: [challenge])
            return challenge
        }
        guard signed != nil else { return nil }
        return try await issueToken(account: account, identity: "ssh:pubkey", appID: appID)
    }
}
