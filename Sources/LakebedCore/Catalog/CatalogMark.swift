import Foundation
import GRDB
import Synchronization

/// The catalog's high-water mark: a small file beside `catalog.sqlite` (`catalog.mark`) naming the highest commit
/// count (`lake_mark.seq`, moved forward by every change to files, replicas and rules) the lake has seen committed.
/// The file is written after commits (at most about once a second) and after each checkpoint, atomically and synced,
/// so it never claims more than was committed. A catalog whose count is below it lost commits it once held: a
/// damaged WAL, an older `catalog.sqlite` put back, a catalog re-created beside the old lake's files.
public struct CatalogMark: Codable, Sendable, Equatable {
    /// The commit count seen committed.
    public var seq: Int64
    /// When (wall clock, ISO 8601) it was written.
    public var writtenAt: String

    /// The file beside the catalog.
    public static func path(dataDir: String) -> String { (dataDir as NSString).appendingPathComponent("catalog.mark") }
    /// Where a mark found above its catalog at start is kept, so the loss stays reported until someone looks.
    public static func rolledBackPath(dataDir: String) -> String { (dataDir as NSString).appendingPathComponent("catalog.mark.rolled-back") }

    /// The mark in `dataDir`, if any.
    public static func load(dataDir: String) -> CatalogMark? {
        guard let data = FileManager.default.contents(atPath: path(dataDir: dataDir)) else { return nil }
        return try? JSONDecoder().decode(CatalogMark.self, from: data)
    }

    /// Writes the file atomically (a temporary file, synced, renamed over the old one).
    func save(dataDir: String) throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        try PrivateFile.writeAtomically(try enc.encode(self) + Data("\n".utf8), to: Self.path(dataDir: dataDir))
    }
}

/// What `Catalog.maintain` did.
public struct CatalogMaintenance: Sendable, Equatable {
    /// The mark was written (the commit count moved).
    public var markWritten = false
    /// WAL frames copied into the catalog file.
    public var checkpointedFrames = 0
    /// The WAL was over its limit and was emptied.
    public var truncated = false
}

extension Catalog {
    /// The catalog's commit count (`lake_mark.seq`).
    public func commitCount() throws -> Int64 {
        try quickRead { db in try Int64.fetchOne(db, sql: "SELECT seq FROM lake_mark WHERE id = 1") ?? 0 }
    }

    /// Writes the high-water mark when the commit count has moved past the last one written.
    @discardableResult
    public func recordMark() throws -> Bool {
        let seq = try commitCount()
        return try markWriter.withLock { last -> Bool in
            if let last, seq <= last { return false }
            let stamp = ISO8601DateFormatter().string(from: Date())  // wall time: the mark is about this machine's files
            try CatalogMark(seq: seq, writtenAt: stamp).save(dataDir: dataDir)
            last = seq
            return true
        }
    }

    /// One maintenance pass (the serving lake runs one a second of wall time): record the mark, copy what the WAL
    /// holds into the catalog file without waiting for readers (a passive checkpoint), and when the WAL has grown
    /// past `walLimit` bytes anyway (long readers kept it from being reused), empty it with a truncating checkpoint.
    @discardableResult
    public func maintain(walLimit: Int64 = 64 << 20) throws -> CatalogMaintenance {
        var done = CatalogMaintenance()
        done.markWritten = try recordMark()
        let (_, copied) = try db.writeWithoutTransaction { db in try db.checkpoint(.passive) }
        done.checkpointedFrames = copied
        let wal = dataDir + "/catalog.sqlite-wal"
        let size = ((try? FileManager.default.attributesOfItem(atPath: wal))?[.size] as? NSNumber)?.int64Value ?? 0
        if size > walLimit {
            try db.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
            done.truncated = true
        }
        return done
    }

    /// At start: a catalog below its mark lost commits. The mark is kept as `catalog.mark.rolled-back` (so `lakebed
    /// check` keeps saying so until someone removes it) and a new mark starts from this catalog. Returns the loss.
    public func noticeRollBack() throws -> (catalog: Int64, mark: CatalogMark)? {
        guard let mark = CatalogMark.load(dataDir: dataDir) else { return nil }
        let seq = try commitCount()
        guard seq < mark.seq else { return nil }
        if !FileManager.default.fileExists(atPath: CatalogMark.rolledBackPath(dataDir: dataDir)) {
            try FileManager.default.moveItem(atPath: CatalogMark.path(dataDir: dataDir), toPath: CatalogMark.rolledBackPath(dataDir: dataDir))
        }
        try markWriter.withLock { last in
            try CatalogMark(seq: seq, writtenAt: ISO8601DateFormatter().string(from: Date())).save(dataDir: dataDir)
            last = seq
        }
        return (seq, mark)
    }

    /// Findings about the mark for `lakebed check`.
    func markFindings(commitCount seq: Int64) -> [ConsistencyReport.Finding] {
        var out: [ConsistencyReport.Finding] = []
        // A restore cut short puts an older catalog in place on purpose; the next start finishes it and moves the count on.
        let restoring = FileManager.default.fileExists(atPath: dataDir + "/.restoring")
        if !restoring, let mark = CatalogMark.load(dataDir: dataDir), seq < mark.seq {
            out.append(
                .init(
                    kind: "rolled-back",
                    detail: """
                        The catalog's commit count is \(seq), but the lake saw \(mark.seq) committed (catalog.mark, \(mark.writtenAt)): \
                        \(mark.seq - seq) change(s) to files, replicas or rules were lost (a damaged WAL, or an older catalog.sqlite put back)
                        """))
        }
        if let data = FileManager.default.contents(atPath: CatalogMark.rolledBackPath(dataDir: dataDir)),
            let old = try? JSONDecoder().decode(CatalogMark.self, from: data)
        {
            out.append(
                .init(
                    kind: "rolled-back",
                    detail: """
                        A start found this catalog rolled back below the \(old.seq) commits the lake had seen (\(old.writtenAt)); \
                        see catalog.mark.rolled-back, and remove it once dealt with
                        """))
        }
        return out
    }

    /// After a restore put an older catalog in place: move the commit count past every mark written, so the restored
    /// catalog is not mistaken for a rolled-back one.
    func advanceCommitCountPastMark(_ floor: Int64) async throws {
        let recorded = max(floor, CatalogMark.load(dataDir: dataDir)?.seq ?? 0)
        try await db.write { db in try db.execute(sql: "UPDATE lake_mark SET seq = max(seq, ?) + 1 WHERE id = 1", arguments: [recorded]) }
        try recordMark()
    }
}
