import Foundation
import GRDB

/// A file DIRAC registers (`POST /dirac/addfiles`): its LFN, the RSE holding it, size and checksum.
public struct DiracFile: Sendable, Equatable {
    /// The LFN, `/<vo>/<scope>/.../<dataset>/<file>`: the file's name; its parent folders become its dataset and containers.
    public var lfn: String
    /// The RSE the replica is on (and where the file's own rule goes).
    public var rse: String
    /// Size in bytes.
    public var bytes: Int64?
    /// Adler32 (hex).
    public var adler32: String?
    /// GUID, stored as the file's `guid`.
    public var guid: String?
    /// PFN of the replica, for a non-deterministic RSE.
    public var pfn: String?
    /// Metadata for the new file.
    public var meta: JSONObject
    public init(lfn: String, rse: String, bytes: Int64?, adler32: String?, guid: String?, pfn: String?, meta: JSONObject) {
        self.lfn = lfn
        self.rse = rse
        self.bytes = bytes
        self.adler32 = adler32
        self.guid = guid
        self.pfn = pfn
        self.meta = meta
    }
}

/// DIRAC's bulk registration (Rucio's `core/dirac.py`): DIRAC names files by hierarchical LFNs; each file gets its
/// replica and a rule on its RSE, its folder becomes a dataset (created with a rule on `ANY=true`) and the folders above
/// become containers, attached in a chain. One transaction for the whole call.
public struct DiracStore: CatalogStore {
    /// The catalog this works on.
    public let catalog: Catalog
    /// Works on `catalog`.
    public init(catalog: Catalog) { self.catalog = catalog }

    /// Registers `files` as Rucio's `add_files` does; files already in the catalog are skipped. `parentsMetadata` is
    /// metadata for the datasets and containers it creates, by name.
    public func addFiles(_ files: [DiracFile], ignoreAvailability: Bool, parentsMetadata: [String: JSONObject], issuer: Issuer) async throws {
        let now = nowStamp
        let endpoints = catalog.rses.storageEndpoints
        let policy = catalog.policy
        try await db.write { db in
            let extraction = ScopeExtraction(configured: try Self.configured(db))
            // As Rucio's gateway: the RSEs first (unknown ones fail the call), only admins may skip availability.
            var rses: [String: RSE] = [:]
            for f in files where rses[f.rse] == nil { rses[f.rse] = try RSEStore.rse(db, name: f.rse) }
            let skipAvailability = ignoreAvailability && issuer.isAdmin
            let lifetimes = try Self.datasetLifetimes(db)
            let fileLifetime = try Self.fileLifetime(db)
            var created = Set<String>()
            var attachments: [(parent: DIDRef, child: DIDRef)] = []
            for f in files {
                let (scope, name) = try extraction.split(f.lfn)
                if try db.one(sql: "SELECT 1 FROM dids WHERE scope = ? AND name = ?", arguments: [scope, name]) != nil { continue }
                let parents = Self.parents(of: f.lfn)
                guard parents.count >= 2 else { throw RucioError.invalidPath("LFN \(f.lfn) has no folder for its dataset") }
                let dataset = parents[0]
                let dsScope = try extraction.split(dataset).scope
                let lifetime = Self.lifetime(for: dsScope, lifetimes)
                let dsType = try Self.type(db, dsScope, dataset)
                if dsType == .container { throw RucioError.unsupportedOperation("Cannot create \(dataset) as dataset") }
                if dsType == nil && !created.contains(dataset) {
                    try ScopeStore.requireScopeWrite(db, policy: policy.permission, scope: dsScope, issuer: issuer, action: "add did")
                    try DIDStore.insertCollection(
                        db, scope: dsScope, name: dataset, type: .dataset, account: issuer.account, meta: parentsMetadata[dataset] ?? JSONObject(),
                        isOpen: true, monotonic: false, expiredAt: nil, now: now)
                    var rule = RuleSpec(
                        dids: [DIDRef(dsScope, dataset)], copies: 1, rseExpression: "ANY=true", lifetime: lifetime, grouping: "NONE",
                        account: issuer.account)
                    rule.activity = "User Subscriptions"
                    _ = try JudgeEvaluator(catalog: catalog).addRuleInTransaction(db, rule, issuer: issuer)
                    created.insert(dataset)
                    attachments.append((DIDRef(try extraction.split(parents[1]).scope, parents[1]), DIDRef(dsScope, dataset)))
                } else if let lifetime, dsType != nil {
                    // An existing dataset's ANY=true rule gets the configured lifetime again.
                    try Self.extendRule(db, scope: dsScope, name: dataset, account: issuer.account, lifetime: lifetime, now: now)
                }
                let rse = rses[f.rse]!
                if !rse.availabilityWrite && !skipAvailability {
                    throw RucioError(.resourceTemporaryUnavailable, "\(rse.rse) is temporary unavailable for writing")
                }
                try policy.permission.requireAddReplicas(db, rse: rse, scope: scope, issuer)
                var meta = f.meta
                if let guid = f.guid { meta["guid"] = .string(guid) }
                let spec = FileSpec(scope: scope, name: name, bytes: f.bytes, adler32: f.adler32, guid: f.guid, meta: meta, pfn: f.pfn)
                // Rucio's DIRAC registration validates no name (LFNs start with '/', which no generic schema allows).
                let did = try DIDStore.ensureFile(db, spec, schema: policy.schema, account: issuer.account, now: now, checkName: false)
                let site = try RSEStore.storageSite(db, rse: rse, endpoints: endpoints)
                try catalog.replicas.registerReplicaInTransaction(
                    db, rse: rse, site: site, file: spec, did: did, issuer: issuer, now: now, allowExisting: false)
                let fileRule = RuleSpec(
                    dids: [DIDRef(scope, name)], copies: 1, rseExpression: f.rse, lifetime: fileLifetime, grouping: "DATASET",
                    account: issuer.account)
                _ = try JudgeEvaluator(catalog: catalog).addRuleInTransaction(db, fileRule, issuer: issuer)
                attachments.append((DIDRef(dsScope, dataset), DIDRef(scope, name)))
                // Every folder above becomes a container. Rucio's loop fails (IndexError, a 500) when the topmost, the VO's,
                // does not exist yet; its docstring's intent ("create all the ascendants") is what happens here.
                for (i, container) in parents.dropFirst().enumerated() {
                    let cScope = try extraction.split(container).scope
                    let cType = try Self.type(db, cScope, container)
                    if cType == .dataset { throw RucioError.unsupportedOperation("Cannot create \(container) as container") }
                    if cType == nil && !created.contains(container) {
                        try ScopeStore.requireScopeWrite(db, policy: policy.permission, scope: cScope, issuer: issuer, action: "add did")
                        try DIDStore.insertCollection(
                            db, scope: cScope, name: container, type: .container, account: issuer.account,
                            meta: parentsMetadata[container] ?? JSONObject(), isOpen: true, monotonic: false, expiredAt: nil, now: now)
                        created.insert(container)
                        if i + 2 < parents.count {
                            let above = parents[i + 2]
                            attachments.append((DIDRef(try extraction.split(above).scope, above), DIDRef(cScope, container)))
                        }
                    }
                }
            }
            // Finally everything is attached, duplicates ignored.
            let dids = DIDStore(catalog: catalog)
            for (parent, children) in Self.grouped(attachments) {
                try dids.attachInTransaction(
                    db, parent: parent, children: children.map { FileSpec(scope: $0.scope, name: $0.name) }, rse: nil, issuer: issuer,
                    ignoreDuplicate: true)
            }
        }
    }

