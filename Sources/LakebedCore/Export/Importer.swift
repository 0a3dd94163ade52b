import Foundation

/// Rucio's importer (`core/importer.py`, `POST /import`, `lakebed serve --import`): RSEs with their settings,
/// protocols, attributes and `MinFreeSpace` limit, distances, and accounts with their identities, in the format
/// `GET /export` writes (accounts added by hand).
///
/// As in Rucio: an RSE that exists is updated (its mutable settings), one that does not is added; protocols are
/// matched on scheme, hostname and port (matched ones updated, new ones added); attributes are set (replaced when
/// present); with the config option `importer.rse_sync_method` = `hard` (which Rucio also reads for protocols)
/// protocols and RSEs absent from the import are deleted, and with `importer.attr_sync_method` = `hard` attributes
/// absent from it; `append` adds only. Accounts: missing ones are added (type USER), the email of existing ones
/// updated, and every other active account but root is deleted, as Rucio's importer does; an account's identities
/// become exactly the listed ones.
///
/// Everything goes through the stores the REST routes use (`addRSE`, `addProtocol`, `addRSEAttribute`,
/// `setDistance`, `addAccount`, `addIdentity`…), so a `file` prefix becomes the RSE's storage and foreign endpoints
/// make it virtual, exactly as when a client adds them. Rucio imports in one transaction; here each step is its own,
/// so the whole document is checked first (shape, names, the keys every protocol and account needs, the RSEs
/// distances name): a mistake is refused before anything changes.
public struct Importer: CatalogStore {
    /// The catalog this works on.
    public let catalog: Catalog
    /// Works on `catalog`.
    public init(catalog: Catalog) { self.catalog = catalog }

    /// Rucio's synchronisation modes (`importer.*_sync_method`).
    enum SyncMethod: String {
        case append, edit, hard
    }

    /// What an import changed, for `serve --import`'s banner and tests.
    public struct Summary: Sendable, Equatable {
        /// RSEs added.
        public var rsesAdded = 0
        /// RSEs that existed and were updated.
        public var rsesUpdated = 0
        /// Protocols added.
        public var protocolsAdded = 0
        /// Distances added or changed.
        public var distances = 0
        /// Accounts added.
        public var accountsAdded = 0
    }

    /// The settings Rucio's `add_rse` takes from an imported RSE.
    static let addKeys = [
        "deterministic", "volatile", "city", "region_code", "country_name", "staging_area", "continent", "time_zone", "ISP", "rse_type",
        "latitude", "longitude", "ASN", "availability_read", "availability_write", "availability_delete",
    ]
    /// Rucio's `MUTABLE_RSE_PROPERTIES` (less `name`: an import does not rename).
    static let mutableKeys: Set<String> = [
        "availability_read", "availability_write", "availability_delete", "latitude", "longitude", "time_zone", "rse_type", "volatile",
        "deterministic", "region_code", "country_name", "city", "staging_area", "qos_class", "continent", "availability",
    ]

    /// Imports `data` (Rucio's import document) as `issuer` (root or an admin, Rucio's default permission).
    @discardableResult
    public func importData(_ data: JSONObject, by issuer: Issuer) async throws -> Summary {
        let plan = try Self.check(data, schema: catalog.policy.schema)
        try catalog.policy.permission.requireAdmin(issuer, "import")
        let rseSync = try await syncMethod("rse_sync_method")
        let attrSync = try await syncMethod("attr_sync_method")
        try await checkReferences(plan)
        var summary = Summary()
        var imported: Set<String> = []
        for (name, rse) in plan.rses {
            try await importRSE(name, rse, rseSync: rseSync, attrSync: attrSync, by: issuer, summary: &summary)
            imported.insert(name)
        }
        if rseSync == .hard {
            for old in try await catalog.rses.listRSEs() where !imported.contains(old.rse) {
                do { try await catalog.rses.deleteRSE(old.rse, by: issuer) } catch let e as RucioError where e.exceptionClass == .rseOperationNotSupported {}
            }
        }
        for (src, dst, value) in plan.distances {
            let exists = !(try await catalog.rses.distances(from: src, to: dst)).isEmpty
            try await catalog.rses.setDistance(from: src, to: dst, distance: value, create: !exists, by: issuer)
            summary.distances += 1
        }
        if !plan.accounts.isEmpty { try await importAccounts(plan.accounts, by: issuer, summary: &summary) }
        return summary
    }

