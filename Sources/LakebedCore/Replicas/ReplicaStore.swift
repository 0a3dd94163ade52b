public import Foundation
import GRDB

/// Replicas: a file's bytes on an RSE (Rucio's `core/replica.py`).
public struct ReplicaStore: CatalogStore {
    /// The catalog this works on.
    public let catalog: Catalog
    /// Works on `catalog`.
    public init(catalog: Catalog) { self.catalog = catalog }

    /// Relative path of a file on an RSE: the given PFN's path under one of the RSE's protocol prefixes; without a PFN,
    /// the RSE's lfn2pfn algorithm (deterministic RSEs) or Rucio's default non-deterministic naming convention under
    /// the file's dataset (`dsn`; transfers to non-deterministic RSEs). A client registering on a non-deterministic RSE
    /// must give PFNs, as in Rucio.
    static func replicaPath(
        _ db: Database, policy: Policy, rse: RSE, file: FileSpec, dsn: String? = nil, fromClient: Bool = false, onDisk: Bool = true
    ) throws -> String {
        if let pfn = file.pfn, !pfn.isEmpty {
            guard let url = URLComponents(string: pfn) else { throw RucioError.invalidPath("Cannot parse PFN '\(Validation.printable(pfn))'") }
            let path = url.percentEncodedPath.removingPercentEncoding ?? url.path
            let root = rse.root.hasSuffix("/") ? rse.root : rse.root + "/"
            let protos = try RSEStore.protocols(db, rseID: rse.id)
            if rse.deterministic && fromClient {
                // Rucio: on a deterministic RSE a PFN must be the one lfn2pfn gives under one of its write protocols of
                // that scheme (`InvalidPath` otherwise).
                let expectedRel = try policy.lfn2pfnPath(algorithm: lfn2pfnAlgorithm(db, rseID: rse.id), scope: file.scope, name: file.name)
                let candidates = protos.filter { $0.scheme == url.scheme && path.hasPrefix($0.normalisedPrefix) }
                guard candidates.contains(where: { String(path.dropFirst($0.normalisedPrefix.count)) == expectedRel }) else {
                    let expected = protos.filter { $0.scheme == url.scheme }.map { "'\($0.pfn(path: expectedRel))'" }.sorted()
                    throw RucioError.invalidPath(
                        "One of the PFNs provided {'\(Validation.printable(pfn))'} for [{'scope': '\(file.scope)', 'name': '\(Validation.printable(file.name))'}] does not match the Rucio expected PFNs: {\(expected.joined(separator: ", "))}"
                    )
                }
                _ = try containedPath(root: root, relative: expectedRel)
                return expectedRel
            }
            for p in protos.sorted(by: { $0.normalisedPrefix.count > $1.normalisedPrefix.count }) where path.hasPrefix(p.normalisedPrefix) {
                let rel = String(path.dropFirst(p.normalisedPrefix.count))
                _ = try containedPath(root: root, relative: rel)
                return rel
            }
            if path.hasPrefix(root) {
                let rel = String(path.dropFirst(root.count))
                _ = try containedPath(root: root, relative: rel)
                return rel
            }
            throw RucioError.invalidPath("PFN '\(Validation.printable(pfn))' is not inside RSE \(rse.rse)")
        }
        let rel: String
        if rse.deterministic {
            rel = try policy.lfn2pfnPath(algorithm: lfn2pfnAlgorithm(db, rseID: rse.id), scope: file.scope, name: file.name)
        } else {
            if fromClient { throw RucioError(.unsupportedOperation, "PFN needed for this (non deterministic) RSE \(rse.rse) ") }
            let dataset =
                try dsn
                ?? String.fetchOne(
                    db, sql: "SELECT name FROM contents WHERE child_scope = ? AND child_name = ? AND did_type = 'DATASET' ORDER BY scope, name LIMIT 1",
                    arguments: [file.scope, file.name])
            rel = String(NonDeterministicPFN.path(dsn: dataset ?? "other", scope: file.scope, name: file.name).dropFirst())
        }
        _ = try containedPath(root: rse.root, relative: rel, onDisk: onDisk)
        return rel
    }