    /// The folders above an LFN, nearest first, down to the second level (`/vo/a/b/f` → `/vo/a/b`, `/vo/a`).
    static func parents(of lfn: String) -> [String] {
        let parts = lfn.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count > 2 else { return [] }
        return (2..<parts.count).map { parts[0..<$0].joined(separator: "/") }.reversed()
    }

    static func type(_ db: Database, _ scope: String, _ name: String) throws -> DIDType? {
        try String.fetchOne(db, sql: "SELECT did_type FROM dids WHERE scope = ? AND name = ?", arguments: [scope, name]).flatMap(
            DIDType.init(rawValue:))
    }

    static func grouped(_ pairs: [(parent: DIDRef, child: DIDRef)]) -> [(DIDRef, [DIDRef])] {
        var order: [DIDRef] = []
        var children: [DIDRef: [DIDRef]] = [:]
        for p in pairs {
            if children[p.parent] == nil { order.append(p.parent) }
            children[p.parent, default: []].append(p.child)
        }
        return order.map { ($0, children[$0]!) }
    }

    static func configured(_ db: Database) throws -> String? {
        for section in ["common", "policy"] {
            if let v = try String.fetchOne(db, sql: "SELECT value FROM configs WHERE section = ? AND opt = 'extract_scope'", arguments: [section]) {
                return v
            }
        }
        return nil
    }

    /// `[dirac] lifetime`: a JSON object of dataset lifetimes by scope (or scope pattern).
    static func datasetLifetimes(_ db: Database) throws -> [(String, Double)] {
        guard let raw = try String.fetchOne(db, sql: "SELECT value FROM configs WHERE section = 'dirac' AND opt = 'lifetime'") else { return [] }
        guard let o = (try? JSONParser.parse(Array(raw.utf8)))?.objectValue else {
            throw RucioError(.invalidType, "Problem parsing lifetime option in dirac section : \(raw)")
        }
        return o.compactMap { k, v in (v.doubleValue ?? v.stringValue.flatMap(Double.init)).map { (k, $0) } }
    }

    static func lifetime(for scope: String, _ lifetimes: [(String, Double)]) -> Double? {
        if let exact = lifetimes.first(where: { $0.0 == scope }) { return exact.1 }
        return lifetimes.first { pattern, _ in
            (try? Regex(pattern)).map { scope.prefixMatch(of: $0) != nil } ?? false
        }?.1
    }

    /// `[dirac] file_lifetime`: the lifetime of each file's own rule, in seconds.
    static func fileLifetime(_ db: Database) throws -> Double? {
        guard let raw = try String.fetchOne(db, sql: "SELECT value FROM configs WHERE section = 'dirac' AND opt = 'file_lifetime'") else {
            return nil
        }
        guard let v = Double(raw) else { throw RucioError(.invalidType, "Problem parsing file_lifetime option in dirac section: \(raw)") }
        return v
    }

    static func extendRule(_ db: Database, scope: String, name: String, account: String, lifetime: Double, now: Double) throws {
        try db.exec(
            sql: "UPDATE rules SET expires_at = ?, updated_at = ? WHERE scope = ? AND name = ? AND account = ? AND rse_expression = 'ANY=true'",
            arguments: [now + lifetime, now, scope, name, account])
    }
}

extension Catalog {
    /// DIRAC's bulk file registration.
    public var dirac: DiracStore { DiracStore(catalog: self) }
}
