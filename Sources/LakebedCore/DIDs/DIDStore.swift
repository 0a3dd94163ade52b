import Foundation
import GRDB

/// A file given to attach or register: scope, name and optional size and checksums.
public struct FileSpec: Sendable, Equatable {
    /// Scope of the file (or, when attaching, of the child DID).
    public var scope: String
    /// Name of the file, unique within its scope.
    public var name: String
    /// Size in bytes; required to create a new file, checked against the catalog for an existing one. nil = take the catalog's.
    public var bytes: Int64?
    /// Adler32 (hex) given by the client; checked against the catalog and, for an AVAILABLE replica, the bytes on disk. nil = none given.
    public var adler32: String?
    /// MD5 (hex) given by the client; checked against the catalog when both are known. nil = none given.
    public var md5: String?
    /// Rucio `guid` of a new file; nil = `meta["guid"]` or none.
    public var guid: String?
    /// Rucio `events` count of a new file; nil = none.
    public var events: Int64?
    /// Metadata to set on a new file (Rucio `meta`); `guid` in it is taken as the GUID.
    public var meta: JSONObject
    /// Replica state to register (`A`, `U`, `C`… or names such as AVAILABLE); nil = AVAILABLE.
    public var state: String?
    /// PFN of the replica on a non-hash path, which must lie inside the RSE; nil = path from the RSE's lfn2pfn.
    public var pfn: String?
    public init(
        scope: String, name: String, bytes: Int64? = nil, adler32: String? = nil, md5: String? = nil, guid: String? = nil, events: Int64? = nil,
        meta: JSONObject = JSONObject(), state: String? = nil, pfn: String? = nil
    ) {
        self.scope = scope
        self.name = name
        self.bytes = bytes
        self.adler32 = adler32
        self.md5 = md5
        self.guid = guid
        self.events = events
        self.meta = meta
        self.state = state
        self.pfn = pfn
    }
}

/// Data identifiers: files, datasets, containers, their content and metadata (Rucio's `core/did.py`).
public struct DIDStore: CatalogStore {
    /// The catalog this works on.
    public let catalog: Catalog
    /// Works on `catalog`.
    public init(catalog: Catalog) { self.catalog = catalog }

    static func did(_ db: Database, _ scope: String, _ name: String) throws -> DID {
        guard let row = try db.one(sql: "SELECT * FROM dids WHERE scope = ? AND name = ?", arguments: [scope, name]) else {
            // Rucio does not look at the scope first: a DID in an unknown scope is simply not found.
            throw RucioError.didNotFound(scope, name)
        }
        return DID(row: row)
    }

    /// Reads one DID.
    public func did(_ scope: String, _ name: String) async throws -> DID {
        try cachedRead("did\u{0}\(scope)\u{0}\(name)") { db in try Self.did(db, scope, name) }
    }

    /// Reads a DID, with bytes and length computed over its files (`dynamic_depth`).
    public func did(_ scope: String, _ name: String, dynamicDepth: DIDType?) async throws -> DID {
        guard dynamicDepth != nil else { return try await did(scope, name) }
        return try quickRead { db in
            var d = try Self.did(db, scope, name)
            if let depth = dynamicDepth, d.type.isCollection {
                if depth == .file || d.type == .dataset {
                    let r = try db.one(
                        sql: Self.filesCTE
                            + " SELECT COUNT(*) AS n, COALESCE(SUM(d.bytes), 0) AS b FROM files f JOIN dids d ON d.scope = f.scope AND d.name = f.name",
                        arguments: [scope, name])!
                    d.length = r["n"]
                    d.bytes = r["b"]
                } else {
                    let r = try db.one(
                        sql: """
                            WITH RECURSIVE tree(scope, name, t) AS (
                              SELECT child_scope, child_name, child_type FROM contents WHERE scope = ? AND name = ?
                              UNION SELECT c.child_scope, c.child_name, c.child_type FROM contents c JOIN tree ON c.scope = tree.scope AND c.name = tree.name WHERE tree.t = 'CONTAINER')
                            SELECT COUNT(*) AS n, COALESCE(SUM(d.bytes), 0) AS b FROM tree JOIN dids d ON d.scope = tree.scope AND d.name = tree.name WHERE tree.t = 'DATASET'
                            """, arguments: [scope, name])!
                    d.length = r["n"]
                    d.bytes = r["b"]
                }
            }
            return d
        }
    }