    /// Where `scope:name` goes under a deterministic RSE's prefix, by the RSE's lfn2pfn algorithm (`lfns2pfns`).
    public func lfn2pfnPath(rse: RSE, scope: String, name: String) throws -> String {
        try catalog.policy.schema.checkScope(scope)
        try catalog.policy.schema.checkName(name)
        let algorithm = try quickRead { db in try Self.lfn2pfnAlgorithm(db, rseID: rse.id) }
        return try catalog.policy.lfn2pfnPath(algorithm: algorithm, scope: scope, name: name)
    }

    /// The RSE's `lfn2pfn_algorithm` attribute as text (nil: none, so the policy's default).
    static func lfn2pfnAlgorithm(_ db: Database, rseID: String) throws -> String? {
        let v: String? = try db.one(sql: "SELECT value FROM rse_attributes WHERE rse_id = ? AND key = 'lfn2pfn_algorithm'", arguments: [rseID])?[
            "value"]
        return v.map { raw in (try? JSONParser.parse(raw)).map { $0.stringValue ?? $0.serialized() } ?? raw }
    }

    /// Absolute path of a replica's bytes.
    public func absolutePath(rse: RSE, relative: String) throws -> String {
        try containedPath(root: rse.root, relative: relative)
    }

    /// Whether the bytes of a replica are on disk with the catalog's size and checksum.
    static func bytesMatch(rse: RSE, path: String, bytes: Int64, adler32: String?) -> Bool {
        guard let full = try? containedPath(root: rse.root, relative: path),
            let attrs = try? FileManager.default.attributesOfItem(atPath: full), let size = (attrs[.size] as? NSNumber)?.int64Value,
            size == bytes
        else { return false }
        guard let adler32 else { return true }
        return (try? Checksums.ofFile(at: full))?.adler32 == adler32.lowercased()
    }

    /// What a client's registration of AVAILABLE bytes is, as Lakebed sees it: on virtual storage the replica is virtual;
    /// otherwise it is recorded as the client says, `unverified` when Lakebed does not find the bytes (Rucio registers
    /// what the client says; `lakebed check` then reports the replica as lost, a client's doing, not Lakebed's).
    static func clientClaim(site: StorageSite, rse: RSE, path: String, bytes: Int64, adler32: String?) -> (virtual: Bool, unverified: Bool) {
        switch site {
        case .virtual: return (true, false)
        case .unreachable: return (false, true)
        case .directory: return (false, !bytesMatch(rse: rse, path: path, bytes: bytes, adler32: adler32))
        }
    }

    /// Registers replicas on an RSE (`POST /replicas`), creating file DIDs as needed.
    public func addReplicas(rse: String, files: [FileSpec], ignoreAvailability: Bool, issuer: Issuer, virtual: Bool = false) async throws {
        let now = nowStamp
        let endpoints = catalog.rses.storageEndpoints
        try await db.write { db in
            let model = try RSEStore.rse(db, name: rse)
            let site = try RSEStore.storageSite(db, rse: model, endpoints: endpoints)
            if !model.availabilityWrite && !ignoreAvailability {
                throw RucioError(.resourceTemporaryUnavailable, "\(rse) is temporary unavailable for writing")
            }
            for f in files {
                try catalog.policy.schema.checkDID(scope: f.scope, name: f.name, type: .file)
                try catalog.policy.permission.requireAddReplicas(db, rse: model, scope: f.scope, issuer)
                let d = try DIDStore.ensureFile(db, f, schema: catalog.policy.schema, account: issuer.account, now: now)
                try self.registerReplicaInTransaction(
                    db, rse: model, site: virtual ? .virtual : site, file: f, did: d, issuer: issuer, now: now, allowExisting: false)
            }
        }
    }

