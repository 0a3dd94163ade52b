public import Foundation
import GRDB
import Logging

/// Settings accepted when creating or updating an RSE.
public struct RSESettings: Sendable {
    /// RSE settings by Rucio column name (`rse_type`, `deterministic`, `availability_read`, `city`…); keys not given keep their defaults.
    public var values: JSONObject
    public init(_ values: JSONObject = JSONObject()) { self.values = values }
}

extension JSONObject {
    /// A copy with only the keys that pass `keep`.
    public func filtering(_ keep: (String) -> Bool) -> JSONObject {
        var out = JSONObject()
        for (k, v) in self where keep(k) { out[k] = v }
        return out
    }
}

/// RSEs, their settings, attributes, protocols, distances, usage and limits (Rucio's `core/rse.py`).
public struct RSEStore: CatalogStore {
    /// The catalog this works on.
    public let catalog: Catalog
    /// Works on `catalog`.
    public init(catalog: Catalog) { self.catalog = catalog }

    static let rseColumns: [String: String] = [
        "rse_type": "rse_type", "deterministic": "deterministic", "volatile": "volatile", "staging_area": "staging_area",
        "city": "city", "region_code": "region_code", "country_name": "country_name", "continent": "continent",
        "time_zone": "time_zone", "ISP": "isp", "isp": "isp", "ASN": "asn", "asn": "asn", "longitude": "longitude", "latitude": "latitude",
        "availability_read": "availability_read", "availability_write": "availability_write",
        "availability_delete": "availability_delete", "qos_class": "qos_class",
    ]

    static let boolRSEColumns: Set<String> = [
        "deterministic", "volatile", "staging_area", "availability_read", "availability_write", "availability_delete",
    ]

    /// Default directory of an RSE.
    public func defaultRoot(for rse: String) -> String { dataDir + "/rses/" + rse }

