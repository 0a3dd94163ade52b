import Foundation
import GRDB

/// What `lakebed check` found: the catalog checked against itself and against the bytes on disk.
public struct ConsistencyReport: Sendable, Codable, Equatable {
    /// One finding: a machine-readable kind and a sentence for people.
    public struct Finding: Sendable, Codable, Equatable {
        /// What kind of finding, in kebab case, e.g. `available-without-bytes`, `lock-state`, `orphan-file`; the same for every finding of the kind.
        public var kind: String
        /// The finding in a sentence naming the rows or files involved (past the limit, one line counts the rest).
        public var detail: String
    }

    /// Replica rows looked at.
    public var replicas = 0
    /// AVAILABLE replicas whose bytes were found (and checksummed, unless checksums were skipped).
    public var bytesVerified = 0
    /// Rules looked at.
    public var rules = 0
    /// Locks looked at.
    public var locks = 0
    /// Live (QUEUED, SUBMITTED or WAITING) transfer requests looked at.
    public var liveRequests = 0
    /// Files found under the RSE directories.
    public var filesOnDisk = 0
    /// Broken promises: any of these means the lake lost or invented something.
    public var problems: [Finding] = []
    /// Harmless leftovers (orphan bytes, hidden partial writes) worth knowing about.
    public var notes: [Finding] = []
    /// AVAILABLE replicas a client registered whose bytes Lakebed never saw and does not find (Rucio registers what
    /// clients say; it would call these lost or suspicious replicas): the client's doing, not a fault of Lakebed's.
    public var lost: [Finding] = []

    /// True when nothing is broken.
    public var isConsistent: Bool { problems.isEmpty }

    public init() {}
}

extension Catalog {
    /// Checks the promises the lake makes after any crash:
    /// - every AVAILABLE replica has its bytes on disk, with the catalog's size and adler32;
    /// - no file under a replica's final name is half-written (wrong size or checksum), whatever the replica's state;
    /// - every lock has its rule and its replica, lock states agree with replica states, and each REPLICATING lock has
    ///   a live transfer request that will finish it, or a COPYING replica (an upload whose client will mark it AVAILABLE);
    /// - rule counters and states equal what their locks say; replica lock counts equal their locks;
    /// - SQLite's own integrity and foreign-key checks pass.
    /// Reads one consistent snapshot of the catalog; safe on a running lake (writers go on meanwhile).
    public func checkConsistency(verifyChecksums: Bool = true, limit: Int = 50) async throws -> ConsistencyReport {
        var report = try await db.read { db in try Self.checkConsistency(db, verifyChecksums: verifyChecksums, limit: limit) }
        report.problems += markFindings(commitCount: try commitCount())
        return report
    }

