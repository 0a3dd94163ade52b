import Foundation
import Hummingbird
import LakebedCore

extension RucioAPI {
    /// Kerberos (GSS): Rucio takes the principal from `REMOTE_USER`, which Apache's mod_auth_gssapi sets after checking a
    /// ticket against a KDC. Lakebed has no KDC and no such module, so no request ever carries a principal: both routes
    /// answer as Rucio does when Apache provides none (README, "what is not emulated").
    func registerGSS(_ t: inout RouteTable) {
        t.add(.get, "/auth/gss", auth: false, doc: RouteDoc("Kerberos login (never possible here: no KDC)", headers: "X-Rucio-Account:string")) {
            _ in
            throw RucioError.valueError("Account and REMOTE_USER must be set.")
        }
        t.add(.put, "/identities/:account/gss", doc: RouteDoc("Add the caller's Kerberos principal (never possible here: no KDC)")) { _ in
            throw RucioError.valueError("REMOTE_USER and email must be set.")
        }
    }

    /// `GET /dids/new`: DIDs flagged new (what the transmogrifier will look at).
    func registerNewDIDs(_ t: inout RouteTable) {
        t.add(.get, "/dids/new", doc: RouteDoc("DIDs flagged new", query: "type:FILE|DATASET|CONTAINER")) { r in
            var type: DIDType?
            if let raw = r.q("type") {
                // Rucio looks the type up by its name (DIDType[type.upper()]).
                guard let t = DIDType(rawValue: raw.uppercased()) else { throw RucioError.keyError(raw.uppercased()) }
                type = t
            }
            return Reply.stream(
                try await catalog.dids.listNew(type: type).map { d in
                    ["scope": .string(d.scope), "name": .string(d.name), "did_type": .string(d.type.rawValue)]
                })
        }
    }
}
