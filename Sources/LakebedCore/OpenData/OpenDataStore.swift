public import Foundation
import GRDB

/// Where an open data DID is in its life: drafted, public (closed collections only), suspended.
public enum OpenDataState: String, Sendable, CaseIterable {
    case draft = "D"
    case `public` = "P"
    case suspended = "S"

    /// The name Rucio shows (`DRAFT`, `PUBLIC`, `SUSPENDED`).
    public var name: String {
        switch self {
        case .draft: return "DRAFT"
        case .public: return "PUBLIC"
        case .suspended: return "SUSPENDED"
        }
    }

    /// Parses a state name in any case (`OpenDataError` otherwise, as Rucio's `validate_opendata_did_state`).
    public init(validating raw: String) throws {
        guard let s = OpenDataState.allCases.first(where: { $0.name == raw.uppercased() }) else {
            throw RucioError(.openDataError, "Invalid state '\(raw.lowercased())'. Valid opendata states are: draft, public, suspended")
        }
        self = s
    }
}

/// A DID in the open data catalog.
public struct OpenDataDID: Sendable, Equatable {
    /// The DID's scope.
    public var scope: String
    /// The DID's name.
    public var name: String
    /// DRAFT, PUBLIC or SUSPENDED.
    public var state: OpenDataState
    /// When it entered the catalog.
    public var createdAt: Date
    /// When it last changed.
    public var updatedAt: Date
    /// Its DOI (`10.<registrant>/<suffix>`), if one was given.
    public var doi: String?
    /// Its record id on an open data portal, if one was given.
    public var recordID: Int64?
    /// Free metadata for the portal.
    public var meta: JSONObject
}

/// Rucio 41's open data catalog (`core/opendata.py`): DIDs an experiment publishes, with a state, a DOI, a portal
/// record id and metadata; the public API lists only PUBLIC ones. Changes need an admin (Rucio's `perm_default`).
public struct OpenDataStore: CatalogStore {
    /// The catalog this works on.
    public let catalog: Catalog
    /// Works on `catalog`.
    public init(catalog: Catalog) { self.catalog = catalog }

    /// The catalog's DIDs in order of their last change, optionally of one state; `total` counts them all.
    public func list(state: OpenDataState?, limit: Int?, offset: Int?) async throws -> (total: Int, offset: Int, dids: [OpenDataDID]) {
        try await db.read { db in
            let filter = state == nil ? "" : " WHERE state = ?"
            let args: StatementArguments = state.map { [$0.rawValue] } ?? []
            let total = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM dids_opendata" + filter, arguments: args) ?? 0
            var sql = "SELECT * FROM dids_opendata" + filter + " ORDER BY updated_at, scope, name"
            var pageArgs = args
            if limit != nil || offset != nil {
                sql += " LIMIT ? OFFSET ?"
                pageArgs += [limit ?? -1, offset ?? 0]
            }
            return (total, offset ?? 0, try db.all(sql: sql, arguments: pageArgs).map(Self.entry))
        }
    }

    /// One DID of the catalog, optionally only in one state.
    public func get(scope: String, name: String, state: OpenDataState?) async throws -> OpenDataDID {
        try await db.read { db in
            guard let entry = try Self.entry(db, scope, name), state == nil || entry.state == state else {
                throw RucioError(.openDataDataIdentifierNotFound, "OpenData DID \(scope):\(name) not found.")
            }
            return entry
        }
    }

