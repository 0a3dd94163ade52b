import Foundation
import Hummingbird
import LakebedCore

extension RucioAPI {
    /// `/credentials/signurl`: URLs signed for an RSE's object store (and Rucio's `/credentials/signur` alias).
    func registerCredentials(_ t: inout RouteTable) {
        let sign: RouteTable.Handler = { r in
            guard let rse = r.q("rse") else { throw RucioError.valueError("Parameter \"rse\" not found") }
            guard let url = r.q("url") else { throw RucioError.valueError("Parameter \"url\" not found") }
            // Flask's `type=int`: a lifetime that is not an integer is the default.
            let lifetime = r.q("lifetime").flatMap { Int($0) } ?? 600
            let service = r.q("svc") ?? "gcs"
            let operation = r.q("op") ?? "read"
            guard CredentialStore.services.contains(service) else {
                throw RucioError.valueError("Parameter \"svc\" must be either empty (which defaults to \"gcs\"), \"gcs\", \"s3\" or \"swift\"")
            }
            guard CredentialStore.operations[operation] != nil else {
                throw RucioError.valueError("Parameter \"op\" must be either empty (which defaults to \"read\"), \"read\", \"write\", or \"delete\".")
            }
            let signed = try await catalog.credentials.signedURL(
                rse: rse, service: service, operation: operation, url: url, lifetime: lifetime, issuer: r.caller)
            return Reply.make(.ok, "text/html; charset=utf-8", signed)
        }
        let doc = RouteDoc(
            "A URL signed for an RSE's object store", query: "rse!:string url!:string svc:gcs|s3|swift op:read|write|delete lifetime:int")
        t.add(.get, "/credentials/signurl", doc: doc, sign)
        t.add(.get, "/credentials/signur", doc: doc, sign)
    }
}
