import Foundation
import Hummingbird
import LakebedCore

extension RucioAPI {
    /// `/export` and `/import`: RSEs, protocols, attributes, distances (and, on import, accounts) in Rucio's format.
    func registerExport(_ t: inout RouteTable) {
        t.add(
            .get, "/export",
            doc: RouteDoc("Export RSEs (settings, attributes, protocols, MinFreeSpace) and distances; root only", query: "distance:bool")
        ) { r in
            Reply.json(try await catalog.exporter.exportData(distance: r.qBool("distance", default: true), by: r.caller))
        }
        t.add(
            .post, "/import",
            doc: RouteDoc(
                "Import RSEs, distances and accounts in the export's format (root or admin)", body: "rses:object distances:object accounts:array")
        ) { r in
            try await catalog.importer.importData(try r.jsonObject(), by: r.caller)
            return Reply.created()
        }
    }
}
