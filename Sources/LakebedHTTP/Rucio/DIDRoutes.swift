import Foundation
import Hummingbird
import LakebedCore

extension RucioAPI {
    func registerDIDs(_ t: inout RouteTable) {
        t.add(
            .get, "/dids/:scope/dids/search",
            doc: RouteDoc(
                "Search DIDs in a scope",
                query: "type:all|collection|container|dataset|file|derived filters:string limit:int long:bool recursive:bool name:string")
        ) { r in
            let type = r.q("type") ?? r.q("did_type") ?? "collection"
            var dicts: [JSONObject] = []
            if let raw = r.q("filters") {
                let parsed = try PythonLiteral.parse(raw)
                switch parsed {
                case .array(let items):
                    for i in items {
                        guard let o = i.objectValue else { throw RucioError(.didFilterSyntaxError, "filters must be a list of dictionaries") }
                        dicts.append(o)
                    }
                case .object(let o): dicts = [o]
                default: throw RucioError(.didFilterSyntaxError, "filters must be a list of dictionaries")
                }
            } else {
                var o = JSONObject()
                for (k, v) in r.query where !["type", "did_type", "limit", "long", "recursive"].contains(k) { o[k] = .string(v) }
                dicts = [o]
            }
            let limit = r.q("limit").flatMap { Int($0) }.map { max(0, $0) }
            let filter = try DIDFilter.fromDictionaries(dicts)
            let long = r.qBool("long")
            let scope = r.param("scope")
            let store = catalog.dids
            // Streamed by name, a page at a time: the cursor is the last name given.
            return try await Reply.streamTextPages(listings, from: ListingCursor<String>(position: "", given: 0)) { cursor in
                let want = min(Reply.pageSize, limit.map { $0 - cursor.given } ?? Reply.pageSize)
                let hits =
                    want <= 0
                    ? []
                    : try await store.searchDIDs(
                        scope: scope, filter: filter, type: type, limit: want,
                        after: cursor.position == "" ? nil : cursor.position)
                let done = hits.count < want || want <= 0
                return (Self.searchLines(hits, long: long), done ? nil : ListingCursor(position: hits.last?.name, given: cursor.given + hits.count))
            }
        }
        t.add(.get, "/dids/:scope", doc: RouteDoc("List a scope (or a DID by name)", query: "name:string recursive:bool")) { r in
            let list = try await catalog.dids.scopeList(scope: r.param("scope"), name: r.q("name"), recursive: r.qBool("recursive"))
            return Reply.stream(
                list.map { e in
                    var o = JSONObject([
                        ("scope", .string(e.did.scope)), ("name", .string(e.did.name)), ("type", .string(e.type.rawValue)),
                        ("parent", e.parent.map { ["scope": .string($0.scope), "name": .string($0.name)] } ?? .null), ("level", .int(Int64(e.level))),
                    ])
                    if e.isTopLevel { o["bytes"] = .num(e.bytes) }
                    return .object(o)
                })
        }
        t.add(
            .post, "/dids",
            doc: RouteDoc(
                "Add datasets and containers",
                body:
                    "[] scope!:string name!:string type:DATASET|CONTAINER|FILE account:string meta:object lifetime:number rse:string statuses:object dids:[file] rules:[object]"
            )
        ) { r in
            guard let items = try r.json().arrayValue else { throw RucioError.typeError("body must be a list of DIDs") }
            for item in items {
                guard let o = item.objectValue else { throw RucioError.typeError("each DID must be a dictionary") }
                try await addDID(scope: try o.requiredString("scope"), name: try o.requiredString("name"), body: o, issuer: r.caller)
            }
            return Reply.created()
        }
        t.add(.post, "/dids/attachments", doc: RouteDoc("Attach DIDs to collections", body: "attachments!:[object] ignore_duplicate:bool")) { r in
            let j = try r.json()
            var ignoreDuplicate = false
            var items: [JSON]
            if let o = j.objectValue {
                ignoreDuplicate = try o.optionalBool("ignore_duplicate") ?? false
                items = try o.requiredArray("attachments")
            } else if let a = j.arrayValue {
                items = a
            } else {
                throw RucioError.typeError("body must be a list of attachments")
            }
            var attachments: [(parent: DIDRef, children: [FileSpec], rse: String?)] = []
            for item in items {
                guard let o = item.objectValue else { throw RucioError.typeError("each attachment must be a dictionary") }
                attachments.append(
                    (
                        DIDRef(try o.requiredString("scope"), try o.requiredString("name")), try Self.fileSpecs(try o.requiredArray("dids")),
                        try o.optionalString("rse")
                    ))
            }
            try await catalog.dids.attachMany(attachments, issuer: r.caller, ignoreDuplicate: ignoreDuplicate)
            return Reply.created()
        }
        t.add(.get, "/dids/:guid/guid", doc: RouteDoc("Datasets holding the file with a GUID")) { r in
            Reply.stream(try await catalog.dids.datasets(byGUID: r.param("guid")).map { ["scope": .string($0.scope), "name": .string($0.name)] })
        }
        t.add(.get, "/dids/:scope/:name", doc: RouteDoc("A DID", query: "dynamic_depth:FILE|DATASET dynamic:bool")) { r in
            let depth = r.q("dynamic_depth").flatMap { DIDType(loose: $0) } ?? (r.qBool("dynamic") ? .file : nil)
            // Rucio's `/<path:scope_name>` keeps a trailing slash in the name: ESAP's `dids/<scope>/files/` asks for DID `<scope>:files/`.
            let name = r.param("name") + (r.request.uri.path.hasSuffix("/") ? "/" : "")
            return Reply.json(Doc.did(try await catalog.dids.did(r.param("scope"), name, dynamicDepth: depth)))
        }
        t.add(
            .post, "/dids/:scope/:name",
            doc: RouteDoc(
                "Add a dataset or container",
                body: "type:DATASET|CONTAINER|FILE account:string meta:object lifetime:number rse:string statuses:object dids:[file] rules:[object]")
        ) { r in
            try await addDID(scope: r.param("scope"), name: r.param("name"), body: try r.jsonObject(), issuer: r.caller)
            return Reply.created()
        }
        t.add(.get, "/dids/:scope/:name/status", doc: RouteDoc("A DID's status")) { r in
            Reply.json(Doc.did(try await catalog.dids.did(r.param("scope"), r.param("name"), dynamicDepth: nil)))
        }
        t.add(.put, "/dids/:scope/:name/status", doc: RouteDoc("Open or close a collection", body: "open:bool")) { r in
            let b = try r.jsonObject()
            // Rucio tests `open` for Python truth: any non-empty string reopens, as `true` does.
            try await catalog.dids.setStatus(r.param("scope"), r.param("name"), open: b["open"].map(Self.pythonTruth), issuer: r.caller)
            return Reply.ok()
        }
        t.add(.get, "/dids/:scope/:name/dids", doc: RouteDoc("Content of a collection")) { r in
            // A dataset of a million files lists them page by page, as the file listings do.
            let store = catalog.dids, scope = r.param("scope"), name = r.param("name")
            return try await Reply.streamPages(listings, from: ListingCursor<DIDRef>(position: nil, given: 0)) { cursor in
                let (content, next) = try await store.listContentPage(scope, name, after: cursor.position, limit: Reply.pageSize)
                let docs: [JSON] = content.map {
                    [
                        "scope": .string($0.scope), "name": .string($0.name), "type": .string($0.type.rawValue),
                        "bytes": .num($0.bytes), "adler32": .str($0.adler32), "md5": .str($0.md5),
                    ]
                }
                return (docs, next.map { ListingCursor(position: $0, given: cursor.given + content.count) })
            }
        }
        t.add(.post, "/dids/:scope/:name/dids", doc: RouteDoc("Attach DIDs to a collection", body: "dids!:[file] rse:string")) { r in
            let b = try r.jsonObject()
            try await catalog.dids.attach(
                to: DIDRef(r.param("scope"), r.param("name")), children: try Self.fileSpecs(try b.requiredArray("dids")),
                rse: try b.optionalString("rse"), issuer: r.caller)
            return Reply.created()
        }
        t.add(.delete, "/dids/:scope/:name/dids", doc: RouteDoc("Detach DIDs from a collection", body: "dids!:[did]")) { r in
            let b = try r.jsonObject()
            try await catalog.dids.detach(
                from: DIDRef(r.param("scope"), r.param("name")), children: try Self.didRefs(try b.requiredArray("dids")), issuer: r.caller)
            return Reply.ok()
        }
        t.add(.get, "/dids/:scope/:name/files", doc: RouteDoc("Files of a DID", query: "long:bool")) { r in
            let long = r.q("long") != nil
            let scope = r.param("scope")
            let name = r.param("name")
            let store = catalog.dids
            return try await Reply.streamTextPages(listings, from: ListingCursor(position: DIDStore.FileWalk(), given: 0)) { cursor in
                let (files, next) = try await store.listFilesPage(scope, name, cursor: cursor, pageSize: Reply.pageSize)
                return (Self.fileLines(files, long: long), next.position == nil ? nil : next)
            }
        }
        t.add(.get, "/dids/:scope/:name/parents", doc: RouteDoc("Parents of a DID")) { r in
            let parents = try await catalog.dids.listParents(r.param("scope"), r.param("name"))
            return Reply.stream(parents.map { ["scope": .string($0.0.scope), "name": .string($0.0.name), "type": .string($0.1.rawValue)] })
        }
        t.add(.get, "/dids/:scope/:name/meta", doc: RouteDoc("Metadata of a DID", query: "plugin:DID_COLUMN|JSON|ALL")) { r in
            let raw = (r.q("plugin") ?? "DID_COLUMN").uppercased()
            guard let plugin = DIDStore.MetadataPlugin(rawValue: raw) else {
                throw RucioError(.unsupportedMetadataPlugin, "Metadata plugin '\(Validation.printable(raw))' is not supported")
            }
            return Reply.json(.object(try await catalog.dids.metadata(r.param("scope"), r.param("name"), plugin: plugin)))
        }
        t.add(.post, "/dids/:scope/:name/meta", doc: RouteDoc("Set metadata", body: "meta!:object recursive:bool")) { r in
            let b = try r.jsonObject()
            guard let meta = try b.optionalObject("meta") else { throw RucioError.keyError("meta") }
            try await catalog.dids.setMetadata(
                r.param("scope"), r.param("name"), meta: meta, recursive: try b.optionalBool("recursive") ?? false, issuer: r.caller)
            return Reply.created()
        }
        t.add(.post, "/dids/:scope/:name/meta/:key", doc: RouteDoc("Set one metadata key", body: "value!:any recursive:bool")) { r in
            let b = try r.jsonObject()
            guard let v = b["value"] else { throw RucioError.keyError("value") }
            try await catalog.dids.setMetadata(
                r.param("scope"), r.param("name"), meta: JSONObject([(r.param("key"), v)]), recursive: try b.optionalBool("recursive") ?? false,
                issuer: r.caller)
            return Reply.created()
        }
        t.add(.delete, "/dids/:scope/:name/meta", doc: RouteDoc("Delete a metadata key", query: "key!:string")) { r in
            guard let key = r.q("key") else { throw RucioError.keyError("key") }
            try await catalog.dids.deleteMetadata(r.param("scope"), r.param("name"), key: key, issuer: r.caller)
            return Reply.ok()
        }
        t.add(.post, "/dids/bulkdidsmeta", doc: RouteDoc("Set metadata on many DIDs", body: "dids!:[object]")) { r in
            let b = try r.jsonObject()
            var items: [(DIDRef, JSONObject)] = []
            for d in try b.requiredArray("dids") {
                guard let o = d.objectValue else { throw RucioError.typeError("each DID must be a dictionary") }
                items.append((DIDRef(try o.requiredString("scope"), try o.requiredString("name")), try o.optionalObject("meta") ?? JSONObject()))
            }
            try await catalog.dids.setMetadataBulk(items, issuer: r.caller)
            return Reply.created()
        }
        t.add(.post, "/dids/bulkmeta", doc: RouteDoc("Metadata of many DIDs", body: "dids!:[did] plugin:DID_COLUMN|JSON|ALL inherit:bool")) { r in
            let b = try r.jsonObject()
            var out: [JSON] = []
            // Rucio's `get_metadata_bulk` answers the DIDs' column rows whatever plugin the client names (all of them for ALL).
            let raw = (try b.optionalString("plugin") ?? "JSON").uppercased()
            let plugin: DIDStore.MetadataPlugin = raw == "ALL" ? .all : .didColumn
            for ref in try Self.didRefs(try b.requiredArray("dids")) {
                var m = try await catalog.dids.metadata(ref.scope, ref.name, plugin: plugin)
                m["scope"] = .string(ref.scope)
                m["name"] = .string(ref.name)
                out.append(.object(m))
            }
            return Reply.stream(out)
        }
        t.add(.get, "/dids/:scope/:name/rules", doc: RouteDoc("Rules on a DID")) { r in
            Reply.stream(try await catalog.rules.rules(onDID: r.param("scope"), r.param("name")).map { Doc.rule($0, now: catalog.clock.now()) })
        }
        t.add(.get, "/dids/:scope/:name/associated_rules", doc: RouteDoc("Rules holding a lock on a file")) { r in
            let now = catalog.clock.now()
            return Reply.stream(
                try await catalog.rules.associatedRules(scope: r.param("scope"), name: r.param("name")).map { Doc.rule($0, now: now) })
        }
        t.add(.get, "/dids/:scope/*path", doc: RouteDoc("A DID whose name holds '/'", query: "dynamic_depth:FILE|DATASET dynamic:bool")) { r in
            // Rucio's `<path:scope_name>` takes the rest of the path as the name: `dir/with/slash` is one DID name.
            let depth = r.q("dynamic_depth").flatMap { DIDType(loose: $0) } ?? (r.qBool("dynamic") ? .file : nil)
            return Reply.json(Doc.did(try await catalog.dids.did(r.param("scope"), r.param("path"), dynamicDepth: depth)))
        }
    }

