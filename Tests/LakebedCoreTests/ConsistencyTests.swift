import Foundation
import GRDB
import LakebedTesting
import Testing

@testable import LakebedCore

/// `lakebed check` must find each kind of broken promise it claims to find, and nothing on a healthy lake.
@Suite("Consistency check")
struct ConsistencyTests {
    let root = Issuer(account: "root", identity: "ddmlab", isAdmin: true)

    /// A lake with two files at SITE-A and a 2-copy rule on them (locks OK at SITE-A, REPLICATING to SITE-B).
    func lake() async throws -> (Catalog, String) {
        let c = try TemporaryLake.catalog("check")
        try await DefaultLake.seedIfEmpty(c)
        for (name, text) in [("f1", "first file"), ("f2", "second file, longer")] {
            let bytes = Array(text.utf8)
            let path = try await self.path(c, "SITE-A", name)
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
            let sums = Checksums.of(bytes)
            try await c.replicas.addReplicas(
                rse: "SITE-A", files: [FileSpec(scope: "test", name: name, bytes: sums.bytes, adler32: sums.adler32, md5: sums.md5)],
                ignoreAvailability: false, issuer: root)
        }
        try await c.dids.addCollection(scope: "test", name: "ds", type: .dataset, issuer: root)
        try await c.dids.attach(
            to: DIDRef("test", "ds"), children: [FileSpec(scope: "test", name: "f1"), FileSpec(scope: "test", name: "f2")], rse: nil, issuer: root)
        var spec = RuleSpec()
        spec.dids = [DIDRef("test", "ds")]
        spec.copies = 2
        spec.rseExpression = "SITE-A|SITE-B"
        let id = try await c.rules.addRules(spec, issuer: root)[0]
        return (c, id)
    }

    func path(_ c: Catalog, _ rse: String, _ name: String) async throws -> String {
        try c.replicas.absolutePath(rse: try await c.rses.rse(rse), relative: LFN2PFN.hash.path(scope: "test", name: name))
    }

    func kinds(_ c: Catalog) async throws -> Set<String> {
        Set(try await c.checkConsistency().problems.map(\.kind))
    }

    @Test func aHealthyLakeIsConsistent() async throws {
        let (c, _) = try await lake()
        let r = try await c.checkConsistency()
        #expect(r.problems == [])
        #expect(r.bytesVerified >= 2 && r.locks == 4 && r.liveRequests == 2 && r.rules >= 1)
    }

    @Test func missingTruncatedOrAlteredBytesOfAnAvailableReplica() async throws {
        let (c, _) = try await lake()
        try FileManager.default.removeItem(atPath: try await path(c, "SITE-A", "f1"))
        #expect(try await kinds(c) == ["available-without-bytes"])
        // Same size, other content: only the checksum tells.
        let f2 = try await path(c, "SITE-A", "f2")
        try Data("SECOND FILE, LONGER".utf8).write(to: URL(fileURLWithPath: f2))
        #expect(try await c.checkConsistency().problems.filter { $0.detail.contains("adler32") }.count == 1)
        #expect(try await c.checkConsistency(verifyChecksums: false).problems.count == 1)
    }

    @Test func aHalfWrittenFileUnderItsFinalName() async throws {
        let (c, _) = try await lake()
        // The rule's destination replica at SITE-B is COPYING; half its bytes appear under the final name.
        let target = try await path(c, "SITE-B", "f2")
        try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: target, contents: Data("second".utf8))
        #expect(try await kinds(c) == ["half-written-file"])
        // Under a hidden partial name it is only a note.
        try FileManager.default.moveItem(atPath: target, toPath: target + ".lakebed-part")
        let r = try await c.checkConsistency()
        #expect(r.problems == [] && r.notes.map(\.kind) == ["partial-file"])
    }

    @Test func countersLocksAndRequestsThatDisagree() async throws {
        let (c, id) = try await lake()
        try await c.db.write { db in
            try db.execute(sql: "UPDATE rules SET locks_ok_cnt = locks_ok_cnt + 1 WHERE id = ?", arguments: [id])
            try db.execute(sql: "UPDATE replicas SET lock_cnt = 5 WHERE name = 'f1' AND rse_id = (SELECT id FROM rses WHERE rse = 'SITE-A')")
        }
        #expect(try await kinds(c) == ["rule-counters", "replica-lock-count"])
        try await c.db.write { db in
            try db.execute(sql: "UPDATE rules SET locks_ok_cnt = locks_ok_cnt - 1, state = 'O' WHERE id = ?", arguments: [id])
            try db.execute(sql: "UPDATE replicas SET lock_cnt = 1 WHERE name = 'f1'")
        }
        #expect(try await kinds(c) == ["rule-state"])
        // A transfer request vanishing strands its lock (the replica is no longer COPYING, so no upload will finish it).
        try await c.db.write { db in
            try db.execute(sql: "UPDATE rules SET state = 'R' WHERE id = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM requests WHERE name = 'f1'")
            try db.execute(sql: "UPDATE replicas SET state = 'U' WHERE name = 'f1' AND rse_id = (SELECT id FROM rses WHERE rse = 'SITE-B')")
        }
        #expect(try await kinds(c) == ["stranded-lock"])
    }

    @Test func locksWithoutRulesOrReplicas() async throws {
        let (c, id) = try await lake()
        try await c.db.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA foreign_keys = OFF")
            try db.execute(sql: "DELETE FROM rules WHERE id = ?", arguments: [id])
            try db.execute(sql: "PRAGMA foreign_keys = ON")
        }
        let k = try await kinds(c)
        #expect(k.contains("lock-without-rule") && k.contains("foreign-key"))
        let (c2, _) = try await lake()
        try await c2.db.write { db in
            try db.execute(sql: "DELETE FROM requests WHERE name = 'f2'")
            try db.execute(sql: "DELETE FROM replicas WHERE name = 'f2' AND rse_id = (SELECT id FROM rses WHERE rse = 'SITE-B')")
        }
        #expect(try await kinds(c2) == ["lock-without-replica"])
        // An AVAILABLE replica whose lock still says REPLICATING.
        let (c3, _) = try await lake()
        try await c3.db.write { db in
            try db.execute(sql: "UPDATE locks SET state = 'R' WHERE name = 'f1' AND rse_id = (SELECT id FROM rses WHERE rse = 'SITE-A')")
        }
        #expect(try await kinds(c3).contains("lock-state"))
    }
}
