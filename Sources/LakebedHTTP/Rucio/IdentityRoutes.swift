import Foundation
import Hummingbird
import LakebedCore

extension RucioAPI {
    /// `/identities`: adding a userpass identity from headers, accounts of an identity.
    func registerIdentities(_ t: inout RouteTable) {
        t.add(
            .put, "/identities/:account/userpass",
            doc: RouteDoc(
                "Add a userpass identity to an account",
                headers: "X-Rucio-Username!:string X-Rucio-Password!:string X-Rucio-Email!:string")
        ) { r in
            guard let user = r.header("X-Rucio-Username"), let password = r.header("X-Rucio-Password"), let email = r.header("X-Rucio-Email") else {
                throw RucioError.valueError("Username, Email and Password must be set.")
            }
            try await catalog.auth.addIdentity(
                account: r.param("account"), identity: user, type: "USERPASS", email: email, password: password,
                isDefault: false, by: r.caller)
            return Reply.created()
        }
        let accounts: RouteTable.Handler = { r in
            guard let key = r.params["key"] ?? r.q("identity_key") else { throw RucioError.valueError("identity_key parameter is required.") }
            guard let type = r.params["type"] ?? r.q("type") else { throw RucioError.valueError("type parameter is required.") }
            let types = ["X509", "GSS", "USERPASS", "SSH", "SAML", "OIDC"]
            guard types.contains(type.uppercased()) else { throw RucioError.valueError("Invalid identity type. Valid types are: \(types)") }
            return Reply.json(.array(try await catalog.auth.accounts(forIdentity: key, type: type.uppercased()).map { .string($0) }))
        }
        t.add(.get, "/identities/accounts", doc: RouteDoc("Accounts of an identity", query: "identity_key!:string type!:string"), accounts)
        t.add(.get, "/identities/:key/:type/accounts", doc: RouteDoc("Accounts of an identity"), accounts)
    }
}
