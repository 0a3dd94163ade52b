import Foundation
import Hummingbird
import LakebedCore
import LakebedOIDC

/// Rucio's REST endpoints, registered into a route table; each handler only translates to the catalog.
struct RucioAPI: Sendable {
    let catalog: Catalog
    let version: String
    /// Rucio's OIDC login against the lake's IAM; nil without an IAM (the OIDC routes then refuse).
    var oidc: OIDCLogin? = nil
    /// Turns for the pages of big listings (replicas, files, DID searches), shared by every client.
    let listings = FairGate()

    func register(_ t: inout RouteTable) {
        t.add(.get, "/ping", auth: false, doc: RouteDoc("Server version")) { _ in Reply.json(["version": .string(version)]) }
        t.add(.post, "/traces", auth: false, doc: RouteDoc("Record a client trace (accepted and ignored)")) { _ in Reply.created() }
        registerAuth(&t)
        registerX509(&t)
        registerAccounts(&t)
        registerIdentities(&t)
        registerScopes(&t)
        registerRSEs(&t)
        registerDIDBulk(&t)
        registerNewDIDs(&t)
        registerDIDs(&t)
        registerBadReplicas(&t)
        registerReplicas(&t)
        registerLifetimeExceptions(&t)
        registerConfig(&t)
        registerHeartbeats(&t)
        registerRedirect(&t)
        registerRules(&t)
        registerTransferLimits(&t)
        registerRequests(&t)
        registerMetaConventions(&t)
        registerSubscriptions(&t)
        registerExport(&t)
        registerGSS(&t)
        registerSSH(&t)
        registerOIDC(&t)
        registerCredentials(&t)
        registerDirac(&t)
        registerOpenData(&t)
    }

    /// Parses a list of `{scope, name}` dictionaries.
    static func didRefs(_ items: [JSON]) throws -> [DIDRef] {
        try items.map { item in
            guard let o = item.objectValue else { throw RucioError.typeError("each DID must be a dictionary") }
            let scope = try o.requiredString("scope")
            let name = try o.requiredString("name")
            return DIDRef(scope, name)
        }
    }

    /// Parses file specs (`scope`, `name`, `bytes`, `adler32`, `md5`, `meta`, `state`, `pfn`).
    static func fileSpecs(_ items: [JSON]) throws -> [FileSpec] {
        try items.map { item in
            guard let o = item.objectValue else { throw RucioError.typeError("each file must be a dictionary") }
            let meta = try o.optionalObject("meta") ?? JSONObject()
            return FileSpec(
                scope: try o.requiredString("scope"), name: try o.requiredString("name"), bytes: try o.optionalInt("bytes"),
                adler32: try o.optionalString("adler32"), md5: try o.optionalString("md5"),
                guid: try o.optionalString("guid") ?? meta["guid"]?.stringValue, events: try o.optionalInt("events"), meta: meta,
                state: try o.optionalString("state"), pfn: try o.optionalString("pfn"))
        }
    }
}
