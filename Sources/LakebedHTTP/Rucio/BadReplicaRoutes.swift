import Foundation
import Hummingbird
import LakebedCore

extension RucioAPI {
    /// Bad and suspicious replicas, tombstones and the dataset-replica listings beside `/replicas/<scope>/<name>`
    /// (registered before the replica routes, whose `:scope/:name` would otherwise take `bad/states` for a DID).
    func registerBadReplicas(_ t: inout RouteTable) {
        t.add(
            .post, "/replicas/bad",
            doc: RouteDoc("Declare replicas bad (the necromancer recovers them)", body: "replicas:[any] pfns:[string] reason:string force:bool")
        ) { r in
            let b = try r.jsonObject()
            let items = try b.optionalArray("replicas").flatMap { $0.isEmpty ? nil : $0 } ?? (try b.optionalArray("pfns") ?? [])
            let reason = try b.optionalString("reason")
            let force = try b.optionalBool("force") ?? false
            let refused: [String: [String]]
            if items.allSatisfy({ $0.stringValue != nil }) {
                refused = try await catalog.badReplicas.declare(
                    pfns: items.compactMap(\.stringValue), reason: reason, state: .bad, force: force, issuer: r.caller)
            } else {
                refused = try await catalog.badReplicas.declare(
                    try Self.badTargets(items), reason: reason, state: .bad, force: force, issuer: r.caller)
            }
            return Reply.json(Self.refusedDoc(refused), status: .created)
        }
        t.add(
            .post, "/replicas/bad/dids",
            doc: RouteDoc("Declare the replicas of files on an RSE bad", body: "dids!:[did] rse!:string reason:string expires_at:string")
        ) { r in
            let b = try r.jsonObject()
            let refused = try await catalog.badReplicas.declareBad(
                dids: try Self.didRefs(try b.optionalArray("dids") ?? []), rse: try b.optionalString("rse") ?? "",
                reason: try b.optionalString("reason"), issuer: r.caller)
            return Reply.json(.array(refused.map { .string($0) }), status: .created)
        }
        t.add(
            .post, "/replicas/bad/pfns",
            doc: RouteDoc(
                "Declare PFNs bad, suspicious or temporarily unavailable",
                body: "pfns!:[string] reason:string state:BAD|SUSPICIOUS|TEMPORARY_UNAVAILABLE expires_at:string")
        ) { r in
            // Rucio queues these for its minos daemon, which declares them; Lakebed declares them at once.
            guard r.caller.isAdmin else { throw RucioError.accessDenied("Account \(r.caller.account) can not declare bad PFNs") }
            let b = try r.jsonObject()
            let raw = try b.optionalString("state") ?? "BAD"
            guard let state = BadReplicaState(loose: raw) else { throw RucioError.valueError("Unknown state \(Validation.printable(raw))") }
            _ = try await catalog.badReplicas.declare(
                pfns: (try b.optionalArray("pfns") ?? []).compactMap(\.stringValue), reason: try b.optionalString("reason"),
                state: state, issuer: r.caller)
            return Reply.created()
        }
        t.add(.post, "/replicas/suspicious", doc: RouteDoc("Declare replicas suspicious", body: "pfns!:[string] reason:string")) { r in
            let b = try r.jsonObject()
            let refused = try await catalog.badReplicas.declare(
                pfns: (try b.optionalArray("pfns") ?? []).compactMap(\.stringValue), reason: try b.optionalString("reason"),
                state: .suspicious, issuer: r.caller)
            return Reply.json(Self.refusedDoc(refused), status: .created)
        }
        t.add(
            .get, "/replicas/suspicious",
            doc: RouteDoc("Replicas declared suspicious", query: "rse_expression:string younger_than:string nattempts:int")
        ) { r in
            let rows = try await catalog.badReplicas.suspicious(
                rseExpression: r.q("rse_expression"), youngerThan: r.q("younger_than").flatMap(RucioDate.parse),
                nattempts: r.q("nattempts").flatMap { Int($0) } ?? 0)
            return Reply.json(
                .array(
                    rows.map { s in
                        [
                            "scope": .string(s.scope), "name": .string(s.name), "rse": .string(s.rse), "rse_id": .string(s.rseID),
                            "cnt": .int(Int64(s.count)),
                            "created_at": .date(s.createdAt),
                        ]
                    }))
        }
        t.add(
            .get, "/replicas/bad/states",
            doc: RouteDoc("Bad replicas by state", query: "state:string rse:string younger_than:string older_than:string limit:int")
        ) { r in
            var state: BadReplicaState?
            if let raw = r.q("state") {
                guard let s = BadReplicaState(loose: raw) else {
                    throw RucioError.valueError("'\(Validation.printable(raw))' is not a valid BadFilesStatus")
                }
                state = s
            }
            let rows = try await catalog.badReplicas.list(
                state: state, rse: r.q("rse"), youngerThan: r.q("younger_than").flatMap(RucioDate.parse),
                olderThan: r.q("older_than").flatMap(RucioDate.parse), limit: r.q("limit").flatMap { Int($0) })
            return Reply.stream(
                rows.map { b in
                    [
                        "scope": .string(b.scope), "name": .string(b.name), "rse": .string(b.rse), "rse_id": .string(b.rseID),
                        "state": .string(b.state.name),
                        "created_at": .date(b.createdAt), "updated_at": .date(b.updatedAt),
                    ]
                })
        }
        t.add(
            .get, "/replicas/bad/summary",
            doc: RouteDoc("Bad replicas counted by RSE, day and reason", query: "rse_expression:string from_date:string to_date:string")
        ) { r in
            let rows = try await catalog.badReplicas.summary(
                rseExpression: r.q("rse_expression"), from: r.q("from_date").flatMap(RucioDate.parse),
                to: r.q("to_date").flatMap(RucioDate.parse))
            return Reply.stream(
                rows.map { s in
                    var o = JSONObject([
                        ("rse_id", .string(s.rseID)), ("rse", .string(s.rse)), ("created_at", .string(s.day)), ("reason", .str(s.reason)),
                    ])
                    for (state, n) in s.counts { o[state.name] = .int(Int64(n)) }
                    return .object(o)
                })
        }
        t.add(
            .post, "/replicas/quarantine",
            doc: RouteDoc("Quarantine files on an RSE the catalog does not know", body: "rse!:string replicas!:[object]")
        ) { r in
            let b = try r.jsonObject()
            var items: [(path: String, scope: String?, name: String?)] = []
            for item in try b.optionalArray("replicas") ?? [] {
                guard let o = item.objectValue else { throw RucioError.typeError("each replica must be a dictionary") }
                items.append((try o.requiredString("path"), try o.optionalString("scope"), try o.optionalString("name")))
            }
            try await catalog.replicas.quarantine(rse: try b.requiredString("rse"), replicas: items, issuer: r.caller)
            return Reply.ok()
        }
        t.add(.post, "/replicas/dids", doc: RouteDoc("The DIDs of PFNs", body: "pfns!:[string] rse:string")) { r in
            let b = try r.jsonObject()
            let found = try await catalog.replicas.dids(
                ofPFNs: (try b.optionalArray("pfns") ?? []).compactMap(\.stringValue), rse: try b.optionalString("rse"))
            return Reply.stream(found.map { .object(JSONObject([($0.pfn, ["scope": .string($0.did.scope), "name": .string($0.did.name)])])) })
        }
        t.add(.post, "/replicas/tombstone", doc: RouteDoc("Give unlocked replicas a tombstone of now", body: "replicas!:[object]")) { r in
            let b = try r.jsonObject()
            for item in try b.optionalArray("replicas") ?? [] {
                guard let o = item.objectValue else { throw RucioError.typeError("each replica must be a dictionary") }
                try await catalog.replicas.setTombstone(
                    rse: try o.requiredString("rse"), scope: try o.requiredString("scope"), name: try o.requiredString("name"),
                    issuer: r.caller)
            }
            return Reply.created()
        }
        t.add(.post, "/replicas/datasets_bulk", doc: RouteDoc("Dataset replicas of many datasets", body: "dids!:[did]")) { r in
            let b = try r.jsonObject()
            let dids = try Self.didRefs(try b.requiredArray("dids"))
            guard !dids.isEmpty else { throw RucioError.valueError("List of DIDs is empty") }
            var out: [JSON] = []
            for d in dids {
                guard let rows = try await catalog.replicas.datasetReplicasIfKnown(d.scope, d.name) else { continue }
                out += rows.map { Doc.datasetReplica(d, $0) }
            }
            return Reply.stream(out)
        }
        t.add(
            .get, "/replicas/:scope/:name/datasets_vp",
            doc: RouteDoc("Sites the virtual placement service suggests (none: Lakebed has none)", query: "deep:bool")
        ) { _ in
            // Rucio asks its configured virtual placement service; without one (Lakebed has none) the list is empty.
            Reply.stream([])
        }
    }

