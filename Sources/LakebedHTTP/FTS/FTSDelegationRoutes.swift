import Foundation
import HTTPTypes
import Hummingbird
import LakebedCore
import SwiftASN1
import X509

/// FTS's GridSite delegation REST API (fts-rest's `delegation` controller): a certificate user delegates a proxy
/// before submitting, by asking for a certificate request, signing a proxy for its key and putting it back.
extension FTSAPI {
    /// FTS's 419: a certificate submission without a (valid) delegated credential; the fts3 client's `NeedDelegation`.
    static let authenticationTimeout = HTTPResponse.Status(code: 419, reasonPhrase: "Authentication Timeout")

    func registerDelegation(_ t: inout RouteTable) {
        t.add(.get, "/whoami/certificate", auth: false) { r in
            _ = try await caller(r)
            guard let verified = try await ClientCertificate.verified() else { return Reply.make(.ok, "application/x-pem-file", "") }
            let pem = try verified.chain.map { try $0.serializeAsPEM().pemString + "\n" }.joined()
            return Reply.make(.ok, "application/x-pem-file", pem)
        }
        t.add(.get, "/delegation/:id", auth: false) { r in
            let (who, store) = try await owner(r)
            guard let c = await store.credential(id: r.param("id"), dn: who.name) else { return Reply.json(.null) }
            // FTS splits the stored VOMS attributes on newlines: none is one empty string.
            return Reply.json(["termination_time": Self.iso(c.terminationTime), "voms_attrs": .array([.string("")])])
        }
        t.add(.delete, "/delegation/:id", auth: false) { r in
            let (who, store) = try await owner(r)
            guard try await store.delete(id: r.param("id"), dn: who.name) else { throw FTSError(.notFound, "Delegated credentials not found") }
            return Reply.make(.noContent, "text/plain; charset=utf-8", "")
        }
        t.add(.get, "/delegation/:id/request", auth: false) { r in
            let (who, store) = try await owner(r, certificate: true)
            let pem = try await store.request(id: r.param("id"), dn: who.name)
            return Reply.make(.ok, "text/plain; charset=utf-8", pem, extra: [("X-Delegation-ID", r.param("id"))])
        }
        t.add(.put, "/delegation/:id/credential", auth: false) { r in
            let (who, store) = try await owner(r, certificate: true)
            guard let connection = ClientCertificate.connection, let verified = try await ClientCertificate.verified() else {
                throw FTSError(.forbidden, "Certificate required")
            }
            do {
                _ = try await store.accept(
                    id: r.param("id"), dn: who.name, proxy: String(decoding: r.body, as: UTF8.self), owner: verified.chain[verified.endEntity],
                    ca: connection.ca)
            } catch let refusal as DelegatedProxy.Refusal {
                if refusal.description == "No credential cache found" { throw FTSError(.badRequest, refusal.description) }
                throw FTSError(.badRequest, "Could not process the proxy: \(refusal.description)")
            }
            return Reply.make(.created, "text/plain; charset=utf-8", "")
        }
    }

    /// The caller, when it owns delegation `:id` (the id FTS derives from its DN), and the store. `certificate`: the
    /// operation needs an X.509 login (FTS's `require_certificate`), as only a certificate can sign a proxy.
    func owner(_ r: RucioRequest, certificate: Bool = false) async throws -> (FTSCaller, DelegationStore) {
        let who = try await caller(r)
        guard let delegations else { throw FTSError(.notFound, "This FTS takes no delegation") }
        if certificate && who.method != "certificate" { throw FTSError(.forbidden, "Certificate required") }
        guard r.param("id") == DelegationStore.delegationID(dn: who.name) else {
            throw FTSError(.forbidden, "The requested ID and the credentials ID do not match")
        }
        return (who, delegations)
    }

    /// FTS's check before it takes a certificate submission: a delegated credential with at least an hour left.
    /// Returns the delegation id the job's transfers will run on.
    func requireDelegation(_ who: FTSCaller) async throws -> String {
        let id = DelegationStore.delegationID(dn: who.name)
        guard let delegations, let c = await delegations.credential(id: id, dn: who.name) else {
            throw FTSError(Self.authenticationTimeout, "No delegation found for \"\(who.name)\"")
        }
        let remaining = await delegations.remaining(c)
        if remaining <= 0 {
            throw FTSError(Self.authenticationTimeout, "The delegated credentials expired \(Int(-remaining)) seconds ago (\(id))")
        }
        if remaining < 3600 { throw FTSError(Self.authenticationTimeout, "The delegated credentials has less than one hour left (\(id))") }
        return id
    }
}
