import Foundation
import LakebedCore
import LakebedOIDC
import LakebedTesting
import Testing

@testable import LakebedIAM

@Suite("WLCG storage scopes")
struct StorageScopeTests {
    @Test func parsing() {
        #expect(StorageScope("storage.read:/data") == StorageScope("storage.read:/data/"))
        #expect(StorageScope("storage.modify:/")?.path == "/")
        #expect(StorageScope("storage.read:data//run1/./x")?.path == "/data/run1/x")
        #expect(StorageScope("storage.read:/../etc") == nil)
        #expect(StorageScope("storage.write:/") == nil)
        #expect(StorageScope("openid") == nil)
        #expect(StorageScope("storage.read") == nil)
    }

    @Test func pathsAreCoveredSegmentBySegment() {
        let s = StorageScope("storage.read:/data")!
        #expect(s.covers("/data") && s.covers("/data/run1/file"))
        #expect(!s.covers("/database") && !s.covers("/") && !s.covers("/other"))
        #expect(StorageScope("storage.read:/")!.covers("/anything/at/all"))
    }

    @Test func capabilities() {
        #expect(StorageScope("storage.modify:/")!.allows(.create) && StorageScope("storage.modify:/")!.allows(.modify))
        #expect(!StorageScope("storage.modify:/")!.allows(.read))
        #expect(StorageScope("storage.create:/")!.allows(.create) && !StorageScope("storage.create:/")!.allows(.modify))
        #expect(StorageScope("storage.stage:/")!.allows(.read) && !StorageScope("storage.read:/")!.allows(.stage))
    }

    @Test func authorizeStorage() async throws {
        let (iam, _, _) = try await makeIAM()
        let token = try await iam.issueAccessToken(
            username: "jdoe", clientID: "rucio", scope: "storage.read:/data storage.modify:/data/jdoe",
            audience: ["storage.example.org"])
        let g = try await iam.authorizeStorage(token: "Bearer " + token, path: "/data/run1/f.root", write: false)
        #expect(g.scope == StorageScope("storage.read:/data") && g.claims.sub == IAMDirectory.seed.user(named: "jdoe")!.sub)
        _ = try await iam.authorizeStorage(token: token, path: "/data/jdoe/new", write: true)
        _ = try await iam.authorizeStorage(token: token, path: "/data/jdoe/old", operation: .modify)

        func denied(_ path: String, write: Bool, audience: String? = nil, base: String = "/") async -> StorageDenied? {
            do {
                _ = try await iam.authorizeStorage(token: token, path: path, write: write, audience: audience, basePath: base)
                return nil
            } catch { return error }
        }
        #expect(await denied("/data/other/f", write: true)?.httpStatus == 403)
        #expect(await denied("/database/f", write: false)?.kind == .insufficientScope)
        #expect(await denied("/data/../etc/passwd", write: false)?.kind == .insufficientScope)
        #expect(await denied("/data/jdoe/f", write: false, audience: "other.example.org")?.httpStatus == 401)
        #expect(await denied("/data/jdoe/f", write: false, audience: "storage.example.org") == nil)
        // Scope paths are relative to the storage area (`oidc_base_path`).
        #expect(await denied("/rses/SITE-A/data/run1/f", write: false, base: "/rses/SITE-A") == nil)
        #expect(await denied("/rses/SITE-B/data/run1/f", write: false, base: "/rses/SITE-A")?.kind == .insufficientScope)

        let expired = try await iam.issueAccessToken(username: "jdoe", clientID: "rucio", scope: "storage.read:/", audience: [], lifetime: -1)
        await #expect(throws: StorageDenied(kind: .invalidToken, message: "token expired")) {
            try await iam.authorizeStorage(token: expired, path: "/data/f", write: false)
        }
        // The WLCG "any" audience is accepted by every storage.
        let any = try await iam.issueAccessToken(username: "jdoe", clientID: "rucio", scope: "storage.read:/", audience: [])
        _ = try await iam.authorizeStorage(token: any, path: "/x", write: false, audience: "storage.example.org")
    }

    @Test func clientScopePolicyAllowsNarrowerPaths() {
        #expect(ScopePolicy.permits("storage.read:/", "storage.read:/data/x"))
        #expect(ScopePolicy.permits("storage.read:/data", "storage.read:/data"))
        #expect(!ScopePolicy.permits("storage.read:/data", "storage.read:/"))
        #expect(!ScopePolicy.permits("storage.read:/", "storage.modify:/"))
        #expect(!ScopePolicy.permits("openid", "profile"))
    }

    @Test func rseTokenSupport() async throws {
        let c = try TemporaryLake.catalog("iam")
        try await DefaultLake.seedIfEmpty(c)
        #expect(try await IAM.storageTokenBase(rse: "SITE-A", catalog: c) == nil)
        try await c.rses.addRSEAttribute("SITE-A", key: "oidc_support", value: .bool(true), by: nil)
        #expect(try await IAM.storageTokenBase(rse: "SITE-A", catalog: c) == "/")
        try await c.rses.addRSEAttribute("SITE-A", key: "oidc_base_path", value: "/lake", by: nil)
        #expect(try await IAM.storageTokenBase(rse: "SITE-A", catalog: c) == "/lake")
    }
}