    func syncMethod(_ option: String) async throws -> SyncMethod {
        guard let v = try await catalog.config.value("importer", option) else { return .edit }
        guard let m = SyncMethod(rawValue: v) else {
            throw RucioError(.invalidObject, "importer.\(option) must be append, edit or hard, not '\(Validation.printable(v))'")
        }
        return m
    }

    // MARK: checking the document

    /// An imported account: name, email and identities (nil = keep the account's identities as they are).
    struct AccountPlan {
        var account: String
        var email: String
        var identities: [(identity: String, type: String, password: String?)]
    }

    struct Plan {
        var rses: [(String, JSONObject)] = []
        var distances: [(String, String, Int)] = []
        var accounts: [AccountPlan] = []
    }

    static func invalid(_ what: String) -> RucioError { RucioError(.invalidObject, "Problem validating import: \(what)") }

    /// Checks the document's shape and every key an import step needs, before anything changes.
    static func check(_ data: JSONObject, schema: NamingSchema) throws -> Plan {
        var plan = Plan()
        if let v = data["rses"], !v.isNull {
            guard let rses = v.objectValue else { throw invalid("'rses' must be a dictionary of RSEs by name, not \(v.pythonTypeName)") }
            for (name, value) in rses {
                try schema.checkRSE(name)
                guard let rse = value.objectValue else { throw invalid("RSE '\(name)' must be a dictionary, not \(value.pythonTypeName)") }
                if let t = rse["rse_type"], !t.isNull, !["DISK", "TAPE"].contains(t.stringValue ?? "") {
                    throw invalid("RSE '\(name)': rse_type must be DISK or TAPE, not \(Validation.printable(t.serialized()))")
                }
                if let a = rse["attributes"], !a.isNull, a.objectValue == nil { throw invalid("RSE '\(name)': 'attributes' must be a dictionary") }
                if let p = rse["protocols"], !p.isNull {
                    guard let list = p.arrayValue else { throw invalid("RSE '\(name)': 'protocols' must be a list") }
                    for item in list {
                        guard let o = item.objectValue else { throw invalid("RSE '\(name)': each protocol must be a dictionary") }
                        for key in ["scheme", "hostname", "port"] where o[key] == nil || o[key]!.isNull {
                            throw invalid("RSE '\(name)': a protocol lacks '\(key)' (scheme, hostname and port identify it)")
                        }
                        guard o["port"]?.intValue != nil else { throw invalid("RSE '\(name)': a protocol's port must be an integer") }
                    }
                }
                if let m = rse["MinFreeSpace"], !m.isNull, m.intValue == nil { throw invalid("RSE '\(name)': MinFreeSpace must be an integer") }
                plan.rses.append((name, rse))
            }
        }
        if let v = data["distances"], !v.isNull {
            guard let srcs = v.objectValue else { throw invalid("'distances' must be a dictionary, not \(v.pythonTypeName)") }
            for (src, dests) in srcs {
                guard let d = dests.objectValue else { throw invalid("distances from '\(src)' must be a dictionary by destination") }
                for (dst, value) in d {
                    guard let o = value.objectValue else { throw invalid("distance \(src) -> \(dst) must be a dictionary") }
                    guard let n = (o["distance"].flatMap { $0.isNull ? nil : $0 } ?? o["ranking"])?.intValue else {
                        throw invalid("distance \(src) -> \(dst) needs an integer 'distance' (or 'ranking')")
                    }
                    plan.distances.append((src, dst, Int(n)))
                }
            }
        }
        if let v = data["accounts"], !v.isNull {
            guard let list = v.arrayValue else { throw invalid("'accounts' must be a list, not \(v.pythonTypeName)") }
            for item in list {
                guard let o = item.objectValue else { throw invalid("each account must be a dictionary") }
                let account = try o.requiredImportString("account")
                try schema.checkAccount(account)
                let email = try o.requiredImportString("email")
                var identities: [(String, String, String?)] = []
                for i in (o["identities"]?.arrayValue ?? []) {
                    guard let io = i.objectValue else { throw invalid("each identity of '\(account)' must be a dictionary") }
                    let type = try io.requiredImportString("type").uppercased()
                    guard AuthStore.identityTypes.contains(type) else { throw invalid("unknown identity type '\(Validation.printable(type))'") }
                    identities.append((try io.requiredImportString("identity"), type, io["password"]?.stringValue))
                }
                plan.accounts.append(AccountPlan(account: account, email: email, identities: identities))
            }
        }
        return plan
    }

