import Foundation
import Hummingbird
import LakebedCore

extension RucioAPI {
    /// `/redirect`: an unauthenticated jump to a replica over HTTP (303), or the metalink of a file's replicas.
    func registerRedirect(_ t: inout RouteTable) {
        t.add(.get, "/redirect/:scope/:name/metalink", auth: false, doc: RouteDoc("The metalink of a DID's replicas", query: "schemes:string")) { r in
            var q = ReplicaStore.ReplicaQuery()
            q.schemes = r.qAll("schemes").isEmpty ? ["http", "https", "root", "davs"] : r.qAll("schemes")
            let files = try await catalog.replicas.listReplicas([DIDRef(r.param("scope"), r.param("name"))], query: q)
            // Rucio answers its 404s here as plain text; Lakebed in its error format, like every other 4xx.
            guard !files.isEmpty else { throw RucioError(.dataIdentifierNotFound, "no redirection possible - cannot find the DID") }
            return Self.metalink(files, parents: false)
        }
        t.add(.get, "/redirect/:scope/:name", auth: false, doc: RouteDoc("303 to an HTTP replica of a file", query: "rse:string schemes:string")) {
            r in
            var q = ReplicaStore.ReplicaQuery()
            q.schemes = r.qAll("schemes").isEmpty ? ["davs", "https", "s3"] : r.qAll("schemes")
            let files = try await catalog.replicas.listReplicas([DIDRef(r.param("scope"), r.param("name"))], query: q)
            // Rucio picks at random among the candidates; Lakebed takes them in RSE order, so a replay redirects alike.
            let candidates = (files.first?.replicas ?? []).filter { !$0.protocols.isEmpty && (r.q("rse") == nil || $0.rse.rse == r.q("rse")) }
            guard let rep = candidates.first, let proto = rep.protocols.first else {
                if files.isEmpty { throw RucioError(.dataIdentifierNotFound, "no redirection possible - file does not exist") }
                throw RucioError(.replicaNotFound, "no redirection possible - no valid RSE for HTTP redirection found")
            }
            return Reply.make(.seeOther, "text/html; charset=utf-8", "", extra: [("Location", proto.pfn(path: rep.path))])
        }
    }
}
