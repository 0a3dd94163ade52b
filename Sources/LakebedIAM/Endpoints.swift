import Foundation
public import LakebedCore

extension IAM {
    /// The OpenID Connect discovery document, with IAM's fields and the endpoints under the issuer.
    public func discovery() -> JSON {
        let base = issuer
        func list(_ l: [String]) -> JSON { .array(l.map { .string($0) }) }
        return .object(
            JSONObject([
                ("issuer", .string(base)),
                ("authorization_endpoint", .string(base + "authorize")),
                ("token_endpoint", .string(base + "token")),
                ("userinfo_endpoint", .string(base + "userinfo")),
                ("jwks_uri", .string(base + "jwk")),
                ("introspection_endpoint", .string(base + "introspect")),
                ("revocation_endpoint", .string(base + "revoke")),
                ("response_types_supported", list(["code", "token"])),
                ("grant_types_supported", list(GrantType.all)),
                ("token_endpoint_auth_methods_supported", list(["client_secret_basic", "client_secret_post", "none"])),
                ("introspection_endpoint_auth_methods_supported", list(["client_secret_basic", "client_secret_post"])),
                ("revocation_endpoint_auth_methods_supported", list(["client_secret_basic", "client_secret_post"])),
                (
                    "scopes_supported",
                    list([
                        "openid", "profile", "email", "offline_access", "wlcg", "wlcg.groups",
                        "storage.read:/", "storage.create:/", "storage.modify:/", "storage.stage:/", "fts",
                    ])
                ),
                (
                    "claims_supported",
                    list([
                        "sub", "iss", "aud", "exp", "iat", "nbf", "jti", "client_id", "scope", "name", "preferred_username",
                        "email", "email_verified", "organisation_name", "groups", "wlcg.groups", "wlcg.ver", "act",
                    ])
                ),
                ("subject_types_supported", list(["public"])),
                ("id_token_signing_alg_values_supported", list(["RS256"])),
                ("token_endpoint_auth_signing_alg_values_supported", list(["RS256"])),
                ("code_challenge_methods_supported", list(["plain", "S256"])),
                ("claim_types_supported", list(["normal"])),
                ("claims_parameter_supported", .bool(false)),
                ("request_parameter_supported", .bool(false)),
                ("request_uri_parameter_supported", .bool(false)),
            ]))
    }

    /// `userinfo`: the user's profile for a valid access token carrying `openid`.
    public func userinfo(accessToken: String) async throws(OAuthError) -> JSON {
        let claims: AccessTokenClaims
        do { claims = try await validate(accessToken) } catch { throw OAuthError.invalidToken(error.reason) }
        guard claims.scopes.contains("openid") else { throw OAuthError("insufficient_scope", "The token lacks the openid scope") }
        var o = JSONObject([("sub", .string(claims.sub))])
        if let user = directory.user(sub: claims.sub) {
            o["preferred_username"] = .string(user.username)
            o["name"] = .string(user.name)
            if claims.scopes.contains("email") {
                o["email"] = .string(user.email)
                o["email_verified"] = .bool(true)
            }
            o["organisation_name"] = .string(user.organisation)
            o["groups"] = .array(user.groups.map { .string($0) })
            if claims.scopes.contains("wlcg.groups") { o["wlcg.groups"] = .array(user.groups.map { .string($0) }) }
        }
        return .object(o)
    }

    /// `introspect` (RFC 7662): what an authenticated client may learn about a token; `{"active": false}` for a dead one.
    public func introspect(token: String, client: ClientCredentials?) async throws(OAuthError) -> JSON {
        _ = try authenticateClient(client)
        if let g = grants.refresh(token), g.expiresAt > Double(now) {
            var o = JSONObject([
                ("active", true), ("scope", .string(ScopeList.join(g.scopes))), ("client_id", .string(g.clientID)),
                ("sub", .string(g.sub)), ("exp", .int(Int64(g.expiresAt))), ("iat", .int(Int64(g.issuedAt))),
                ("iss", .string(issuer)), ("token_type", "refresh_token"),
            ])
            addUser(&o, sub: g.sub)
            return .object(o)
        }
        guard let c = try? await validate(token) else { return ["active": false] }
        var o = JSONObject([
            ("active", true), ("scope", .string(c.scope ?? "")), ("client_id", .string(c.clientID ?? "")), ("sub", .string(c.sub)),
            ("exp", .int(c.exp)), ("iat", .int(c.iat)), ("iss", .string(c.iss)), ("jti", .string(c.jti)),
            ("token_type", "Bearer"),
        ])
        if let nbf = c.nbf { o["nbf"] = .int(nbf) }
        if !c.aud.isEmpty { o["aud"] = .string(c.aud.joined(separator: " ")) }
        if let act = c.act { o["act"] = ["sub": .string(act.sub)] }
        addUser(&o, sub: c.sub)
        return .object(o)
    }

    private func addUser(_ o: inout JSONObject, sub: String) {
        guard let u = directory.user(sub: sub) else { return }
        o["preferred_username"] = .string(u.username)
        o["name"] = .string(u.name)
        o["email"] = .string(u.email)
        o["organisation_name"] = .string(u.organisation)
        o["groups"] = .array(u.groups.map { .string($0) })
    }

    /// `revoke` (RFC 7009): forgets a refresh token or blocks an access token until it expires.
    /// Unknown or invalid tokens are ignored, as the RFC asks.
    public func revoke(token: String, client: ClientCredentials?) async throws(OAuthError) {
        let c = try authenticateClient(client)
        let t = Double(now)
        do {
            if let g = grants.refresh(token) {
                guard g.clientID == c.clientID else { return }
                try grants.removeRefresh(token, now: t)
            } else if let claims = try? await validate(token), claims.clientID == c.clientID {
                try grants.revoke(jti: claims.jti, until: Double(claims.exp), now: t)
            }
        } catch {
            throw OAuthError("server_error", "\(error)")
        }
    }
}
