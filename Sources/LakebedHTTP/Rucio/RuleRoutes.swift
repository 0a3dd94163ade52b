import Foundation
import Hummingbird
import LakebedCore

extension RucioAPI {
    /// A rule from the body of `POST /rules/`; what the body leaves out takes Rucio's defaults.
    static func ruleSpec(_ o: JSONObject, dids: [DIDRef]) throws -> RuleSpec {
        guard let copies = try o.optionalInt("copies") else { throw RucioError.keyError("copies") }
        let d = RuleSpec()
        return RuleSpec(dids: dids, copies: Int(copies), rseExpression: try o.requiredString("rse_expression"),
                        weight: try o.optionalString("weight"), lifetime: try o.optionalDouble("lifetime"),
                        grouping: (try o.optionalString("grouping") ?? d.grouping).uppercased(), account: try o.optionalString("account"),
                        locked: try o.optionalBool("locked") ?? d.locked, sourceReplicaExpression: try o.optionalString("source_replica_expression"),
                        activity: try o.optionalString("activity") ?? d.activity, notify: try o.optionalString("notify") ?? d.notify,
                        purgeReplicas: try o.optionalBool("purge_replicas") ?? d.purgeReplicas,
                        ignoreAvailability: try o.optionalBool("ignore_availability") ?? d.ignoreAvailability,
                        comment: try o.optionalString("comment"), priority: Int(try o.optionalInt("priority") ?? Int64(d.priority)),
                        meta: try o.optionalString("meta"))
    }

    /// A rule listing streamed page by page (see `Reply.streamPages`).
    func streamRules(_ filters: [String: String]) async throws -> Response {
        let store = catalog.rules, clock = catalog.clock
        return try await Reply.streamPages(listings, from: ListingCursor<RuleStore.RulePosition>(position: nil, given: 0)) { cursor in
            let (rules, last) = try await store.listRulesPage(filters: filters, after: cursor.position, limit: Reply.pageSize)
            let now = clock.now()
            return (rules.map { Doc.rule($0, now: now) }, rules.count < Reply.pageSize ? nil : ListingCursor(position: last, given: cursor.given + rules.count))
        }
    }

    func registerRules(_ t: inout RouteTable) {
        t.add(.post, "/rules", doc: RouteDoc("Add replication rules", body: "dids!:[did] copies!:int rse_expression!:string weight:string lifetime:number grouping:ALL|DATASET|NONE account:string locked:bool source_replica_expression:string activity:string notify:Y|N|C|P purge_replicas:bool ignore_availability:bool comment:string priority:int meta:string"),
              statuses: [.invalidRSEExpression: .conflict, .invalidObject: .conflict]) { r in
            let b = try r.jsonObject()
            let spec = try Self.ruleSpec(b, dids: try Self.didRefs(try b.requiredArray("dids")))
            let ids = try await catalog.rules.addRules(spec, issuer: r.caller)
            return Reply.text(JSON.array(ids.map { .string($0) }).serialized(), status: .created, contentType: "text/html; charset=utf-8")
        }
        t.add(.get, "/rules", doc: RouteDoc("List rules", query: "scope:string name:string account:string state:string rse_expression:string")) { r in
            var filters: [String: String] = [:]
            for (k, v) in r.query { filters[k] = v }
            return try await streamRules(filters)
        }
        t.add(.get, "/rules/:id", doc: RouteDoc("A rule")) { r in Reply.json(Doc.rule(try await catalog.rules.rule(r.param("id")), now: catalog.clock.now())) }
        t.add(.put, "/rules/:id", doc: RouteDoc("Update a rule", body: "options!:object")) { r in
            let b = try r.jsonObject()
            guard let options = try b.optionalObject("options") else { throw RucioError.keyError("options") }
            try await catalog.rules.updateRule(r.param("id"), options: options, issuer: r.caller)
            return Reply.ok()
        }
        t.add(.delete, "/rules/:id", doc: RouteDoc("Delete a rule", body: "purge_replicas:bool"), statuses: [.unsupportedOperation: .unauthorized]) { r in
            let b = try r.jsonObject()
            try await catalog.rules.deleteRule(r.param("id"), purgeReplicas: try b.optionalBool("purge_replicas"), issuer: r.caller)
            return Reply.ok()
        }
        t.add(.get, "/rules/:id/locks", doc: RouteDoc("Locks of a rule")) { r in Reply.stream(try await catalog.rules.locks(ofRule: r.param("id")).map(Doc.lock)) }
        t.add(.get, "/locks/:scope/:name", doc: RouteDoc("Locks on a dataset", query: "did_type!:DATASET|dataset")) { r in
            guard r.q("did_type")?.lowercased() == "dataset" else { throw RucioError(.unsupportedOperation, "did_type must be dataset") }
            return Reply.stream(try await catalog.rules.locks(onDID: r.param("scope"), r.param("name")).map(Doc.lock))
        }
    }
}