    /// Puts an existing DID into the catalog as a DRAFT.
    public func add(scope: String, name: String, issuer: Issuer) async throws {
        try catalog.policy.permission.requireAdmin(issuer, "add Opendata DID \(scope):\(name)")
        let now = nowStamp
        try await db.write { db in
            guard try db.one(sql: "SELECT 1 FROM dids WHERE scope = ? AND name = ?", arguments: [scope, name]) != nil else {
                throw RucioError(.dataIdentifierNotFound, "OpenData DID \(scope):\(name) not found.")
            }
            guard try Self.entry(db, scope, name) == nil else {
                throw RucioError(.openDataDataIdentifierAlreadyExists, "OpenData DID \(scope):\(name) already exists.")
            }
            try db.exec(
                sql: "INSERT INTO dids_opendata (scope, name, state, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [scope, name, OpenDataState.draft.rawValue, now, now])
        }
    }

    /// Removes a DRAFT from the catalog (public and suspended ones stay on record).
    public func delete(scope: String, name: String, issuer: Issuer) async throws {
        try catalog.policy.permission.requireAdmin(issuer, "delete Opendata DID \(scope):\(name)")
        try await db.write { db in
            guard let entry = try Self.entry(db, scope, name) else {
                throw RucioError(.openDataDataIdentifierNotFound, "OpenData DID '\(scope):\(name)' not found.")
            }
            guard entry.state == .draft else {
                throw RucioError(
                    .openDataInvalidState,
                    "OpenData entry '\(scope):\(name)' not in a valid state for deletion. State: OpenDataDIDState.\(entry.state.name), expected: OpenDataDIDState.DRAFT"
                )
            }
            try db.exec(sql: "DELETE FROM dids_opendata WHERE scope = ? AND name = ?", arguments: [scope, name])
        }
    }

    /// What an update changes; nil leaves a field as it is.
    public struct Update: Sendable {
        /// A new state: DRAFT only while still a draft; PUBLIC only for a file or a closed collection; SUSPENDED only once public.
        public var state: OpenDataState?
        /// New metadata (replaces the old).
        public var meta: JSONObject?
        /// A new DOI.
        public var doi: String?
        /// A new portal record id (non-negative).
        public var recordID: Int64?
        public init(state: OpenDataState? = nil, meta: JSONObject? = nil, doi: String? = nil, recordID: Int64? = nil) {
            self.state = state
            self.meta = meta
            self.doi = doi
            self.recordID = recordID
        }
    }

    /// Changes a catalog entry; answers what changed as Rucio does (`state_old`/`state_new`, `meta_new`, `doi_old`/`doi_new`, …).
    public func update(scope: String, name: String, _ u: Update, issuer: Issuer) async throws -> JSONObject {
        try catalog.policy.permission.requireAdmin(issuer, "update Opendata DID \(scope):\(name)")
        guard u.state != nil || u.meta != nil || u.doi != nil || u.recordID != nil else {
            throw RucioError(.inputValidationError, "Either 'state', 'meta', 'doi', or 'record_id' must be provided to update the Opendata DID.")
        }
        let now = nowStamp
        return try await db.write { db in
            guard let before = try Self.entry(db, scope, name) else {
                throw RucioError(.openDataDataIdentifierNotFound, "OpenData DID '\(scope):\(name)' not found.")
            }
            var out = JSONObject([("scope", JSON.string(scope)), ("name", JSON.string(name))])
            if let state = u.state {
                try Self.checkTransition(db, scope: scope, name: name, from: before.state, to: state)
                try db.exec(
                    sql: "UPDATE dids_opendata SET state = ?, updated_at = ? WHERE scope = ? AND name = ?",
                    arguments: [state.rawValue, now, scope, name])
                out["state_old"] = .string(before.state.name)
                out["state_new"] = .string(state.name)
                if state == .public, let rule = try self.publicRule(db, scope: scope, name: name) {
                    out["rule"] = .string(rule.id)
                    out["comments"] = .string(rule.created ? "Replication rule created" : "Replication rule already exists")
                }
            }
            if let meta = u.meta {
                try db.exec(
                    sql: "UPDATE dids_opendata SET meta = ?, updated_at = ? WHERE scope = ? AND name = ?",
                    arguments: [JSON.object(meta).serialized(), now, scope, name])
                out["meta_new"] = .object(meta)
            }
            if let doi = u.doi {
                guard doi.wholeMatch(of: /10\.\d{4,9}\/[-._;()\/:A-Za-z0-9]+/) != nil else {
                    throw RucioError(.inputValidationError, "Invalid DOI format.")
                }
                if let other = try Row.fetchOne(
                    db, sql: "SELECT scope, name FROM dids_opendata WHERE doi = ? AND NOT (scope = ? AND name = ?)", arguments: [doi, scope, name])
                {
                    _ = other
                    throw RucioError(
                        .openDataDuplicateDOI, "Data identifier with the same DOI (\(doi)) already exists in the open data catalog.")
                }
                try db.exec(sql: "UPDATE dids_opendata SET doi = ?, updated_at = ? WHERE scope = ? AND name = ?", arguments: [doi, now, scope, name])
                out["doi_new"] = .string(doi)
                out["doi_old"] = JSON.str(before.doi)
            }
            if let record = u.recordID {
                guard record >= 0 else { throw RucioError(.inputValidationError, "Record ID must be a non-negative integer.") }
                if try db.one(
                    sql: "SELECT 1 FROM dids_opendata WHERE record_id = ? AND NOT (scope = ? AND name = ?)", arguments: [record, scope, name]) != nil
                {
                    throw RucioError(
                        .openDataDuplicateRecordID,
                        "Data identifier with the same Record ID (\(record)) already exists in the open data catalog.")
                }
                try db.exec(
                    sql: "UPDATE dids_opendata SET record_id = ?, updated_at = ? WHERE scope = ? AND name = ?", arguments: [record, now, scope, name])
                out["record_id_new"] = .int(record)
                out["record_id_old"] = before.recordID.map { .int($0) } ?? .null
            }
            return out
        }
    }

    /// With `[opendata] rule_enable`, a public DID gets a rule (`rule_rse_expression`, else `rse_expression`, for
    /// `rule_account`, `rule_copies` copies) unless it has one already.
    func publicRule(_ db: Database, scope: String, name: String) throws -> (id: String, created: Bool)? {
        func option(_ o: String) throws -> String? {
            try String.fetchOne(db, sql: "SELECT value FROM configs WHERE section = 'opendata' AND opt = ?", arguments: [o])
        }
        guard let enable = try option("rule_enable"), ["true", "1", "yes", "on"].contains(enable.lowercased()) else { return nil }
        let account = try option("rule_account") ?? "root"
        let copies = Int(try option("rule_copies") ?? "1") ?? 1
        let fetchExpression = try option("rule_rse_expression")
        if let fetchExpression,
            let id = try String.fetchOne(
                db, sql: "SELECT id FROM rules WHERE scope = ? AND name = ? AND account = ? AND rse_expression = ? AND copies = ?",
                arguments: [scope, name, account, fetchExpression, copies])
        {
            return (id, false)
        }
        guard let expression = try fetchExpression ?? option("rse_expression") else {
            throw RucioError(.configNotFound, "No option 'rse_expression' in section 'opendata'")
        }
        var spec = RuleSpec(dids: [DIDRef(scope, name)], copies: copies, rseExpression: expression, grouping: "DATASET", account: account)
        if let activity = try option("rule_activity") { spec.activity = activity }
        let issuer = Issuer(account: account, identity: "opendata", isAdmin: try AccountStore.isAdmin(db, account))
        guard let id = try JudgeEvaluator(catalog: catalog).addRuleInTransaction(db, spec, issuer: issuer).first else { return nil }
        return (id, true)
    }

    static func checkTransition(_ db: Database, scope: String, name: String, from: OpenDataState, to: OpenDataState) throws {
        switch to {
        case .draft:
            if from != .draft {
                throw RucioError(.openDataInvalidStateUpdate, "Cannot set state to DRAFT. Once a DID is made public, it cannot be reverted to DRAFT.")
            }
        case .public:
            let row = try db.one(sql: "SELECT did_type, is_open FROM dids WHERE scope = ? AND name = ?", arguments: [scope, name])
            let isFile = (row?["did_type"] as String?) == DIDType.file.rawValue
            if !isFile && ((row?["is_open"] as Int?) ?? 1) != 0 {
                throw RucioError(.openDataInvalidStateUpdate, "Cannot set state to PUBLIC. The DID must be closed first.")
            }
        case .suspended:
            if from == .draft {
                throw RucioError(.openDataInvalidStateUpdate, "Cannot set state to SUSPENDED from DRAFT. First set it to PUBLIC.")
            }
        }
    }

    static func entry(_ db: Database, _ scope: String, _ name: String) throws -> OpenDataDID? {
        try db.one(sql: "SELECT * FROM dids_opendata WHERE scope = ? AND name = ?", arguments: [scope, name]).map(entry)
    }

    static func entry(_ row: Row) -> OpenDataDID {
        let meta = (row["meta"] as String?).flatMap { try? JSONParser.parse(Array($0.utf8)) }?.objectValue ?? JSONObject()
        return OpenDataDID(
            scope: row["scope"], name: row["name"], state: OpenDataState(rawValue: row["state"]) ?? .draft,
            createdAt: Date(timeIntervalSince1970: row["created_at"]), updatedAt: Date(timeIntervalSince1970: row["updated_at"]),
            doi: row["doi"], recordID: row["record_id"], meta: meta)
    }
}

extension Catalog {
    /// The open data catalog.
    public var openData: OpenDataStore { OpenDataStore(catalog: self) }
}

extension OpenDataStore {
    /// One file of an open data DID, with the URLs of its replicas on the open data RSEs.
    public struct File: Sendable {
        /// The file.
        public var did: DID
        /// PFNs of its replicas on DISK RSEs matching `[opendata] rse_expression`.
        public var uris: [String]
    }

