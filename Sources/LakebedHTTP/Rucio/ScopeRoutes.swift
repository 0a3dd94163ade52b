import Foundation
import Hummingbird
import LakebedCore

extension RucioAPI {
    func registerScopes(_ t: inout RouteTable) {
        t.add(.get, "/scopes", doc: RouteDoc("List scopes")) { _ in Reply.json(.array(try await catalog.scopes.listScopes().map { .string($0) })) }
        t.add(.get, "/scopes/owner", doc: RouteDoc("Scopes with their owners")) { _ in
            Reply.json(.array(try await catalog.scopes.listScopeOwners().map { ["scope": .string($0.scope), "account": .string($0.account)] }))
        }
        t.add(.get, "/scopes/:account/scopes", doc: RouteDoc("Scopes of an account")) { r in
            let scopes = try await catalog.scopes.listScopes(ofAccount: r.param("account"))
            if scopes.isEmpty { throw RucioError(.scopeNotFound, "No scopes found for account ID '\(r.param("account"))'") }
            return Reply.json(.array(scopes.map { .string($0) }))
        }
        t.add(.post, "/scopes/:account/:scope", doc: RouteDoc("Add a scope for an account")) { r in
            try await catalog.scopes.addScope(r.param("scope"), account: r.param("account"), by: r.caller)
            return Reply.created()
        }
        t.add(.put, "/scopes/:account/:scope", doc: RouteDoc("Give a scope to another account")) { r in
            try await catalog.scopes.updateScope(r.param("scope"), account: r.param("account"), by: r.caller)
            return Reply.text("", status: .created, contentType: "text/html; charset=utf-8")
        }
    }
}
