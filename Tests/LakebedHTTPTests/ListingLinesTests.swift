import Foundation
import LakebedCore
import LakebedTesting
import Testing

@testable import LakebedHTTP

/// Listing pages written as text give the very lines the `JSON` documents gave.
@Suite("Listing lines")
struct ListingLinesTests {
    let root = Issuer(account: "root", identity: "ddmlab", isAdmin: true)

    @Test func replicaLinesAreTheDocumentsText() async throws {
        let c = try TemporaryLake.catalog("lines-replicas")
        try await DefaultLake.seedIfEmpty(c)
        // A second readable protocol on SITE-B, ranked before `file` for WAN reads, so a file has several PFNs.
        try await c.rses.addProtocol(
            "SITE-B",
            RSEProtocol(
                scheme: "davs", hostname: "site-b.example.org", port: 443, prefix: "/dpm/b/", impl: "rucio.rse.protocols.gfal.Default",
                domains: ["wan": ["read": 1, "write": 1, "delete": 1, "third_party_copy_read": 1, "third_party_copy_write": 1],
                          "lan": ["read": 1, "write": 1, "delete": 1]]),
            by: nil)
        let files = (0..<6).map { FileSpec(scope: "test", name: "rl\($0)", bytes: 10 + Int64($0), adler32: "0000000a", md5: $0 % 2 == 0 ? nil : "d41d8cd98f00b204e9800998ecf8427e") }
        try await c.replicas.addReplicas(rse: "SITE-A", files: files, ignoreAvailability: true, issuer: root, virtual: true)
        try await c.replicas.addReplicas(rse: "SITE-B", files: Array(files.prefix(4)), ignoreAvailability: true, issuer: root, virtual: true)
        try await c.dids.addCollection(scope: "test", name: "rlds", type: .dataset, issuer: root)
        try await c.dids.attach(to: DIDRef("test", "rlds"), children: files, rse: nil, issuer: root)
        for parents in [false, true] {
            var q = ReplicaStore.ReplicaQuery()
            q.resolveParents = parents
            let listed = try await c.replicas.listReplicas([DIDRef("test", "rlds")], query: q)
            #expect(listed.count == 6)
            var lines = ReplicaLines(allStates: false, parents: parents)
            let text = lines.text(listed)
            let expected = listed.map { RucioAPI.replicaDoc($0, allStates: false, parents: parents).serialized() + "\n" }.joined()
            #expect(text == expected)
            #expect(text.contains("site-b.example.org"))
            // The same writer over a second page reuses what it worked out per RSE.
            #expect(lines.text(listed) == expected)
        }
    }

    @Test func fileAndSearchLinesAreTheDocumentsText() {
        let files = [
            ListedFile(scope: "s", name: "a\"b", bytes: 3, md5: nil, adler32: "0000000a", guid: nil, events: nil, lumiblocknr: nil),
            ListedFile(scope: "s", name: "c", bytes: nil, md5: "x", adler32: nil, guid: "g", events: 4, lumiblocknr: 9),
        ]
        for long in [false, true] {
            let expected = files.map { f -> String in
                var o = JSONObject([
                    ("scope", .string(f.scope)), ("name", .string(f.name)), ("bytes", .num(f.bytes)), ("adler32", .str(f.adler32)),
                    ("guid", .str(f.guid)), ("events", .num(f.events)),
                ])
                if long { o["lumiblocknr"] = .num(f.lumiblocknr) }
                return JSON.object(o).serialized() + "\n"
            }.joined()
            #expect(RucioAPI.fileLines(files, long: long) == expected)
        }
        let hits = [DIDStore.SearchHit(scope: "s", name: "n1", type: .file, bytes: 1, length: nil)]
        #expect(RucioAPI.searchLines(hits, long: false) == "\"n1\"\n")
        #expect(
            RucioAPI.searchLines(hits, long: true)
                == "{\"scope\": \"s\", \"name\": \"n1\", \"did_type\": \"FILE\", \"bytes\": 1, \"length\": null}\n")
    }
}
