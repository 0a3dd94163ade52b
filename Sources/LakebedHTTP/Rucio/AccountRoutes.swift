import Foundation
import Hummingbird
import LakebedCore

extension RucioAPI {
    func registerAccounts(_ t: inout RouteTable) {
        t.add(.get, "/accounts/whoami", doc: RouteDoc("The caller's account (303 to /accounts/<account>)")) { r in
            Reply.make(.seeOther, "text/html; charset=utf-8", "", extra: [("Location", r.caller.account)])
        }
        t.add(.get, "/accounts", doc: RouteDoc("List accounts", query: "account_type:USER|GROUP|SERVICE identity:string")) { r in
            var filters: [String: String] = [:]
            for (k, v) in r.query where !["account_type", "identity"].contains(k) { filters[k] = v }
            let list = try await catalog.accounts.listAccounts(type: r.q("account_type"), identity: r.q("identity"), filters: filters)
            return Reply.stream(list.map(Doc.accountListing))
        }
        t.add(.get, "/accounts/:account", doc: RouteDoc("An account")) { r in
            Reply.json(Doc.account(try await catalog.accounts.account(r.param("account"))))
        }
        t.add(.post, "/accounts/:account", doc: RouteDoc("Add an account", body: "type:USER|GROUP|SERVICE email:string")) { r in
            let body = try r.jsonObject()
            // Rucio reads `type` without a default: an account without one is a KeyError.
            guard let type = try body.optionalString("type") ?? body.optionalString("account_type") else { throw RucioError.keyError("type") }
            try await catalog.accounts.addAccount(r.param("account"), type: type.uppercased(), email: try body.optionalString("email"), by: r.caller)
            return Reply.created()
        }
        t.add(.put, "/accounts/:account", doc: RouteDoc("Update an account", body: "status:ACTIVE|SUSPENDED|DELETED email:string")) { r in
            for (k, v) in try r.jsonObject() { try await catalog.accounts.updateAccount(r.param("account"), key: k, value: v, by: r.caller) }
            return Reply.ok()
        }
        t.add(.delete, "/accounts/:account", doc: RouteDoc("Delete an account")) { r in
            try await catalog.accounts.deleteAccount(r.param("account"), by: r.caller)
            return Reply.ok()
        }
        // attributes
        t.add(.get, "/accounts/:account/attr", doc: RouteDoc("List account attributes")) { r in
            let attrs = try await catalog.accounts.accountAttributes(r.param("account"))
            return Reply.json(.array(attrs.map { ["key": .string($0.0), "value": $0.1] }))
        }
        t.add(.post, "/accounts/:account/attr/:key", doc: RouteDoc("Add an account attribute", body: "value!:any")) { r in
            let body = try r.jsonObject()
            guard let v = body["value"] else { throw RucioError.keyError("value") }
            try await catalog.accounts.addAccountAttribute(r.param("account"), key: r.param("key"), value: v, by: r.caller)
            return Reply.created()
        }
        t.add(.delete, "/accounts/:account/attr/:key", doc: RouteDoc("Delete an account attribute")) { r in
            try await catalog.accounts.deleteAccountAttribute(r.param("account"), key: r.param("key"), by: r.caller)
            return Reply.ok()
        }
        // scopes of an account
        t.add(.get, "/accounts/:account/scopes", doc: RouteDoc("Scopes of an account")) { r in
            let scopes = try await catalog.scopes.listScopes(ofAccount: r.param("account"))
            if scopes.isEmpty { throw RucioError(.scopeNotFound, "No scopes found for account ID '\(r.param("account"))'") }
            return Reply.json(.array(scopes.map { .string($0) }))
        }
        t.add(.post, "/accounts/:account/scopes/:scope", doc: RouteDoc("Add a scope for an account")) { r in
            try await catalog.scopes.addScope(r.param("scope"), account: r.param("account"), by: r.caller)
            return Reply.created()
        }
        // identities
        t.add(.get, "/accounts/:account/identities", doc: RouteDoc("Identities of an account")) { r in
            let ids = try await catalog.auth.listIdentities(account: r.param("account"))
            return Reply.stream(ids.map { ["identity": .string($0.identity), "type": .string($0.type), "email": .str($0.email)] })
        }
        t.add(
            .post, "/accounts/:account/identities",
            doc: RouteDoc(
                "Add an identity", body: "identity!:string authtype!:USERPASS|X509|GSS|SSH|SAML|OIDC email:string password:string default:bool")
        ) { r in
            let b = try r.jsonObject()
            try await catalog.auth.addIdentity(
                account: r.param("account"), identity: try b.requiredString("identity"), type: try b.requiredString("authtype"),
                email: try b.optionalString("email"), password: try b.optionalString("password"),
                isDefault: try b.optionalBool("default") ?? false, by: r.caller)
            return Reply.created()
        }
        t.add(
            .delete, "/accounts/:account/identities",
            doc: RouteDoc("Delete an identity", body: "identity!:string authtype!:USERPASS|X509|GSS|SSH|SAML|OIDC")
        ) { r in
            let b = try r.jsonObject()
            try await catalog.auth.deleteIdentity(
                account: r.param("account"), identity: try b.requiredString("identity"), type: try b.requiredString("authtype"), by: r.caller)
            return Reply.ok()
        }
        // limits
        let localLimits: RouteTable.Handler = { r in
            let list = try await catalog.accountLimits.localAccountLimits(r.param("account"), rse: r.params["rse"])
            var o = JSONObject()
            for (rse, bytes) in list { o[rse] = bytes.map { .int($0) } ?? .null }
            return Reply.json(.object(o))
        }
        let globalLimits: RouteTable.Handler = { r in
            let list = try await catalog.accountLimits.globalAccountLimits(r.param("account"), expression: nil)
            var o = JSONObject()
            for (expr, rses, bytes) in list {
                o[expr] = [
                    "resolved_rses": .array(rses.map { .string($0.rse) }), "resolved_rse_ids": .array(rses.map { .string($0.id) }),
                    "limit": .int(bytes),
                ]
            }
            return Reply.json(.object(o))
        }
        // `limits/global` before the legacy `limits/:rse`: the first matching route wins.
        t.add(.get, "/accounts/:account/limits/global", doc: RouteDoc("Global account limits"), globalLimits)
        t.add(.get, "/accounts/:account/limits/global/:expr", doc: RouteDoc("The global account limit of one expression")) { r in
            // `get_global_account_limit` answers {expression: bytes} (null when unset), not the listing's document.
            let list = try await catalog.accountLimits.globalAccountLimits(r.param("account"), expression: r.param("expr"))
            return Reply.json(.object(JSONObject([(r.param("expr"), list.first.map { .int($0.2) } ?? .null)])))
        }
        for p in [
            "/accounts/:account/limits/local", "/accounts/:account/limits/local/:rse", "/accounts/:account/limits", "/accounts/:account/limits/:rse",
        ] {
            t.add(.get, p, doc: RouteDoc("Local account limits"), localLimits)
        }
        let setLocal: RouteTable.Handler = { r in
            let b = try r.jsonObject()
            guard let bytes = try b.optionalInt("bytes") else { throw RucioError.keyError("bytes") }
            try await catalog.accountLimits.setLocalAccountLimit(r.param("account"), rse: r.param("rse"), bytes: bytes, by: r.caller)
            return Reply.created()
        }
        let delLocal: RouteTable.Handler = { r in
            try await catalog.accountLimits.setLocalAccountLimit(r.param("account"), rse: r.param("rse"), bytes: nil, by: r.caller)
            return Reply.ok()
        }
        t.add(.post, "/accounts/:account/limits/local/:rse", doc: RouteDoc("Set a local account limit", body: "bytes!:int"), setLocal)
        t.add(.post, "/accounts/:account/limits/:rse", doc: RouteDoc("Set a local account limit", body: "bytes!:int"), setLocal)
        t.add(.delete, "/accounts/:account/limits/local/:rse", doc: RouteDoc("Delete a local account limit"), delLocal)
        t.add(.delete, "/accounts/:account/limits/:rse", doc: RouteDoc("Delete a local account limit"), delLocal)
        // The older `/accountlimits/…` forms of the same calls.
        t.add(.post, "/accountlimits/local/:account/:rse", doc: RouteDoc("Set a local account limit", body: "bytes!:int"), setLocal)
        t.add(.delete, "/accountlimits/local/:account/:rse", doc: RouteDoc("Delete a local account limit"), delLocal)
        t.add(.post, "/accountlimits/global/:account/:expr", doc: RouteDoc("Set a global account limit", body: "bytes!:int")) { r in
            guard let bytes = try r.jsonObject().optionalInt("bytes") else { throw RucioError.keyError("bytes") }
            try await catalog.accountLimits.setGlobalAccountLimit(r.param("account"), expression: r.param("expr"), bytes: bytes, by: r.caller)
            return Reply.created()
        }
        t.add(.delete, "/accountlimits/global/:account/:expr", doc: RouteDoc("Delete a global account limit")) { r in
            try await catalog.accountLimits.setGlobalAccountLimit(r.param("account"), expression: r.param("expr"), bytes: nil, by: r.caller)
            return Reply.ok()
        }
        t.add(.post, "/accountlimits/:account/:rse", doc: RouteDoc("Set a local account limit", body: "bytes!:int"), setLocal)
        t.add(.delete, "/accountlimits/:account/:rse", doc: RouteDoc("Delete a local account limit"), delLocal)
        t.add(.post, "/accounts/:account/limits/global/:expr", doc: RouteDoc("Set a global account limit", body: "bytes!:int")) { r in
            guard let bytes = try r.jsonObject().optionalInt("bytes") else { throw RucioError.keyError("bytes") }
            try await catalog.accountLimits.setGlobalAccountLimit(r.param("account"), expression: r.param("expr"), bytes: bytes, by: r.caller)
            return Reply.created()
        }
        t.add(.delete, "/accounts/:account/limits/global/:expr", doc: RouteDoc("Delete a global account limit")) { r in
            try await catalog.accountLimits.setGlobalAccountLimit(r.param("account"), expression: r.param("expr"), bytes: nil, by: r.caller)
            return Reply.ok()
        }
        // usage
        let localUsage: RouteTable.Handler = { r in
            let usage = try await catalog.accountLimits.localAccountUsage(r.param("account"), rse: r.params["rse"])
            return Reply.stream(
                usage.map { u in
                    [
                        "rse_id": .string(u.rse.id), "rse": .string(u.rse.rse), "bytes": .int(u.bytes), "files": .int(u.files),
                        "bytes_limit": u.limit.map { .int($0) } ?? .double(.infinity),
                        "bytes_remaining": u.limit.map { .int($0.clampedSubtracting(u.bytes)) } ?? .double(.infinity),
                    ]
                })
        }
        // `usage/global` before `usage/:rse`: the first matching route wins.
        let globalUsage: RouteTable.Handler = { r in
            let limits = try await catalog.accountLimits.globalAccountLimits(r.param("account"), expression: r.params["expr"])
            let usage = try await catalog.accountLimits.localAccountUsage(r.param("account"), rse: nil)
            return Reply.stream(
                limits.map { (expr, rses, bytes) in
                    let ids = Set(rses.map(\.id))
                    let used = usage.filter { ids.contains($0.rse.id) }
                    let b = used.reduce(Int64(0)) { $0.clampedAdding($1.bytes) }
                    let f = used.reduce(Int64(0)) { $0.clampedAdding($1.files) }
                    return [
                        "rse_expression": .string(expr), "bytes": .int(b), "files": .int(f), "bytes_limit": .int(bytes),
                        "bytes_remaining": .int(bytes.clampedSubtracting(b)),
                    ]
                })
        }
        t.add(.get, "/accounts/:account/usage/global", doc: RouteDoc("Global account usage"), globalUsage)
        t.add(.get, "/accounts/:account/usage/global/:expr", doc: RouteDoc("Global account usage of one expression"), globalUsage)
        t.add(.get, "/accounts/:account/usage/history/:rse", doc: RouteDoc("Usage history of an account on an RSE")) { r in
            // Rucio's history is what its abacus daemon wrote down over time; Lakebed computes usage when asked and
            // keeps no history, so the list is empty (as on a Rucio server whose abacus has not run).
            _ = try await catalog.accounts.account(r.param("account"))
            _ = try await catalog.rses.rse(r.param("rse"))
            return Reply.json(.array([]))
        }
        for p in [
            "/accounts/:account/usage/local", "/accounts/:account/usage/local/:rse", "/accounts/:account/usage", "/accounts/:account/usage/:rse",
        ] {
            t.add(.get, p, doc: RouteDoc("Local account usage"), localUsage)
        }
        t.add(.get, "/accounts/:account/rules", doc: RouteDoc("Rules of an account", query: "state:string scope:string name:string")) { r in
            var filters: [String: String] = [:]
            for (k, v) in r.query { filters[k] = v }
            filters["account"] = r.param("account")
            _ = try await catalog.accounts.account(r.param("account"))
            return try await streamRules(filters)
        }
    }
}
