import Foundation
import GRDB

/// A DID search filter: OR of AND-groups of conditions, as Rucio's filter engine reads them.
public struct DIDFilter: Sendable, Equatable {
    public enum Op: String, Sendable {
        case eq = "="
        case ne = "!="
        case lt = "<"
        case lte = "<="
        case gt = ">"
        case gte = ">="
    }
    public struct Condition: Sendable, Equatable {
        /// What is compared: a DID column (`name`, `bytes`, `created_at`…), `type`, or a key of the DID's JSON metadata.
        public var key: String
        /// The comparison, from the key's suffix (`.gte`, `.lte`, `.gt`, `.lt`, `.ne`); none means equal.
        public var op: Op
        /// The value compared with; a `name` with `*` matches as a wildcard.
        public var value: JSON
        public init(key: String, op: Op, value: JSON) {
            self.key = key
            self.op = op
            self.value = value
        }
    }
    /// The filter: the groups are ORed, the conditions inside one group ANDed; `[[]]` matches everything.
    public var groups: [[Condition]]
    public init(groups: [[Condition]]) { self.groups = groups }

    /// Builds a filter from the dictionaries the client sends (`key.gte` style suffixes).
    /// At most this many conditions in one search: each becomes SQL, and SQLite's expression depth is bounded.
    public static let maxConditions = 100

    public static func fromDictionaries(_ dicts: [JSONObject]) throws -> DIDFilter {
        let count = dicts.reduce(0) { $0 + $1.count }
        guard count <= maxConditions else {
            throw RucioError(.didFilterSyntaxError, "A search takes at most \(maxConditions) filter conditions, not \(count)")
        }
        var groups: [[Condition]] = []
        for d in dicts {
            var g: [Condition] = []
            for (rawKey, value) in d {
                var key = rawKey
                var op = Op.eq
                for (suffix, o) in [(".gte", Op.gte), (".lte", Op.lte), (".gt", Op.gt), (".lt", Op.lt), (".ne", Op.ne)] where rawKey.hasSuffix(suffix)
                {
                    key = String(rawKey.dropLast(suffix.count))
                    op = o
                    break
                }
                guard !key.isEmpty, key.utf8.count <= 100,
                    key.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "." || $0 == "-") })
                else {
                    throw RucioError(.didFilterSyntaxError, "Invalid key '\(Validation.printable(rawKey))' in filter")
                }
                g.append(Condition(key: key, op: op, value: value))
            }
            groups.append(g)
        }
        if groups.isEmpty { groups = [[]] }
        return DIDFilter(groups: groups)
    }
}

extension DIDStore {
    /// One search hit.
    public struct SearchHit: Sendable {
        /// Scope of the DID found.
        public var scope: String
        /// Name of the DID found, unique within its scope.
        public var name: String
        /// FILE, DATASET or CONTAINER.
        public var type: DIDType
        /// The DID's recorded bytes (a collection's: its direct content's); nil = unknown.
        public var bytes: Int64?
        /// The DID's recorded length (1 for a file, direct content count for a collection); nil = unknown.
        public var length: Int64?
    }

    /// `list_dids`: DIDs of `scope` matching the filter and type (`all`, `collection`, `dataset`, `container`, `file`).
    /// DIDs of a scope matching `filter`, by name; `after`: only names after it (the next page of a streamed search).
    public func searchDIDs(scope: String, filter: DIDFilter, type: String, limit: Int?, after: String? = nil) async throws -> [SearchHit] {
        var typeSet: [String]
        switch type.lowercased() {
        case "all": typeSet = ["FILE", "DATASET", "CONTAINER"]
        case "collection": typeSet = ["DATASET", "CONTAINER"]
        case "dataset": typeSet = ["DATASET"]
        case "container": typeSet = ["CONTAINER"]
        case "file": typeSet = ["FILE"]
        default: throw RucioError(.unsupportedOperation, "Valid type are: all, collection, container, dataset, file")
        }
        var orParts: [String] = []
        var args: [any DatabaseValueConvertible] = [scope]
        for group in filter.groups {
            var andParts: [String] = []
            var groupTypes = typeSet
            for c in group {
                if c.key == "type" || c.key == "did_type" {
                    guard let s = c.value.stringValue else { throw RucioError(.didFilterSyntaxError, "type must be a string") }
                    switch s.lowercased() {
                    case "all": groupTypes = ["FILE", "DATASET", "CONTAINER"]
                    case "collection": groupTypes = ["DATASET", "CONTAINER"]
                    default:
                        guard let t = DIDType(loose: s) else { throw RucioError(.didFilterSyntaxError, "Invalid type '\(Validation.printable(s))'") }
                        groupTypes = [t.rawValue]
                    }
                    continue
                }
                if c.key == "scope" { continue }
                let (sql, a) = try Self.conditionSQL(c)
                andParts.append(sql)
                args.append(contentsOf: a)
            }
            andParts.append("did_type IN (\(groupTypes.map { "'\($0)'" }.joined(separator: ",")))")
            orParts.append("(" + andParts.joined(separator: " AND ") + ")")
        }
        if let after { args.append(after) }
        var sql =
            "SELECT scope, name, did_type, bytes, length FROM dids WHERE scope = ? AND hidden = 0 AND (" + orParts.joined(separator: " OR ") + ")"
        if after != nil { sql += " AND name > ?" }
        sql += " ORDER BY name"
        if let limit { sql += " LIMIT \(max(0, limit))" }
        let query = sql
        let finalArgs = args.map { $0.databaseValue }
        return try await db.read { db in
            // An unknown scope holds nothing (Rucio answers an empty list, not ScopeNotFound).
            try Row.fetchAll(db, sql: query, arguments: StatementArguments(finalArgs)).map {
                SearchHit(
                    scope: $0["scope"], name: $0["name"], type: DIDType(rawValue: $0["did_type"]) ?? .file, bytes: $0["bytes"], length: $0["length"])
            }
        }
    }

