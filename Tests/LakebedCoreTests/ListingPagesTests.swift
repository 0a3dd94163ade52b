import Foundation
import LakebedTesting
import Testing

@testable import LakebedCore

/// Streamed listings read page by page: concatenated, the pages give exactly what the whole listing gives.
@Suite("Listing pages")
struct ListingPagesTests {
    let root = Issuer(account: "root", identity: "ddmlab", isAdmin: true)

    /// Two datasets of registered files (virtual replicas at SITE-A), one shared file, both in a container.
    func lake() async throws -> Catalog {
        let c = try TemporaryLake.catalog("pages")
        try await DefaultLake.seedIfEmpty(c)
        func files(_ prefix: String, _ n: Int) -> [FileSpec] {
            (0..<n).map { FileSpec(scope: "test", name: "\(prefix)\(String(format: "%03d", $0))", bytes: 10, adler32: "0000000a", md5: nil) }
        }
        let a = files("a", 23)
        let b = files("b", 17) + [a[5]]
        try await c.replicas.addReplicas(rse: "SITE-A", files: a + Array(b.prefix(17)), ignoreAvailability: true, issuer: root, virtual: true)
        try await c.dids.addCollection(scope: "test", name: "dsa", type: .dataset, issuer: root)
        try await c.dids.attach(to: DIDRef("test", "dsa"), children: a, rse: nil, issuer: root)
        try await c.dids.addCollection(scope: "test", name: "dsb", type: .dataset, issuer: root)
        try await c.dids.attach(to: DIDRef("test", "dsb"), children: b, rse: nil, issuer: root)
        try await c.dids.addCollection(scope: "test", name: "cont", type: .container, issuer: root)
        try await c.dids.attach(
            to: DIDRef("test", "cont"), children: [FileSpec(scope: "test", name: "dsa"), FileSpec(scope: "test", name: "dsb")],
            rse: nil, issuer: root)
        return c
    }

    @Test func filePagesGiveTheWholeListing() async throws {
        let c = try await lake()
        for did in ["dsa", "dsb", "cont", "a007"] {
            var cursor = ListingCursor(position: DIDStore.FileWalk(), given: 0)
            var paged: [String] = []
            while cursor.position != nil {
                let (page, next) = try await c.dids.listFilesPage("test", did, cursor: cursor, pageSize: 4)
                paged += page.map(\.name)
                cursor = next
            }
            let whole = try await c.dids.listFiles("test", did).map(\.name)
            #expect(paged == whole, "\(did)")
        }
    }

    @Test func replicaPagesGiveTheWholeListingWithLimitsAndSeveralDIDs() async throws {
        let c = try await lake()
        let dids = [DIDRef("test", "dsb"), DIDRef("test", "cont"), DIDRef("test", "a003")]
        for limit in [nil, 0, 1, 9, 40, 100] as [Int?] {
            var q = ReplicaStore.ReplicaQuery()
            q.limit = limit
            var cursor = ListingCursor(position: DIDStore.FileWalk(), given: 0)
            var paged: [String] = []
            while cursor.position != nil {
                let (page, next) = try await c.replicas.listReplicasPage(dids, query: q, cursor: cursor, pageSize: 5)
                paged += page.map(\.name)
                cursor = next
            }
            let whole = try await c.replicas.listReplicas(dids, query: q).map(\.name)
            #expect(paged == (limit == 0 ? [] : whole), "limit \(String(describing: limit))")
            #expect(Set(paged).count == paged.count)
        }
        await #expect(throws: RucioError.self) {
            _ = try await c.replicas.listReplicasPage([DIDRef("test", "nope")], query: .init(), cursor: .init(position: .init(), given: 0))
        }
    }

    @Test func rulePagesGiveTheWholeListing() async throws {
        let c = try await lake()
        for name in ["dsa", "dsb", "cont"] {
            for rse in ["SITE-A", "SITE-B"] {
                var spec = RuleSpec()
                spec.dids = [DIDRef("test", name)]
                spec.copies = 1
                spec.rseExpression = rse
                _ = try await c.rules.addRules(spec, issuer: root)
            }
        }
        var paged: [String] = []
        var after: RuleStore.RulePosition? = nil
        repeat {
            let (rules, last) = try await c.rules.listRulesPage(filters: ["account": "root"], after: after, limit: 4)
            paged += rules.map(\.id)
            after = rules.count < 4 ? nil : last
        } while after != nil
        let whole = try await c.rules.listRules(filters: ["account": "root"]).map(\.id)
        #expect(paged.count == 6 && paged == whole)
    }

    @Test func lockPagesGiveTheWholeListing() async throws {
        let c = try await lake()
        var spec = RuleSpec()
        spec.dids = [DIDRef("test", "cont")]
        spec.copies = 2
        spec.rseExpression = "SITE-A|SITE-B|SITE-C"
        let id = try await c.rules.addRules(spec, issuer: root)[0]
        for size in [1, 3, 4, 7, 100] {
            var paged: [RuleStore.LockPosition] = []
            var after: RuleStore.LockPosition? = nil
            repeat {
                let (locks, next) = try await c.rules.locksPage(ofRule: id, after: after, limit: size)
                paged += locks.map { RuleStore.LockPosition(scope: $0.scope, name: $0.name, rse: $0.rse) }
                after = next
            } while after != nil
            let whole = try await c.rules.locks(ofRule: id).map { RuleStore.LockPosition(scope: $0.scope, name: $0.name, rse: $0.rse) }
            #expect(whole.count == 80 && paged == whole, "page size \(size)")
        }
        await #expect(throws: RucioError.self) { _ = try await c.rules.locksPage(ofRule: "0123456789abcdef0123456789abcdef", after: nil, limit: 4) }
    }

    @Test func contentPagesGiveTheWholeListing() async throws {
        let c = try await lake()
        for did in ["dsa", "dsb", "cont"] {
            for size in [1, 4, 5, 100] {
                var paged: [String] = []
                var after: DIDRef? = nil
                repeat {
                    let (content, next) = try await c.dids.listContentPage("test", did, after: after, limit: size)
                    paged += content.map(\.name)
                    after = next
                } while after != nil
                #expect(paged == (try await c.dids.listContent("test", did)).map(\.name), "\(did), page size \(size)")
            }
        }
        await #expect(throws: RucioError.self) { _ = try await c.dids.listContentPage("test", "nosuch", after: nil, limit: 4) }
    }
}
