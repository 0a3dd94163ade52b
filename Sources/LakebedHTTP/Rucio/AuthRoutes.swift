import Foundation
import Hummingbird
import LakebedCore

extension RucioAPI {
    func registerAuth(_ t: inout RouteTable) {
        t.add(
            .get, "/auth/userpass", auth: false,
            doc: RouteDoc(
                "Log in with a username and password; the token comes back in X-Rucio-Auth-Token",
                headers: "X-Rucio-Username!:string X-Rucio-Password!:string X-Rucio-Account:string X-Rucio-AppID:string")
        ) { r in
            guard let user = r.header("X-Rucio-Username"), let pass = r.header("X-Rucio-Password") else {
                throw RucioError.cannotAuthenticate("Cannot authenticate without passing all required arguments")
            }
            let account = r.header("X-Rucio-Account")
            switch try await catalog.auth.loginUserpass(username: user, password: pass, account: account, appID: r.header("X-Rucio-AppID")) {
            case .token(let info):
                return Reply.make(
                    .ok, "application/octet-stream", "",
                    extra: [
                        ("X-Rucio-Auth-Token", info.token), ("X-Rucio-Auth-Token-Expires", RucioDate.rfc1123(info.expiresAt)),
                        ("X-Rucio-Auth-Account", info.account),
                    ])
            case .chooseAccount(let accounts):
                return Reply.make(
                    .init(code: 206), "application/json", JSON.array(accounts.map { .string($0) }).serialized(),
                    extra: [("X-Rucio-Auth-Accounts", accounts.joined(separator: ","))])
            }
        }
        t.add(.get, "/auth/validate", doc: RouteDoc("Validate the caller's token")) { r in
            let i = r.caller
            let token = r.header("X-Rucio-Auth-Token") ?? ""
            let info = try await catalog.auth.validateNativeToken(token)
            let lifetime = info.map { RucioDate.rfc1123($0.expiresAt) } ?? ""
            // Rucio answers with the Python repr of a dict, not JSON.
            let body =
                "{'account': '\(i.account)', 'identity': '\(i.identity)', 'lifetime': '\(lifetime)', 'audience': \(info?.audience.map { "'\($0)'" } ?? "None"), 'authz_scope': \(info?.scope.map { "'\($0)'" } ?? "None")}"
            return Reply.make(.ok, "application/octet-stream", body)
        }
    }
}
