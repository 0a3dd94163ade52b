import Foundation
import GRDB
import Logging
import Synchronization

/// Where an RSE's bytes are, as its protocols say (Rucio knows only protocols; Lakebed has to decide what it holds).
public enum StorageSite: Sendable, Equatable {
    /// Lakebed holds the bytes in this directory: the prefix of the RSE's `file` (posix) protocol, or, for an RSE reached
    /// only through Lakebed's own WebDAV endpoint, a folder of Lakebed's data folder.
    case directory(String)
    /// Every protocol points at an endpoint Lakebed does not serve (a production topology copied in): sizes and
    /// checksums are accounted, bytes are not kept.
    case virtual
    /// The RSE has no protocol: nothing can be written to it or read from it (Rucio: RSEProtocolNotSupported).
    case unreachable

    /// The directory, when Lakebed holds bytes.
    public var directory: String? { if case .directory(let d) = self { return d } else { return nil } }
}

/// The folders under which `file` protocol prefixes may put an RSE's bytes: nothing Lakebed writes lands elsewhere.
public struct StorageRoots: Sendable, Equatable {
    /// Absolute, symlink-free folders.
    public private(set) var folders: [String]

    /// The data folder and the system's temporary folders, plus `extra` (from `serve --storage-root` or a scenario).
    public init(dataDir: String, extra: [String] = []) {
        var f = [dataDir, NSTemporaryDirectory(), "/tmp"]
        if let t = ProcessInfo.processInfo.environment["TMPDIR"], !t.isEmpty { f.append(t) }
        f += extra
        var seen: [String] = []
        for folder in f.map(Self.resolved) where !seen.contains(folder) { seen.append(folder) }
        folders = seen
    }

    /// `path` standardised with every symbolic link in its existing part resolved (the part that does not exist yet is
    /// kept as written, `..` refused by the caller), so a link cannot smuggle a prefix out of the roots.
    public static func resolved(_ path: String) -> String {
        var existing = (path as NSString).standardizingPath
        var missing: [String] = []
        while existing != "/" && !FileManager.default.fileExists(atPath: existing) {
            missing.insert((existing as NSString).lastPathComponent, at: 0)
            existing = (existing as NSString).deletingLastPathComponent
        }
        let real = URL(fileURLWithPath: existing).resolvingSymlinksInPath().path
        return ([real] + missing).reduce("") { $0.isEmpty ? $1 : ($0 as NSString).appendingPathComponent($1) }
    }

    /// The root that holds `path` (resolved), or nil.
    public func root(holding path: String) -> String? {
        let p = Self.resolved(path)
        return folders.first { p == $0 || p.hasPrefix($0.hasSuffix("/") ? $0 : $0 + "/") }
    }
}

/// Where this process serves storage over HTTP(S): protocols naming one of these (with a local host name) are Lakebed's own.
public struct StorageEndpoints: Sendable, Equatable {
    /// Ports of Lakebed's listeners (HTTP and HTTPS), each serving the WebDAV storage.
    public var ports: Set<Int> = []
    /// Host names that mean this machine.
    public var hostnames: Set<String> = ["localhost", "127.0.0.1", "::1", "[::1]", "localhost.localdomain"]

    public init(ports: Set<Int> = [], hostnames: Set<String> = []) {
        self.ports = ports
        self.hostnames.formUnion(hostnames.map { $0.lowercased() })
    }

    /// Whether Lakebed serves `p`: a posix (`file`) protocol is this machine's file system; an HTTP one must name one
    /// of Lakebed's listeners.
    public func serves(_ p: RSEProtocol) -> Bool {
        if p.isPosix { return true }
        guard RSEProtocol.webSchemes.contains(p.scheme.lowercased()) else { return false }
        return ports.contains(p.port) && hostnames.contains(p.hostname.lowercased())
    }

    /// Whether an HTTP(S)/WebDAV URL names one of Lakebed's listeners: a local host name and one of its ports (the
    /// scheme's default port when the URL gives none). With no listener recorded (in-process tests) any port is taken.
    public func serves(url: String) -> Bool {
        guard let u = URLComponents(string: url), let scheme = u.scheme?.lowercased(), RSEProtocol.webSchemes.contains(scheme) else { return false }
        guard let host = u.host?.lowercased(), hostnames.contains(host) || hostnames.contains("[\(host)]") else { return false }
        if ports.isEmpty { return true }
        return ports.contains(u.port ?? (scheme == "https" || scheme == "davs" ? 443 : 80))
    }
}

extension RSEProtocol {
    /// Schemes Lakebed's WebDAV answers.
    public static let webSchemes: Set<String> = ["https", "davs", "http", "dav"]
    /// A protocol on the local file system (`file` scheme or Rucio's posix implementation).
    public var isPosix: Bool { scheme == "file" || impl.contains("posix") }
}

extension RSEStore {
    static let storageLog = Logger(label: "lakebed.storage")

    /// Folders `file` protocol prefixes may use.
    public var storageRoots: StorageRoots { catalog.storageRootsBox.withLock { $0 } }

