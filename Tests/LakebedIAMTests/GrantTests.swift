import Foundation
import LakebedCore
import Testing

@testable import LakebedIAM

@Suite("Token endpoint grants")
struct GrantTests {
    let jdoeSub = IAMDirectory.seed.user(named: "jdoe")!.sub

    @Test func clientCredentials() async throws {
        let (iam, _, _) = try await makeIAM()
        let r = try await iam.token(
            TokenRequest(
                grantType: GrantType.clientCredentials, client: rucioClient,
                scope: "fts offline_access", audience: ["fts.example.org"]))
        #expect(r.claims.sub == "rucio" && r.claims.clientID == "rucio")
        #expect(r.claims.aud == ["fts.example.org"])
        #expect(r.claims.scope == "fts")
        #expect(r.refreshToken == nil && r.idToken == nil && r.claims.groups == nil)
        #expect(r.json["token_type"] == "Bearer" && r.json["expires_in"] == .int(3600))
        // No audience asked: IAM's WLCG default.
        let any = try await iam.token(TokenRequest(grantType: GrantType.clientCredentials, client: rucioClient, scope: "openid"))
        #expect(any.claims.aud == [IAM.anyAudience])
    }

    @Test func clientAuthentication() async throws {
        let (iam, _, _) = try await makeIAM()
        await #expect(throws: OAuthError.invalidClient()) {
            try await iam.token(TokenRequest(grantType: GrantType.clientCredentials, client: ClientCredentials(id: "rucio", secret: "wrong")))
        }
        await #expect(throws: OAuthError.invalidClient()) {
            try await iam.token(TokenRequest(grantType: GrantType.clientCredentials, client: nil))
        }
        await #expect(throws: OAuthError.invalidClient()) {
            try await iam.token(TokenRequest(grantType: GrantType.clientCredentials, client: ClientCredentials(id: "nobody", secret: nil)))
        }
        // The public client may not use client_credentials.
        await #expect(throws: OAuthError("unauthorized_client", "Unauthorized grant type: client_credentials")) {
            try await iam.token(TokenRequest(grantType: GrantType.clientCredentials, client: ClientCredentials(id: "lakebed-cli", secret: nil)))
        }
        await #expect(throws: OAuthError.self) {
            try await iam.token(TokenRequest(grantType: "authorization_code", client: rucioClient))
        }
    }

    @Test func passwordGrant() async throws {
        let (iam, _, _) = try await makeIAM()
        let r = try await iam.token(
            TokenRequest(
                grantType: GrantType.password, client: ClientCredentials(id: "lakebed-cli", secret: nil),
                scope: "openid profile offline_access", audience: ["rucio"], username: "jdoe", password: "jdoe-password"))
        #expect(r.claims.sub == jdoeSub && r.claims.clientID == "lakebed-cli" && r.claims.aud == ["rucio"])
        #expect(r.claims.groups == ["/escape", "/escape/users"])
        #expect(r.refreshToken != nil && r.idToken != nil)
        await #expect(throws: OAuthError.invalidGrant("Bad credentials")) {
            try await iam.token(TokenRequest(grantType: GrantType.password, client: rucioClient, username: "jdoe", password: "nope"))
        }
        await #expect(throws: OAuthError.invalidScope("Scope not allowed for client 'lakebed-cli': fts")) {
            try await iam.token(
                TokenRequest(
                    grantType: GrantType.password, client: ClientCredentials(id: "lakebed-cli", secret: nil),
                    scope: "openid fts", username: "jdoe", password: "jdoe-password"))
        }
        // No offline_access, no refresh token.
        let short = try await iam.token(
            TokenRequest(
                grantType: GrantType.password, client: rucioClient, scope: "openid",
                username: "jdoe", password: "jdoe-password"))
        #expect(short.refreshToken == nil)
    }

    @Test func refreshRoundTrip() async throws {
        let (iam, clock, dir) = try await makeIAM()
        let first = try await iam.token(
            TokenRequest(
                grantType: GrantType.password, client: rucioClient, scope: "openid profile offline_access storage.read:/",
                audience: ["rucio"], username: "jdoe", password: "jdoe-password"))
        let rt = try #require(first.refreshToken)
        clock.advance(by: 4000)  // the access token has expired, the refresh token has not
        await #expect(throws: InvalidToken.self) { try await iam.validate(first.accessToken) }

        let again = try await iam.token(TokenRequest(grantType: GrantType.refreshToken, client: rucioClient, refreshToken: rt))
        #expect(again.claims.sub == jdoeSub && again.claims.aud == ["rucio"] && again.refreshToken == rt)
        #expect(again.claims.scope == "openid profile offline_access storage.read:/")
        _ = try await iam.validate(again.accessToken)

        // Narrowing is fine, widening is not.
        let narrow = try await iam.token(
            TokenRequest(grantType: GrantType.refreshToken, client: rucioClient, scope: "openid storage.read:/data", refreshToken: rt))
        #expect(narrow.claims.scope == "openid storage.read:/data")
        await #expect(throws: OAuthError.invalidScope("Up-scoping is not allowed: storage.modify:/")) {
            try await iam.token(TokenRequest(grantType: GrantType.refreshToken, client: rucioClient, scope: "storage.modify:/", refreshToken: rt))
        }
        // Another client may not use it; a restarted IAM still knows it.
        await #expect(throws: OAuthError.invalidGrant("Client ID does not match the refresh token")) {
            try await iam.token(
                TokenRequest(grantType: GrantType.refreshToken, client: ClientCredentials(id: "lakebed-cli", secret: nil), refreshToken: rt))
        }
        let (restarted, _, _) = try await makeIAM(dataDir: dir, clock: clock)
        _ = try await restarted.token(TokenRequest(grantType: GrantType.refreshToken, client: rucioClient, refreshToken: rt))

        // Revoked, it is gone.
        try await iam.revoke(token: rt, client: rucioClient)
        await #expect(throws: OAuthError.invalidGrant("Invalid refresh token")) {
            try await iam.token(TokenRequest(grantType: GrantType.refreshToken, client: rucioClient, refreshToken: rt))
        }
    }

    @Test func tokenExchange() async throws {
        let (iam, _, _) = try await makeIAM()
        let user = try await iam.token(
            TokenRequest(
                grantType: GrantType.password, client: ClientCredentials(id: "lakebed-cli", secret: nil),
                scope: "openid profile", audience: ["rucio"], username: "jdoe", password: "jdoe-password"))
        let ex = try await iam.token(
            TokenRequest(
                grantType: GrantType.tokenExchange, client: rucioClient, scope: "fts offline_access",
                audience: ["fts.example.org"], subjectToken: user.accessToken,
                subjectTokenType: "urn:ietf:params:oauth:token-type:access_token"))
        #expect(ex.claims.sub == jdoeSub)
        #expect(ex.claims.clientID == "rucio")
        #expect(ex.claims.act == TokenActor(sub: "rucio"))
        #expect(ex.claims.aud == ["fts.example.org"])
        #expect(ex.claims.groups == ["/escape", "/escape/users"])
        #expect(ex.issuedTokenType == "urn:ietf:params:oauth:token-type:access_token")
        #expect(ex.refreshToken != nil)
        _ = try await iam.validate(ex.accessToken)

        await #expect(throws: OAuthError.self) {
            try await iam.token(TokenRequest(grantType: GrantType.tokenExchange, client: rucioClient, subjectToken: "not-a-token"))
        }
        await #expect(throws: OAuthError.invalidRequest("subject_token is required")) {
            try await iam.token(TokenRequest(grantType: GrantType.tokenExchange, client: rucioClient))
        }
    }

    @Test func userinfoAndIntrospection() async throws {
        let (iam, _, _) = try await makeIAM()
        let r = try await iam.token(
            TokenRequest(
                grantType: GrantType.password, client: rucioClient, scope: "openid profile email",
                audience: ["rucio", "fts"], username: "jdoe", password: "jdoe-password"))
        let info = try await iam.userinfo(accessToken: r.accessToken)
        #expect(info["sub"]?.stringValue == jdoeSub && info["preferred_username"] == "jdoe" && info["email"] == "jdoe@example.org")
        let intro = try await iam.introspect(token: r.accessToken, client: rucioClient)
        let issuer = await iam.issuer
        #expect(intro["active"] == .bool(true) && intro["aud"] == "rucio fts" && intro["iss"] == .string(issuer))
        #expect(intro["scope"] == "openid profile email" && intro["client_id"] == "rucio")
        await #expect(throws: OAuthError.invalidClient()) { try await iam.introspect(token: r.accessToken, client: nil) }
        let cc = try await iam.token(TokenRequest(grantType: GrantType.clientCredentials, client: rucioClient, scope: "fts"))
        await #expect(throws: OAuthError.self) { try await iam.userinfo(accessToken: cc.accessToken) }
    }
}
