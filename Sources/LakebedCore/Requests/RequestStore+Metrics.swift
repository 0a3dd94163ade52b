import Foundation
import GRDB

extension RequestStore {
    /// Transfer metrics per link, as Rucio's `get_request_metrics` builds them: queued requests by activity (those
    /// with a source), files and bytes done or failed in the last hour and six hours, and the link's distance.
    /// Keyed `SRC:DST`, each with `src_rse` and `dst_rse`.
    public func metrics(source: String?, destination: String?, activity: String?) async throws -> [(String, JSONObject)] {
        let now = nowStamp
        return try await db.read { db in
            let src = try source.map { try RSEStore.rse(db, name: $0).id }
            let dst = try destination.map { try RSEStore.rse(db, name: $0).id }
            var filter = ""
            var args: [any DatabaseValueConvertible] = []
            if let src {
                filter += " AND source_rse_id = ?"
                args.append(src)
            }
            if let dst {
                filter += " AND dest_rse_id = ?"
                args.append(dst)
            }
            if let activity {
                filter += " AND activity = ?"
                args.append(activity)
            }
            var order: [String] = []
            var metrics: [String: JSONObject] = [:]
            func entry(_ s: String, _ d: String, _ change: (inout JSONObject) -> Void) {
                let key = s + "\u{0}" + d
                if metrics[key] == nil {
                    order.append(key)
                    metrics[key] = JSONObject()
                }
                change(&metrics[key]!)
            }
            func add(_ o: inout JSONObject, _ path: [String], _ n: Int64) {
                guard let head = path.first else { return }
                if path.count == 1 {
                    o[head] = .int((o[head]?.intValue ?? 0) + n)
                    return
                }
                var inner = o[head]?.objectValue ?? JSONObject()
                add(&inner, Array(path.dropFirst()), n)
                o[head] = .object(inner)
            }
            for row in try db.all(
                sql: """
                    SELECT source_rse_id, dest_rse_id, COALESCE(activity, 'default') AS activity, COUNT(*) AS n, COALESCE(SUM(bytes), 0) AS b FROM requests
                    WHERE state = \(RequestState.queued.sql) AND source_rse_id IS NOT NULL\(filter) GROUP BY source_rse_id, dest_rse_id, activity ORDER BY source_rse_id, dest_rse_id, activity
                    """, arguments: StatementArguments(args))
            {
                let a: String = row["activity"]
                let n: Int64 = row["n"]
                let b: Int64 = row["b"]
                entry(row["source_rse_id"], row["dest_rse_id"]) { o in
                    add(&o, ["files", "queued", a], n)
                    add(&o, ["files", "queued-total"], n)
                    add(&o, ["bytes", "queued", a], b)
                    add(&o, ["bytes", "queued-total"], b)
                }
            }
            for (seconds, label) in [(3600.0, "1h"), (21600.0, "6h")] {
                for row in try db.all(
                    sql: """
                        SELECT source_rse_id, dest_rse_id, COALESCE(activity, 'default') AS activity, SUM(state = \(RequestState.done.sql)) AS done, SUM(state = \(RequestState.failed.sql)) AS failed,
                          COALESCE(SUM(CASE WHEN state = \(RequestState.done.sql) THEN bytes ELSE 0 END), 0) AS b FROM requests
                        WHERE state IN \([RequestState.done, .failed].sql) AND source_rse_id IS NOT NULL AND updated_at >= ?\(filter)
                        GROUP BY source_rse_id, dest_rse_id, activity ORDER BY source_rse_id, dest_rse_id, activity
                        """, arguments: StatementArguments([now - seconds] + args))
                {
                    let a: String = row["activity"]
                    let done: Int64 = row["done"]
                    let failed: Int64 = row["failed"]
                    let b: Int64 = row["b"]
                    entry(row["source_rse_id"], row["dest_rse_id"]) { o in
                        if done > 0 {
                            add(&o, ["files", "done", a, label], done)
                            add(&o, ["files", "done-total-\(label)"], done)
                        }
                        if failed > 0 {
                            add(&o, ["files", "failed", a, label], failed)
                            add(&o, ["files", "failed-total-\(label)"], failed)
                        }
                        if b > 0 { add(&o, ["bytes", "done", a, label], b) }
                        add(&o, ["bytes", "done-total-\(label)"], b)
                    }
                }
            }
            var dfilter = ""
            var dargs: [any DatabaseValueConvertible] = []
            if let src {
                dfilter += " AND src_rse_id = ?"
                dargs.append(src)
            }
            if let dst {
                dfilter += " AND dest_rse_id = ?"
                dargs.append(dst)
            }
            for row in try db.all(
                sql: "SELECT src_rse_id, dest_rse_id, distance FROM distances WHERE 1\(dfilter) ORDER BY src_rse_id, dest_rse_id",
                arguments: StatementArguments(dargs))
            {
                entry(row["src_rse_id"], row["dest_rse_id"]) { o in o["distance"] = .int(row["distance"]) }
            }
            var out: [(String, JSONObject)] = []
            for key in order {
                let ids = key.split(separator: "\u{0}", omittingEmptySubsequences: false).map(String.init)
                let s = try RSEStore.rse(db, id: ids[0]).rse
                let d = try RSEStore.rse(db, id: ids[1]).rse
                var o = metrics[key]!
                o["src_rse"] = .string(s)
                o["dst_rse"] = .string(d)
                out.append(("\(s):\(d)", o))
            }
            return out
        }
    }
}