    /// Distances name RSEs that exist or are imported (Rucio's `RSENotFound` otherwise); protocols the import adds
    /// (not yet on their RSE) are complete.
    func checkReferences(_ plan: Plan) async throws {
        let existing = Set(try await catalog.rses.listRSEs().map(\.rse))
        for (name, rse) in plan.rses {
            let have = existing.contains(name) ? try await catalog.rses.protocols(name) : []
            for p in (rse["protocols"]?.arrayValue ?? []).compactMap(\.objectValue) {
                let scheme = p["scheme"]?.stringValue ?? ""
                let known = have.contains {
                    $0.scheme == scheme && $0.hostname == p["hostname"]?.stringValue && Int64($0.port) == p["port"]?.intValue
                }
                if !known { _ = try RSEProtocol(scheme: scheme, parameters: p) }
            }
        }
        let known = existing.union(plan.rses.map(\.0))
        for (src, dst, _) in plan.distances {
            for name in [src, dst] where !known.contains(name) { throw RucioError.rseNotFound(name) }
        }
    }

    // MARK: RSEs

    func importRSE(_ name: String, _ rse: JSONObject, rseSync: SyncMethod, attrSync: SyncMethod, by issuer: Issuer, summary: inout Summary)
        async throws
    {
        let existing = (try await catalog.rses.listRSEs()).contains { $0.rse == name }
        if existing {
            let settings = rse.filtering { Self.mutableKeys.contains($0) }.filtering { rse[$0]?.isNull == false }
            if !settings.isEmpty { try await catalog.rses.updateRSE(name, settings: RSESettings(settings), by: issuer) }
            summary.rsesUpdated += 1
        } else {
            let settings = rse.filtering { Self.addKeys.contains($0) }.filtering { rse[$0]?.isNull == false }
            try await catalog.rses.addRSE(name, settings: RSESettings(settings), by: issuer)
            summary.rsesAdded += 1
        }
        if let protocols = rse["protocols"]?.arrayValue, !protocols.isEmpty {
            try await importProtocols(name, protocols.compactMap(\.objectValue), sync: rseSync, by: issuer, summary: &summary)
        }
        if let limit = rse["MinFreeSpace"]?.intValue, limit != 0 {
            try await catalog.rses.setRSELimit(name, name: "MinFreeSpace", value: limit, by: issuer)
        }
        try await importAttributes(name, rse, sync: attrSync, by: issuer)
    }