    /// Creates an RSE with its name attribute. As in Rucio, an RSE added through the API has no protocol until one is
    /// added (and so no storage: see `StorageSite`). `readyMade` (the default lake's and scenarios' RSEs) also gives it
    /// Lakebed's own protocols: a posix `file` one at its directory (`root`, default `<data>/rses/<RSE>`) and, once the
    /// HTTPS listener runs, an `https` one at Lakebed's WebDAV.
    @discardableResult
    public func addRSE(
        _ rse: String, settings: RSESettings = RSESettings(), root: String? = nil, readyMade: Bool = false, by issuer: Issuer?
    ) async throws -> RSE {
        if let issuer { try catalog.policy.permission.requireAdmin(issuer, "add_rse") }
        try catalog.policy.schema.checkRSE(rse)
        let dir = ((root ?? defaultRoot(for: rse)) as NSString).standardizingPath
        let now = nowStamp
        let id = newID()
        let sets = try Self.rseAssignments(settings.values)
        let created = try await db.write { db -> RSE in
            if try db.one(sql: "SELECT 1 FROM rses WHERE rse = ? AND deleted = 0", arguments: [rse]) != nil {
                throw RucioError.duplicate("RSE '\(rse)' already exists!")
            }
            try db.exec(
                sql: "INSERT INTO rses (id, rse, root, lakebed_protocols, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [id, rse, dir, readyMade ? 1 : 0, now, now])
            for (col, val) in sets {
                try db.exec(sql: "UPDATE rses SET \(col) = ? WHERE id = ?", arguments: [val, id])
            }
            let row = try db.one(sql: "SELECT * FROM rses WHERE id = ?", arguments: [id])!
            let model = RSE(row: row)
            try db.exec(sql: "INSERT INTO rse_attributes (rse_id, key, value) VALUES (?, ?, 'true')", arguments: [id, rse])
            if model.isTape {
                try db.exec(sql: "INSERT INTO rse_attributes (rse_id, key, value) VALUES (?, 'istape', 'true')", arguments: [id])
            }
            try Self.mirrorSettingsAsAttributes(db, rseID: id, settings.values)
            guard readyMade else { return model }
            try db.exec(
                sql:
                    "INSERT INTO rse_protocols (rse_id, scheme, hostname, port, prefix, impl, domains) VALUES (?, 'file', 'localhost', 0, ?, 'rucio.rse.protocols.posix.Default', ?)",
                arguments: [id, dir + "/", RSEProtocol.allDomains.serialized()])
            if let endpoint = webdavEndpoint { try Self.upsertWebDAV(db, rse: model, endpoint: endpoint) }
            return model
        }
        if readyMade { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        return created
    }

    /// Rucio's location settings that it also keeps as RSE attributes (so expressions like `country_name=CH` work).
    static let settingsKeptAsAttributes = ["continent", "city", "region_code", "country_name", "time_zone", "ISP", "ASN"]

    /// Copies the location settings among `values` into the RSE's attributes, as Rucio's `add_rse`/`update_rse` do.
    static func mirrorSettingsAsAttributes(_ db: Database, rseID: String, _ values: JSONObject) throws {
        for key in settingsKeptAsAttributes {
            guard let v = values[key], !v.isNull, v.stringValue != "" else { continue }
            let value: JSON = v.stringValue.map { JSON.string($0) } ?? .string(v.serialized())
            try db.exec(
                sql: "INSERT OR REPLACE INTO rse_attributes (rse_id, key, value) VALUES (?, ?, ?)", arguments: [rseID, key, value.serialized()])
        }
    }

    static func rseAssignments(_ values: JSONObject) throws -> [(String, DatabaseValue)] {
        var out: [(String, DatabaseValue)] = []
        for (k, v) in values {
            guard let col = rseColumns[k] else {
                if ["rse", "id", "vo", "availability"].contains(k) { continue }
                throw RucioError(.invalidObject, "Provided object does not match schema. Details: Unknown RSE setting '\(Validation.printable(k))'")
            }
            if boolRSEColumns.contains(col) {
                guard let b = v.boolValue else {
                    throw RucioError(.invalidObject, "Provided object does not match schema. Details: '\(k)' must be a boolean")
                }
                out.append((col, b.databaseValue))
            } else if col == "rse_type" {
                guard let t = v.stringValue?.uppercased(), t == "DISK" || t == "TAPE" else {
                    throw RucioError(.invalidObject, "Provided object does not match schema. Details: rse_type must be DISK or TAPE")
                }
                out.append((col, t.databaseValue))
            } else if col == "longitude" || col == "latitude" {
                out.append((col, (v.isNull ? nil : v.doubleValue ?? v.stringValue.flatMap(Double.init)).databaseValue))
            } else {
                switch v {
                case .null: out.append((col, .null))
                case .string(let s): out.append((col, s.databaseValue))
                case .int(let i): out.append((col, String(i).databaseValue))
                case .double(let d): out.append((col, String(d).databaseValue))
                default: throw RucioError(.invalidObject, "Provided object does not match schema. Details: '\(k)' must be a string")
                }
            }
        }
        return out
    }

    /// Changes RSE settings (availability, location, type…).
    public func updateRSE(_ rse: String, settings: RSESettings, by issuer: Issuer?) async throws {
        if let issuer { try catalog.policy.permission.requireAdmin(issuer, "update_rse") }
        var values = settings.values
        // Rucio accepts the legacy integer `availability` too.
        if let a = values["availability"]?.intValue {
            values["availability_read"] = .bool(a & 4 != 0)
            values["availability_write"] = .bool(a & 2 != 0)
            values["availability_delete"] = .bool(a & 1 != 0)
        }
        if let newName = values["name"]?.stringValue { try catalog.policy.schema.checkRSE(newName) }
        for k in values.keys where Self.rseColumns[k] == nil && !["rse", "id", "vo", "availability", "name"].contains(k) {
            throw RucioError(.inputValidationError, "The key '\(Validation.printable(k))' does not exist for RSE properties.")
        }
        let sets = try Self.rseAssignments(values.filtering { $0 != "name" })
        let newName = values["name"]?.stringValue
        let settingValues = values
        let now = nowStamp
        try await db.write { db in
            let model = try Self.rse(db, name: rse)
            for (col, val) in sets {
                try db.exec(sql: "UPDATE rses SET \(col) = ?, updated_at = ? WHERE id = ?", arguments: [val, now, model.id])
            }
            try Self.mirrorSettingsAsAttributes(db, rseID: model.id, settingValues)
            if let newName, newName != rse {
                if try db.one(sql: "SELECT 1 FROM rses WHERE rse = ? AND deleted = 0", arguments: [newName]) != nil {
                    throw RucioError.duplicate("RSE '\(newName)' already exists!")
                }
                try db.exec(sql: "UPDATE rses SET rse = ? WHERE id = ?", arguments: [newName, model.id])
            }
        }
    }

    /// Deletes an RSE that holds no replicas.
    public func deleteRSE(_ rse: String, by issuer: Issuer) async throws {
        try catalog.policy.permission.requireAdmin(issuer, "del_rse")
        let now = nowStamp
        try await db.write { db in
            let model = try Self.rse(db, name: rse)
            if try db.one(sql: "SELECT 1 FROM replicas WHERE rse_id = ? LIMIT 1", arguments: [model.id]) != nil {
                throw RucioError(.rseOperationNotSupported, "RSE '\(rse)' is not empty")
            }
            try db.exec(sql: "UPDATE rses SET deleted = 1, deleted_at = ?, updated_at = ? WHERE id = ?", arguments: [now, now, model.id])
            try db.exec(sql: "DELETE FROM rse_attributes WHERE rse_id = ?", arguments: [model.id])
            try db.exec(sql: "DELETE FROM distances WHERE src_rse_id = ? OR dest_rse_id = ?", arguments: [model.id, model.id])
        }
    }

    /// One RSE by name.
    public func rse(_ name: String) async throws -> RSE {
        try quickRead { db in try Self.rse(db, name: name) }
    }

    static func rse(_ db: Database, name: String) throws -> RSE {
        guard let row = try db.one(sql: "SELECT * FROM rses WHERE rse = ? AND deleted = 0", arguments: [name]) else {
            throw RucioError.rseNotFound(name)
        }
        return RSE(row: row)
    }

    static func rse(_ db: Database, id: String) throws -> RSE {
        guard let row = try db.one(sql: "SELECT * FROM rses WHERE id = ?", arguments: [id]) else {
            throw RucioError.rseNotFound(id)
        }
        return RSE(row: row)
    }

    /// All RSEs that are not deleted, by name.
    public func listRSEs() async throws -> [RSE] {
        try await db.read { db in try Self.allRSEs(db) }
    }

    static func allRSEs(_ db: Database) throws -> [RSE] {
        try db.all(sql: "SELECT * FROM rses WHERE deleted = 0 ORDER BY rse").map(RSE.init(row:))
    }

    /// RSEs matching an RSE expression (`InvalidRSEExpression` when none do).
    public func resolveRSEExpression(_ expression: String) async throws -> [RSE] {
        try quickRead { db in try Self.resolve(db, expression: expression) }
    }

    static func resolve(_ db: Database, expression: String) throws -> [RSE] {
        let expr = try RSEExpression.parse(expression)
        let rses = try allRSEs(db)
        let attrs = try allAttributes(db)
        let universe = rses.map { RSEExpression.Candidate(rse: $0, attributes: attrs[$0.id] ?? [:]) }
        let ids = expr.evaluate(universe)
        let result = rses.filter { ids.contains($0.id) }
        if result.isEmpty { throw RucioError(.invalidRSEExpression, "RSE Expression resulted in an empty set.") }
        return result
    }

    static func allAttributes(_ db: Database) throws -> [String: [String: JSON]] {
        var out: [String: [String: JSON]] = [:]
        for row in try db.all(sql: "SELECT rse_id, key, value FROM rse_attributes") {
            out[row["rse_id"], default: [:]][row["key"]] = (try? JSONParser.parse(row["value"] as String)) ?? .null
        }
        return out
    }

    // MARK: attributes

    /// An RSE with its protocols and attributes, read together in one quick read (`GET /rses/<rse>`).
    public func rseSettings(_ name: String) async throws -> (rse: RSE, protocols: [RSEProtocol], attributes: [(String, JSON)]) {
        try cachedRead("rse\u{0}\(name)") { db in
            let model = try Self.rse(db, name: name)
            return (model, try Self.protocols(db, rseID: model.id), try Self.attributes(db, rseID: model.id))
        }
    }

    public func rseAttributes(_ rse: String) async throws -> [(String, JSON)] {
        try quickRead { db in
            let model = try Self.rse(db, name: rse)
            return try Self.attributes(db, rseID: model.id)
        }
    }

    static func attributes(_ db: Database, rseID: String) throws -> [(String, JSON)] {
        try db.all(sql: "SELECT key, value FROM rse_attributes WHERE rse_id = ? ORDER BY key", arguments: [rseID]).map {
            ($0["key"] as String, (try? JSONParser.parse($0["value"] as String)) ?? .null)
        }
    }

    public func addRSEAttribute(_ rse: String, key: String, value: JSON, by issuer: Issuer?) async throws {
        if let issuer { try catalog.policy.permission.requireAdmin(issuer, "add_rse_attribute") }
        guard !key.isEmpty, key.utf8.count <= 255 else {
            throw RucioError(.invalidObject, "Provided object does not match schema. Details: invalid attribute key")
        }
        var converted = value
        // Rucio stores "true"/"false" strings as booleans.
        if case .string(let s) = value, ["true", "false"].contains(s.lowercased()) { converted = .bool(s.lowercased() == "true") }
        let stored = converted
        try await db.write { db in
            let model = try Self.rse(db, name: rse)
            try db.exec(
                sql: "INSERT OR REPLACE INTO rse_attributes (rse_id, key, value) VALUES (?, ?, ?)", arguments: [model.id, key, stored.serialized()])
        }
    }

    public func deleteRSEAttribute(_ rse: String, key: String, by issuer: Issuer) async throws {
        try catalog.policy.permission.requireAdmin(issuer, "del_rse_attribute")
        try await db.write { db in
            let model = try Self.rse(db, name: rse)
            try db.exec(sql: "DELETE FROM rse_attributes WHERE rse_id = ? AND key = ?", arguments: [model.id, key])
            if db.changesCount == 0 { throw RucioError(.rseAttributeNotFound, "RSE attribute '\(key)' for RSE '\(rse)' cannot be found") }
        }
    }

    // MARK: protocols

    public func protocols(_ rse: String) async throws -> [RSEProtocol] {
        try await db.read { db in
            let model = try Self.rse(db, name: rse)
            return try Self.protocols(db, rseID: model.id)
        }
    }

    static func protocols(_ db: Database, rseID: String) throws -> [RSEProtocol] {
        try db.all(sql: "SELECT * FROM rse_protocols WHERE rse_id = ? ORDER BY hostname, scheme, port", arguments: [rseID]).map(
            RSEProtocol.init(row:))
    }

    /// Adds a protocol (Rucio's `add_protocol`). A posix (`file`) protocol's prefix becomes the RSE's storage folder
    /// (created if missing; it must lie inside the storage roots); an HTTP one on Lakebed's own endpoint is served by
    /// its WebDAV under its prefix; one pointing elsewhere is stored as given, and makes the RSE's storage virtual
    /// while no protocol of it is served (said in the log).
    public func addProtocol(_ rse: String, _ p: RSEProtocol, by issuer: Issuer?) async throws {
        if let issuer { try catalog.policy.permission.requireAdmin(issuer, "add_protocol") }
        guard !p.scheme.isEmpty, p.scheme.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "+" || $0 == "-" }) else {
            throw RucioError(.invalidObject, "Provided object does not match schema. Details: invalid scheme")
        }
        let roots = storageRoots
        let endpoints = storageEndpoints
        let defaultRoot = defaultRoot(for: rse)
        let (folder, site) = try await db.write { db -> (String?, StorageSite) in
            let model = try Self.rse(db, name: rse)
            if try db.one(
                sql: "SELECT 1 FROM rse_protocols WHERE rse_id = ? AND scheme = ? AND hostname = ? AND port = ?",
                arguments: [model.id, p.scheme, p.hostname, p.port]) != nil
            {
                throw RucioError.duplicate("Protocol '\(p.scheme)' on port \(p.port) already registered for '\(rse)' with hostname '\(p.hostname)'.")
            }
            let folder = try Self.vetProtocol(db, p, rse: model, roots: roots, endpoints: endpoints)
            try db.exec(
                sql:
                    "INSERT INTO rse_protocols (rse_id, scheme, hostname, port, prefix, impl, domains, extended_attributes) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                arguments: [
                    model.id, p.scheme, p.hostname, p.port, p.prefix, p.impl, p.domains.serialized(),
                    p.extendedAttributes.isNull ? nil : p.extendedAttributes.serialized(),
                ])
            try Self.refreshStorage(db, rse: model, defaultRoot: defaultRoot)
            return (folder, try Self.storageSite(db, rse: try Self.rse(db, id: model.id), endpoints: endpoints))
        }
        // The storage folder exists as soon as the RSE has one (clients look at the prefix's root before they write).
        if let folder = folder ?? site.directory {
            do { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) } catch {
                Self.storageLog.warning("RSE \(rse): cannot create the folder of its file protocol, \(folder): \(error)")
            }
        }
        Self.noteStorage(rse: rse, site: site, protocol: p)
    }

    public func deleteProtocols(_ rse: String, scheme: String, hostname: String?, port: Int?, by issuer: Issuer) async throws {
        try catalog.policy.permission.requireAdmin(issuer, "del_protocol")
        let defaultRoot = defaultRoot(for: rse)
        try await db.write { db in
            let model = try Self.rse(db, name: rse)
            var sql = "DELETE FROM rse_protocols WHERE rse_id = ? AND scheme = ?"
            var args: [any DatabaseValueConvertible] = [model.id, scheme]
            if let hostname {
                sql += " AND hostname = ?"
                args.append(hostname)
            }
            if let port {
                sql += " AND port = ?"
                args.append(port)
            }
            try db.exec(sql: sql, arguments: StatementArguments(args))
            if db.changesCount == 0 { throw RucioError(.rseProtocolNotSupported, "RSE '\(rse)' does not support protocol '\(scheme)'") }
            try Self.refreshStorage(db, rse: model, defaultRoot: defaultRoot)
        }
    }

    public func updateProtocols(_ rse: String, scheme: String, hostname: String?, port: Int?, data: JSONObject, by issuer: Issuer) async throws {
        try catalog.policy.permission.requireAdmin(issuer, "update_protocol")
        let roots = storageRoots
        let endpoints = storageEndpoints
        let defaultRoot = defaultRoot(for: rse)
        let folders = try await db.write { db -> [String] in
            var folders: [String] = []
            let model = try Self.rse(db, name: rse)
            var protos = try Self.protocols(db, rseID: model.id).filter {
                $0.scheme == scheme && (hostname == nil || $0.hostname == hostname) && (port == nil || $0.port == port)
            }
            if protos.isEmpty { throw RucioError(.rseProtocolNotSupported, "RSE '\(rse)' does not support protocol '\(scheme)'") }
            for i in protos.indices {
                let old = protos[i]
                if let v = data["prefix"]?.stringValue { protos[i].prefix = v }
                if let v = data["impl"]?.stringValue { protos[i].impl = v }
                if let v = data["hostname"]?.stringValue { protos[i].hostname = v }
                if let v = data["port"]?.intValue { protos[i].port = Int(v) }
                if let v = data["domains"], case .object = v { protos[i].domains = Self.mergeDomains(old.domains, v) }
                if let v = data["extended_attributes"] { protos[i].extendedAttributes = v }
                if let folder = try Self.vetProtocol(db, protos[i], rse: model, roots: roots, endpoints: endpoints) { folders.append(folder) }
                try db.exec(
                    sql:
                        "UPDATE rse_protocols SET hostname = ?, port = ?, prefix = ?, impl = ?, domains = ?, extended_attributes = ? WHERE rse_id = ? AND scheme = ? AND hostname = ? AND port = ?",
                    arguments: [
                        protos[i].hostname, protos[i].port, protos[i].prefix, protos[i].impl, protos[i].domains.serialized(),
                        protos[i].extendedAttributes.isNull ? nil : protos[i].extendedAttributes.serialized(), model.id, old.scheme, old.hostname,
                        old.port,
                    ])
            }
            try Self.refreshStorage(db, rse: model, defaultRoot: defaultRoot)
            return folders
        }
        for folder in folders { try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
    }

    static func mergeDomains(_ old: JSON, _ new: JSON) -> JSON {
        guard var o = old.objectValue, let n = new.objectValue else { return new }
        for (dom, ops) in n {
            var cur = o[dom]?.objectValue ?? JSONObject()
            for (op, prio) in ops.objectValue ?? JSONObject() { cur[op] = prio }
            o[dom] = .object(cur)
        }
        return .object(o)
    }

    // MARK: distances

    public struct Distance: Sendable {
        /// Id of the source RSE.
        public var srcRSEID: String
        /// Id of the destination RSE.
        public var destRSEID: String
        /// Rucio distance (ranking) from source to destination: lower is closer and preferred as a transfer source.
        public var distance: Int
        /// When the distance was first set.
        public var createdAt: Date
        /// When the distance was last changed.
        public var updatedAt: Date
    }

    public func setDistance(from src: String, to dst: String, distance: Int, create: Bool, by issuer: Issuer?) async throws {
        if let issuer { try catalog.policy.permission.requireAdmin(issuer, create ? "add_distance" : "update_distance") }
        let now = nowStamp
        try await db.write { db in
            let s = try Self.rse(db, name: src)
            let d = try Self.rse(db, name: dst)
            let exists = try db.one(sql: "SELECT 1 FROM distances WHERE src_rse_id = ? AND dest_rse_id = ?", arguments: [s.id, d.id]) != nil
            if create && exists { throw RucioError.duplicate("Distance from \(src) to \(dst) already exists!") }
            if !create && !exists { throw RucioError(.distanceNotFound, "Distance from \(src) to \(dst) not found") }
            try db.exec(
                sql:
                    "INSERT INTO distances (src_rse_id, dest_rse_id, distance, created_at, updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT(src_rse_id, dest_rse_id) DO UPDATE SET distance = excluded.distance, updated_at = excluded.updated_at",
                arguments: [s.id, d.id, distance, now, now])
        }
    }

    public func distances(from src: String, to dst: String) async throws -> [Distance] {
        try await db.read { db in
            let s = try Self.rse(db, name: src)
            let d = try Self.rse(db, name: dst)
            return try db.all(sql: "SELECT * FROM distances WHERE src_rse_id = ? AND dest_rse_id = ?", arguments: [s.id, d.id]).map {
                Distance(
                    srcRSEID: $0["src_rse_id"], destRSEID: $0["dest_rse_id"], distance: $0["distance"],
                    createdAt: Date(timeIntervalSince1970: $0["created_at"]), updatedAt: Date(timeIntervalSince1970: $0["updated_at"]))
            }
        }
    }

    public func deleteDistance(from src: String, to dst: String, by issuer: Issuer) async throws {
        try catalog.policy.permission.requireAdmin(issuer, "delete_distance")
        try await db.write { db in
            let s = try Self.rse(db, name: src)
            let d = try Self.rse(db, name: dst)
            try db.exec(sql: "DELETE FROM distances WHERE src_rse_id = ? AND dest_rse_id = ?", arguments: [s.id, d.id])
            if db.changesCount == 0 { throw RucioError(.distanceNotFound, "Distance from \(src) to \(dst) not found") }
        }
    }

    // MARK: usage and limits

    public struct RSEUsage: Sendable {
        /// Where the numbers come from: `rucio` (counted live from the catalog) or a source reported with `set_rse_usage`.
        public var source: String
        /// Bytes used; for `rucio`, the bytes of the RSE's replicas in any state but BAD and SOURCE. nil = not reported.
        public var used: Int64?
        /// Bytes free; for `rucio`, the `MaxSpaceAvailable` limit minus used (nil without that limit). nil = not reported.
        public var free: Int64?
        /// Used plus free; for `rucio`, the `MaxSpaceAvailable` limit, or used when there is none.
        public var total: Int64?
        /// Number of files; for `rucio`, the RSE's replicas in any state but BAD and SOURCE. nil = not reported.
        public var files: Int64?
        /// When the numbers were taken (now, for `rucio`).
        public var updatedAt: Date
    }

    /// Usage of an RSE: `rucio` (from the catalog, live) plus any manually reported sources.
    public func rseUsage(_ rse: String, source: String?) async throws -> (RSE, [RSEUsage]) {
        try await db.read { db in
            let model = try Self.rse(db, name: rse)
            var out: [RSEUsage] = []
            if source == nil || source == "rucio" {
                let row = try db.one(
                    sql:
                        "SELECT COALESCE(SUM(bytes), 0) AS b, COUNT(*) AS n FROM replicas WHERE rse_id = ? AND state IN \([ReplicaState.available, .copying, .unavailable, .beingDeleted, .temporaryUnavailable].sql)",
                    arguments: [model.id])!
                let used: Int64 = row["b"]
                let limit = try Int64.fetchOne(
                    db, sql: "SELECT value FROM rse_limits WHERE rse_id = ? AND name = 'MaxSpaceAvailable'", arguments: [model.id])
                out.append(
                    RSEUsage(
                        source: "rucio", used: used, free: limit.map { max(0, $0.clampedSubtracting(used)) }, total: limit ?? used, files: row["n"],
                        updatedAt: Date(timeIntervalSince1970: nowStamp)))
            }
            var sql = "SELECT * FROM rse_usage WHERE rse_id = ?"
            var args: [any DatabaseValueConvertible] = [model.id]
            if let source {
                sql += " AND source = ?"
                args.append(source)
            }
            for r in try db.all(sql: sql + " ORDER BY source", arguments: StatementArguments(args)) where (r["source"] as String) != "rucio" {
                let used: Int64? = r["used"]
                let free: Int64? = r["free"]
                out.append(
                    RSEUsage(
                        source: r["source"], used: used, free: free, total: (used ?? 0).clampedAdding(free ?? 0), files: r["files"],
                        updatedAt: Date(timeIntervalSince1970: r["updated_at"])))
            }
            return (model, out)
        }
    }

    public func setRSEUsage(_ rse: String, source: String, used: Int64?, free: Int64?, files: Int64?, by issuer: Issuer) async throws {
        try catalog.policy.permission.requireAdmin(issuer, "set_rse_usage")
        for (what, v) in [("used", used), ("free", free), ("files", files)] { if let v { try Validation.checkBytes(v, what) } }
        let now = nowStamp
        try await db.write { db in
            let model = try Self.rse(db, name: rse)
            try db.exec(
                sql: "INSERT OR REPLACE INTO rse_usage (rse_id, source, used, free, files, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [model.id, source, used, free, files, now])
        }
    }

    public func rseLimits(_ rse: String) async throws -> [(String, Int64)] {
        try await db.read { db in
            let model = try Self.rse(db, name: rse)
            return try db.all(sql: "SELECT name, value FROM rse_limits WHERE rse_id = ? ORDER BY name", arguments: [model.id]).map {
                ($0["name"], $0["value"])
            }
        }
    }

    public func setRSELimit(_ rse: String, name: String, value: Int64?, by issuer: Issuer) async throws {
        try catalog.policy.permission.requireAdmin(issuer, "set_rse_limits")
        try await db.write { db in
            let model = try Self.rse(db, name: rse)
            if let value {
                try db.exec(sql: "INSERT OR REPLACE INTO rse_limits (rse_id, name, value) VALUES (?, ?, ?)", arguments: [model.id, name, value])
            } else {
                try db.exec(sql: "DELETE FROM rse_limits WHERE rse_id = ? AND name = ?", arguments: [model.id, name])
            }
        }
    }
}
