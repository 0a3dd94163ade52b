import Foundation
import LakebedTesting
import Testing

@testable import LakebedCore

@Suite("Catalog rules and permissions")
struct CatalogTests {
    let root = Issuer(account: "root", identity: "ddmlab", isAdmin: true)
    let jdoe = Issuer(account: "jdoe", identity: "jdoe", isAdmin: false)

    func lake() async throws -> Catalog {
        let c = try TemporaryLake.catalog("test")
        try await DefaultLake.seedIfEmpty(c)
        try await c.accounts.addAccount("jdoe", type: "USER", email: nil, by: root)
        try await c.scopes.addScope("user.jdoe", account: "jdoe", by: root)
        return c
    }

    /// Writes bytes where the hash lfn2pfn puts them and registers the replica.
    func put(_ c: Catalog, _ rse: String, _ scope: String, _ name: String, _ bytes: [UInt8]) async throws {
        let model = try await c.rses.rse(rse)
        let path = try c.replicas.absolutePath(rse: model, relative: LFN2PFN.hash.path(scope: scope, name: name))
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
        let sums = Checksums.of(bytes)
        try await c.replicas.addReplicas(
            rse: rse, files: [FileSpec(scope: scope, name: name, bytes: sums.bytes, adler32: sums.adler32, md5: sums.md5)], ignoreAvailability: false,
            issuer: root)
    }

    @Test func ordinaryAccountsWriteOnlyTheirScopes() async throws {
        let c = try await lake()
        do {
            try await c.dids.addCollection(scope: "user.root", name: "ds", type: .dataset, issuer: jdoe)
            Issue.record("jdoe wrote in user.root")
        } catch let e as RucioError { #expect(e.exceptionClass == .accessDenied) }
        try await c.dids.addCollection(scope: "user.jdoe", name: "ds", type: .dataset, issuer: jdoe)
        do {
            try await c.rses.addRSE("NEW", by: jdoe)
            Issue.record("jdoe added an RSE")
        } catch let e as RucioError { #expect(e.exceptionClass == .accessDenied) }
    }

    @Test func aFailedRegistrationRollsBackWhole() async throws {
        let c = try await lake()
        // The second file's scope does not exist: nothing of the call stays, not even the first file's DID.
        await #expect(throws: RucioError.self) {
            try await c.replicas.addReplicas(
                rse: "SITE-A",
                files: [FileSpec(scope: "test", name: "one", bytes: 1, adler32: "00000001"), FileSpec(scope: "nope", name: "two", bytes: 1)],
                ignoreAvailability: false, issuer: root)
        }
        await #expect(throws: RucioError.self) { try await c.dids.did("test", "one") }
    }

    @Test func ruleCountersFollowAttachmentsAndAvailability() async throws {
        let c = try await lake()
        try await put(c, "SITE-A", "test", "f1", Array("one".utf8))
        try await c.dids.addCollection(scope: "test", name: "ds", type: .dataset, issuer: root)
        try await c.dids.attach(to: DIDRef("test", "ds"), children: [FileSpec(scope: "test", name: "f1")], rse: nil, issuer: root)
        var spec = RuleSpec()
        spec.dids = [DIDRef("test", "ds")]
        spec.copies = 2
        spec.rseExpression = "SITE-A|SITE-B"
        let id = try await c.rules.addRules(spec, issuer: root)[0]
        var rule = try await c.rules.rule(id)
        #expect(rule.state == .replicating)
        #expect((rule.locksOK, rule.locksReplicating, rule.locksStuck) == (1, 1, 0))
        // A file attached later is locked by the dataset's rule on both RSEs.
        try await put(c, "SITE-A", "test", "f2", Array("two".utf8))
        try await c.dids.attach(to: DIDRef("test", "ds"), children: [FileSpec(scope: "test", name: "f2")], rse: nil, issuer: root)
        rule = try await c.rules.rule(id)
        #expect((rule.locksOK, rule.locksReplicating) == (2, 2))
        #expect(try await c.rules.locks(ofRule: id).count == 4)
        // Deleting the rule releases every lock and tombstones the replicas it alone held.
        try await c.rules.deleteRule(id, purgeReplicas: true, issuer: root)
        await #expect(throws: RucioError.self) { try await c.rules.rule(id) }
        let reaped = try await Reaper(catalog: c).reap()
        #expect(reaped.count >= 2)
    }

    @Test func duplicateAndMissing() async throws {
        let c = try await lake()
        try await c.dids.addCollection(scope: "test", name: "ds", type: .dataset, issuer: root)
        do {
            try await c.dids.addCollection(scope: "test", name: "ds", type: .dataset, issuer: root)
            Issue.record("duplicate")
        } catch let e as RucioError { #expect(e.exceptionClass == .dataIdentifierAlreadyExists) }
        do {
            _ = try await c.dids.did("test", "nope")
            Issue.record("missing")
        } catch let e as RucioError { #expect(e.exceptionClass == .dataIdentifierNotFound) }
        // As in Rucio, a DID in an unknown scope is simply not found.
        do {
            _ = try await c.dids.did("noscope", "x")
            Issue.record("missing scope")
        } catch let e as RucioError { #expect(e.exceptionClass == .dataIdentifierNotFound) }
    }

    @Test func filterSearchesMetadata() async throws {
        let c = try await lake()
        for (n, run) in [("ds_a", 1), ("ds_b", 5), ("other", 9)] {
            try await c.dids.addCollection(
                scope: "test", name: n, type: .dataset, issuer: root, meta: JSONObject([("run_number", .int(Int64(run))), ("telescope", "LOFAR")]))
        }
        let f = try DIDFilter.fromDictionaries([JSONObject([("name", "ds_*"), ("run_number.gt", "2")])])
        #expect(try await c.dids.searchDIDs(scope: "test", filter: f, type: "dataset", limit: nil).map(\.name) == ["ds_b"])
        let g = try DIDFilter.fromDictionaries([JSONObject([("telescope", "LOFAR")]), JSONObject([("name", "nothing")])])
        #expect(try await c.dids.searchDIDs(scope: "test", filter: g, type: "all", limit: nil).count == 3)
    }
}
