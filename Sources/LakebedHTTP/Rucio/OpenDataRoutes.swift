import Foundation
import Hummingbird
import LakebedCore

extension RucioAPI {
    /// `/opendata` (behind a token) and `/opendata/public` (open): Rucio 41's open data catalog.
    func registerOpenData(_ t: inout RouteTable) {
        // Rucio's open data views answer every error they do not name with 400, whatever its class.
        let statuses: [RucioExceptionClass: HTTPResponse.Status] = [
            .configNotFound: .badRequest, .dataIdentifierNotFound: .notFound, .scopeNotFound: .badRequest, .invalidObject: .badRequest,
        ]
        let list: @Sendable (RucioRequest, Bool) async throws -> Response = { r, isPublic in
            let state = try isPublic ? .public : r.q("state").map(OpenDataState.init(validating:))
            // Flask's `type=int`: a value that is not an integer counts as absent.
            let page = try await catalog.openData.list(
                state: state, limit: r.q("limit").flatMap { Int($0) }, offset: r.q("offset").flatMap { Int($0) })
            return Reply.json(["total": .int(Int64(page.total)), "offset": .int(Int64(page.offset)), "dids": .array(page.dids.map(Self.openDataRow))])
        }
        let get: @Sendable (RucioRequest, Bool) async throws -> Response = { r, isPublic in
            let (scope, name) = (r.param("scope"), r.param("name"))
            let state = try isPublic ? .public : r.q("state").map(OpenDataState.init(validating:))
            let flag = { (key: String, def: String) in (r.q(key) ?? def).lowercased() == "1" }
            let entry = try await catalog.openData.get(scope: scope, name: name, state: state)
            var doc = Self.openDataRow(entry).objectValue ?? JSONObject()
            if flag("doi", "1") { doc["doi"] = JSON.str(entry.doi) }
            if flag("record_id", "1") { doc["record_id"] = JSON.num(entry.recordID) }
            if flag("meta", "0") { doc["meta"] = .object(entry.meta) }
            doc["rule"] = JSON.str(try await catalog.openData.rule(scope: scope, name: name))
            if flag("files", "0") {
                let files = try await catalog.openData.files(scope: scope, name: name)
                doc["files"] = .array(
                    files.map { f in
                        [
                            "scope": .string(f.did.scope), "name": .string(f.did.name), "bytes": JSON.num(f.did.bytes),
                            "adler32": JSON.str(f.did.adler32),
                            "uris": .array(f.uris.map { .string($0) }),
                        ]
                    })
                var extensions = Set<String>()
                for f in files {
                    for u in f.uris {
                        let file = u.split(separator: "/").last.map(String.init) ?? ""
                        if let dot = file.lastIndex(of: ".") { extensions.insert(String(file[file.index(after: dot)...])) }
                    }
                }
                doc["files_summary"] = [
                    "length": .int(Int64(files.count)), "bytes": .int(files.reduce(0) { $0 + ($1.did.bytes ?? 0) }),
                    "extensions": .array(extensions.sorted().map { .string($0) }),
                    "replicas_missing": .int(Int64(files.filter { $0.uris.isEmpty }.count)),
                ]
            }
            return Reply.json(.object(doc))
        }
        let listQuery = "state:draft|public|suspended limit:int offset:int"
        let getQuery = "state:draft|public|suspended files:0|1 meta:0|1 doi:0|1 record_id:0|1"
        t.add(.get, "/opendata/dids", doc: RouteDoc("The open data catalog", query: listQuery), statuses: statuses) { try await list($0, false) }
        t.add(
            .get, "/opendata/public/dids", auth: false, doc: RouteDoc("The public part of the open data catalog", query: "limit:int offset:int"),
            statuses: statuses
        ) {
            try await list($0, true)
        }
        t.add(.get, "/opendata/dids/:scope/:name", doc: RouteDoc("An open data DID", query: getQuery), statuses: statuses) {
            try await get($0, false)
        }
        t.add(
            .get, "/opendata/public/dids/:scope/:name", auth: false,
            doc: RouteDoc("A public open data DID", query: "files:0|1 meta:0|1 doi:0|1 record_id:0|1"),
            statuses: statuses
        ) { try await get($0, true) }
        t.add(.post, "/opendata/dids/:scope/:name", doc: RouteDoc("Put a DID into the open data catalog (as a draft)"), statuses: statuses) { r in
            try await catalog.openData.add(scope: r.param("scope"), name: r.param("name"), issuer: r.caller)
            return Reply.make(.created, "application/json", "")
        }
        t.add(
            .put, "/opendata/dids/:scope/:name", doc: RouteDoc("Change an open data DID", body: "state:string meta:object doi:string record_id:int"),
            statuses: statuses
        ) { r in
            let b = try r.jsonObject()
            var u = OpenDataStore.Update()
            u.state = try b.optionalString("state").map(OpenDataState.init(validating:))
            if let meta = b["meta"], !meta.isNull {
                // Rucio also takes the metadata as a JSON string.
                if let s = meta.stringValue {
                    guard let o = (try? JSONParser.parse(Array(s.utf8)))?.objectValue else { throw RucioError.valueError("Invalid JSON: \(s)") }
                    u.meta = o
                } else if let o = meta.objectValue {
                    u.meta = o
                } else {
                    throw RucioError(.inputValidationError, "'meta' must be a dictionary.")
                }
            }
            u.doi = try b.optionalString("doi")
            u.recordID = try b.optionalInt("record_id")
            let changed = try await catalog.openData.update(scope: r.param("scope"), name: r.param("name"), u, issuer: r.caller)
            return Reply.json(.object(changed))
        }
        t.add(.delete, "/opendata/dids/:scope/:name", doc: RouteDoc("Take a draft out of the open data catalog"), statuses: statuses) { r in
            try await catalog.openData.delete(scope: r.param("scope"), name: r.param("name"), issuer: r.caller)
            return Reply.make(.noContent, "application/json", "")
        }
    }

    static func openDataRow(_ d: OpenDataDID) -> JSON {
        [
            "scope": .string(d.scope), "name": .string(d.name), "state": .string(d.state.name), "created_at": .date(d.createdAt),
            "updated_at": .date(d.updatedAt),
        ]
    }
}