    /// Registers one replica a client names (add_replicas, attach with an RSE): as the client says (see `clientClaim`).
    func registerReplicaInTransaction(
        _ db: Database, rse: RSE, site: StorageSite, file: FileSpec, did: DID, issuer: Issuer, now: Double, allowExisting: Bool
    ) throws {
        if try db.one(sql: "SELECT 1 FROM replicas WHERE rse_id = ? AND scope = ? AND name = ?", arguments: [rse.id, file.scope, file.name]) != nil {
            if allowExisting { return }
            throw RucioError.duplicate("File replica already exists!")
        }
        let state: ReplicaState
        if let s = file.state {
            guard let st = ReplicaState(loose: s) else {
                throw RucioError(.invalidObject, "Provided object does not match schema. Details: invalid replica state '\(Validation.printable(s))'")
            }
            state = st
        } else {
            state = .available
        }
        let path = try Self.replicaPath(db, policy: catalog.policy, rse: rse, file: file, fromClient: true)
        let bytes = did.bytes ?? file.bytes ?? 0
        var claim = (virtual: site == .virtual, unverified: false)
        if state == .available { claim = Self.clientClaim(site: site, rse: rse, path: path, bytes: bytes, adler32: did.adler32 ?? file.adler32) }
        try db.exec(
            sql:
                "INSERT INTO replicas (rse_id, scope, name, bytes, md5, adler32, path, state, lock_cnt, tombstone, virtual, unverified, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?)",
            arguments: [
                rse.id, file.scope, file.name, bytes, did.md5, did.adler32, path, state.rawValue, nil, claim.virtual ? 1 : 0,
                claim.unverified ? 1 : 0, now, now,
            ])
        if state == .available { try catalog.rules.replicaBecameAvailable(db, rseID: rse.id, scope: file.scope, name: file.name, now: now) }
    }

    /// Changes replica states (`PUT /replicas`), as the client says; AVAILABLE without the bytes in place is recorded
    /// as unverified (see `clientClaim`).
    public func updateReplicaStates(rse: String, files: [FileSpec], issuer: Issuer) async throws {
        let now = nowStamp
        let endpoints = catalog.rses.storageEndpoints
        try await db.write { db in
            let model = try RSEStore.rse(db, name: rse)
            let site = try RSEStore.storageSite(db, rse: model, endpoints: endpoints)
            for f in files {
                guard
                    let row = try db.one(
                        sql: "SELECT * FROM replicas WHERE rse_id = ? AND scope = ? AND name = ?", arguments: [model.id, f.scope, f.name])
                else {
                    throw RucioError(.replicaNotFound, "No row found for \(f.scope):\(f.name) on \(rse)")
                }
                try ScopeStore.requireScopeWrite(
                    db, policy: catalog.policy.permission, scope: f.scope, issuer: issuer, action: "update replicas states")
                let r = Replica(row: row)
                guard let s = f.state, let state = ReplicaState(loose: s) else {
                    throw RucioError(.invalidObject, "Provided object does not match schema. Details: missing or invalid state")
                }
                if state == r.state { continue }
                var unverified = false
                if state == .available && !r.isVirtual {
                    unverified = Self.clientClaim(site: site, rse: model, path: r.path, bytes: r.bytes, adler32: r.adler32).unverified
                }
                try db.exec(
                    sql: "UPDATE replicas SET state = ?, unverified = ?, updated_at = ? WHERE rse_id = ? AND scope = ? AND name = ?",
                    arguments: [state.rawValue, unverified ? 1 : 0, now, model.id, f.scope, f.name])
                if state == .available { try catalog.rules.replicaBecameAvailable(db, rseID: model.id, scope: f.scope, name: f.name, now: now) }
            }
        }
    }

    /// Removes replicas from the catalog and their bytes from disk (admin only, refused while locked).
    public func deleteReplicas(rse: String, files: [DIDRef], issuer: Issuer) async throws {
        try catalog.policy.permission.requireAdmin(issuer, "delete_replicas")
        let model = try await catalog.rses.rse(rse)
        let paths = try await db.write { db -> [String] in
            var paths: [String] = []
            for f in files {
                guard
                    let row = try db.one(
                        sql: "SELECT * FROM replicas WHERE rse_id = ? AND scope = ? AND name = ?", arguments: [model.id, f.scope, f.name])
                else {
                    throw RucioError(.replicaNotFound, "Replica \(f) not found on \(rse)")
                }
                let r = Replica(row: row)
                if r.lockCount > 0 { throw RucioError(.replicaIsLocked, "Replica \(f) on \(rse) is locked by a rule") }
                try db.exec(sql: "DELETE FROM replicas WHERE rse_id = ? AND scope = ? AND name = ?", arguments: [model.id, f.scope, f.name])
                if !r.isVirtual { paths.append(try containedPath(root: model.root, relative: r.path)) }
            }
            return paths
        }
        for p in paths { try? FileManager.default.removeItem(atPath: p) }
    }