    /// The files of a catalog entry and where they can be read (`?files=1`); needs `[opendata] rse_expression` in the
    /// config, as Rucio's does.
    public func files(scope: String, name: String) async throws -> [File] {
        _ = try await get(scope: scope, name: name, state: nil)
        guard let expression = try await catalog.config.value("opendata", "rse_expression") else {
            throw RucioError(.configNotFound, "No option 'rse_expression' in section 'opendata'")
        }
        let files = try await catalog.dids.listFiles(scope, name)
        var query = ReplicaStore.ReplicaQuery()
        query.rseExpression = expression
        let replicas = try await catalog.replicas.listReplicas(files.map { DIDRef($0.scope, $0.name) }, query: query)
        var uris: [DIDRef: [String]] = [:]
        for f in replicas {
            uris[DIDRef(f.scope, f.name)] = f.replicas.filter { $0.rse.rseType == "DISK" }.flatMap { r in r.protocols.map { $0.pfn(path: r.path) } }
        }
        return files.map { File(did: $0, uris: uris[DIDRef($0.scope, $0.name)] ?? []) }
    }

    /// The rule `[opendata] rule_rse_expression` asks for on a public DID, if it exists (Rucio's `_fetch_opendata_rule`).
    public func rule(scope: String, name: String) async throws -> String? {
        guard let expression = try await catalog.config.value("opendata", "rule_rse_expression") else { return nil }
        let account = try await catalog.config.value("opendata", "rule_account") ?? "root"
        let copies = Int(try await catalog.config.value("opendata", "rule_copies") ?? "1") ?? 1
        return try await db.read { db in
            try String.fetchOne(
                db, sql: "SELECT id FROM rules WHERE scope = ? AND name = ? AND account = ? AND rse_expression = ? AND copies = ?",
                arguments: [scope, name, account, expression, copies])
        }
    }
}
