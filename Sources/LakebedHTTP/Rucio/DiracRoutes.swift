import Foundation
import Hummingbird
import LakebedCore

extension RucioAPI {
    /// `/dirac/addfiles`: DIRAC's bulk registration of files by LFN.
    func registerDirac(_ t: inout RouteTable) {
        let add: RouteTable.Handler = { r in
            let b = try r.jsonObject()
            let files = try b.requiredArray("lfns").map { item -> DiracFile in
                guard let o = item.objectValue else { throw RucioError.typeError("each lfn must be a dictionary") }
                return DiracFile(
                    lfn: try o.requiredString("lfn"), rse: try o.requiredString("rse"), bytes: try o.optionalInt("bytes"),
                    adler32: try o.optionalString("adler32"), guid: try o.optionalString("guid"), pfn: try o.optionalString("pfn"),
                    meta: try o.optionalObject("meta") ?? JSONObject())
            }
            var parents: [String: JSONObject] = [:]
            for (name, meta) in try b.optionalObject("parents_metadata") ?? JSONObject() {
                guard let m = meta.objectValue else { throw RucioError.typeError("parents_metadata values must be dictionaries") }
                parents[name] = m
            }
            let ignore = try b.optionalBool("ignore_availability") ?? false
            try await catalog.dirac.addFiles(files, ignoreAvailability: ignore, parentsMetadata: parents, issuer: r.caller)
            return Reply.created()
        }
        // Rucio's view answers these classes itself; UnsupportedOperation (a folder that is a container, not a dataset) with 405.
        let statuses: [RucioExceptionClass: HTTPResponse.Status] = [.unsupportedOperation: .methodNotAllowed]
        let doc = RouteDoc("Register DIRAC files by LFN", body: "lfns!:[object] ignore_availability:bool parents_metadata:object")
        // `/dirac/addfiles/` too: the route table ignores a trailing slash.
        t.add(.post, "/dirac/addfiles", doc: doc, statuses: statuses, add)
    }
}