    /// One file of a replica listing, with where its bytes are.
    public struct FileReplicas: Sendable {
        /// Scope of the file.
        public var scope: String
        /// Name of the file.
        public var name: String
        /// The file's size in bytes from the catalog; nil = unknown.
        public var bytes: Int64?
        /// The file's MD5 (hex) from the catalog; nil = unknown.
        public var md5: String?
        /// The file's adler32 (8 hex digits) from the catalog; nil = unknown.
        public var adler32: String?
        /// Replicas that pass the query, sorted by RSE name: RSE, state, path relative to its root, and its readable protocols.
        public var replicas: [(rse: RSE, state: ReplicaState, path: String, protocols: [RSEProtocol])]
        /// Every collection above the file as `scope:name`, when `resolveParents`; empty otherwise.
        public var parents: [String]
    }

    /// Options of a replica listing.
    public struct ReplicaQuery: Sendable {
        /// Only protocols with these schemes (e.g. `davs`, `root`); nil = every readable protocol.
        public var schemes: [String]?
        /// Only replicas on RSEs matching this RSE expression; nil = any RSE.
        public var rseExpression: String?
        /// Include replicas in every state, not only AVAILABLE (Rucio `all_states`).
        public var allStates = false
        /// Fill `parents` with each file's ancestors (Rucio `resolve_parents`).
        public var resolveParents = false
        /// Keep replicas on RSEs not available for reading (Rucio `ignore_availability`, true by default).
        public var ignoreAvailability = true
        /// Stop after this many files; nil = no limit.
        public var limit: Int?
        public init() {}
    }

    /// Expands DIDs to files and lists their replicas.
    public func listReplicas(_ dids: [DIDRef], query: ReplicaQuery) async throws -> [FileReplicas] {
        // Most calls name a handful of files: read in place (see `quickRead`); large lists go through the pool.
        if dids.count > 100 { return try await db.read { db in try self.listReplicasIn(db, dids, query) } }
        return try quickRead { db in try self.listReplicasIn(db, dids, query) }
    }

    func listReplicasIn(_ db: Database, _ dids: [DIDRef], _ query: ReplicaQuery) throws -> [FileReplicas] {
        var files: [DID] = []
        var seen = Set<DIDRef>()
        for ref in dids {
            // Rucio lists nothing for a DID it does not know, without an error.
            guard let known = try Self.filesIfKnown(db, ref) else { continue }
            for f in known where seen.insert(DIDRef(f.scope, f.name)).inserted {
                files.append(f)
                if let limit = query.limit, files.count >= limit { return try replicaEntries(db, files.map(ListedFile.init), query) }
            }
        }
        return try replicaEntries(db, files.map(ListedFile.init), query)
    }

