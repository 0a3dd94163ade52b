import Foundation
import Hummingbird
import LakebedCore

extension RucioAPI {
    func registerReplicas(_ t: inout RouteTable) {
        let list: RouteTable.Handler = { r in
            let b = try r.jsonObject()
            var q = ReplicaStore.ReplicaQuery()
            q.schemes = try b.optionalArray("schemes")?.compactMap(\.stringValue)
            q.rseExpression = try b.optionalString("rse_expression")
            q.allStates = try b.optionalBool("all_states") ?? false
            q.resolveParents = try b.optionalBool("resolve_parents") ?? false
            q.ignoreAvailability = try b.optionalBool("ignore_availability") ?? true
            q.limit = r.q("limit").flatMap { Int($0) }
            // Rucio lists nothing, without an error, for DIDs it does not know (and for no DIDs at all).
            let dids = try await catalog.replicas.knownDIDs(try Self.didRefs(try b.optionalArray("dids") ?? []))
            if let n = try b.optionalInt("nrandom"), n > 0 {
                // Rucio samples `nrandom` files at random; Lakebed by a hash of their names, so a replay lists the same ones.
                var files = try await catalog.replicas.listReplicas(dids, query: q)
                if files.count > n {
                    let chosen = Set(files.map { "\($0.scope):\($0.name)" }.sorted { md5Hex($0) < md5Hex($1) }.prefix(Int(n)))
                    files = files.filter { chosen.contains("\($0.scope):\($0.name)") }
                }
                if (r.header("Accept") ?? "").contains("metalink") { return Self.metalink(files, parents: q.resolveParents) }
                return Reply.stream(files.map { Self.replicaDoc($0, allStates: q.allStates, parents: q.resolveParents) })
            }
            if (r.header("Accept") ?? "").contains("metalink") {
                return Self.metalink(try await catalog.replicas.listReplicas(dids, query: q), parents: q.resolveParents)
            }
            return try await streamReplicas(dids, q)
        }
        t.add(
            .post, "/replicas/list",
            doc: RouteDoc(
                "List replicas of DIDs", query: "limit:int",
                body: "dids!:[did] schemes:[string] rse_expression:string all_states:bool resolve_parents:bool ignore_availability:bool nrandom:int"),
            statuses: [.dataIdentifierNotFound: .badRequest], list)
        t.add(
            .post, "/replicas",
            doc: RouteDoc("Register replicas (their bytes must be on the RSE)", body: "rse!:string files!:[file] ignore_availability:bool")
        ) { r in
            let b = try r.jsonObject()
            try await catalog.replicas.addReplicas(
                rse: try b.requiredString("rse"), files: try Self.fileSpecs(try b.requiredArray("files")),
                ignoreAvailability: try b.optionalBool("ignore_availability") ?? false, issuer: r.caller)
            return Reply.created()
        }
        t.add(.put, "/replicas", doc: RouteDoc("Update replica states", body: "rse!:string files!:[file]")) { r in
            let b = try r.jsonObject()
            try await catalog.replicas.updateReplicaStates(
                rse: try b.requiredString("rse"), files: try Self.fileSpecs(try b.requiredArray("files")), issuer: r.caller)
            return Reply.ok()
        }
        t.add(.delete, "/replicas", doc: RouteDoc("Delete replicas", body: "rse!:string files!:[did]")) { r in
            let b = try r.jsonObject()
            try await catalog.replicas.deleteReplicas(
                rse: try b.requiredString("rse"), files: try Self.didRefs(try b.requiredArray("files")), issuer: r.caller)
            return Reply.ok()
        }
        t.add(.get, "/replicas/:scope/:name/datasets", doc: RouteDoc("Dataset replicas")) { r in
            let did = DIDRef(r.param("scope"), r.param("name"))
            return Reply.stream(try await catalog.replicas.datasetReplicas(did.scope, did.name).map { Doc.datasetReplica(did, $0) })
        }
        t.add(.get, "/replicas/:scope", doc: RouteDoc("A scope alone (always 400, as Rucio)")) { _ in
            // A scope alone (ESAP's `replicas/<scope>/`) cannot be split into scope and name: Rucio answers 400.
            throw RucioError.valueError("cannot parse scope and name")
        }
        t.add(.get, "/replicas/:scope/:name", doc: RouteDoc("Replicas of a DID", query: "schemes:string limit:int")) { r in
            var q = ReplicaStore.ReplicaQuery()
            if let s = r.q("schemes") { q.schemes = s.split(separator: ",").map(String.init) }
            q.limit = r.q("limit").flatMap { Int($0) }
            // As for DIDs, a trailing slash is part of the name (`file1.dat/` is another, unknown, file).
            let dids = try await catalog.replicas.knownDIDs([
                DIDRef(r.param("scope"), r.param("name") + (r.request.uri.path.hasSuffix("/") ? "/" : ""))
            ])
            if (r.header("Accept") ?? "").contains("metalink") {
                return Self.metalink(try await catalog.replicas.listReplicas(dids, query: q), parents: false)
            }
            return try await streamReplicas(dids, q)
        }
    }