    /// Typed value of a filter literal (the client sends strings).
    static func typed(_ v: JSON) -> JSON {
        guard case .string(let s) = v else { return v }
        if let i = Int64(s) { return .int(i) }
        if let d = Double(s), s.contains(".") { return .double(d) }
        switch s.lowercased() {
        case "true": return .bool(true)
        case "false": return .bool(false)
        default: return v
        }
    }

    static func sqlValue(_ v: JSON) -> (any DatabaseValueConvertible)? {
        switch v {
        case .int(let i): return i
        case .double(let d): return d
        case .bool(let b): return b ? 1 : 0
        case .string(let s): return s
        case .null: return nil
        default: return v.serialized()
        }
    }

    /// Rucio's filter keywords for date ranges: `created_after: T` is `created_at >= T`, and so on.
    static let dateRangeKeys: [String: (column: String, op: DIDFilter.Op)] = [
        "created_after": ("created_at", .gte), "created_before": ("created_at", .lte),
        "updated_after": ("updated_at", .gte), "updated_before": ("updated_at", .lte),
    ]

    static func conditionSQL(_ c: DIDFilter.Condition) throws -> (String, [any DatabaseValueConvertible]) {
        if let range = dateRangeKeys[c.key] {
            guard let s = c.value.stringValue, let d = RucioDate.parse(s.hasSuffix("Z") ? String(s.dropLast()) : s) else {
                throw RucioError(.didFilterSyntaxError, "\(c.key) must be a date")
            }
            return ("\(range.column) \(range.op.rawValue) ?", [d.timeIntervalSince1970])
        }
        let value = typed(c.value)
        if c.key == "name" {
            guard let s = c.value.stringValue ?? (value.intValue.map { String($0) }) else {
                throw RucioError(.didFilterSyntaxError, "name must be a string")
            }
            if c.op == .eq { return s.contains("*") || s.contains("%") ? ("name LIKE ? ESCAPE '\\'", [s.likePattern]) : ("name = ?", [s]) }
            if c.op == .ne { return s.contains("*") ? ("name NOT LIKE ? ESCAPE '\\'", [s.likePattern]) : ("name != ?", [s]) }
            return ("name \(c.op.rawValue) ?", [s])
        }
        if c.key == "length" || c.key == "bytes" {
            guard value.intValue != nil || value.doubleValue != nil else { throw RucioError(.didFilterSyntaxError, "\(c.key) must be a number") }
        }
        if let kind = DID.searchableColumns[c.key] {
            var v = value
            if kind == .date {
                guard let s = c.value.stringValue, let d = RucioDate.parse(s) else {
                    throw RucioError(.didFilterSyntaxError, "\(c.key) must be a date")
                }
                v = .double(d.timeIntervalSince1970)
            }
            if kind == .bool, let b = value.boolValue { v = .bool(b) }
            if case .string(let s) = v, c.op == .eq, s.contains("*") { return ("\(c.key) LIKE ? ESCAPE '\\'", [s.likePattern]) }
            return ("\(c.key) \(c.op.rawValue) ?", [sqlValue(v)].compactMap { $0 })
        }
        // Free JSON metadata; a missing key never matches.
        let path = "json_extract(meta, '$.\"\(c.key)\"')"
        switch value {
        case .int, .double:
            if c.op == .eq || c.op == .ne {
                return (
                    "(\(path) IS NOT NULL AND (\(path) \(c.op.rawValue) ? \(c.op == .eq ? "OR" : "AND") CAST(\(path) AS TEXT) \(c.op.rawValue) ?))",
                    [sqlValue(value)!, c.value.stringValue ?? value.serialized()]
                )
            }
            return ("(json_type(meta, '$.\"\(c.key)\"') IN ('integer', 'real') AND \(path) \(c.op.rawValue) ?)", [sqlValue(value)!])
        case .bool(let b):
            return ("(\(path) \(c.op.rawValue) ?)", [b ? 1 : 0])
        case .string(let s):
            if c.op == .eq && s.contains("*") { return ("(\(path) LIKE ? ESCAPE '\\')", [s.likePattern]) }
            return ("(\(path) \(c.op.rawValue) ?)", [s])
        default:
            return ("(\(path) \(c.op.rawValue) ?)", [value.serialized()])
        }
    }
}