    static func checkConsistency(_ db: Database, verifyChecksums: Bool, limit: Int) throws -> ConsistencyReport {
        var report = ConsistencyReport()
        var counts: [String: Int] = [:]
        func problem(_ kind: String, _ detail: @autoclosure () -> String) {
            counts[kind, default: 0] += 1
            if counts[kind]! <= limit { report.problems.append(.init(kind: kind, detail: detail())) }
        }
        func lost(_ detail: @autoclosure () -> String) {
            counts["lost:lost-replica", default: 0] += 1
            if counts["lost:lost-replica"]! <= limit { report.lost.append(.init(kind: "lost-replica", detail: detail())) }
        }
        func note(_ kind: String, _ detail: @autoclosure () -> String) {
            counts["note:" + kind, default: 0] += 1
            if counts["note:" + kind]! <= limit { report.notes.append(.init(kind: kind, detail: detail())) }
        }

        let quick = try String.fetchAll(db, sql: "PRAGMA quick_check")
        if quick != ["ok"] { problem("sqlite-integrity", "SQLite quick_check: \(quick.prefix(5).joined(separator: "; "))") }
        for row in try Row.fetchAll(db, sql: "PRAGMA foreign_key_check") {
            problem("foreign-key", "Row \(row[1] ?? "?") of table \(row[0] ?? "?") points at a missing row of \(row[2] ?? "?")")
        }

        // Locks against their rules and replicas.
        report.locks = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM locks") ?? 0
        for row in try Row.fetchAll(
            db, sql: "SELECT l.rule_id, l.scope, l.name FROM locks l LEFT JOIN rules r ON r.id = l.rule_id WHERE r.id IS NULL LIMIT ?",
            arguments: [limit])
        {
            problem(
                "lock-without-rule",
                "Lock on \(row["scope"] as String):\(row["name"] as String) belongs to rule \(row["rule_id"] as String), which does not exist")
        }
        for row in try Row.fetchAll(
            db,
            sql: """
                SELECT l.rule_id, l.scope, l.name, l.state AS lock_state, s.rse, p.state AS replica_state
                FROM locks l JOIN rses s ON s.id = l.rse_id
                LEFT JOIN replicas p ON p.rse_id = l.rse_id AND p.scope = l.scope AND p.name = l.name
                WHERE p.state IS NULL OR (l.state = \(LockState.ok.sql) AND p.state NOT IN (\(ReplicaState.available.sql), \(ReplicaState.bad.sql)))
                  OR (l.state = \(LockState.replicating.sql) AND p.state = \(ReplicaState.available.sql))
                LIMIT ?
                """, arguments: [limit])
        {
            let did = "\(row["scope"] as String):\(row["name"] as String)"
            let rse: String = row["rse"]
            if let rs = row["replica_state"] as String? {
                problem(
                    "lock-state",
                    "Lock of rule \(row["rule_id"] as String) on \(did) at \(rse) is \(row["lock_state"] as String) but the replica is \(ReplicaState(rawValue: rs)?.name ?? rs)"
                )
            } else {
                problem("lock-without-replica", "Lock of rule \(row["rule_id"] as String) on \(did) at \(rse) has no replica")
            }
        }
        for row in try Row.fetchAll(
            db,
            sql: """
                SELECT l.rule_id, l.scope, l.name, s.rse FROM locks l JOIN rses s ON s.id = l.rse_id
                JOIN replicas p ON p.rse_id = l.rse_id AND p.scope = l.scope AND p.name = l.name
                WHERE l.state = \(LockState.replicating.sql) AND p.state != \(ReplicaState.copying.sql) AND NOT EXISTS (SELECT 1 FROM requests q WHERE q.scope = l.scope AND q.name = l.name
                    AND q.dest_rse_id = l.rse_id AND q.state IN \(RequestState.live.sql))
                LIMIT ?
                """, arguments: [limit])
        {
            problem(
                "stranded-lock",
                "Lock of rule \(row["rule_id"] as String) on \(row["scope"] as String):\(row["name"] as String) at \(row["rse"] as String) is REPLICATING with no transfer request to finish it"
            )
        }

        // Rule counters and states against their locks.
        report.rules = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM rules") ?? 0
        for row in try Row.fetchAll(
            db,
            sql: """
                SELECT r.id, r.state, r.locks_ok_cnt, r.locks_replicating_cnt, r.locks_stuck_cnt,
                       COALESCE(c.ok, 0) AS ok, COALESCE(c.rep, 0) AS rep, COALESCE(c.stuck, 0) AS stuck
                FROM rules r LEFT JOIN (SELECT rule_id, SUM(state = \(LockState.ok.sql)) AS ok, SUM(state = \(LockState.replicating.sql)) AS rep, SUM(state = \(LockState.stuck.sql)) AS stuck
                                        FROM locks GROUP BY rule_id) c ON c.rule_id = r.id
                """)
        {
            let id: String = row["id"]
            let state: String = row["state"]
            let have = [row["locks_ok_cnt"] as Int, row["locks_replicating_cnt"] as Int, row["locks_stuck_cnt"] as Int]
            let want = [row["ok"] as Int, row["rep"] as Int, row["stuck"] as Int]
            if have != want {
                problem(
                    "rule-counters",
                    "Rule \(id) counts OK/REPLICATING/STUCK \(have.map(String.init).joined(separator: "/")) but its locks are \(want.map(String.init).joined(separator: "/"))"
                )
            }
            let expected = want[2] > 0 ? "S" : (want[1] > 0 ? "R" : "O")
            if ["O", "R", "S"].contains(state) && state != expected {
                problem(
                    "rule-state",
                    "Rule \(id) is \(RuleState(rawValue: state)?.name ?? state) but its locks make it \(RuleState(rawValue: expected)?.name ?? expected)"
                )
            }
        }
        for row in try Row.fetchAll(
            db,
            sql: """
                SELECT p.scope, p.name, s.rse, p.lock_cnt, COALESCE(c.n, 0) AS n FROM replicas p JOIN rses s ON s.id = p.rse_id
                LEFT JOIN (SELECT scope, name, rse_id, COUNT(*) AS n FROM locks GROUP BY scope, name, rse_id) c
                  ON c.scope = p.scope AND c.name = p.name AND c.rse_id = p.rse_id
                WHERE p.lock_cnt != COALESCE(c.n, 0) LIMIT ?
                """, arguments: [limit])
        {
            problem(
                "replica-lock-count",
                "Replica \(row["scope"] as String):\(row["name"] as String) at \(row["rse"] as String) counts \(row["lock_cnt"] as Int) locks but has \(row["n"] as Int)"
            )
        }
        report.liveRequests = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM requests WHERE state IN \(RequestState.live.sql)") ?? 0

        // Replicas against the bytes on disk, one RSE at a time.
        for rseRow in try Row.fetchAll(db, sql: "SELECT id, rse, root FROM rses WHERE deleted = 0 ORDER BY rse") {
            let rseID: String = rseRow["id"]
            let rse: String = rseRow["rse"]
            let root = (((rseRow["root"] as String?) ?? "") as NSString).standardizingPath
            var byPath: [String: (did: String, bytes: Int64, adler32: String?, state: String)] = [:]
            let cursor = try Row.fetchCursor(
                db, sql: "SELECT scope, name, bytes, adler32, path, state, virtual, unverified FROM replicas WHERE rse_id = ?", arguments: [rseID])
            while let r = try cursor.next() {
                report.replicas += 1
                guard (r["virtual"] as Int) == 0, let path = r["path"] as String? else { continue }
                let did = "\(r["scope"] as String):\(r["name"] as String)"
                let normal = path.split(separator: "/", omittingEmptySubsequences: true).joined(separator: "/")
                byPath[normal] = (did, r["bytes"], r["adler32"], r["state"])
                guard (r["state"] as String) == ReplicaState.available.rawValue else { continue }
                // A replica the client registered without Lakebed seeing its bytes is lost by the client; any other is Lakebed's promise.
                let claimed = (r["unverified"] as Int) != 0
                func missing(_ why: String) {
                    if claimed {
                        lost("\(did) at \(rse) is AVAILABLE (registered by a client) \(why): declare it bad, or put its bytes in place")
                    } else {
                        problem("available-without-bytes", "\(did) at \(rse) is AVAILABLE \(why)")
                    }
                }
                guard let full = try? containedPath(root: root, relative: path) else {
                    missing("but its path \(path) leaves the RSE root")
                    continue
                }
                let size = (try? FileManager.default.attributesOfItem(atPath: full)[.size] as? NSNumber)?.int64Value
                guard let size else {
                    missing("but \(full) does not exist")
                    continue
                }
                guard size == (r["bytes"] as Int64) else {
                    missing("with \(r["bytes"] as Int64) bytes but \(full) has \(size)")
                    continue
                }
                if verifyChecksums, let want = r["adler32"] as String?, let got = try? Checksums.ofFile(at: full).adler32, got != want.lowercased() {
                    missing("with adler32 \(want) but \(full) has \(got)")
                    continue
                }
                report.bytesVerified += 1
            }
            // Every file under the RSE: in-progress writes are hidden; anything under a replica's name must be whole.
            guard !root.isEmpty, let walker = FileManager.default.enumerator(atPath: root) else { continue }
            while let rel = walker.nextObject() as? String {
                let full = root + "/" + rel
                var isDir: ObjCBool = false
                guard FileManager.default.fileExists(atPath: full, isDirectory: &isDir), !isDir.boolValue else { continue }
                report.filesOnDisk += 1
                let base = (rel as NSString).lastPathComponent
                if RSEStorage.isPartial(base) || base.hasSuffix(".rucio.upload") {
                    note("partial-file", "\(rse): \(rel) is an unfinished write under a hidden name")
                    continue
                }
                guard let want = byPath[rel] else {
                    note("orphan-file", "\(rse): \(rel) is not a registered replica")
                    continue
                }
                if want.state == ReplicaState.available.rawValue { continue }  // checked above
                if want.state == ReplicaState.bad.rawValue { continue }  // declared bad: its bytes are known to be wrong
                let size = (try? FileManager.default.attributesOfItem(atPath: full)[.size] as? NSNumber)?.int64Value ?? -1
                var whole = size == want.bytes
                if whole, verifyChecksums, let sum = want.adler32, let got = try? Checksums.ofFile(at: full).adler32 {
                    whole = got == sum.lowercased()
                }
                if !whole {
                    problem(
                        "half-written-file",
                        "\(rse): \(rel) (\(want.did), \(ReplicaState(rawValue: want.state)?.name ?? want.state)) holds \(size) bytes that are not the file's \(want.bytes)"
                    )
                }
            }
        }
        for (kind, n) in counts where n > limit {
            let k = kind.hasPrefix("note:") ? String(kind.dropFirst(5)) : kind.hasPrefix("lost:") ? String(kind.dropFirst(5)) : kind
            let line = ConsistencyReport.Finding(kind: k, detail: "… and \(n - limit) more \(k) findings")
            if kind.hasPrefix("note:") {
                report.notes.append(line)
            } else if kind.hasPrefix("lost:") {
                report.lost.append(line)
            } else {
                report.problems.append(line)
            }
        }
        return report
    }
}
