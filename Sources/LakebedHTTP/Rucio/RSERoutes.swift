import Foundation
import Hummingbird
import LakebedCore

extension RucioAPI {
    func registerRSEs(_ t: inout RouteTable) {
        t.add(.get, "/rses", doc: RouteDoc("List RSEs, or resolve an RSE expression", query: "expression:string")) { r in
            if let expr = r.q("expression") {
                let rses = try await catalog.rses.resolveRSEExpression(expr)
                return Reply.stream(rses.map { ["rse": .string($0.rse)] })
            }
            return Reply.stream(try await catalog.rses.listRSEs().map(Doc.rse))
        }
        t.add(.get, "/rses/:rse", doc: RouteDoc("An RSE's settings document with its protocols")) { r in
            let (rse, protocols, attributes) = try await catalog.rses.rseSettings(r.param("rse"))
            return Reply.json(Doc.rseSettings(rse, protocols: protocols, attributes: attributes, policyDefault: catalog.policy.lfn2pfnDefault))
        }
        t.add(
            .post, "/rses/:rse",
            doc: RouteDoc(
                "Add an RSE (and its directory)",
                body:
                    "rse_type:DISK|TAPE deterministic:bool volatile:bool staging_area:bool city:string region_code:string country_name:string continent:string time_zone:string ISP:string ASN:string longitude:number latitude:number availability_read:bool availability_write:bool availability_delete:bool qos_class:string"
            )
        ) { r in
            try await catalog.rses.addRSE(r.param("rse"), settings: RSESettings(try r.jsonObject()), by: r.caller)
            return Reply.created()
        }
        t.add(
            .put, "/rses/:rse",
            doc: RouteDoc(
                "Update an RSE",
                body:
                    "rse_type:DISK|TAPE deterministic:bool volatile:bool staging_area:bool city:string region_code:string country_name:string continent:string time_zone:string ISP:string ASN:string longitude:number latitude:number availability_read:bool availability_write:bool availability_delete:bool qos_class:string"
            )
        ) { r in
            try await catalog.rses.updateRSE(r.param("rse"), settings: RSESettings(try r.jsonObject()), by: r.caller)
            return Reply.created()
        }
        t.add(.delete, "/rses/:rse", doc: RouteDoc("Delete an RSE")) { r in
            try await catalog.rses.deleteRSE(r.param("rse"), by: r.caller)
            return Reply.ok()
        }
        // attributes
        t.add(.get, "/rses/:rse/attr", doc: RouteDoc("RSE attributes")) { r in
            var o = JSONObject()
            for (k, v) in try await catalog.rses.rseAttributes(r.param("rse")) { o[k] = v }
            return Reply.json(.object(o))
        }
        t.add(.post, "/rses/:rse/attr/:key", doc: RouteDoc("Add an RSE attribute", body: "value!:any")) { r in
            guard let v = try r.jsonObject()["value"] else { throw RucioError.keyError("value") }
            try await catalog.rses.addRSEAttribute(r.param("rse"), key: r.param("key"), value: v, by: r.caller)
            return Reply.created()
        }
        t.add(.delete, "/rses/:rse/attr/:key", doc: RouteDoc("Delete an RSE attribute")) { r in
            try await catalog.rses.deleteRSEAttribute(r.param("rse"), key: r.param("key"), by: r.caller)
            return Reply.ok()
        }
        // protocols
        t.add(.get, "/rses/:rse/protocols", doc: RouteDoc("Protocols of an RSE")) { r in
            let protos = try await catalog.rses.protocols(r.param("rse"))
            if protos.isEmpty { throw RucioError(.rseProtocolNotSupported, "RSE '\(r.param("rse"))' has no protocols") }
            return Reply.json(.array(protos.map(Doc.proto)))
        }
        t.add(.get, "/rses/:rse/protocols/:scheme", doc: RouteDoc("An RSE settings document with the protocols of one scheme")) { r in
            let rse = try await catalog.rses.rse(r.param("rse"))
            // Rucio's `get_rse_protocols`: the settings without the legacy integer `availability`; a scheme the RSE
            // lacks gives an empty protocol list, not an error.
            let protos = try await catalog.rses.protocols(rse.rse).filter { $0.scheme == r.param("scheme") }
            let doc = Doc.rseSettings(
                rse, protocols: protos, attributes: try await catalog.rses.rseAttributes(rse.rse), policyDefault: catalog.policy.lfn2pfnDefault)
            return Reply.json(.object(doc.objectValue!.filtering { $0 != "availability" }))
        }
        t.add(
            .post, "/rses/:rse/protocols/:scheme",
            doc: RouteDoc("Add a protocol", body: "hostname:string port:int prefix:string impl:string domains:object extended_attributes:any")
        ) { r in
            let p = try RSEProtocol(scheme: r.param("scheme"), parameters: try r.jsonObject())
            try await catalog.rses.addProtocol(r.param("rse"), p, by: r.caller)
            return Reply.created()
        }
        for p in ["/rses/:rse/protocols/:scheme", "/rses/:rse/protocols/:scheme/:hostname", "/rses/:rse/protocols/:scheme/:hostname/:port"] {
            t.add(.delete, p, doc: RouteDoc("Delete protocols")) { r in
                try await catalog.rses.deleteProtocols(
                    r.param("rse"), scheme: r.param("scheme"), hostname: r.params["hostname"], port: r.params["port"].flatMap { Int($0) },
                    by: r.caller)
                return Reply.ok()
            }
            t.add(
                .put, p,
                doc: RouteDoc("Update protocols", body: "hostname:string port:int prefix:string impl:string domains:object extended_attributes:any")
            ) { r in
                // Rucio's update_protocols matches scheme, hostname and port exactly: without a hostname and a port in the
                // path it finds no protocol.
                guard r.params["hostname"] != nil, r.params["port"] != nil else {
                    let rse = try await catalog.rses.rse(r.param("rse"))
                    throw RucioError(
                        .rseProtocolNotSupported,
                        "RSE '\(rse.rse)' does not support protocol '\(r.param("scheme"))' for hostname '\(r.params["hostname"] ?? "None")' on port '\(r.params["port"] ?? "None")'"
                    )
                }
                try await catalog.rses.updateProtocols(
                    r.param("rse"), scheme: r.param("scheme"), hostname: r.params["hostname"], port: r.params["port"].flatMap { Int($0) },
                    data: try r.jsonObject(), by: r.caller)
                return Reply.ok()
            }
        }
        t.add(
            .get, "/rses/:rse/lfns2pfns",
            doc: RouteDoc("PFNs of LFNs (scope:name) on an RSE", query: "lfn:string scheme:string operation:read|write|delete domain:wan|lan")
        ) { r in
            let rse = try await catalog.rses.rse(r.param("rse"))
            // Rucio's rsemanager.lfns2pfns: the best protocol for the operation (default write) in the domain (default wan).
            let operation = r.q("operation") ?? "write"
            let domain = r.q("domain") ?? "wan"
            let protos = try await catalog.rses.protocols(rse.rse)
            guard let proto = ProtocolSelection.select(protos, operation: operation, domain: domain, scheme: r.q("scheme")) else {
                throw RucioError(.rseProtocolNotSupported, "RSE '\(rse.rse)' has no protocol for \(operation) in domain \(domain)")
            }
            var o = JSONObject()
            if r.qAll("lfn").isEmpty { throw RucioError(.replicaNotFound, "No replicas found") }
            for lfn in r.qAll("lfn") {
                let parts = lfn.split(separator: ":", maxSplits: 1).map(String.init)
                guard parts.count == 2 else { throw RucioError.invalidPath("LFN '\(Validation.printable(lfn))' is not scope:name") }
                o[lfn] = .string(proto.pfn(path: try catalog.replicas.lfn2pfnPath(rse: rse, scope: parts[0], name: parts[1])))
            }
            return Reply.json(.object(o))
        }
        // distances
        t.add(.get, "/rses/:src/distances/:dst", doc: RouteDoc("Distance between two RSEs")) { r in
            let d = try await catalog.rses.distances(from: r.param("src"), to: r.param("dst"))
            return Reply.json(
                .array(
                    d.map {
                        [
                            "src_rse_id": .string($0.srcRSEID), "dest_rse_id": .string($0.destRSEID), "src_rse": .string(r.param("src")),
                            "dest_rse": .string(r.param("dst")), "distance": .int(Int64($0.distance)),
                            "ranking": .int(Int64($0.distance)), "created_at": .date($0.createdAt), "updated_at": .date($0.updatedAt),
                        ]
                    }))
        }
        for (method, create) in [(HTTPRequest.Method.post, true), (.put, false)] {
            t.add(
                method, "/rses/:src/distances/:dst",
                doc: RouteDoc(create ? "Add a distance" : "Update a distance", body: "distance!:int ranking:int bidirectional:bool")
            ) { r in
                let b = try r.jsonObject()
                guard let d = try b.optionalInt("distance") ?? b.optionalInt("ranking") else { throw RucioError.keyError("distance") }
                try await catalog.rses.setDistance(from: r.param("src"), to: r.param("dst"), distance: Int(d), create: create, by: r.caller)
                if try b.optionalBool("bidirectional") ?? false {
                    try await catalog.rses.setDistance(from: r.param("dst"), to: r.param("src"), distance: Int(d), create: create, by: r.caller)
                }
                return create ? Reply.created() : Reply.ok()
            }
        }
        t.add(.delete, "/rses/:src/distances/:dst", doc: RouteDoc("Delete a distance", query: "bidirectional:bool")) { r in
            try await catalog.rses.deleteDistance(from: r.param("src"), to: r.param("dst"), by: r.caller)
            if r.qBool("bidirectional") { try? await catalog.rses.deleteDistance(from: r.param("dst"), to: r.param("src"), by: r.caller) }
            return Reply.ok()
        }
        // usage and limits
        t.add(.get, "/rses/:rse/usage", doc: RouteDoc("RSE usage per source", query: "source:string per_account:bool")) { r in
            let (rse, usage) = try await catalog.rses.rseUsage(r.param("rse"), source: r.q("source"))
            let perAccount = r.qBool("per_account")
            var accountUsages: [JSON] = []
            if perAccount {
                for a in try await catalog.accounts.listAccounts(type: nil, identity: nil, filters: [:]) {
                    for u in try await catalog.accountLimits.localAccountUsage(a.account, rse: rse.rse) where u.bytes > 0 {
                        accountUsages.append(["account": .string(a.account), "used": .int(u.bytes), "rse": .string(rse.rse)])
                    }
                }
            }
            return Reply.stream(
                usage.map { u in
                    var o: JSONObject = JSONObject([
                        ("rse_id", .string(rse.id)), ("rse", .string(rse.rse)), ("source", .string(u.source)), ("used", .num(u.used)),
                        ("free", .num(u.free)), ("total", .num(u.total)), ("files", .num(u.files)), ("updated_at", .date(u.updatedAt)),
                    ])
                    if perAccount && u.source == "rucio" { o["account_usages"] = .array(accountUsages) }
                    return .object(o)
                })
        }
        t.add(.put, "/rses/:rse/usage", doc: RouteDoc("Set RSE usage for a source", body: "source!:string used:int free:int files:int")) { r in
            let b = try r.jsonObject()
            try await catalog.rses.setRSEUsage(
                r.param("rse"), source: try b.requiredString("source"), used: try b.optionalInt("used"), free: try b.optionalInt("free"),
                files: try b.optionalInt("files"), by: r.caller)
            return Reply.ok()
        }
        t.add(.get, "/rses/:rse/accounts/usage", doc: RouteDoc("Usage and local limit of every account on an RSE")) { r in
            let rse = try await catalog.rses.rse(r.param("rse"))
            var lines = ""
            for a in try await catalog.accounts.listAccounts(type: nil, identity: nil, filters: [:]) {
                guard let u = try await catalog.accountLimits.localAccountUsage(a.account, rse: rse.rse).first else { continue }
                let doc: JSON = [
                    "rse_id": .string(rse.id), "rse": .string(rse.rse), "account": .string(a.account), "used_files": .int(u.files),
                    "used_bytes": .int(u.bytes), "quota_bytes": .num(u.limit),
                ]
                lines += doc.serialized() + "\n"
            }
            // As Rucio's: one JSON document per line, labelled application/json.
            return Reply.make(.ok, "application/json", lines)
        }
        t.add(.get, "/rses/:rse/usage/history", doc: RouteDoc("Usage history of an RSE", query: "source:string per_account:bool")) { r in
            // Rucio's history is what its abacus daemon wrote down over time; Lakebed computes usage when asked and keeps
            // no history, so the list is empty (as on a Rucio server whose abacus has not run).
            _ = try await catalog.rses.rse(r.param("rse"))
            return Reply.stream([])
        }
        t.add(.get, "/rses/:rse/qos_policy", doc: RouteDoc("QoS policies of an RSE")) { r in
            Reply.json(.array(try await catalog.rses.qosPolicies(r.param("rse")).map { .string($0) }))
        }
        t.add(.post, "/rses/:rse/qos_policy/:policy", doc: RouteDoc("Add a QoS policy to an RSE")) { r in
            try await catalog.rses.setQoSPolicy(r.param("rse"), r.param("policy"), present: true, by: r.caller)
            return Reply.created()
        }
        t.add(.delete, "/rses/:rse/qos_policy/:policy", doc: RouteDoc("Remove a QoS policy from an RSE")) { r in
            try await catalog.rses.setQoSPolicy(r.param("rse"), r.param("policy"), present: false, by: r.caller)
            return Reply.ok()
        }
        t.add(.get, "/rses/:rse/limits", doc: RouteDoc("RSE limits")) { r in
            var o = JSONObject()
            for (k, v) in try await catalog.rses.rseLimits(r.param("rse")) { o[k] = .int(v) }
            return Reply.json(.object(o))
        }
        t.add(.put, "/rses/:rse/limits", doc: RouteDoc("Set an RSE limit", body: "name!:string value!:int")) { r in
            let b = try r.jsonObject()
            guard let v = try b.optionalInt("value") else { throw RucioError.keyError("value") }
            try await catalog.rses.setRSELimit(r.param("rse"), name: try b.requiredString("name"), value: v, by: r.caller)
            return Reply.ok()
        }
        t.add(.delete, "/rses/:rse/limits", doc: RouteDoc("Delete an RSE limit", body: "name!:string")) { r in
            try await catalog.rses.setRSELimit(r.param("rse"), name: try r.jsonObject().requiredString("name"), value: nil, by: r.caller)
            return Reply.ok()
        }
    }
}
