import Foundation
import GRDB
import LakebedTesting
import Testing

@testable import LakebedCore

/// The fast paths of large catalogs: lean listing rows, name prefixes read as key ranges, bulk seeding.
@Suite("Catalog at scale")
struct CatalogScaleTests {
    let root = Issuer(account: "root", identity: "ddmlab", isAdmin: true)

    @Test func listedFilesCarryWhatTheWholeDIDSays() async throws {
        let c = try TemporaryLake.catalog("scale-files")
        try await DefaultLake.seedIfEmpty(c)
        let files = (0..<12).map { FileSpec(scope: "test", name: "lf\(String(format: "%02d", $0))", bytes: Int64($0), adler32: "0000000a", md5: nil) }
        try await c.replicas.addReplicas(rse: "SITE-A", files: files, ignoreAvailability: true, issuer: root, virtual: true)
        try await c.dids.setMetadata("test", "lf03", meta: JSONObject([("guid", "0123456789abcdef0123456789abcdef"), ("events", 7), ("lumiblocknr", 3)]),
            recursive: false, issuer: root)
        try await c.dids.addCollection(scope: "test", name: "lfds", type: .dataset, issuer: root)
        try await c.dids.attach(to: DIDRef("test", "lfds"), children: files, rse: nil, issuer: root)
        var cursor = ListingCursor(position: DIDStore.FileWalk(), given: 0)
        var paged: [ListedFile] = []
        while cursor.position != nil {
            let (page, next) = try await c.dids.listFilesPage("test", "lfds", cursor: cursor, pageSize: 5)
            paged += page
            cursor = next
        }
        let whole = try await c.dids.listFiles("test", "lfds").map(ListedFile.init)
        #expect(paged == whole)
        #expect(paged.count == 12)
        let three = try #require(paged.first { $0.name == "lf03" })
        #expect(three.guid == "0123456789abcdef0123456789abcdef" && three.events == 7 && three.lumiblocknr == 3 && three.bytes == 3)
        #expect(three.adler32 == "0000000a")
    }

    @Test func namePrefixRangesSpellEveryCase() {
        func ranges(_ pattern: String) -> [String]? {
            DIDStore.namePrefixRanges([DIDFilter.Condition(key: "name", op: .eq, value: .string(pattern))])?.map(\.lo)
        }
        #expect(ranges("f3.09*") == ["F3.09", "f3.09"])
        #expect(ranges("ab*") == ["AB", "Ab", "aB", "ab"])
        #expect(ranges("12_%x") == ["12_"])
        // Cut before the fifth letter: 16 ranges, never 2^n for a long prefix.
        #expect(ranges("abcdefgh*")?.count == 16)
        #expect(ranges("abcdefgh*")?.first == "ABCD")
        #expect(ranges("*x") == nil)
        #expect(ranges("exact") == nil)
        let r = DIDStore.namePrefixRanges([DIDFilter.Condition(key: "name", op: .eq, value: "run9*")])!
        #expect(r.last?.lo == "run9" && r.last?.hi == "run:")
    }

    @Test func prefixSearchesFindWhatAScanFinds() async throws {
        let c = try TemporaryLake.catalog("scale-search")
        try await DefaultLake.seedIfEmpty(c)
        let names = ["Abc1", "aBc2", "abc3", "ABC_4", "abd5", "ab", "xabc6", "abc7.x", "ABc8", "b9", "abc10"]
        try await c.replicas.addReplicas(
            rse: "SITE-A", files: names.map { FileSpec(scope: "test", name: $0, bytes: 1, adler32: "00000001", md5: nil) },
            ignoreAvailability: true, issuer: root, virtual: true)
        for pattern in ["abc*", "ABC*", "aB*", "abc1*", "a*", "abc_*", "*", "b*", "x*c*", "zz*"] {
            let one = try DIDFilter.fromDictionaries([JSONObject([("name", .string(pattern))])])
            // Two identical groups: the plain LIKE query over the whole scope, the oracle.
            let scan = DIDFilter(groups: one.groups + one.groups)
            let expected = try await c.dids.searchDIDs(scope: "test", filter: scan, type: "file", limit: nil).map(\.name)
            #expect(try await c.dids.searchDIDs(scope: "test", filter: one, type: "file", limit: nil).map(\.name) == expected, "\(pattern)")
            // Page by page, as the route streams it.
            var paged: [String] = []
            var after: String? = nil
            for _ in 0..<50 {
                let hits = try await c.dids.searchDIDs(scope: "test", filter: one, type: "file", limit: 2, after: after)
                paged += hits.map(\.name)
                if hits.count < 2 { break }
                after = hits.last?.name
            }
            #expect(paged == expected, "\(pattern) paged")
        }
        let abc = try await c.dids.searchDIDs(
            scope: "test", filter: try DIDFilter.fromDictionaries([JSONObject([("name", "abc*")])]), type: "file", limit: nil)
        #expect(abc.map(\.name) == ["ABC_4", "ABc8", "Abc1", "aBc2", "abc10", "abc3", "abc7.x"])
    }

