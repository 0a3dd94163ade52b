import ArgumentParser
import Foundation
import LakebedCore

/// `lakebed check`: verifies a lake's catalog against itself and its bytes (after a crash, or at the end of a CI run).
struct Check: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a lake's catalog against itself and the bytes on disk; exits 1 when something is broken.",
        discussion: """
            Checks: every AVAILABLE replica has its bytes with the catalog's size and adler32; no file under a replica's \
            name is half-written; every lock has its rule and replica and agrees with the replica's state; REPLICATING \
            locks have a transfer request that will finish them; rule counters and states equal their locks; SQLite's \
            integrity and foreign keys. Orphan files and hidden unfinished writes are reported as notes. Replicas a client \
            registered as AVAILABLE without their bytes (Rucio registers what clients say) are listed as lost replicas, \
            the client's doing: they do not make the lake inconsistent.
            Works on a stopped lake (e.g. after kill -9) and on a running one (GET /lakebed/check answers the same).
            """)

    @Option(name: .long, help: "The lake's data folder.")
    var dataDir: String = "./lakebed-data"

    @Flag(name: .long, help: "Print the report as JSON.")
    var json = false

    @Flag(name: .long, help: "Compare sizes only, do not read files to compare adler32 checksums.")
    var noChecksums = false

    func run() async throws {
        let dir = URL(fileURLWithPath: (dataDir as NSString).expandingTildeInPath).standardizedFileURL.path
        guard FileManager.default.fileExists(atPath: dir + "/catalog.sqlite") else {
            // A folder that held a lake (its mark, or RSE bytes) but has no catalog lost it: that is a broken lake, not no lake.
            let mark = CatalogMark.load(dataDir: dir)
            let held = (try? FileManager.default.contentsOfDirectory(atPath: dir + "/rses")) ?? []
            guard mark != nil || !held.isEmpty else { throw ValidationError("No lake in \(dir): there is no catalog.sqlite.") }
            print("INCONSISTENT: 1 problem(s):")
            print(
                "  ✗ [catalog-lost] \(dir) has no catalog.sqlite, but "
                    + (mark.map { "its mark says \($0.seq) changes were committed (\($0.writtenAt))" }
                        ?? "it holds RSE folders (\(held.sorted().prefix(3).joined(separator: ", ")))"))
            throw ExitCode(1)
        }
        let catalog = try Catalog(dataDir: dir, clock: VirtualClock(scale: 0))
        let report = try await catalog.checkConsistency(verifyChecksums: !noChecksums)
        if json {
            let enc = JSONEncoder()
            enc.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try enc.encode(report), as: UTF8.self))
        } else {
            print(report.text)
        }
        if !report.isConsistent { throw ExitCode(1) }
    }
}

extension ConsistencyReport {
    /// The report for a terminal.
    var text: String {
        var lines = [
            "Checked \(replicas) replicas (\(bytesVerified) AVAILABLE with their bytes verified), \(rules) rules, \(locks) locks, "
                + "\(liveRequests) live transfer requests, \(filesOnDisk) files on disk."
        ]
        lines.append(isConsistent ? "Consistent: nothing lost, nothing half-written." : "INCONSISTENT: \(problems.count) problem(s):")
        lines += problems.map { "  ✗ [\($0.kind)] \($0.detail)" }
        if !lost.isEmpty {
            lines.append("Lost replicas (registered by a client without their bytes; Rucio would call them lost or suspicious):")
            lines += lost.map { "  ! [\($0.kind)] \($0.detail)" }
        }
        if !notes.isEmpty {
            lines.append("Notes (harmless):")
            lines += notes.map { "  · [\($0.kind)] \($0.detail)" }
        }
        return lines.joined(separator: "\n")
    }
}