    func importProtocols(_ rse: String, _ protocols: [JSONObject], sync: SyncMethod, by issuer: Issuer, summary: inout Summary) async throws {
        struct Key: Hashable {
            var scheme: String
            var hostname: String
            var port: Int
        }
        func key(_ o: JSONObject) -> Key {
            Key(scheme: o["scheme"]?.stringValue ?? "", hostname: o["hostname"]?.stringValue ?? "", port: Int(o["port"]?.intValue ?? 0))
        }
        let old = Set(try await catalog.rses.protocols(rse).map { Key(scheme: $0.scheme, hostname: $0.hostname, port: $0.port) })
        let new = Set(protocols.map(key))
        for p in protocols {
            let k = key(p)
            if old.contains(k) {
                guard sync != .append else { continue }
                let data = p.filtering { !["scheme", "hostname", "port"].contains($0) }
                try await catalog.rses.updateProtocols(rse, scheme: k.scheme, hostname: k.hostname, port: k.port, data: data, by: issuer)
            } else {
                try await catalog.rses.addProtocol(rse, try RSEProtocol(scheme: k.scheme, parameters: p), by: issuer)
                summary.protocolsAdded += 1
            }
        }
        if sync == .hard {
            for k in old.subtracting(new) {
                try await catalog.rses.deleteProtocols(rse, scheme: k.scheme, hostname: k.hostname, port: k.port, by: issuer)
            }
        }
    }

    func importAttributes(_ rse: String, _ doc: JSONObject, sync: SyncMethod, by issuer: Issuer) async throws {
        var attributes = doc["attributes"]?.objectValue ?? JSONObject()
        // Rucio's importer sets these two from the RSE's top level (where the export puts them), over the attributes.
        attributes["lfn2pfn_algorithm"] = doc["lfn2pfn_algorithm"] ?? .null
        attributes["verify_checksum"] = doc["verify_checksum"] ?? .null
        let old = Set(try await catalog.rses.rseAttributes(rse).map(\.0))
        for (key, value) in attributes where !value.isNull {
            if old.contains(key) && sync == .append { continue }
            try await catalog.rses.addRSEAttribute(rse, key: key, value: value, by: issuer)
        }
        if sync == .hard {
            for key in old where attributes[key] == nil && key != rse {
                try await catalog.rses.deleteRSEAttribute(rse, key: key, by: issuer)
            }
        }
    }

    // MARK: accounts

    func importAccounts(_ accounts: [AccountPlan], by issuer: Issuer, summary: inout Summary) async throws {
        let old = try await catalog.accounts.listAccounts(type: nil, identity: nil, filters: [:]).filter { $0.status == "ACTIVE" }
        let oldNames = Set(old.map(\.account))
        let newNames = Set(accounts.map(\.account))
        for a in accounts where !oldNames.contains(a.account) {
            try await catalog.accounts.addAccount(a.account, type: "USER", email: a.email, by: issuer)
            summary.accountsAdded += 1
            if !a.identities.isEmpty { try await importIdentities(a, by: issuer) }
        }
        for gone in old where !newNames.contains(gone.account) && gone.account != "root" {
            try await catalog.accounts.deleteAccount(gone.account, by: issuer)
        }
        for a in accounts where oldNames.contains(a.account) {
            if let was = old.first(where: { $0.account == a.account }), was.email != a.email {
                try await catalog.accounts.updateAccount(a.account, key: "email", value: .string(a.email), by: issuer)
            }
            if !a.identities.isEmpty { try await importIdentities(a, by: issuer) }
        }
    }

    /// The account's identities become the listed ones (Rucio's `import_identities`).
    func importIdentities(_ a: AccountPlan, by issuer: Issuer) async throws {
        let current = try await catalog.auth.listIdentities(account: a.account)
        let have = Set(current.map { "\($0.type)\u{0}\($0.identity)" })
        let want = Set(a.identities.map { "\($0.type)\u{0}\($0.identity)" })
        for i in a.identities where !have.contains("\(i.type)\u{0}\(i.identity)") {
            try await catalog.auth.addIdentity(
                account: a.account, identity: i.identity, type: i.type, email: a.email, password: i.password, isDefault: false, by: issuer)
        }
        for i in current where !want.contains("\(i.type)\u{0}\(i.identity)") {
            try await catalog.auth.deleteIdentity(account: a.account, identity: i.identity, type: i.type, by: issuer)
        }
    }
}

extension JSONObject {
    /// A string the import needs (`InvalidObject` naming the key when it is missing or not a string).
    fileprivate func requiredImportString(_ key: String) throws -> String {
        guard let s = self[key]?.stringValue else { throw Importer.invalid("'\(key)' is required and must be a string") }
        return s
    }
}