    /// Recursive CTE naming every file under (?, ?) as `files(scope, name)`.
    static let filesCTE = """
        WITH RECURSIVE tree(scope, name, t) AS (
          SELECT child_scope, child_name, child_type FROM contents WHERE scope = ? AND name = ?
          UNION SELECT c.child_scope, c.child_name, c.child_type FROM contents c JOIN tree ON c.scope = tree.scope AND c.name = tree.name WHERE tree.t != 'FILE'),
        files(scope, name) AS (SELECT DISTINCT scope, name FROM tree WHERE t = 'FILE')
        """

    /// Creates a dataset or container (optionally with metadata, lifetime, content and rules).
    public func addCollection(
        scope: String, name: String, type: DIDType, issuer: Issuer, account: String? = nil, meta: JSONObject = JSONObject(),
        isOpen: Bool = true, monotonic: Bool = false, lifetime: Double? = nil,
        files: [FileSpec] = [], rse: String? = nil, rules: [RuleSpec] = []
    ) async throws {
        guard type.isCollection else {
            throw RucioError(.unsupportedOperation, "Only collection types (DATASET, CONTAINER) can be added as DIDs; files are added with replicas")
        }
        try catalog.policy.schema.checkDID(scope: scope, name: name, type: type)
        if let l = lifetime, !Validation.isValidLifetime(l) {
            throw RucioError.invalidObject("lifetime must be a number of seconds, at most \(Validation.maxLifetime)")
        }
        let now = nowStamp
        let owner = account ?? issuer.account
        try await db.write { db in
            try self.catalog.policy.permission.requireAddCollection(
                scope: scope, name: name, type: type, owner: ScopeStore.scopeOwner(db, scope), issuer)
            try Self.insertCollection(
                db, scope: scope, name: name, type: type, account: owner, meta: meta, isOpen: isOpen, monotonic: monotonic,
                expiredAt: lifetime.map { now + $0 }, now: now)
            if !files.isEmpty {
                try self.attachInTransaction(db, parent: DIDRef(scope, name), children: files, rse: rse, issuer: issuer, ignoreDuplicate: false)
            }
            for var rule in rules {
                rule.dids = [DIDRef(scope, name)]
                if rule.account == nil { rule.account = issuer.account }
                _ = try JudgeEvaluator(catalog: catalog).addRuleInTransaction(db, rule, issuer: issuer)
            }
        }
    }

    static func insertCollection(
        _ db: Database, scope: String, name: String, type: DIDType, account: String, meta: JSONObject, isOpen: Bool, monotonic: Bool,
        expiredAt: Double?, now: Double
    ) throws {
        if try db.one(sql: "SELECT 1 FROM dids WHERE scope = ? AND name = ?", arguments: [scope, name]) != nil {
            throw RucioError(.dataIdentifierAlreadyExists, "Data Identifier already exists!")
        }
        // is_new: the transmogrifier will match the new collection against the subscriptions.
        try db.exec(
            sql:
                "INSERT INTO dids (scope, name, did_type, account, bytes, length, is_open, monotonic, expired_at, is_new, created_at, updated_at) VALUES (?, ?, ?, ?, 0, 0, ?, ?, ?, 1, ?, ?)",
            arguments: [scope, name, type.rawValue, account, isOpen ? 1 : 0, monotonic ? 1 : 0, expiredAt, now, now])
        if !meta.isEmpty { try setMetadataInTransaction(db, scope: scope, name: name, meta: meta, now: now) }
    }

