import Foundation
import GRDB
import Synchronization

/// Where the writer's time goes, statement by statement: with `LAKEBED_SQL_PROFILE=FILE` in the environment, the
/// writer connection of every catalog the process opens records how long each statement ran (SQLite's profile trace:
/// from its first step to its end, triggers included) and how often, and the totals are written to FILE, the most
/// costly first, when the process exits. For finding what to batch next in a large simulation; off by default, and
/// then it costs nothing.
enum SQLProfile {
    /// The file named by `LAKEBED_SQL_PROFILE` (nil: not profiling).
    static let target: String? = ProcessInfo.processInfo.environment["LAKEBED_SQL_PROFILE"].flatMap { $0.isEmpty ? nil : $0 }

    struct Entry {
        var count = 0
        var seconds = 0.0
    }
    static let totals = Mutex<[String: Entry]>([:])
    static let registered = Mutex(false)

    /// Traces `db` (a writer connection) when profiling is on.
    static func attach(_ db: Database) {
        guard target != nil else { return }
        registered.withLock { done in
            if !done { atexit { SQLProfile.write() } }
            done = true
        }
        db.trace(options: .profile) { event in
            guard case let .profile(statement, duration) = event else { return }
            let sql = statement.sql
            totals.withLock { t in
                t[sql, default: Entry()].count += 1
                t[sql, default: Entry()].seconds += duration
            }
        }
    }

    /// Writes the totals, the most costly statement first.
    static func write() {
        guard let target else { return }
        let rows = totals.withLock { $0 }.sorted { $0.value.seconds > $1.value.seconds }
        let all = rows.reduce(0) { $0 + $1.value.seconds }
        var out = String(format: "%.3f s in %d statements\n", all, rows.reduce(0) { $0 + $1.value.count })
        for (sql, e) in rows {
            let flat = sql.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
            out += String(format: "%8.3f s %5.1f%% %10d × %7.2f µs  ", e.seconds, all > 0 ? e.seconds / all * 100 : 0, e.count, e.seconds / Double(max(1, e.count)) * 1e6)
            out += flat + "\n"
        }
        FileManager.default.createFile(atPath: target, contents: Data(out.utf8))
    }
}
