import Foundation
import GRDB
import Synchronization

/// Where the running Lakebed serves RSE directories over HTTPS (WebDAV): published as each RSE's `https` protocol.
public struct WebDAVEndpoint: Sendable, Equatable {
    /// Host name clients use (and the TLS certificate names).
    public var hostname: String
    /// The HTTPS listener's port.
    public var port: Int

    public init(hostname: String, port: Int) {
        self.hostname = hostname
        self.port = port
    }

    /// The URL path under which an RSE's directory is served.
    public static func prefix(rse: String) -> String { "/storage/\(rse)/" }

    /// Rucio's client implementation of WebDAV (it insists on the `https` scheme).
    public static let impl = "rucio.rse.protocols.webdav.Default"

    /// The protocol an RSE gets: second choice after its `file` protocol for every operation, so clients
    /// use WebDAV when they ask for it (`--protocol https`) and posix otherwise.
    func rseProtocol(rse: String) -> RSEProtocol {
        RSEProtocol(
            scheme: "https", hostname: hostname, port: port, prefix: Self.prefix(rse: rse), impl: Self.impl,
            domains: [
                "lan": ["read": 2, "write": 2, "delete": 2],
                "wan": ["read": 2, "write": 2, "delete": 2, "third_party_copy_read": 2, "third_party_copy_write": 2],
            ])
    }
}

extension RSEStore {
    /// Records where WebDAV is served and gives every RSE (and every RSE created later) its `https` protocol at that port,
    /// replacing the one a previous run published.
    /// Only RSEs Lakebed made itself (the default lake's, scenarios') get it: an RSE a client added has the protocols
    /// the client gave it.
    public func publishWebDAV(_ endpoint: WebDAVEndpoint) async throws {
        catalog.webdav.withLock { $0 = endpoint }
        serveStorage(port: endpoint.port, hostname: endpoint.hostname)
        try await db.write { db in
            for rse in try Self.allRSEs(db) where try Self.hasReadyMadeProtocols(db, rseID: rse.id) {
                try Self.upsertWebDAV(db, rse: rse, endpoint: endpoint)
            }
        }
    }

    static func hasReadyMadeProtocols(_ db: Database, rseID: String) throws -> Bool {
        try db.one(sql: "SELECT 1 FROM rses WHERE id = ? AND lakebed_protocols = 1", arguments: [rseID]) != nil
    }

    /// The endpoint published by this process, if any.
    public var webdavEndpoint: WebDAVEndpoint? { catalog.webdav.withLock { $0 } }

    static func upsertWebDAV(_ db: Database, rse: RSE, endpoint: WebDAVEndpoint) throws {
        try db.execute(sql: "DELETE FROM rse_protocols WHERE rse_id = ? AND scheme = 'https' AND impl = ?", arguments: [rse.id, WebDAVEndpoint.impl])
        let p = endpoint.rseProtocol(rse: rse.rse)
        try db.execute(
            sql: "INSERT OR REPLACE INTO rse_protocols (rse_id, scheme, hostname, port, prefix, impl, domains) VALUES (?, ?, ?, ?, ?, ?, ?)",
            arguments: [rse.id, p.scheme, p.hostname, p.port, p.prefix, p.impl, p.domains.serialized()])
    }
}