    /// Creates a file DID if missing; checks size and checksum agree if present. `checkName: false` for callers whose
    /// names Rucio does not validate (DIRAC's LFNs).
    static func ensureFile(_ db: Database, _ f: FileSpec, schema: NamingSchema, account: String, now: Double, checkName: Bool = true) throws -> DID {
        if let row = try db.one(sql: "SELECT * FROM dids WHERE scope = ? AND name = ?", arguments: [f.scope, f.name]) {
            let d = DID(row: row)
            guard d.type == .file else {
                throw RucioError(.unsupportedOperation, "Data identifier '\(f.scope):\(f.name)' is a \(d.type.rawValue.lowercased()), not a file")
            }
            if let b = f.bytes, let have = d.bytes, b != have {
                throw RucioError(.fileConsistencyMismatch, "(bytes mismatch for '\(f.scope):\(f.name)': catalog \(have), given \(b))")
            }
            if let a = f.adler32, let have = d.adler32, a.lowercased() != have.lowercased() {
                throw RucioError(.fileConsistencyMismatch, "(adler32 mismatch for '\(f.scope):\(f.name)': catalog \(have), given \(a))")
            }
            if let m = f.md5, let have = d.md5, m.lowercased() != have.lowercased() {
                throw RucioError(.fileConsistencyMismatch, "(md5 mismatch for '\(f.scope):\(f.name)': catalog \(have), given \(m))")
            }
            return d
        }
        if checkName { try schema.checkName(f.name) }
        guard let bytes = f.bytes else { throw RucioError.didNotFound(f.scope, f.name) }
        try Validation.checkBytes(bytes)
        if let a = f.adler32 { try Validation.checkAdler32(a) }
        if let m = f.md5 { try Validation.checkMD5(m) }
        try db.exec(
            sql:
                "INSERT INTO dids (scope, name, did_type, account, bytes, length, md5, adler32, guid, events, availability, created_at, updated_at) VALUES (?, ?, 'FILE', ?, ?, 1, ?, ?, ?, ?, 'AVAILABLE', ?, ?)",
            arguments: [
                f.scope, f.name, account, bytes, f.md5?.lowercased(), f.adler32?.lowercased(), f.guid ?? f.meta["guid"]?.stringValue, f.events, now,
                now,
            ])
        var meta = f.meta
        meta["guid"] = nil
        if !meta.isEmpty { try setMetadataInTransaction(db, scope: f.scope, name: f.name, meta: meta, now: now) }
        return try did(db, f.scope, f.name)
    }

    // MARK: attachments

    /// Attaches DIDs to a dataset or container.
    public func attach(to parent: DIDRef, children: [FileSpec], rse: String?, issuer: Issuer, ignoreDuplicate: Bool = false) async throws {
        try await db.write { db in
            try self.attachInTransaction(db, parent: parent, children: children, rse: rse, issuer: issuer, ignoreDuplicate: ignoreDuplicate)
        }
    }

    /// Several attachments in one transaction (`POST /dids/attachments`).
    public func attachMany(_ attachments: [(parent: DIDRef, children: [FileSpec], rse: String?)], issuer: Issuer, ignoreDuplicate: Bool) async throws
    {
        try await db.write { db in
            for a in attachments {
                try self.attachInTransaction(db, parent: a.parent, children: a.children, rse: a.rse, issuer: issuer, ignoreDuplicate: ignoreDuplicate)
            }
        }
    }

