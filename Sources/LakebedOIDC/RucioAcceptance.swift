import Foundation
public import LakebedCore
public import LakebedIAM

extension IAM {
    /// Rucio's identity string for a token subject: `SUB=<sub>, ISS=<iss>`.
    public static func rucioIdentity(sub: String, iss: String) -> String { "SUB=\(sub), ISS=\(iss)" }

    /// Accepts a JWT in `X-Rucio-Auth-Token` as Rucio's `validate_jwt` does: signature against this issuer's keys, `exp`,
    /// `aud` ⊇ `expectedAudience`, `scope` ⊇ `expectedScope`, and an active default account for the OIDC identity
    /// `SUB=<sub>, ISS=<iss>`. The accepted token is remembered in the catalog until it expires, as Rucio saves it.
    /// Returns nil to refuse (the API answers 401 `CannotAuthenticate`).
    public func rucioTokenInfo(
        _ token: String, catalog: Catalog, expectedAudience: String = "rucio",
        expectedScope: String = "openid profile"
    ) async -> TokenInfo? {
        guard let claims = try? await validate(token) else { return nil }
        let scopes = Set(claims.scopes)
        guard ScopeList.split(expectedAudience).allSatisfy(claims.aud.contains),
            ScopeList.split(expectedScope).allSatisfy(scopes.contains)
        else { return nil }
        let identity = Self.rucioIdentity(sub: claims.sub, iss: claims.iss)
        guard let account = try? await catalog.auth.defaultAccount(identity: identity, type: "OIDC") else { return nil }
        let info = TokenInfo.external(
            token: token, account: account, identity: identity, expiresAt: Date(timeIntervalSince1970: Double(claims.exp)),
            audience: claims.aud.joined(separator: " "), scope: claims.scope)
        try? await catalog.auth.rememberToken(info)
        return info
    }

    /// Gives each directory user with a `rucioAccount` the OIDC identity `SUB=<sub>, ISS=<issuer>` on that account,
    /// when the account exists and the identity is not mapped yet. The server calls it once it knows its issuer URL.
    /// Returns the identities added.
    @discardableResult
    public func ensureRucioIdentities(in catalog: Catalog) async throws -> [String] {
        var added: [String] = []
        for user in directory.users {
            guard let account = user.rucioAccount else { continue }
            let identity = Self.rucioIdentity(sub: user.sub, iss: issuer)
            guard try await catalog.auth.accounts(forIdentity: identity, type: "OIDC").isEmpty else { continue }
            guard (try? await catalog.auth.listIdentities(account: account)) != nil else { continue }
            do {
                try await catalog.auth.addIdentity(
                    account: account, identity: identity, type: "OIDC", email: user.email, password: nil,
                    isDefault: true, by: nil)
                added.append(identity)
            } catch let e as RucioError where e.exceptionClass == .duplicate {}
        }
        return added
    }

    /// The Rucio account behind any token a storage or FTS request carries: a JWT of this IAM (whatever its audience
    /// and scopes; its subject's OIDC identity names the account) or a native Rucio token. Nil when it names none.
    public func rucioIssuer(anyToken token: String, catalog: Catalog) async -> Issuer? {
        let info: TokenInfo
        if TokenInfo.looksLikeJWT(token) {
            guard let claims = try? await validate(token) else { return nil }
            let identity = Self.rucioIdentity(sub: claims.sub, iss: claims.iss)
            guard let account = try? await catalog.auth.defaultAccount(identity: identity, type: "OIDC") else { return nil }
            info = TokenInfo.external(
                token: token, account: account, identity: identity, expiresAt: Date(timeIntervalSince1970: Double(claims.exp)),
                audience: nil, scope: nil)
        } else {
            guard let native = try? await catalog.auth.validateNativeToken(token) else { return nil }
            info = native
        }
        return try? await catalog.auth.issuer(for: info)
    }
}