    /// Adds folders `file` protocol prefixes may use (`serve --storage-root`, a scenario's `storage_roots`).
    public func allowStorageRoots(_ folders: [String]) {
        catalog.storageRootsBox.withLock { $0 = StorageRoots(dataDir: catalog.dataDir, extra: $0.folders + folders) }
    }

    /// Where this process serves storage.
    public var storageEndpoints: StorageEndpoints { catalog.storageEndpointsBox.withLock { $0 } }

    /// Records a listener that serves the WebDAV storage (its port makes protocols naming it Lakebed's own).
    public func serveStorage(port: Int, hostname: String? = nil) {
        catalog.storageEndpointsBox.withLock {
            $0.ports.insert(port)
            if let hostname { $0.hostnames.insert(hostname.lowercased()) }
        }
    }

    /// Where the bytes of `rse` are, given its protocols.
    public func storageSite(_ rse: RSE) async throws -> StorageSite {
        try await db.read { db in try Self.storageSite(db, rse: rse, endpoints: storageEndpoints) }
    }

    static func storageSite(_ db: Database, rse: RSE, endpoints: StorageEndpoints) throws -> StorageSite {
        let protos = try protocols(db, rseID: rse.id)
        return storageSite(rse: rse, protocols: protos, endpoints: endpoints)
    }

    static func storageSite(rse: RSE, protocols protos: [RSEProtocol], endpoints: StorageEndpoints) -> StorageSite {
        if protos.isEmpty { return .unreachable }
        // `root` follows the posix protocol's prefix (see `refreshStorage`), or is Lakebed's own folder for the RSE.
        if protos.contains(where: endpoints.serves) { return .directory(rse.root) }
        return .virtual
    }

    /// The posix protocol whose prefix holds the RSE's bytes: the best write priority on the LAN, then on the WAN.
    static func storageProtocol(_ protos: [RSEProtocol]) -> RSEProtocol? {
        protos.filter(\.isPosix).min { a, b in
            let ka = (a.priority(domain: "lan", operation: "write") ?? a.priority(domain: "wan", operation: "write") ?? Int64.max, a.prefix)
            let kb = (b.priority(domain: "lan", operation: "write") ?? b.priority(domain: "wan", operation: "write") ?? Int64.max, b.prefix)
            return ka < kb
        }
    }

    /// Points the RSE's `root` at its posix protocol's prefix, or back at Lakebed's own folder for it when it has none.
    /// Bytes are not moved: replicas written under an earlier prefix stay there (`lakebed check` reports them missing).
    static func refreshStorage(_ db: Database, rse: RSE, defaultRoot: String) throws {
        let protos = try protocols(db, rseID: rse.id)
        let root = storageProtocol(protos).map { ($0.prefix as NSString).standardizingPath } ?? defaultRoot
        if root != rse.root { try db.exec(sql: "UPDATE rses SET root = ? WHERE id = ?", arguments: [root, rse.id]) }
    }

    /// Checks a protocol before it is stored: a posix prefix must be an absolute folder inside the storage roots that
    /// no other RSE's storage contains or lies in; an HTTP protocol on Lakebed's own endpoint must not take a path
    /// of Lakebed's API. Returns the folder to create for a posix prefix.
    static func vetProtocol(_ db: Database, _ p: RSEProtocol, rse: RSE, roots: StorageRoots, endpoints: StorageEndpoints) throws -> String? {
        let parts = p.prefix.split(separator: "/", omittingEmptySubsequences: true)
        if p.prefix.contains("\0") || parts.contains(where: { $0 == ".." || $0 == "." }) {
            throw RucioError(.invalidObject, "Provided object does not match schema. Details: prefix '\(Validation.printable(p.prefix))' is not a path")
        }
        if p.isPosix {
            guard p.prefix.hasPrefix("/") else {
                throw RucioError(
                    .invalidObject,
                    "Provided object does not match schema. Details: the prefix of a posix protocol must be an absolute folder, not '\(Validation.printable(p.prefix))'"
                )
            }
            let folder = StorageRoots.resolved(p.prefix)
            guard roots.root(holding: folder) != nil else {
                throw RucioError.accessDenied(
                    """
                    Lakebed keeps RSE bytes only inside its storage roots (\(roots.folders.joined(separator: ", "))): prefix \
                    '\(Validation.printable(p.prefix))' is outside them. Choose a folder inside one, or start Lakebed with --storage-root
                    """)
            }
            for other in try allRSEs(db) where other.id != rse.id {
                let theirs = StorageRoots.resolved(other.root)
                if folder == theirs || folder.hasPrefix(theirs + "/") || theirs.hasPrefix(folder + "/") {
                    throw RucioError.duplicate(
                        "Prefix '\(Validation.printable(p.prefix))' overlaps the storage of RSE \(other.rse) (\(other.root)): each RSE needs a folder of its own")
                }
            }
            return folder
        }
        if endpoints.serves(p), let first = parts.first, apiSegments.contains(String(first)) {
            throw RucioError(
                .invalidObject,
                "Provided object does not match schema. Details: prefix '\(Validation.printable(p.prefix))' is a path of Lakebed's API on \(p.hostname):\(p.port); choose another (e.g. /rucio/ or \(WebDAVEndpoint.prefix(rse: rse.rse)))"
            )
        }
        return nil
    }

