import Foundation
import Hummingbird
import LakebedCore

extension RucioAPI {
    func registerScopes(_ t: inout RouteTable) {
        t.add(.get, "/scopes") { _ in Reply.json(.array(try await catalog.listScopes().map { .string($0) })) }
        t.add(.get, "/scopes/owner") { _ in
            Reply.json(.array(try await catalog.listScopeOwners().map { ["scope": .string($0.scope), "account": .string($0.account)] }))
        }
        t.add(.get, "/scopes/:account/scopes") { r in
            let scopes = try await catalog.listScopes(ofAccount: r.param("account"))
            if scopes.isEmpty { throw RucioError("ScopeNotFound", "No scopes found for account ID '\(r.param("account"))'") }
            return Reply.json(.array(scopes.map { .string($0) }))
        }
        t.add(.post, "/scopes/:account/:scope") { r in
            try await catalog.addScope(r.param("scope"), account: r.param("account"), by: r.caller)
            return Reply.created()
        }
    }
}
