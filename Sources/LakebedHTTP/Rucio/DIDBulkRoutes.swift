import Foundation
import Hummingbird
import LakebedCore

extension RucioAPI {
    /// DID calls over many DIDs (files of many collections, samples, resurrection), content history and followers.
    /// Registered before the DID routes, whose GET `/dids/<scope>/<path>` takes any longer path for a DID name.
    func registerDIDBulk(_ t: inout RouteTable) {
        t.add(.get, "/dids/:scope/:name/dids/history", doc: RouteDoc("What was detached from a collection")) { r in
            Reply.stream(
                try await catalog.dids.contentHistory(r.param("scope"), r.param("name")).map { h in
                    [
                        "scope": .string(h.scope), "name": .string(h.name), "type": .string(h.type.rawValue), "bytes": .num(h.bytes),
                        "adler32": .str(h.adler32),
                        "md5": .str(h.md5), "deleted_at": .date(h.deletedAt), "created_at": .date(h.createdAt), "updated_at": .date(h.deletedAt),
                    ]
                })
        }
        t.add(.get, "/dids/:scope/:name/follow", doc: RouteDoc("Accounts following a DID")) { r in
            // As Rucio's: one JSON document per line, labelled application/json.
            let users = try await catalog.dids.followers(r.param("scope"), r.param("name"))
            return Reply.make(.ok, "application/json", users.map { (["user": .string($0)] as JSON).serialized() + "\n" }.joined())
        }
        for (method, follow) in [(HTTPRequest.Method.post, true), (.delete, false)] {
            t.add(method, "/dids/:scope/:name/follow", doc: RouteDoc(follow ? "Follow a DID" : "Stop following a DID", body: "account!:string")) {
                r in
                let account = try r.jsonObject().requiredString("account")
                guard r.caller.isAdmin || r.caller.account == account else {
                    throw RucioError.accessDenied("Account \(r.caller.account) can not change the followers of this DID for \(account)")
                }
                try await catalog.dids.setFollowing(r.param("scope"), r.param("name"), account: account, follow: follow)
                return follow ? Reply.created() : Reply.ok()
            }
        }
        t.add(.post, "/dids/bulkfiles", doc: RouteDoc("Files of many DIDs, each with its parent", body: "dids!:[did]")) { r in
            let b = try r.jsonObject()
            var out: [JSON] = []
            for parent in try Self.didRefs(try b.requiredArray("dids")) {
                for f in try await catalog.dids.listFiles(parent.scope, parent.name) {
                    out.append([
                        "scope": .string(f.scope), "name": .string(f.name), "bytes": .num(f.bytes), "adler32": .str(f.adler32),
                        "guid": f.columns["guid"] ?? .null, "events": f.columns["events"] ?? .null,
                        "parent_scope": .string(parent.scope), "parent_name": .string(parent.name),
                    ])
                }
            }
            return Reply.stream(out)
        }
        t.add(.post, "/dids/resurrect", doc: RouteDoc("Bring back deleted DIDs", body: "[] scope!:string name!:string")) { r in
            // Rucio resurrects from its table of deleted DIDs; Lakebed keeps none, so no DID can be brought back.
            guard let items = try r.json().arrayValue else { throw RucioError.typeError("body must be a list of DIDs") }
            if let first = try Self.didRefs(items).first {
                throw RucioError(.dataIdentifierNotFound, "Deleted Data identifier '\(first.scope):\(first.name)' not found")
            }
            return Reply.created()
        }
        t.add(
            .post, "/dids/sample",
            doc: RouteDoc(
                "A dataset of some files of a collection",
                body: "input_scope!:string input_name!:string output_scope!:string output_name!:string nbfiles!:int")
        ) { r in
            let b = try r.jsonObject()
            try await sample(
                input: DIDRef(try b.requiredString("input_scope"), try b.requiredString("input_name")),
                output: DIDRef(try b.requiredString("output_scope"), try b.requiredString("output_name")),
                count: Int(try b.optionalInt("nbfiles") ?? { throw RucioError.keyError("nbfiles") }()), issuer: r.caller)
            return Reply.created()
        }
        t.add(
            .post, "/dids/:input_scope/:input_name/:output_scope/:output_name/:nbfiles/sample",
            doc: RouteDoc("A dataset of some files of a collection")
        ) { r in
            guard let n = Int(r.param("nbfiles")) else { throw RucioError.valueError("nbfiles must be a number") }
            try await sample(
                input: DIDRef(r.param("input_scope"), r.param("input_name")), output: DIDRef(r.param("output_scope"), r.param("output_name")),
                count: n, issuer: r.caller)
            return Reply.created()
        }
    }

    /// `create_did_sample`: a new dataset of `count` files of `input`. Rucio shuffles at random; Lakebed orders the files
    /// by a hash of their names and the output's, so a replay picks the same files.
    func sample(input: DIDRef, output: DIDRef, count: Int, issuer: Issuer) async throws {
        let files = try await catalog.dids.listFiles(input.scope, input.name)
        let key = "\(output.scope):\(output.name)"
        let chosen = files.sorted { md5Hex(key + $0.scope + ":" + $0.name) < md5Hex(key + $1.scope + ":" + $1.name) }.prefix(max(0, count))
        try await catalog.dids.addCollection(
            scope: output.scope, name: output.name, type: .dataset, issuer: issuer,
            files: chosen.map { FileSpec(scope: $0.scope, name: $0.name) })
    }
}
