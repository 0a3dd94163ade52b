import Foundation
import GRDB
import LakebedTesting
import Testing

@testable import LakebedCore

/// The read cache answers hot one-row reads until the next commit, and never after it.
@Suite("Read cache")
struct ReadCacheTests {
    let root = Issuer(account: "root", identity: "ddmlab", isAdmin: true)

    func lake(_ name: String) async throws -> Catalog {
        let c = try TemporaryLake.catalog(name)
        try await DefaultLake.seedIfEmpty(c)
        try await c.rses.addRSE("CACHE-DISK", by: root)
        try await c.dids.addCollection(scope: "test", name: "cached-ds", type: .dataset, issuer: root)
        return c
    }

    @Test func aDIDReadAfterAChangeShowsTheChange() async throws {
        let c = try await lake("cache-did")
        #expect(try await c.dids.did("test", "cached-ds").isOpen == true)
        #expect(try await c.dids.did("test", "cached-ds").isOpen == true)  // now from the cache
        try await c.dids.setStatus("test", "cached-ds", open: false, issuer: root)
        #expect(try await c.dids.did("test", "cached-ds").isOpen == false)
        #expect(try await c.dids.did("test", "cached-ds", dynamicDepth: nil).isOpen == false)
    }

    @Test func anRSEReadAfterANewAttributeShowsIt() async throws {
        let c = try await lake("cache-rse")
        let before = try await c.rses.rseSettings("CACHE-DISK")
        #expect(!before.attributes.contains { $0.0 == "cached" })
        try await c.rses.addRSEAttribute("CACHE-DISK", key: "cached", value: .string("yes"), by: root)
        let after = try await c.rses.rseSettings("CACHE-DISK")
        #expect(after.attributes.contains { $0.0 == "cached" && $0.1 == .string("yes") })
    }

    @Test func anAccountReadAfterAnUpdateShowsIt() async throws {
        let c = try await lake("cache-account")
        try await c.accounts.addAccount("jdoe", type: "USER", email: "old@example.org", by: root)
        #expect(try await c.accounts.account("jdoe").email == "old@example.org")
        try await c.accounts.updateAccount("jdoe", key: "email", value: .string("new@example.org"), by: root)
        #expect(try await c.accounts.account("jdoe").email == "new@example.org")
    }

    @Test func aMissingRowIsNotRememberedAsMissing() async throws {
        let c = try await lake("cache-missing")
        await #expect(throws: RucioError.self) { try await c.dids.did("test", "later") }
        try await c.dids.addCollection(scope: "test", name: "later", type: .dataset, issuer: root)
        #expect(try await c.dids.did("test", "later").name == "later")
    }

    @Test func aRestoredSnapshotIsWhatReadsSee() async throws {
        let c = try await lake("cache-restore")
        let snap = NSTemporaryDirectory() + "lakebed-cache-snap-\(UUID().uuidString)"
        try await c.snapshots.snapshot(to: snap)
        try await c.dids.setStatus("test", "cached-ds", open: false, issuer: root)
        #expect(try await c.dids.did("test", "cached-ds").isOpen == false)
        try await c.snapshots.restore(from: snap)
        #expect(try await c.dids.did("test", "cached-ds").isOpen == true)
    }

    @Test func aChangeWrittenWithPlainSQLIsSeen() async throws {
        // Not every write goes through a store: any commit on the writer ends what the cache holds.
        let c = try await lake("cache-sql")
        #expect(try await c.dids.did("test", "cached-ds").isOpen == true)
        try await c.db.write { db in try db.execute(sql: "UPDATE dids SET is_open = 0 WHERE scope = 'test' AND name = 'cached-ds'") }
        #expect(try await c.dids.did("test", "cached-ds").isOpen == false)
    }

    @Test func anAnswerReadWhileACommitLandsIsNotKept() throws {
        let cache = ReadCache()
        // The read runs while a commit lands (the generation moves on during it): its answer is used once, not kept.
        let first = cache.value("k") { () -> Int in
            cache.invalidate()
            return 1
        }
        #expect(first == 1)
        #expect(cache.value("k") { 2 } == 2)
        #expect(cache.value("k") { 3 } == 2)
    }

    @Test func theCacheStaysWithinItsCapacity() throws {
        let cache = ReadCache(capacity: 8)
        for i in 0..<100 { _ = cache.value("k\(i)") { i } }
        #expect(cache.count <= 8)
        #expect(cache.value("k99") { -1 } == 99)
    }
}