    func attachInTransaction(_ db: Database, parent: DIDRef, children: [FileSpec], rse: String?, issuer: Issuer, ignoreDuplicate: Bool) throws {
        let now = nowStamp
        let p = try Self.did(db, parent.scope, parent.name)
        let owner = try ScopeStore.scopeOwner(db, parent.scope)
        guard catalog.policy.permission.canWrite(scopeOwner: owner, scope: parent.scope, issuer) || p.account == issuer.account else {
            throw RucioError.accessDenied("Account \(issuer.account) can not add data identifiers to \(parent)")
        }
        guard p.type.isCollection else {
            throw RucioError(.unsupportedOperation, "Data identifier '\(parent)' is a file; only collections can have content")
        }
        guard p.isOpen != false else { throw RucioError(.unsupportedOperation, "Data identifier '\(parent)' is closed") }
        var rseModel: RSE?
        var site = StorageSite.unreachable
        if let rse {
            let model = try RSEStore.rse(db, name: rse)
            rseModel = model
            site = try RSEStore.storageSite(db, rse: model, endpoints: catalog.rses.storageEndpoints)
        }
        var added: [DIDRef] = []
        var childKinds = Set<DIDType>()
        let existingKinds = try String.fetchAll(
            db, sql: "SELECT DISTINCT child_type FROM contents WHERE scope = ? AND name = ?", arguments: [parent.scope, parent.name]
        ).compactMap { DIDType(rawValue: $0) }
        for c in children {
            try catalog.policy.schema.checkScope(c.scope)
            if c.scope == parent.scope && c.name == parent.name { throw RucioError(.unsupportedOperation, "A DID cannot be attached to itself") }
            _ = try ScopeStore.scopeOwner(db, c.scope)
            var child: DID
            if let rseModel {
                // Attaching with an RSE registers the files (and replicas) on the fly.
                child = try Self.ensureFile(db, c, schema: catalog.policy.schema, account: issuer.account, now: now)
                try catalog.replicas.registerReplicaInTransaction(
                    db, rse: rseModel, site: site, file: c, did: child, issuer: issuer, now: now, allowExisting: true)
            } else {
                guard let row = try db.one(sql: "SELECT * FROM dids WHERE scope = ? AND name = ?", arguments: [c.scope, c.name]) else {
                    throw RucioError.didNotFound(c.scope, c.name)
                }
                child = DID(row: row)
                if let b = c.bytes, let have = child.bytes, child.type == .file, b != have {
                    throw RucioError(.fileConsistencyMismatch, "(bytes mismatch for '\(c.scope):\(c.name)')")
                }
                if let a = c.adler32, let have = child.adler32, child.type == .file, a.lowercased() != have.lowercased() {
                    throw RucioError(.fileConsistencyMismatch, "(adler32 mismatch for '\(c.scope):\(c.name)')")
                }
            }
            switch (p.type, child.type) {
            case (.dataset, .file), (.container, .dataset), (.container, .container): break
            case (.dataset, _):
                throw RucioError(
                    .unsupportedOperation, "Only files can be attached to a dataset ('\(c.scope):\(c.name)' is a \(child.type.rawValue))")
            case (.container, .file):
                throw RucioError(.unsupportedOperation, "Files cannot be attached to a container ('\(parent)'); attach them to a dataset")
            default: throw RucioError(.unsupportedOperation, "Cannot attach to a file")
            }
            if child.type == .container, try Self.isAncestor(db, of: parent, candidate: DIDRef(c.scope, c.name)) {
                throw RucioError(.unsupportedOperation, "Circular attachment of '\(c.scope):\(c.name)' to '\(parent)'")
            }
            childKinds.insert(child.type)
            if try db.one(
                sql: "SELECT 1 FROM contents WHERE scope = ? AND name = ? AND child_scope = ? AND child_name = ?",
                arguments: [parent.scope, parent.name, c.scope, c.name]) != nil
            {
                if ignoreDuplicate { continue }
                if p.type == .dataset { throw RucioError(.fileAlreadyExists, "The file '\(c.scope):\(c.name)' is already attached to '\(parent)'") }
                throw RucioError(.duplicateContent, "The DID '\(c.scope):\(c.name)' is already attached to '\(parent)'")
            }
            try db.exec(
                sql:
                    "INSERT INTO contents (scope, name, child_scope, child_name, did_type, child_type, bytes, adler32, md5, guid, events, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                arguments: [
                    parent.scope, parent.name, c.scope, c.name, p.type.rawValue, child.type.rawValue, child.bytes, child.adler32, child.md5,
                    child.columns["guid"]?.stringValue, child.columns["events"]?.intValue, now,
                ])
            added.append(DIDRef(c.scope, c.name))
        }
        if p.type == .container, Set(existingKinds).union(childKinds).count > 1 {
            throw RucioError(.unsupportedOperation, "Mixed collections are not allowed")
        }
        try Self.refreshCollectionSize(db, parent, now: now)
        if !added.isEmpty { try JudgeEvaluator(catalog: catalog).rulesFollowAttachment(db, parent: parent, children: added, now: now) }
    }

    /// Whether `candidate` is `of` itself or one of its ancestors (prevents cycles).
    static func isAncestor(_ db: Database, of did: DIDRef, candidate: DIDRef) throws -> Bool {
        if did == candidate { return true }
        let n =
            try Int.fetchOne(
                db,
                sql: """
                    WITH RECURSIVE up(scope, name) AS (SELECT scope, name FROM contents WHERE child_scope = ? AND child_name = ?
                      UNION SELECT c.scope, c.name FROM contents c JOIN up ON c.child_scope = up.scope AND c.child_name = up.name)
                    SELECT COUNT(*) FROM up WHERE scope = ? AND name = ?
                    """, arguments: [did.scope, did.name, candidate.scope, candidate.name]) ?? 0
        return n > 0
    }

    /// Recomputes a collection's `bytes` and `length` from its direct content.
    static func refreshCollectionSize(_ db: Database, _ parent: DIDRef, now: Double) throws {
        try db.exec(
            sql: """
                UPDATE dids SET length = (SELECT COUNT(*) FROM contents WHERE scope = ?1 AND name = ?2),
                  bytes = (SELECT COALESCE(SUM(bytes), 0) FROM contents WHERE scope = ?1 AND name = ?2), updated_at = ?3
                WHERE scope = ?1 AND name = ?2
                """, arguments: [parent.scope, parent.name, now])
    }

    /// Detaches DIDs from a collection.
    public func detach(from parent: DIDRef, children: [DIDRef], issuer: Issuer) async throws {
        let now = nowStamp
        try await db.write { db in
            let p = try Self.did(db, parent.scope, parent.name)
            let owner = try ScopeStore.scopeOwner(db, parent.scope)
            guard catalog.policy.permission.canWrite(scopeOwner: owner, scope: parent.scope, issuer) || p.account == issuer.account else {
                throw RucioError.accessDenied("Account \(issuer.account) can not detach data identifiers from \(parent)")
            }
            if p.type == .dataset, p.isOpen == false { throw RucioError(.unsupportedOperation, "Data identifier '\(parent)' is closed") }
            for c in children {
                try Self.recordDetachment(db, parent: parent, child: c, now: now)
                try db.exec(
                    sql: "DELETE FROM contents WHERE scope = ? AND name = ? AND child_scope = ? AND child_name = ?",
                    arguments: [parent.scope, parent.name, c.scope, c.name])
                if db.changesCount == 0 { throw RucioError.didNotFound(c.scope, c.name) }
            }
            try Self.refreshCollectionSize(db, parent, now: now)
            try JudgeEvaluator(catalog: catalog).rulesFollowDetachment(db, parent: parent, children: children, now: now)
        }
    }

    /// Direct content of a collection.
    public func listContent(_ scope: String, _ name: String) async throws -> [ContentEntry] {
        try await db.read { db in
            _ = try Self.did(db, scope, name)
            return try Self.contentRows(db, scope, name, after: nil, limit: nil)
        }
    }

    /// One page of `listContent`: the children after `after` in (scope, name) order, at most `limit`, and where the next
    /// page starts (nil: done). `DataIdentifierNotFound` for an unknown collection on the first page.
    public func listContentPage(_ scope: String, _ name: String, after: DIDRef?, limit: Int) async throws -> (content: [ContentEntry], next: DIDRef?)
    {
        try await db.read { db in
            if after == nil { _ = try Self.did(db, scope, name) }
            let rows = try Self.contentRows(db, scope, name, after: after, limit: limit)
            return (rows, rows.count < limit ? nil : rows.last.map { DIDRef($0.scope, $0.name) })
        }
    }

    /// A collection's children in (scope, name) order: the primary key's, so a page seeks straight to its start.
    static func contentRows(_ db: Database, _ scope: String, _ name: String, after: DIDRef?, limit: Int?) throws -> [ContentEntry] {
        var sql = "SELECT * FROM contents WHERE scope = ? AND name = ?"
        var args: [any DatabaseValueConvertible] = [scope, name]
        if let after {
            sql += " AND (child_scope, child_name) > (?, ?)"
            args += [after.scope, after.name]
        }
        sql += " ORDER BY child_scope, child_name" + (limit.map { " LIMIT \(max(0, $0))" } ?? "")
        return try db.all(sql: sql, arguments: StatementArguments(args)).map {
            ContentEntry(
                scope: $0["child_scope"], name: $0["child_name"], type: DIDType(rawValue: $0["child_type"]) ?? .file, bytes: $0["bytes"],
                adler32: $0["adler32"], md5: $0["md5"], guid: $0["guid"], events: $0["events"])
        }
    }

    /// Every file under a DID (the file itself for a file).
    public func listFiles(_ scope: String, _ name: String) async throws -> [DID] {
        try await db.read { db in try Self.files(db, scope, name) }
    }

    static func files(_ db: Database, _ scope: String, _ name: String) throws -> [DID] {
        let d = try did(db, scope, name)
        if d.type == .file { return [d] }
        return try db.all(
            sql: filesCTE + " SELECT d.* FROM files f JOIN dids d ON d.scope = f.scope AND d.name = f.name ORDER BY d.scope, d.name",
            arguments: [scope, name]
        ).map(DID.init(row:))
    }

    /// Collections that directly contain a DID.
    public func listParents(_ scope: String, _ name: String) async throws -> [(DIDRef, DIDType)] {
        try await db.read { db in
            _ = try Self.did(db, scope, name)
            return try db.all(
                sql: "SELECT scope, name, did_type FROM contents WHERE child_scope = ? AND child_name = ? ORDER BY scope, name",
                arguments: [scope, name]
            ).map {
                (DIDRef($0["scope"], $0["name"]), DIDType(rawValue: $0["did_type"]) ?? .dataset)
            }
        }
    }

    /// Every ancestor of a file, as `scope:name` strings (for `resolve_parents`).
    static func ancestors(_ db: Database, _ scope: String, _ name: String) throws -> [String] {
        try db.all(
            sql: """
                WITH RECURSIVE up(scope, name) AS (SELECT scope, name FROM contents WHERE child_scope = ? AND child_name = ?
                  UNION SELECT c.scope, c.name FROM contents c JOIN up ON c.child_scope = up.scope AND c.child_name = up.name)
                SELECT scope, name FROM up ORDER BY scope, name
                """, arguments: [scope, name]
        ).map { "\($0["scope"] as String):\($0["name"] as String)" }
    }

    /// Opens or closes a collection (`PUT /dids/<s>/<n>/status`).
    public func setStatus(_ scope: String, _ name: String, open: Bool?, issuer: Issuer) async throws {
        let now = nowStamp
        try await db.write { db in
            let d = try Self.did(db, scope, name)
            let owner = try ScopeStore.scopeOwner(db, scope)
            guard catalog.policy.permission.canWrite(scopeOwner: owner, scope: scope, issuer) || d.account == issuer.account else {
                throw RucioError.accessDenied("Account \(issuer.account) can not set status on \(scope):\(name)")
            }
            guard let open else { return }
            guard d.type.isCollection else { throw RucioError(.unsupportedStatus, "Status cannot be changed on a file") }
            if open && d.isOpen == false && !issuer.isAdmin {
                throw RucioError(.unsupportedOperation, "Only administrators can reopen a closed collection")
            }
            try db.exec(
                sql: "UPDATE dids SET is_open = ?, closed_at = ?, updated_at = ? WHERE scope = ? AND name = ?",
                arguments: [open ? 1 : 0, open ? nil : now, now, scope, name])
        }
    }

    // MARK: listing a scope

    /// One row of `GET /dids/<scope>/`.
    /// One row of `scope_list`.
    public struct ScopeListEntry: Sendable {
        /// The DID listed.
        public var did: DIDRef
        /// FILE, DATASET or CONTAINER.
        public var type: DIDType
        /// The collection it was reached through; nil for top-level DIDs.
        public var parent: DIDRef?
        /// Depth in the walk: 0 for the top-level DIDs, 1 for a collection's content, and so on (at most 32).
        public var level: Int
        /// The DID's recorded bytes (collections: nil, as Rucio lists them); only top-level rows carry it.
        public var bytes: Int64?
        /// Whether the row is a top-level DID (Rucio's content rows have no `bytes` key).
        public var isTopLevel: Bool
    }

    /// DIDs of a scope as Rucio's `scope_list` walks them: the top-level DIDs (no parent in the scope) and, if recursive,
    /// their content; or, for `name`, that DID's content (its children at level 1, deeper levels if recursive).
    public func scopeList(scope: String, name: String?, recursive: Bool, limit: Int = 100_000) async throws -> [ScopeListEntry] {
        try await db.read { db in
            _ = try ScopeStore.scopeOwner(db, scope)
            var out: [ScopeListEntry] = []
            func drill(_ parent: DIDRef, _ level: Int) throws {
                let rows = try db.all(
                    sql: "SELECT child_scope, child_name, child_type FROM contents WHERE scope = ? AND name = ? ORDER BY child_name",
                    arguments: [parent.scope, parent.name])
                for row in rows {
                    guard out.count < limit else { return }
                    let child = DIDRef(row["child_scope"], row["child_name"])
                    let type = DIDType(loose: row["child_type"]) ?? .file
                    out.append(ScopeListEntry(did: child, type: type, parent: parent, level: level + 1, bytes: nil, isTopLevel: false))
                    if recursive, type.isCollection, level < 32 { try drill(child, level + 1) }
                }
            }
            if let name {
                guard let row = try db.one(sql: "SELECT scope, name FROM dids WHERE scope = ? AND name = ?", arguments: [scope, name]) else {
                    throw RucioError.didNotFound(scope, name)
                }
                try drill(DIDRef(row["scope"], row["name"]), 0)
                return out
            }
            let roots = try db.all(
                sql: """
                    SELECT * FROM dids d WHERE scope = ? AND NOT EXISTS (SELECT 1 FROM contents c WHERE c.scope = d.scope AND c.child_scope = d.scope
                      AND c.child_name = d.name) ORDER BY name LIMIT ?
                    """, arguments: [scope, limit]
            ).map(DID.init(row:))
            for d in roots {
                guard out.count < limit else { break }
                out.append(
                    ScopeListEntry(
                        did: DIDRef(d.scope, d.name), type: d.type, parent: nil, level: 0, bytes: d.type == .file ? d.bytes : nil, isTopLevel: true))
                if recursive, d.type.isCollection { try drill(DIDRef(d.scope, d.name), 0) }
            }
            return out
        }
    }
}
