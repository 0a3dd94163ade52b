import Foundation
import GRDB
import LakebedTesting
import Testing

@testable import LakebedCore

/// The catalog's high-water mark and its maintenance: what `lakebed check` knows about commits a catalog lost.
@Suite("Catalog mark")
struct CatalogMarkTests {
    let root = Issuer(account: "root", identity: "ddmlab", isAdmin: true)

    @Test func changesMoveTheCommitCountAndTheMarkFollows() async throws {
        let c = try TemporaryLake.catalog("mark")
        try await DefaultLake.seedIfEmpty(c)
        let before = try c.commitCount()
        try await c.dids.addCollection(scope: "test", name: "marked", type: .dataset, issuer: root)
        #expect(try c.commitCount() > before)
        #expect(try c.recordMark())
        #expect(CatalogMark.load(dataDir: c.dataDir)?.seq == (try c.commitCount()))
        #expect(try !c.recordMark())  // nothing moved: nothing written
        #expect(try await c.checkConsistency().problems.isEmpty)
    }

    @Test func aCatalogBelowItsMarkIsReportedRolledBack() async throws {
        let c = try TemporaryLake.catalog("rolled")
        try await DefaultLake.seedIfEmpty(c)
        try c.recordMark()
        // As if commits the mark saw were lost (a damaged WAL, an older catalog put back).
        try await c.db.write { db in try db.execute(sql: "UPDATE lake_mark SET seq = seq - 3") }
        let problems = try await c.checkConsistency().problems
        #expect(problems.map(\.kind) == ["rolled-back"])
        // Unless a restore was cut short: that older catalog is there on purpose, and the next start finishes it.
        _ = FileManager.default.createFile(atPath: c.dataDir + "/.restoring", contents: Data())
        #expect(try await c.checkConsistency().problems.isEmpty)
        try FileManager.default.removeItem(atPath: c.dataDir + "/.restoring")
        // A start notices it once and keeps the old mark aside, so the finding stays until someone removes it.
        #expect(try c.noticeRollBack() != nil)
        #expect(try c.noticeRollBack() == nil)
        #expect(try await c.checkConsistency().problems.map(\.kind) == ["rolled-back"])
        try FileManager.default.removeItem(atPath: CatalogMark.rolledBackPath(dataDir: c.dataDir))
        #expect(try await c.checkConsistency().problems.isEmpty)
    }

    @Test func maintenanceEmptiesAWALPastItsLimit() async throws {
        let c = try TemporaryLake.catalog("wal")
        try await DefaultLake.seedIfEmpty(c)
        // Writes pile up in the WAL (SQLite's automatic checkpoint waits for a thousand pages).
        for i in 0..<200 { try await c.dids.addCollection(scope: "test", name: "wal\(i)", type: .dataset, issuer: root) }
        let wal = c.dataDir + "/catalog.sqlite-wal"
        func size() -> Int64 { ((try? FileManager.default.attributesOfItem(atPath: wal))?[.size] as? NSNumber)?.int64Value ?? 0 }
        #expect(size() > 4096)
        let done = try c.maintain(walLimit: 4096)
        #expect(done.truncated && done.markWritten)
        #expect(size() == 0)
        #expect(try !c.maintain(walLimit: 4096).truncated)
    }
}
