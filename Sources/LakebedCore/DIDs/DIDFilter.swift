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
            // `*` alone matches every name (names are never NULL): no condition, so `name=*` reads the key in order.
            let everything = !s.isEmpty && s.allSatisfy { $0 == "*" || $0 == "%" }
            if c.op == .eq && everything { return ("1", []) }
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