    /// A replica listing streamed page by page (see `Reply.streamPages`).
    func streamReplicas(_ dids: [DIDRef], _ q: ReplicaStore.ReplicaQuery) async throws -> Response {
        let store = catalog.replicas
        return try await Reply.streamTextPages(listings, from: ListingCursor(position: DIDStore.FileWalk(), given: 0)) { cursor in
            let (files, next) = try await store.listReplicasPage(dids, query: q, cursor: cursor, pageSize: Reply.pageSize)
            var lines = ReplicaLines(allStates: q.allStates, parents: q.resolveParents)
            return (lines.text(files), next.position == nil ? nil : next)
        }
    }

    /// One file of a replica listing, as `list_replicas` returns it.
    static func replicaDoc(_ f: ReplicaStore.FileReplicas, allStates: Bool, parents: Bool) -> JSON {
        var pfns = JSONObject()
        var rses = JSONObject()
        var states = JSONObject()
        var ranked: [(String, JSON)] = []
        for rep in f.replicas {
            var list: [JSON] = []
            for p in rep.protocols.sorted(by: {
                ($0.priority(domain: "wan", operation: "read") ?? 99, $0.scheme) < ($1.priority(domain: "wan", operation: "read") ?? 99, $1.scheme)
            }) {
                let pfn = p.pfn(path: rep.path)
                list.append(.string(pfn))
                ranked.append(
                    (
                        pfn,
                        [
                            "rse_id": .string(rep.rse.id), "rse": .string(rep.rse.rse), "type": .string(rep.rse.rseType),
                            "volatile": .bool(rep.rse.volatile),
                            "domain": "wan", "priority": .int(p.priority(domain: "wan", operation: "read") ?? 1), "client_extract": false,
                        ]
                    ))
            }
            rses[rep.rse.rse] = .array(list)
            states[rep.rse.rse] = .string(rep.state.name)
        }
        for (i, (pfn, info)) in ranked.enumerated() {
            var o = info.objectValue!
            o["priority"] = .int(Int64(i + 1))
            pfns[pfn] = .object(o)
        }
        var doc = JSONObject([
            ("scope", .string(f.scope)), ("name", .string(f.name)), ("bytes", .num(f.bytes)), ("md5", .str(f.md5)), ("adler32", .str(f.adler32)),
            ("pfns", .object(pfns)), ("rses", .object(rses)), ("states", .object(states)),
        ])
        if parents { doc["parents"] = .array(f.parents.map { .string($0) }) }
        return .object(doc)
    }

    static func xml(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
            .replacingOccurrences(of: "\"", with: "&quot;").replacingOccurrences(of: "'", with: "&apos;")
    }

    /// The metalink document the download client asks for.
    static func metalink(_ files: [ReplicaStore.FileReplicas], parents: Bool) -> Response {
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<metalink xmlns=\"urn:ietf:params:xml:ns:metalink\">\n"
        for f in files {
            out += " <file name=\"\(xml(f.name))\">\n"
            if parents {
                out += "  <parents>\n"
                for p in f.parents { out += "   <did>\(xml(p))</did>\n" }
                out += "  </parents>\n"
            }
            out += "  <identity>\(xml(f.scope)):\(xml(f.name))</identity>\n"
            if let a = f.adler32 { out += "  <hash type=\"adler32\">\(xml(a))</hash>\n" }
            if let m = f.md5 { out += "  <hash type=\"md5\">\(xml(m))</hash>\n" }
            out += "  <size>\(f.bytes ?? 0)</size>\n"
            out += "  <glfn name=\"/atlas/rucio/\(xml(f.scope)):\(xml(f.name))\"></glfn>\n"
            var prio = 1
            for rep in f.replicas {
                for p in rep.protocols {
                    out +=
                        "  <url location=\"\(xml(rep.rse.rse))\" domain=\"wan\" priority=\"\(prio)\" client_extract=\"false\">\(xml(p.pfn(path: rep.path)))</url>\n"
                    prio += 1
                }
            }
            out += " </file>\n"
        }
        out += "</metalink>\n"
        return Reply.make(.ok, "application/metalink4+xml", out)
    }
}
