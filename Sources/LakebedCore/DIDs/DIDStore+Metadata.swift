import Foundation
import GRDB

extension DIDStore {
    /// Metadata plugins, as `GET /dids/<s>/<n>/meta?plugin=` names them.
    public enum MetadataPlugin: String, Sendable {
        case didColumn = "DID_COLUMN"
        case json = "JSON"
        case all = "ALL"
    }

    /// A DID's metadata document for a plugin.
    public func metadata(_ scope: String, _ name: String, plugin: MetadataPlugin) async throws -> JSONObject {
        let d = try await did(scope, name)
        switch plugin {
        case .didColumn: return d.columns
        case .json: return d.meta
        case .all:
            var out = d.columns
            for (k, v) in d.meta { out[k] = v }
            return out
        }
    }

    /// Sets metadata keys: DID columns where the key is one, free JSON otherwise.
    public func setMetadata(_ scope: String, _ name: String, meta: JSONObject, recursive: Bool, issuer: Issuer) async throws {
        let now = nowStamp
        try await db.write { db in
            let d = try Self.did(db, scope, name)
            let owner = try ScopeStore.scopeOwner(db, scope)
            guard catalog.policy.permission.canWrite(scopeOwner: owner, scope: scope, issuer) || d.account == issuer.account else {
                throw RucioError.accessDenied("Account \(issuer.account) can not add metadata to \(scope):\(name)")
            }
            var targets = [DIDRef(scope, name)]
            if recursive && d.type.isCollection {
                targets += try Row.fetchAll(
                    db,
                    sql: """
                        WITH RECURSIVE tree(scope, name) AS (SELECT child_scope, child_name FROM contents WHERE scope = ? AND name = ?
                          UNION SELECT c.child_scope, c.child_name FROM contents c JOIN tree ON c.scope = tree.scope AND c.name = tree.name)
                        SELECT scope, name FROM tree
                        """, arguments: [scope, name]
                ).map { DIDRef($0["scope"], $0["name"]) }
            }
            for t in targets { try Self.setMetadataInTransaction(db, scope: t.scope, name: t.name, meta: meta, now: now) }
        }
    }

    /// Sets metadata on many DIDs at once.
    public func setMetadataBulk(_ items: [(DIDRef, JSONObject)], issuer: Issuer) async throws {
        for (ref, meta) in items { try await setMetadata(ref.scope, ref.name, meta: meta, recursive: false, issuer: issuer) }
    }

    static let forbiddenMetaKeys: Set<String> = [
        "scope", "name", "did_type", "account", "is_open", "monotonic", "length", "created_at", "updated_at", "deleted_at", "complete", "is_new",
        "closed_at", "accessed_at", "access_cnt",
    ]

    static func setMetadataInTransaction(_ db: Database, scope: String, name: String, meta: JSONObject, now: Double) throws {
        var free: JSONObject?
        for (key, value) in meta {
            guard !key.isEmpty, key.utf8.count <= 100, !key.contains("\0") else {
                throw RucioError(.invalidMetadata, "Invalid metadata key '\(Validation.printable(key))'")
            }
            if forbiddenMetaKeys.contains(key) { throw RucioError(.unsupportedOperation, "The metadata key '\(key)' cannot be changed") }
            if key == "lifetime" {
                let seconds: Double? = value.isNull ? nil : (value.doubleValue ?? value.stringValue.flatMap(Double.init))
                if !value.isNull && !(seconds.map(Validation.isValidLifetime) ?? false) {
                    throw RucioError(.invalidValueForKey, "Lifetime must be a number of seconds, at most \(Validation.maxLifetime)")
                }
                try db.execute(
                    sql: "UPDATE dids SET expired_at = ?, updated_at = ? WHERE scope = ? AND name = ?",
                    arguments: [seconds.map { now + $0 }, now, scope, name])
                continue
            }
            if let kind = DID.settableColumns[key] {
                let dbValue: (any DatabaseValueConvertible)?
                switch (kind, value) {
                case (_, .null): dbValue = nil
                case (.int, _):
                    guard let i = value.intValue ?? value.stringValue.flatMap({ Int64($0) }) else {
                        throw RucioError(.invalidValueForKey, "Value for '\(key)' must be an integer")
                    }
                    dbValue = i
                case (.bool, _):
                    guard let b = value.boolValue else { throw RucioError(.invalidValueForKey, "Value for '\(key)' must be a boolean") }
                    dbValue = b ? 1 : 0
                case (.date, _):
                    guard let s = value.stringValue, let d = RucioDate.parse(s) else {
                        throw RucioError(.invalidValueForKey, "Value for '\(key)' must be a date")
                    }
                    dbValue = d.timeIntervalSince1970
                case (.text, .string(let s)): dbValue = s
                case (.text, .int(let i)): dbValue = String(i)
                case (.text, .double(let x)): dbValue = String(x)
                case (.text, .bool(let b)): dbValue = b ? "True" : "False"
                default: throw RucioError(.invalidValueForKey, "Value for '\(key)' must be a string")
                }
                if key == "bytes", let i = dbValue as? Int64 { try Validation.checkBytes(i) }
                if key == "adler32", let s = dbValue as? String { try Validation.checkAdler32(s) }
                if key == "md5", let s = dbValue as? String { try Validation.checkMD5(s) }
                try db.execute(
                    sql: "UPDATE dids SET \(key) = ?, updated_at = ? WHERE scope = ? AND name = ?", arguments: [dbValue, now, scope, name])
            } else {
                if free == nil {
                    let raw = try String.fetchOne(db, sql: "SELECT meta FROM dids WHERE scope = ? AND name = ?", arguments: [scope, name])
                    free = raw.flatMap { try? JSONParser.parse($0) }?.objectValue ?? JSONObject()
                }
                free![key] = value
            }
        }
        if let free {
            let text = free.isEmpty ? nil : JSON.object(free).serialized()
            guard (text?.utf8.count ?? 0) <= 64 * 1024 else { throw RucioError(.invalidMetadata, "Metadata document too large") }
            try db.execute(sql: "UPDATE dids SET meta = ?, updated_at = ? WHERE scope = ? AND name = ?", arguments: [text, now, scope, name])
        }
    }

    /// Removes a free metadata key (or clears a column).
    public func deleteMetadata(_ scope: String, _ name: String, key: String, issuer: Issuer) async throws {
        let now = nowStamp
        try await db.write { db in
            let d = try Self.did(db, scope, name)
            let owner = try ScopeStore.scopeOwner(db, scope)
            guard catalog.policy.permission.canWrite(scopeOwner: owner, scope: scope, issuer) || d.account == issuer.account else {
                throw RucioError.accessDenied("Account \(issuer.account) can not delete metadata of \(scope):\(name)")
            }
            if d.meta[key] != nil {
                var m = d.meta
                m[key] = nil
                try db.execute(
                    sql: "UPDATE dids SET meta = ?, updated_at = ? WHERE scope = ? AND name = ?",
                    arguments: [m.isEmpty ? nil : JSON.object(m).serialized(), now, scope, name])
            } else if DID.settableColumns[key] != nil, !(d.columns[key]?.isNull ?? true), !["bytes", "adler32", "md5"].contains(key) {
                try db.execute(sql: "UPDATE dids SET \(key) = NULL, updated_at = ? WHERE scope = ? AND name = ?", arguments: [now, scope, name])
            } else {
                throw RucioError(.keyNotFound, "No key \(key) for data identifier \(scope):\(name)")
            }
        }
    }
}
