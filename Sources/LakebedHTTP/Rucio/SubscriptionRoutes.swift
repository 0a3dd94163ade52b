import Foundation
import Hummingbird
import LakebedCore

extension RucioAPI {
    /// A subscription as Rucio's `/subscriptions` routes render it (filter and rules as JSON text).
    /// A subscription's date as Rucio renders it (RFC 1123), or null.
    static func subscriptionDate(_ d: Date?) -> JSON { d.map { .string(RucioDate.rfc1123($0)) } ?? .null }

    static func subscriptionDoc(_ s: Subscription) -> JSON {
        return [
            "id": .string(s.id), "name": .string(s.name), "account": .string(s.account), "filter": .string(s.filter),
            "replication_rules": .string(s.replicationRules), "policyid": .int(Int64(s.policyID)), "state": .string(s.state.name),
            "last_processed": subscriptionDate(s.lastProcessed), "lifetime": subscriptionDate(s.lifetime), "retroactive": .bool(s.retroactive),
            "expired_at": subscriptionDate(s.expiredAt), "comments": .str(s.comments), "created_at": subscriptionDate(s.createdAt), "updated_at": subscriptionDate(s.updatedAt),
        ]
    }

    /// The `options` of a subscription POST or PUT; `required` are the keys Rucio's route reads without a default.
    static func subscriptionOptions(_ r: RucioRequest, required: [String]) throws -> SubscriptionStore.Options {
        let b = try r.jsonObject()
        guard let options = try b.optionalObject("options") else { throw RucioError.keyError("options") }
        for key in required where options[key] == nil { throw RucioError.keyError(key) }
        var o = SubscriptionStore.Options()
        if let f = options["filter"], f != .null {
            guard let obj = f.objectValue else { throw RucioError(.invalidObject, "filter should be a dict") }
            o.filter = obj
        }
        if let rules = options["replication_rules"], rules != .null { o.replicationRules = rules }
        o.comments = options["comments"]?.stringValue
        o.lifetimeDays = options["lifetime"]?.doubleValue
        o.retroactive = options["retroactive"]?.boolValue
        o.priority = options["priority"]?.intValue.map { Int(clamping: $0) }
        if let s = options["state"], s != .null { o.state = s.stringValue ?? s.serialized() }
        return o
    }

    func registerSubscriptions(_ t: inout RouteTable) {
        let list: RouteTable.Handler = { r in
            let subs = try await catalog.subscriptions.list(name: r.params["name"], account: r.params["account"])
            return Reply.stream(subs.map(Self.subscriptionDoc))
        }
        // The fixed segments first: `/subscriptions/name/x` is not account `name`'s subscription `x`.
        t.add(.get, "/subscriptions/name/:name", doc: RouteDoc("Subscriptions with a name")) { r in
            Reply.stream(try await catalog.subscriptions.list(name: r.param("name")).map(Self.subscriptionDoc))
        }
        t.add(.get, "/subscriptions/id/:id", doc: RouteDoc("A subscription by id")) { r in
            Reply.json(Self.subscriptionDoc(try await catalog.subscriptions.subscription(id: r.param("id"))))
        }
        t.add(.get, "/subscriptions", doc: RouteDoc("List subscriptions"), list)
        t.add(.get, "/subscriptions/:account", doc: RouteDoc("Subscriptions of an account"), list)
        t.add(.get, "/subscriptions/:account/:name", doc: RouteDoc("A subscription"), list)
        t.add(
            .post, "/subscriptions/:account/:name",
            doc: RouteDoc(
                "Add a subscription",
                body:
                    "options!:{filter!:object replication_rules!:[object] comments!:string lifetime!:int retroactive:bool dry_run:bool priority:int}")
        ) { r in
            let o = try Self.subscriptionOptions(r, required: ["filter", "replication_rules", "comments", "lifetime"])
            let id = try await catalog.subscriptions.add(name: r.param("name"), account: r.param("account"), options: o, issuer: r.caller)
            return Reply.created(id)
        }
        t.add(
            .put, "/subscriptions/:account/:name",
            doc: RouteDoc(
                "Update a subscription",
                body: "options!:{filter:object replication_rules:[object] comments:string lifetime:int retroactive:bool priority:int state:string}")
        ) { r in
            let o = try Self.subscriptionOptions(r, required: [])
            try await catalog.subscriptions.update(name: r.param("name"), account: r.param("account"), options: o, issuer: r.caller)
            return Reply.created()
        }
        t.add(.get, "/subscriptions/:account/:name/rules", doc: RouteDoc("Rules a subscription made", query: "state:string")) { r in
            let sub = try await catalog.subscriptions.list(name: r.param("name"), account: r.param("account"))[0]
            var filters = ["subscription_id": sub.id]
            if let state = r.q("state") { filters["state"] = state }
            return Reply.stream(try await catalog.rules.listRules(filters: filters).map { Doc.rule($0, now: catalog.clock.now()) })
        }
        let states: RouteTable.Handler = { r in
            let details = ["true", "1"].contains((r.q("include_details") ?? "").lowercased())
            let rows = try await catalog.subscriptions.ruleCounts(name: r.params["name"], account: r.param("account"))
            return Reply.stream(
                rows.map { s, c in
                    let state: JSON = c.state.map { .string($0.name) } ?? .null
                    guard details else { return .array([.string(c.account), .string(c.name), state, .int(Int64(c.count))]) }
                    return [
                        "account": .string(c.account), "name": .string(c.name), "state": state, "count": .int(Int64(c.count)),
                        "subscription_state": .string(s.state.name),
                        "last_processed": Self.subscriptionDate(s.lastProcessed),
                        "lifetime": Self.subscriptionDate(s.lifetime),
                        "expired_at": Self.subscriptionDate(s.expiredAt), "comments": .str(s.comments),
                    ]
                })
        }
        t.add(
            .get, "/subscriptions/:account/rules/states",
            doc: RouteDoc("Rules per state of an account's subscriptions", query: "include_details:bool"), states)
        t.add(
            .get, "/subscriptions/:account/:name/rules/states", doc: RouteDoc("Rules per state of a subscription", query: "include_details:bool"),
            states)
    }
}