    /// The replicas of each file, as a listing gives them.
    func replicaEntries(_ db: Database, _ files: [ListedFile], _ query: ReplicaQuery) throws -> [FileReplicas] {
        do {
            var allowed: Set<String>?
            if let e = query.rseExpression { allowed = Set(try RSEStore.resolve(db, expression: e).map(\.id)) }
            var rseCache: [String: RSE] = [:]
            var protoCache: [String: [RSEProtocol]] = [:]
            var out: [FileReplicas] = []
            do {
                for f in files {
                    var entry = FileReplicas(scope: f.scope, name: f.name, bytes: f.bytes, md5: f.md5, adler32: f.adler32, replicas: [], parents: [])
                    // Only the three columns a listing needs, by position: this runs once per file of a listing.
                    let rows = try Row.fetchCursor(
                        db.cachedStatement(sql: "SELECT rse_id, state, path FROM replicas WHERE scope = ? AND name = ?"), arguments: [f.scope, f.name])
                    while let row = try rows.next() {
                        let rseID: String = row[0]
                        let state = ReplicaState(rawValue: row[1]) ?? .unavailable
                        if !query.allStates && state != .available { continue }
                        if let allowed, !allowed.contains(rseID) { continue }
                        if rseCache[rseID] == nil { rseCache[rseID] = try RSEStore.rse(db, id: rseID) }
                        let rse = rseCache[rseID]!
                        if !query.ignoreAvailability && !rse.availabilityRead { continue }
                        if protoCache[rseID] == nil {
                            var protos = try RSEStore.protocols(db, rseID: rseID).filter {
                                $0.priority(domain: "wan", operation: "read") != nil || $0.priority(domain: "lan", operation: "read") != nil
                            }
                            if let schemes = query.schemes { protos = protos.filter { schemes.contains($0.scheme) } }
                            protoCache[rseID] = protos
                        }
                        entry.replicas.append((rse, state, row[2] ?? "", protoCache[rseID]!))
                    }
                    entry.replicas.sort { $0.rse.rse < $1.rse.rse }
                    if query.resolveParents { entry.parents = try DIDStore.ancestors(db, f.scope, f.name) }
                    out.append(entry)
                }
            }
            return out
        }
    }

    /// One row of a dataset's per-RSE replica summary.
    public struct DatasetReplica: Sendable {
        /// The RSE the row is about.
        public var rse: RSE
        /// Number of files in the dataset (the same on every row).
        public var length: Int64
        /// Total bytes of the dataset's files (the same on every row).
        public var bytes: Int64
        /// Files of the dataset with an AVAILABLE replica on this RSE.
        public var availableLength: Int64
        /// Bytes of the files with an AVAILABLE replica on this RSE.
        public var availableBytes: Int64
        /// When the oldest of the dataset's replicas on this RSE was registered.
        public var createdAt: Date
        /// When the latest change to one of the dataset's replicas on this RSE happened.
        public var updatedAt: Date
    }

    /// Per-RSE completeness of a dataset (`GET /replicas/<s>/<n>/datasets`).
    public func datasetReplicas(_ scope: String, _ name: String) async throws -> [DatasetReplica] {
        try await db.read { db in
            let d = try DIDStore.did(db, scope, name)
            let files = try DIDStore.files(db, scope, name)
            let total = Int64(files.count)
            let totalBytes = files.reduce(Int64(0)) { $0.clampedAdding($1.bytes ?? 0) }
            _ = d
            let rows = try db.all(
                sql: DIDStore.filesCTE + """
                    SELECT r.rse_id, SUM(CASE WHEN r.state = \(ReplicaState.available.sql) THEN 1 ELSE 0 END) AS n, SUM(CASE WHEN r.state = \(ReplicaState.available.sql) THEN r.bytes ELSE 0 END) AS b,
                      MIN(r.created_at) AS c, MAX(r.updated_at) AS u
                    FROM files f JOIN replicas r ON r.scope = f.scope AND r.name = f.name GROUP BY r.rse_id
                    """, arguments: [scope, name])
            return try rows.map {
                DatasetReplica(
                    rse: try RSEStore.rse(db, id: $0["rse_id"]), length: total, bytes: totalBytes, availableLength: $0["n"], availableBytes: $0["b"],
                    createdAt: Date(timeIntervalSince1970: $0["c"]), updatedAt: Date(timeIntervalSince1970: $0["u"]))
            }.sorted { $0.rse.rse < $1.rse.rse }
        }
    }

    /// The files of a DID, or nil when there is no such DID.
    static func filesIfKnown(_ db: Database, _ ref: DIDRef) throws -> [DID]? {
        do { return try DIDStore.files(db, ref.scope, ref.name) } catch let e as RucioError where e.exceptionClass == .dataIdentifierNotFound {
            return nil
        }
    }
}