    /// `add_did` for a dataset or container.
    func addDID(scope: String, name: String, body: JSONObject, issuer: Issuer) async throws {
        let typeName = try body.optionalString("type") ?? "DATASET"
        guard let type = DIDType(loose: typeName) else {
            throw RucioError(.invalidObject, "Provided object does not match schema. Details: invalid DID type '\(Validation.printable(typeName))'")
        }
        let statuses = try body.optionalObject("statuses") ?? JSONObject()
        var rules: [RuleSpec] = []
        for item in try body.optionalArray("rules") ?? [] {
            guard let o = item.objectValue else { throw RucioError.typeError("each rule must be a dictionary") }
            rules.append(try Self.ruleSpec(o, dids: [], schema: catalog.policy.schema))
        }
        try await catalog.dids.addCollection(
            scope: scope, name: name, type: type, issuer: issuer, account: try body.optionalString("account"),
            meta: try body.optionalObject("meta") ?? JSONObject(), isOpen: true,
            monotonic: try statuses.optionalBool("monotonic") ?? false, lifetime: try body.optionalDouble("lifetime"),
            files: try Self.fileSpecs(try body.optionalArray("dids") ?? []), rse: try body.optionalString("rse"), rules: rules)
    }

    /// Python's truth of a JSON value (`bool(x)`).
    static func pythonTruth(_ v: JSON) -> Bool {
        switch v {
        case .null: return false
        case .bool(let b): return b
        case .int(let i): return i != 0
        case .double(let d): return d != 0
        case .string(let s): return !s.isEmpty
        case .array(let a): return !a.isEmpty
        case .object(let o): return o.count > 0
        }
    }
}
