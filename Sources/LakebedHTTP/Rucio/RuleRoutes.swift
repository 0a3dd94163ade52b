import Foundation
import Hummingbird
import LakebedCore

extension RucioAPI {
    static func ruleSpec(_ o: JSONObject, dids: [DIDRef]) throws -> RuleSpec {
        var s = RuleSpec()
        s.dids = dids
        guard let copies = try o.optionalInt("copies") else { throw RucioError.keyError("copies") }
        s.copies = Int(copies)
        s.rseExpression = try o.requiredString("rse_expression")
        s.weight = try o.optionalString("weight")
        s.lifetime = try o.optionalDouble("lifetime")
        s.grouping = (try o.optionalString("grouping") ?? "DATASET").uppercased()
        s.account = try o.optionalString("account")
        s.locked = try o.optionalBool("locked") ?? false
        s.sourceReplicaExpression = try o.optionalString("source_replica_expression")
        s.activity = try o.optionalString("activity") ?? "User Subscriptions"
        s.notify = try o.optionalString("notify") ?? "N"
        s.purgeReplicas = try o.optionalBool("purge_replicas") ?? false
        s.ignoreAvailability = try o.optionalBool("ignore_availability") ?? false
        s.comment = try o.optionalString("comment")
        s.priority = Int(try o.optionalInt("priority") ?? 3)
        s.meta = try o.optionalString("meta")
        return s
    }

    /// A rule listing streamed page by page (see `Reply.streamPages`).
    func streamRules(_ filters: [String: String]) async throws -> Response {
        let store = catalog.rules
        return try await Reply.streamPages(listings, from: ListingCursor<RuleStore.RulePosition>(position: nil, given: 0)) { cursor in
            let (rules, last) = try await store.listRulesPage(filters: filters, after: cursor.position, limit: Reply.pageSize)
            return (rules.map(Doc.rule), rules.count < Reply.pageSize ? nil : ListingCursor(position: last, given: cursor.given + rules.count))
        }
    }

    func registerRules(_ t: inout RouteTable) {
        t.add(.post, "/rules", doc: RouteDoc("Add replication rules", body: "dids!:[did] copies!:int rse_expression!:string weight:string lifetime:number grouping:ALL|DATASET|NONE account:string locked:bool source_replica_expression:string activity:string notify:Y|N|C|P purge_replicas:bool ignore_availability:bool comment:string priority:int meta:string")) { r in
            let b = try r.jsonObject()
            let spec = try Self.ruleSpec(b, dids: try Self.didRefs(try b.requiredArray("dids")))
            do {
                let ids = try await catalog.rules.addRules(spec, issuer: r.caller)
                return Reply.text(JSON.array(ids.map { .string($0) }).serialized(), status: .created, contentType: "text/html; charset=utf-8")
            } catch let e as RucioError where ["InvalidRSEExpression", "InvalidObject"].contains(e.exceptionClass) {
                return Reply.error(e, status: .conflict)
            }
        }
        t.add(.get, "/rules", doc: RouteDoc("List rules", query: "scope:string name:string account:string state:string rse_expression:string")) { r in
            var filters: [String: String] = [:]
            for (k, v) in r.query { filters[k] = v }
            return try await streamRules(filters)
        }
        t.add(.get, "/rules/:id", doc: RouteDoc("A rule")) { r in Reply.json(Doc.rule(try await catalog.rules.rule(r.param("id")))) }
        t.add(.put, "/rules/:id", doc: RouteDoc("Update a rule", body: "options!:object")) { r in
            let b = try r.jsonObject()
            guard let options = try b.optionalObject("options") else { throw RucioError.keyError("options") }
            try await catalog.rules.updateRule(r.param("id"), options: options, issuer: r.caller)
            return Reply.ok()
        }
        t.add(.delete, "/rules/:id", doc: RouteDoc("Delete a rule", body: "purge_replicas:bool")) { r in
            let b = try r.jsonObject()
            do { try await catalog.rules.deleteRule(r.param("id"), purgeReplicas: try b.optionalBool("purge_replicas"), issuer: r.caller) }
            catch let e as RucioError where e.exceptionClass == "UnsupportedOperation" { return Reply.error(e, status: .unauthorized) }
            return Reply.ok()
        }
        t.add(.get, "/rules/:id/locks", doc: RouteDoc("Locks of a rule")) { r in Reply.stream(try await catalog.rules.locks(ofRule: r.param("id")).map(Doc.lock)) }
        t.add(.get, "/locks/:scope/:name", doc: RouteDoc("Locks on a dataset", query: "did_type!:DATASET|dataset")) { r in
            guard r.q("did_type")?.lowercased() == "dataset" else { throw RucioError("UnsupportedOperation", "did_type must be dataset") }
            return Reply.stream(try await catalog.rules.locks(onDID: r.param("scope"), r.param("name")).map(Doc.lock))
        }
    }
}