    @Test func searchesUseTheKeyAndTheIndexes() async throws {
        let c = try TemporaryLake.catalog("scale-plans")
        try await c.db.read { db in
            func plan(_ sql: String) throws -> String {
                try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql).map { $0["detail"] as String }.joined(separator: "; ")
            }
            let prefix = try plan(
                "SELECT name FROM dids WHERE scope = 'a' AND hidden = 0 AND ((name LIKE 'f%' ESCAPE '\\' AND did_type IN ('FILE','DATASET','CONTAINER'))) AND name >= 'f' AND name < 'g' ORDER BY name LIMIT 10")
            #expect(prefix.contains("PRIMARY KEY (scope=? AND name>? AND name<?)") && !prefix.contains("TEMP B-TREE"), "\(prefix)")
            let expired = try plan("SELECT name FROM dids WHERE expired_at < 5")
            #expect(expired.contains("dids_expired_at"), "\(expired)")
        }
    }

    @Test func expiryFiltersSeekTheirIndex() async throws {
        let c = try TemporaryLake.catalog("scale-expiry")
        try await DefaultLake.seedIfEmpty(c)
        for n in ["ex1", "ex2", "ex3"] { try await c.dids.addCollection(scope: "test", name: n, type: .dataset, issuer: root) }
        try await c.dids.setMetadata("test", "ex2", meta: JSONObject([("lifetime", 3600)]), recursive: false, issuer: root)
        for (op, hits) in [("expired_at.lte", ["ex2"]), ("expired_at.gt", [])] as [(String, [String])] {
            let f = try DIDFilter.fromDictionaries([JSONObject([("name", "ex*"), (op, "2100-01-01T00:00:00")])])
            #expect(try await c.dids.searchDIDs(scope: "test", filter: f, type: "all", limit: nil).map(\.name) == hits, "\(op)")
        }
        // Two groups keep the plain query (an index named for one group could not serve the other).
        let g = try DIDFilter.fromDictionaries([JSONObject([("expired_at.lte", "2100-01-01T00:00:00")]), JSONObject([("name", "ex3")])])
        #expect(try await c.dids.searchDIDs(scope: "test", filter: g, type: "all", limit: nil).map(\.name) == ["ex2", "ex3"])
    }

    @Test func seedingChecksFilesThatAreThereAndMovesTheCommitCount() async throws {
        let c = try TemporaryLake.catalog("scale-seed")
        try await DefaultLake.seedIfEmpty(c)
        try await c.dids.addCollection(scope: "test", name: "seedds", type: .dataset, issuer: root)
        let files = (0..<30).map { FileSpec(scope: "test", name: "s\($0)", bytes: 5, adler32: "00000005", md5: nil) }
        let before = try c.commitCount()
        try await c.replicas.withSeedingCache {
            try await c.replicas.seedFiles(files, rses: ["SITE-A"], dataset: DIDRef("test", "seedds"), virtual: true, account: "root") { _, _ in }
            // The same files again: already there with the same bytes, nothing changes and nothing fails.
            try await c.replicas.seedFiles(files, rses: ["SITE-A"], dataset: DIDRef("test", "seedds"), virtual: true, account: "root") { _, _ in }
        }
        #expect(try c.commitCount() > before)
        #expect(try await c.dids.listFiles("test", "seedds").count == 30)
        #expect(try await c.replicas.availableReplicaCount(rse: "SITE-A") >= 30)
        var other = files[3]
        other.bytes = 6
        await #expect(throws: RucioError.self) {
            try await c.replicas.seedFiles([other], rses: ["SITE-A"], dataset: nil, virtual: true, account: "root") { _, _ in }
        }
        await #expect(throws: RucioError.self) {
            try await c.replicas.seedFiles(
                [FileSpec(scope: "test", name: "seedds", bytes: 0, adler32: nil, md5: nil)], rses: ["SITE-A"], dataset: nil, virtual: true,
                account: "root") { _, _ in }
        }
        await #expect(throws: RucioError.self) {
            try await c.replicas.seedFiles(
                [FileSpec(scope: "test", name: "bad name", bytes: 0, adler32: nil, md5: nil)], rses: ["SITE-A"], dataset: nil, virtual: true,
                account: "root") { _, _ in }
        }
        // The cache is back to SQLite's default afterwards.
        let cache = try await c.db.write { db in try Int.fetchOne(db, sql: "PRAGMA cache_size") }
        #expect(cache == -2000)
    }

    @Test func hexIsWhatFormatGives() {
        let bytes: [UInt8] = [0, 1, 0x0f, 0x10, 0x7f, 0x80, 0xab, 0xff]
        #expect(bytes.lowerHex == bytes.map { String(format: "%02x", $0) }.joined())
        #expect(md5Hex("test:f1") == "a162a251c3fc8b200f13fa7dc010dcc2")
    }
}