    /// `{scope, name, rse}` or `{scope, name, rse_id}` dictionaries.
    static func badTargets(_ items: [JSON]) throws -> [BadReplicaTarget] {
        try items.map { item in
            guard let o = item.objectValue else {
                throw RucioError(.invalidType, "Replicas must be specified either as a list of string or a list of dicts")
            }
            return BadReplicaTarget(
                scope: try o.requiredString("scope"), name: try o.requiredString("name"), rse: try o.optionalString("rse"),
                rseID: try o.optionalString("rse_id"))
        }
    }

    /// What could not be declared, by RSE.
    static func refusedDoc(_ refused: [String: [String]]) -> JSON {
        .object(JSONObject(refused.sorted { $0.key < $1.key }.map { ($0.key, JSON.array($0.value.map { .string($0) })) }))
    }
}

extension Doc {
    /// One RSE's share of a dataset, as `list_dataset_replicas` shows it.
    static func datasetReplica(_ did: DIDRef, _ d: ReplicaStore.DatasetReplica) -> JSON {
        [
            "scope": .string(did.scope), "name": .string(did.name), "rse": .string(d.rse.rse), "rse_id": .string(d.rse.id),
            "bytes": .int(d.bytes), "length": .int(d.length), "available_bytes": .int(d.availableBytes), "available_length": .int(d.availableLength),
            "state": d.availableLength == d.length ? "AVAILABLE" : "UNAVAILABLE", "created_at": .date(d.createdAt), "updated_at": .date(d.updatedAt),
            "accessed_at": .null,
        ]
    }
}
