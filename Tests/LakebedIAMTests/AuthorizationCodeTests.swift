import Foundation
import LakebedCore
import Testing

@testable import LakebedIAM

/// The browser login (authorization-code grant) Rucio's `/auth/oidc` sends users to.
@Suite("Authorization code grant")
struct AuthorizationCodeTests {
    func request(
        redirect: String = "http://127.0.0.1:8080/auth/oidc_code", scope: String = "openid profile offline_access"
    ) throws
        -> AuthorizationRequest
    {
        try AuthorizationRequest(parameters: [
            ("response_type", "code"), ("client_id", "rucio"), ("redirect_uri", redirect), ("scope", scope), ("state", "st"), ("nonce", "n0"),
            ("audience", "rucio"),
        ])
    }

    @Test func codeIsRedeemedOnceForTokensWithTheNonce() async throws {
        let (iam, _, _) = try await makeIAM()
        let back = try await iam.authorize(try request(), username: "jdoe", password: "jdoe-password")
        let items = try #require(URLComponents(string: back)?.queryItems)
        #expect(back.hasPrefix("http://127.0.0.1:8080/auth/oidc_code?"))
        #expect(items.first { $0.name == "state" }?.value == "st")
        let code = try #require(items.first { $0.name == "code" }?.value)
        let redeem = TokenRequest(
            grantType: GrantType.authorizationCode, client: rucioClient, code: code, redirectURI: "http://127.0.0.1:8080/auth/oidc_code")
        let tokens = try await iam.token(redeem)
        #expect(tokens.claims.aud == ["rucio"] && tokens.claims.sub == IAMDirectory.seed.user(named: "jdoe")!.sub)
        #expect(tokens.refreshToken != nil && tokens.idToken != nil)
        let payload = try #require(tokens.idToken?.split(separator: ".").dropFirst().first)
        var b64 = payload.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        b64 += String(repeating: "=", count: (4 - b64.count % 4) % 4)
        #expect(try JSONParser.parse([UInt8](try #require(Data(base64Encoded: b64))))["nonce"] == "n0")
        await #expect(throws: OAuthError.invalidGrant("Invalid authorization code")) { try await iam.token(redeem) }
    }

    @Test func refusals() async throws {
        let (iam, clock, _) = try await makeIAM()
        await #expect(throws: OAuthError.invalidGrant("Bad credentials")) {
            try await iam.authorize(try request(), username: "jdoe", password: "wrong")
        }
        await #expect(throws: OAuthError.invalidRequest("Invalid redirect_uri: https://evil.example.org/cb")) {
            try await iam.checkAuthorization(try request(redirect: "https://evil.example.org/cb"))
        }
        await #expect(throws: OAuthError.self) { try await iam.checkAuthorization(try request(scope: "openid admin")) }
        // Another redirect URI, another client, or a code past its minute: no tokens.
        let code = { () async throws -> String in
            let back = try await iam.authorize(try request(), username: "jdoe", password: "jdoe-password")
            return try #require(URLComponents(string: back)?.queryItems?.first { $0.name == "code" }?.value)
        }
        let c1 = try await code()
        await #expect(throws: OAuthError.invalidGrant("Redirect URI does not match")) {
            try await iam.token(
                TokenRequest(grantType: GrantType.authorizationCode, client: rucioClient, code: c1, redirectURI: "http://127.0.0.1:1/x"))
        }
        let c2 = try await code()
        clock.advance(by: 61)
        await #expect(throws: OAuthError.invalidGrant("Invalid authorization code")) {
            try await iam.token(TokenRequest(grantType: GrantType.authorizationCode, client: rucioClient, code: c2))
        }
    }
}
