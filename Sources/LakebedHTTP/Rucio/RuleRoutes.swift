import Foundation
import Hummingbird
import LakebedCore

extension RucioAPI {
    /// A rule from the body of `POST /rules/`; what the body leaves out takes Rucio's defaults.
    static func ruleSpec(_ o: JSONObject, dids: [DIDRef], schema: NamingSchema) throws -> RuleSpec {
        try validateRuleSchema(o, schema: schema)
        guard let copies = try o.optionalInt("copies") else { throw RucioError.keyError("copies") }
        let d = RuleSpec()
        return RuleSpec(
            dids: dids, copies: Int(copies), rseExpression: try o.requiredString("rse_expression"),
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
        let store = catalog.rules
        let clock = catalog.clock
        return try await Reply.streamPages(listings, from: ListingCursor<RuleStore.RulePosition>(position: nil, given: 0)) { cursor in
            let (rules, last) = try await store.listRulesPage(filters: filters, after: cursor.position, limit: Reply.pageSize)
            let now = clock.now()
            return (
                rules.map { Doc.rule($0, now: now) },
                rules.count < Reply.pageSize ? nil : ListingCursor(position: last, given: cursor.given + rules.count)
            )
        }
    }

    func registerRules(_ t: inout RouteTable) {
        t.add(
            .post, "/rules",
            doc: RouteDoc(
                "Add replication rules",
                body:
                    "dids!:[did] copies!:int rse_expression!:string weight:string lifetime:number grouping:ALL|DATASET|NONE account!:string locked:bool source_replica_expression:string activity:string notify:Y|N|C|P purge_replicas:bool ignore_availability:bool comment:string priority:int meta:string"
            ),
            statuses: [.invalidRSEExpression: .conflict, .invalidObject: .conflict]
        ) { r in
            let b = try r.jsonObject()
            // Rucio reads `account` without a default (KeyError when absent); a null account is the caller's.
            guard b["account"] != nil else { throw RucioError.keyError("account") }
            let spec = try Self.ruleSpec(b, dids: try Self.didRefs(try b.requiredArray("dids")), schema: catalog.policy.schema)
            let ids = try await catalog.rules.addRules(spec, issuer: r.caller)
            return Reply.text(JSON.array(ids.map { .string($0) }).serialized(), status: .created, contentType: "text/html; charset=utf-8")
        }
        t.add(.get, "/rules", doc: RouteDoc("List rules", query: "scope:string name:string account:string state:string rse_expression:string")) { r in
            var filters: [String: String] = [:]
            for (k, v) in r.query { filters[k] = v }
            return try await streamRules(filters)
        }
        t.add(.get, "/rules/:id", doc: RouteDoc("A rule")) { r in
            // `get_rule` is the rule's row alone; the listings add the bytes of the rule's DID.
            var doc = Doc.rule(try await catalog.rules.rule(r.param("id")), now: catalog.clock.now())
            doc = .object(doc.objectValue!.filtering { $0 != "bytes" })
            return Reply.json(doc)
        }
        t.add(.get, "/rules/:scope/:name/history", doc: RouteDoc("History of the rules of a DID")) { r in
            Reply.stream(try await catalog.rules.fullHistory(scope: r.param("scope"), name: r.param("name")).map(Doc.ruleHistory))
        }
        t.add(.get, "/rules/:id/history", doc: RouteDoc("History of a rule (always 400, as Rucio)")) { r in
            // Rucio's DID history route `/rules/<path:scope_name>/history` shadows the rule-id one: a bare id cannot be
            // split into scope and name.
            throw RucioError.valueError("Could not parse '\(Validation.printable(r.param("id")))' into scope and name.")
        }
        t.add(.put, "/rules/:id", doc: RouteDoc("Update a rule", body: "options!:object"), statuses: [.inputValidationError: .conflict]) { r in
            let b = try r.jsonObject()
            guard let options = try b.optionalObject("options") else { throw RucioError.keyError("options") }
            try await catalog.rules.updateRule(r.param("id"), options: options, issuer: r.caller)
            return Reply.ok()
        }
        t.add(.delete, "/rules/:id", doc: RouteDoc("Delete a rule", body: "purge_replicas:bool"), statuses: [.unsupportedOperation: .unauthorized]) {
            r in
            let b = try r.jsonObject()
            try await catalog.rules.deleteRule(r.param("id"), purgeReplicas: try b.optionalBool("purge_replicas"), issuer: r.caller)
            return Reply.ok()
        }
        t.add(.get, "/rules/:id/locks", doc: RouteDoc("Locks of a rule")) { r in
            // A rule on a big dataset has a lock per file and RSE: streamed page by page, as the rule listings are.
            let store = catalog.rules, id = r.param("id")
            return try await Reply.streamPages(listings, from: ListingCursor<RuleStore.LockPosition>(position: nil, given: 0)) { cursor in
                let (locks, next) = try await store.locksPage(ofRule: id, after: cursor.position, limit: Reply.pageSize)
                return (locks.map(Doc.lock), next.map { ListingCursor(position: $0, given: cursor.given + locks.count) })
            }
        }
        t.add(.post, "/locks/bulk_locks_for_dids", doc: RouteDoc("Dataset locks of many DIDs", body: "dids!:[did]")) { r in
            let b = try r.jsonObject()
            return Reply.stream(try await catalog.rules.datasetLocks(of: try Self.didRefs(try b.requiredArray("dids"))).map(Doc.datasetLock))
        }
        t.add(.get, "/locks/:rse", doc: RouteDoc("Dataset locks on an RSE", query: "did_type!:DATASET|dataset")) { r in
            guard r.q("did_type")?.lowercased() == "dataset" else { throw RucioError(.unsupportedOperation, "did_type must be dataset") }
            return Reply.stream(try await catalog.rules.datasetLocks(onRSE: r.param("rse")).map(Doc.datasetLock))
        }
        t.add(.get, "/locks/:scope/:name", doc: RouteDoc("Locks on a dataset", query: "did_type!:DATASET|dataset")) { r in
            guard r.q("did_type")?.lowercased() == "dataset" else { throw RucioError(.unsupportedOperation, "did_type must be dataset") }
            return Reply.stream(try await catalog.rules.datasetLocks(of: [DIDRef(r.param("scope"), r.param("name"))]).map(Doc.datasetLock))
        }
    }
}

extension RucioAPI {
    /// What Rucio's `validate_schema('rule', …)` refuses before a rule is made: values of the wrong JSON type, an
    /// unknown activity or grouping (`InvalidObject`).
    static func validateRuleSchema(_ o: JSONObject, schema: NamingSchema) throws {
        func invalid(_ why: String) -> RucioError { RucioError(.invalidObject, "Problem validating rule: \(why)") }
        func shown(_ v: JSON) -> String { Validation.printable(v.serialized()) }
        func isInteger(_ v: JSON) -> Bool {
            if case .int = v { return true }
            if case .double = v { return v.intValue != nil }
            return false
        }
        func isNumber(_ v: JSON) -> Bool {
            if case .int = v { return true }
            if case .double = v { return true }
            return false
        }
        if let v = o["copies"], !isInteger(v) { throw invalid("\(shown(v)) is not of type 'integer'") }
        if let v = o["priority"], !v.isNull, !isInteger(v) { throw invalid("\(shown(v)) is not of type 'integer'") }
        if let v = o["lifetime"], !v.isNull, !isNumber(v) { throw invalid("\(shown(v)) is not of type 'number', 'null'") }
        for key in ["locked", "purge_replicas", "ignore_availability", "ask_approval", "asynchronous", "split_container"] {
            if let v = o[key], !v.isNull, v.boolValue == nil { throw invalid("\(shown(v)) is not of type 'boolean'") }
        }
        for key in ["rse_expression", "weight", "source_replica_expression", "comment", "account"] {
            if let v = o[key], !v.isNull, v.stringValue == nil { throw invalid("\(shown(v)) is not of type 'string'") }
        }
        if let v = o["activity"], !v.isNull {
            guard let a = v.stringValue, schema.activities.contains(a) else {
                throw invalid("\(shown(v)) is not one of \(schema.activities)")
            }
        }
        if let v = o["grouping"], !v.isNull {
            guard let g = v.stringValue?.uppercased(), ["ALL", "DATASET", "NONE"].contains(g) else {
                throw invalid("\(shown(v)) is not one of ['ALL', 'DATASET', 'NONE']")
            }
        }
        if let v = o["notify"], !v.isNull {
            guard let n = v.stringValue, ["Y", "N", "C", "P"].contains(n) else { throw invalid("\(shown(v)) is not one of ['Y', 'N', 'C', 'P']") }
        }
    }
}
