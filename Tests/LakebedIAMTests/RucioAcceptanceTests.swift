import Foundation
import LakebedCore
import LakebedOIDC
import LakebedTesting
import Testing

@testable import LakebedIAM

@Suite("Rucio accepts IAM tokens")
struct RucioAcceptanceTests {
    func lake() async throws -> (Catalog, IAM) {
        let dir = TemporaryLake.folder("iam")
        let clock = VirtualClock.manual()
        let c = try Catalog(dataDir: dir, clock: clock)
        try await DefaultLake.seedIfEmpty(c)
        let iam = try await IAM(dataDir: dir, clock: clock, issuer: "http://127.0.0.1:9999/iam/")
        #expect(try await iam.ensureRucioIdentities(in: c).count == 1)
        #expect(try await iam.ensureRucioIdentities(in: c).isEmpty)  // idempotent
        return (c, iam)
    }

    @Test func defaultAccountOfTheOIDCIdentity() async throws {
        let (c, iam) = try await lake()
        let token = try await iam.issueAccessToken(username: "jdoe", clientID: "rucio", scope: "openid profile", audience: ["rucio", "fts"])
        let info = try #require(await iam.rucioTokenInfo(token, catalog: c))
        #expect(info.account == "root")
        #expect(info.identity == "SUB=\(IAMDirectory.seed.user(named: "jdoe")!.sub), ISS=http://127.0.0.1:9999/iam/")
        #expect(info.audience == "rucio fts" && info.scope == "openid profile")
        // Remembered like a native token.
        #expect(try await c.auth.validateNativeToken(token)?.account == "root")
    }

    @Test func refusals() async throws {
        let (c, iam) = try await lake()
        let wrongAud = try await iam.issueAccessToken(username: "jdoe", clientID: "rucio", scope: "openid profile", audience: ["fts"])
        #expect(await iam.rucioTokenInfo(wrongAud, catalog: c) == nil)
        let noProfile = try await iam.issueAccessToken(username: "jdoe", clientID: "rucio", scope: "openid", audience: ["rucio"])
        #expect(await iam.rucioTokenInfo(noProfile, catalog: c) == nil)
        let unknown = try await iam.issueAccessToken(username: "asmith", clientID: "rucio", scope: "openid profile", audience: ["rucio"])
        #expect(await iam.rucioTokenInfo(unknown, catalog: c) == nil)
        let expired = try await iam.issueAccessToken(username: "jdoe", clientID: "rucio", scope: "openid profile", audience: ["rucio"], lifetime: -5)
        #expect(await iam.rucioTokenInfo(expired, catalog: c) == nil)
    }
}