    /// First path segments of the REST API and Lakebed's services, which a storage prefix on Lakebed's own endpoint
    /// cannot take (`storage` is the WebDAV's own, which such a prefix may use).
    static let apiSegments: Set<String> = [
        "accounts", "accountlimits", "archives", "auth", "config", "credentials", "dids", "dirac", "export", "heartbeats", "identities",
        "import", "lifetime_exceptions", "locks", "meta_conventions", "metrics", "opendata", "ping", "redirect", "replicas", "requests",
        "rses", "rules", "scopes", "subscriptions", "traces", "vos", "iam", "fts", "lakebed", "esap", "dashboard", "openapi.json",
    ]

    /// Says in the log what Lakebed does with a protocol it was given, so nobody is surprised by virtual storage.
    static func noteStorage(rse: String, site: StorageSite, protocol p: RSEProtocol) {
        switch site {
        case .virtual:
            storageLog.notice(
                """
                RSE \(rse): \(p.scheme)://\(p.hostname):\(p.port) is not served by Lakebed, and no protocol of \(rse) is: its storage is \
                virtual (sizes and checksums accounted, bytes not kept)
                """)
        case .directory(let d): storageLog.info("RSE \(rse): bytes live in \(d)")
        case .unreachable: break
        }
    }
}

/// A path on the storage of an RSE whose bytes Lakebed holds, as a storage URL names it.
public struct StorageLocation: Sendable, Equatable {
    /// The RSE.
    public var rse: RSE
    /// The path below the RSE's storage folder (no leading slash; empty for the folder itself).
    public var relative: String
    /// The URL path of the storage folder as the URL named it (`/storage/<RSE>/`, or a protocol's prefix), ending in `/`.
    public var base: String
    /// The absolute file-system path (inside the RSE's folder).
    public func absolute() throws -> String {
        relative.isEmpty ? (rse.root as NSString).standardizingPath : try containedPath(root: rse.root, relative: relative)
    }
}

extension RSEStore {
    /// Where a URL path on Lakebed's own HTTP(S) endpoint lands: under the prefix of an RSE protocol that Lakebed serves
    /// (the longest that matches, segment by segment), else under Lakebed's own `/storage/<RSE>/` for an RSE whose
    /// bytes it holds. Nil when the path names no such storage. `segments` are the decoded path segments.
    public func locate(segments: [String]) async throws -> StorageLocation? {
        let endpoints = storageEndpoints
        return try await db.read { db -> StorageLocation? in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT p.*, r.id AS rid FROM rse_protocols p JOIN rses r ON r.id = p.rse_id
                    WHERE r.deleted = 0 AND p.scheme IN ('https', 'davs', 'http', 'dav')
                    """)
            var best: (count: Int, rseID: String, prefix: [String])?
            for row in rows {
                let p = RSEProtocol(row: row)
                guard endpoints.serves(p) else { continue }
                let prefix = p.normalisedPrefix.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
                guard !prefix.isEmpty, segments.starts(with: prefix), prefix.count > (best?.count ?? -1) else { continue }
                best = (prefix.count, row["rid"], prefix)
            }
            if let best {
                let rse = try Self.rse(db, id: best.rseID)
                return StorageLocation(
                    rse: rse, relative: segments.dropFirst(best.count).joined(separator: "/"), base: "/" + best.prefix.joined(separator: "/") + "/")
            }
            guard segments.first == "storage", segments.count >= 2, let rse = try? Self.rse(db, name: segments[1]) else { return nil }
            guard case .directory = try Self.storageSite(db, rse: rse, endpoints: endpoints) else { return nil }
            return StorageLocation(rse: rse, relative: segments.dropFirst(2).joined(separator: "/"), base: "/storage/\(rse.rse)/")
        }
    }

    /// Where a storage URL (a PFN) lands on this lake: `file://` paths inside an RSE's folder, and URLs of Lakebed's own
    /// HTTP(S) endpoint (see `locate(segments:)`). Nil when the URL is not storage Lakebed holds.
    public func locate(url: String) async throws -> StorageLocation? {
        guard let u = URLComponents(string: url), let scheme = u.scheme?.lowercased() else { return nil }
        let path = u.percentEncodedPath.removingPercentEncoding ?? u.path
        if scheme == "file" {
            let p = (path as NSString).standardizingPath
            for rse in try await listRSEs().sorted(by: { $0.root.count > $1.root.count }) {
                let root = (rse.root as NSString).standardizingPath
                guard p == root || p.hasPrefix(root + "/") else { continue }
                guard case .directory = try await storageSite(rse) else { continue }
                let rel = p == root ? "" : String(p.dropFirst(root.count + 1))
                if !rel.isEmpty { _ = try containedPath(root: root, relative: rel) }
                return StorageLocation(rse: rse, relative: rel, base: root + "/")
            }
            return nil
        }
        guard storageEndpoints.serves(url: url) else { return nil }
        return try await locate(segments: path.split(separator: "/", omittingEmptySubsequences: true).map(String.init))
    }
}
