import Foundation
import GRDB

/// Rucio's metadata conventions (`core/meta_conventions.py`): the metadata keys a VO agrees on, with the type and
/// pattern of their values and, for some, the list of allowed values.
public struct MetaConventionStore: CatalogStore {
    /// The catalog this works on.
    public let catalog: Catalog
    /// Works on `catalog`.
    public init(catalog: Catalog) { self.catalog = catalog }

    /// Value types Rucio accepts, spelled as Rucio compares them (`str(type)` of float, int and str).
    static let valueTypes = ["<class 'float'>", "<class 'int'>", "<class 'str'>"]
    static let keyTypes = ["ALL", "COLLECTION", "CONTAINER", "DATASET", "FILE", "DERIVED"]

    /// Every key, in name order.
    public func keys() async throws -> [String] {
        try await db.read { db in try String.fetchAll(db, sql: "SELECT key FROM did_keys ORDER BY key") }
    }

    /// The allowed values of a key, in order.
    public func values(of key: String) async throws -> [String] {
        try await db.read { db in try String.fetchAll(db, sql: "SELECT value FROM did_key_values WHERE key = ? ORDER BY value", arguments: [key]) }
    }

    /// Adds a key; admins only.
    public func addKey(_ key: String, keyType: String?, valueType: String?, valueRegexp: String?, issuer: Issuer) async throws {
        try catalog.policy.permission.requireAdmin(issuer, "add_key")
        if let v = valueType, !Self.valueTypes.contains(v) {
            throw RucioError(.unsupportedValueType, "The type '\(Validation.printable(v))' is not supported for values!")
        }
        let given = (keyType ?? "ALL").uppercased()
        let type = ["F": "FILE", "D": "DATASET", "C": "CONTAINER"][given] ?? given
        guard Self.keyTypes.contains(type) else {
            throw RucioError(.unsupportedKeyType, "The type '\(Validation.printable(keyType ?? ""))' is not supported for keys!")
        }
        if let re = valueRegexp, (try? NSRegularExpression(pattern: re)) == nil { throw RucioError(.invalidObject, "Invalid value_regexp") }
        let now = nowStamp
        try await db.write { db in
            if try db.one(sql: "SELECT 1 FROM did_keys WHERE key = ?", arguments: [key]) != nil {
                throw RucioError.duplicate("key '\(Validation.printable(key))' already exists")
            }
            try db.exec(
                sql: "INSERT INTO did_keys (key, key_type, value_type, value_regexp, created_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [key, type, valueType, valueRegexp, now])
        }
    }

    /// Adds an allowed value to a key, checked against the key's type and pattern; admins only.
    public func addValue(_ value: String, to key: String, issuer: Issuer) async throws {
        try catalog.policy.permission.requireAdmin(issuer, "add_value")
        let now = nowStamp
        try await db.write { db in
            guard let row = try db.one(sql: "SELECT value_type, value_regexp FROM did_keys WHERE key = ?", arguments: [key]) else {
                throw RucioError(.keyNotFound, "key '\(Validation.printable(key))' does not exist")
            }
            switch row["value_type"] as String? {
            case "<class 'int'>"? where Int64(value) == nil, "<class 'float'>"? where Double(value) == nil:
                throw RucioError(
                    .invalidValueForKey,
                    "The value \(Validation.printable(value)) for the key \(Validation.printable(key)) does not have the right type")
            default: break
            }
            if let re = row["value_regexp"] as String?, let rx = try? NSRegularExpression(pattern: re),
                rx.firstMatch(in: value, range: NSRange(value.startIndex..., in: value)).map({ $0.range.location == 0 }) != true
            {
                throw RucioError(
                    .invalidValueForKey,
                    "The value \(Validation.printable(value)) for the key \(Validation.printable(key)) does not match the regular expression \(re)")
            }
            if try db.one(sql: "SELECT 1 FROM did_key_values WHERE key = ? AND value = ?", arguments: [key, value]) != nil {
                throw RucioError.duplicate("key-value '\(Validation.printable(key))-\(Validation.printable(value))' already exists!")
            }
            try db.exec(sql: "INSERT INTO did_key_values (key, value, created_at) VALUES (?, ?, ?)", arguments: [key, value, now])
        }
    }
}
