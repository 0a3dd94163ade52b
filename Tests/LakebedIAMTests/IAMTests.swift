import Foundation
import LakebedCore
import LakebedTesting
import Testing

@testable import LakebedIAM

/// A fresh IAM on a temporary data folder and a manual lake clock.
func makeIAM(
    issuer: String = "http://127.0.0.1:9999/iam/", dataDir: String? = nil, clock: VirtualClock = .manual()
) async throws -> (IAM, VirtualClock, String) {
    let dir = dataDir ?? TemporaryLake.folder("iam")
    return (try await IAM(dataDir: dir, clock: clock, issuer: issuer), clock, dir)
}

let rucioClient = ClientCredentials(id: "rucio", secret: "rucio-secret")

@Suite("Signing and validation")
struct SigningTests {
    @Test func issuedTokenCarriesIAMClaimsAndValidates() async throws {
        let (iam, clock, _) = try await makeIAM()
        let token = try await iam.issueAccessToken(username: "jdoe", clientID: "lakebed-cli", scope: "openid profile", audience: ["rucio"])
        let c = try await iam.validate(token)
        let now = Int64(clock.now().timeIntervalSince1970)
        #expect(c.iss == "http://127.0.0.1:9999/iam/")
        #expect(c.sub == IAMDirectory.seed.user(named: "jdoe")!.sub)
        #expect(c.aud == ["rucio"])
        #expect(c.iat == now && c.nbf == now && c.exp == now + 3600)
        #expect(!c.jti.isEmpty)
        #expect(c.clientID == "lakebed-cli")
        #expect(c.scope == "openid profile")
        #expect(c.groups == ["/escape", "/escape/users"] && c.wlcgGroups == c.groups)
        #expect(c.wlcgVer == "1.0")
        // The header names the key and the algorithm.
        let header = try JSONParser.parse(Array(Base64URL.decode(token.split(separator: ".")[0])!)).objectValue!
        #expect(header["alg"]?.stringValue == "RS256")
        #expect(header["kid"]?.stringValue == (await iam.currentKeyID))
    }

    @Test func issuerAlwaysEndsInSlash() async throws {
        let (iam, _, _) = try await makeIAM(issuer: "http://127.0.0.1:9999/iam")
        #expect(await iam.issuer == "http://127.0.0.1:9999/iam/")
        #expect((await iam.discovery())["issuer"]?.stringValue == "http://127.0.0.1:9999/iam/")
    }

    @Test func expiryFollowsTheLakeClock() async throws {
        let (iam, clock, _) = try await makeIAM()
        let token = try await iam.issueAccessToken(username: "jdoe", clientID: "rucio", scope: "openid", audience: ["rucio"], lifetime: 60)
        _ = try await iam.validate(token)
        clock.advance(by: 61)
        await #expect(throws: InvalidToken("token expired")) { try await iam.validate(token) }
        let expired = try await iam.issueAccessToken(username: "jdoe", clientID: "rucio", scope: "openid", audience: ["rucio"], lifetime: -10)
        await #expect(throws: InvalidToken("token expired")) { try await iam.validate(expired) }
    }

    @Test func refusesOtherKeysIssuersAndTampering() async throws {
        let (iam, _, dir) = try await makeIAM()
        let (other, _, _) = try await makeIAM()
        let foreign = try await other.issueAccessToken(username: "jdoe", clientID: "rucio", scope: "openid", audience: ["rucio"])
        // Same kid (`rsa1`) in both stores, different key: the signature fails.
        await #expect(throws: InvalidToken("bad signature")) { try await iam.validate(foreign) }

        // Same keys, another issuer URL.
        let (sameKeys, _, _) = try await makeIAM(issuer: "http://127.0.0.1:1/iam/", dataDir: dir)
        let wrongIssuer = try await sameKeys.issueAccessToken(username: "jdoe", clientID: "rucio", scope: "openid", audience: ["rucio"])
        await #expect(throws: InvalidToken.self) { try await iam.validate(wrongIssuer) }

        let good = try await iam.issueAccessToken(username: "jdoe", clientID: "rucio", scope: "openid", audience: ["rucio"])
        let parts = good.split(separator: ".").map(String.init)
        var claims = try JSONParser.parse(Array(Base64URL.decode(parts[1])!)).objectValue!
        claims["aud"] = "fts"
        let tampered = parts[0] + "." + Base64URL.encode(Data(JSON.object(claims).serialized().utf8)) + "." + parts[2]
        await #expect(throws: InvalidToken("bad signature")) { try await iam.validate(tampered) }

        let none = Base64URL.encode(Data(#"{"alg":"none","kid":"rsa1"}"#.utf8)) + "." + parts[1] + "."
        await #expect(throws: InvalidToken("unsupported algorithm")) { try await iam.validate(none) }
        await #expect(throws: InvalidToken("malformed token")) { try await iam.validate("root-ddmlab-unknown-abc") }
    }

    @Test func keysPersistAndRotate() async throws {
        let (iam, clock, dir) = try await makeIAM()
        let old = try await iam.issueAccessToken(username: "jdoe", clientID: "rucio", scope: "openid", audience: ["rucio"])
        // Reopening the data folder reuses the key.
        let (reopened, _, _) = try await makeIAM(dataDir: dir, clock: clock)
        _ = try await reopened.validate(old)

        #expect(try await iam.rotateKeys() == "rsa2")
        let new = try await iam.issueAccessToken(username: "jdoe", clientID: "rucio", scope: "openid", audience: ["rucio"])
        _ = try await iam.validate(old)
        _ = try await iam.validate(new)
        let kids = (await iam.jwks())["keys"]!.arrayValue!.compactMap { $0["kid"]?.stringValue }
        #expect(kids == ["rsa2", "rsa1"])
        // The other process picks up a rotation done on disk when it sees the new key id.
        _ = try await reopened.validate(new)

        try await iam.rotateKeys()
        await #expect(throws: InvalidToken.self) { try await iam.validate(old) }
        _ = try await iam.validate(new)
    }

    @Test func revokedTokensAreRefused() async throws {
        let (iam, _, _) = try await makeIAM()
        let r = try await iam.token(TokenRequest(grantType: GrantType.clientCredentials, client: rucioClient, scope: "openid"))
        _ = try await iam.validate(r.accessToken)
        try await iam.revoke(token: r.accessToken, client: rucioClient)
        await #expect(throws: InvalidToken("token revoked")) { try await iam.validate(r.accessToken) }
        #expect((try await iam.introspect(token: r.accessToken, client: rucioClient))["active"] == .bool(false))
    }
}
