import Foundation
import GRDB

extension DIDStore {
    /// One search hit.
    public struct SearchHit: Sendable, Equatable {
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
        public init(scope: String, name: String, type: DIDType, bytes: Int64?, length: Int64?) {
            self.scope = scope
            self.name = name
            self.type = type
            self.bytes = bytes
            self.length = length
        }
    }

    /// `list_dids`: DIDs of `scope` matching the filter and type (`all`, `collection`, `dataset`, `container`, `file`),
    /// by name; `after`: only names after it (the next page of a streamed search).
    ///
    /// A filter of one group whose `name` starts with a fixed text (`abc*`) is read as ranges of the catalog's key
    /// (scope, name), so the search seeks instead of scanning the scope: see `namePrefixRanges`.
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
        var args: [DatabaseValue] = [scope.databaseValue]
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
                args.append(contentsOf: a.map(\.databaseValue))
            }
            andParts.append("did_type IN (\(groupTypes.map { "'\($0)'" }.joined(separator: ",")))")
            orParts.append("(" + andParts.joined(separator: " AND ") + ")")
        }
        // Without statistics SQLite prefers the key (it gives names in order) over a range on `expired_at`, though few
        // DIDs have one: a one-group filter that bounds `expired_at` names its index.
        let seekExpiry =
            filter.groups.count == 1
            && filter.groups[0].contains { $0.key == "expired_at" && [.eq, .lt, .lte, .gt, .gte].contains($0.op) && $0.value.stringValue != nil }
        let base =
            "SELECT scope, name, did_type, bytes, length FROM dids\(seekExpiry ? " INDEXED BY dids_expired_at" : "") WHERE scope = ? AND hidden = 0 AND ("
            + orParts.joined(separator: " OR ") + ")"
        let want = limit.map { max(0, $0) }
        let ranges = filter.groups.count == 1 ? Self.namePrefixRanges(filter.groups[0]) : nil
        let baseArgs = args
        return try await db.read { db in
            // An unknown scope holds nothing (Rucio answers an empty list, not ScopeNotFound).
            // Statements are prepared per page, not cached: filters are the client's, and so would the cache be.
            var statements: [Int: Statement] = [:]
            func run(_ range: (lo: String, hi: String?)?, _ limit: Int?) throws -> [SearchHit] {
                var sql = base
                var a = baseArgs
                if let range {
                    sql += " AND name >= ?"
                    a.append(range.lo.databaseValue)
                    if let hi = range.hi {
                        sql += " AND name < ?"
                        a.append(hi.databaseValue)
                    }
                }
                if let after {
                    sql += " AND name > ?"
                    a.append(after.databaseValue)
                }
                sql += " ORDER BY name LIMIT ?"
                a.append((limit ?? -1).databaseValue)
                let key = range == nil ? 0 : range?.hi == nil ? 1 : 2
                let statement = try statements[key] ?? db.makeStatement(sql: sql)
                statements[key] = statement
                let rows = try Row.fetchCursor(statement, arguments: StatementArguments(a))
                var out: [SearchHit] = []
                while let r = try rows.next() {
                    out.append(SearchHit(scope: r[0], name: r[1], type: DIDType(rawValue: r[2]) ?? .file, bytes: r[3], length: r[4]))
                }
                return out
            }
            guard let ranges else { return try run(nil, want) }
            var out: [SearchHit] = []
            for r in ranges {
                if let want, out.count >= want { break }
                if let after, let hi = r.hi, !Self.utf8Less(after, hi) { continue }  // the whole range is before the cursor
                out += try run(r, want.map { $0 - out.count })
            }
            return out
        }
    }

    /// Up to this many leading ASCII letters of a name prefix are spelled out in every case (2^n key ranges).
    static let prefixCaseLetters = 4

    /// The key ranges holding every name a group's `name` wildcard can match, in binary order, or nil when the group
    /// has no fixed name prefix. SQLite's LIKE ignores the case of ASCII letters, so `Ab*` may match names starting
    /// `AB`, `Ab`, `aB` or `ab`: each spelling of the prefix (up to its `prefixCaseLetters`-th letter, where the
    /// prefix is cut) is one range [spelling, next string after every name starting with it). The LIKE condition
    /// stays in the query, so the ranges only narrow what SQLite reads, never what matches.
    static func namePrefixRanges(_ group: [DIDFilter.Condition]) -> [(lo: String, hi: String?)]? {
        let patterns = group.compactMap { c -> String? in
            guard c.key == "name", c.op == .eq, let s = c.value.stringValue, s.contains("*") || s.contains("%") else { return nil }
            return s
        }
        guard patterns.count == 1, let pattern = patterns.first else { return nil }
        var prefix: [Unicode.Scalar] = []
        var letters = 0
        for u in pattern.unicodeScalars {
            if u == "*" || u == "%" { break }
            let isLetter = (u >= "a" && u <= "z") || (u >= "A" && u <= "Z")
            if isLetter {
                if letters == prefixCaseLetters { break }
                letters += 1
            }
            prefix.append(u)
        }
        guard !prefix.isEmpty else { return nil }
        var spellings: [[Unicode.Scalar]] = [[]]
        for u in prefix {
            let lower = Unicode.Scalar(u.value | 0x20)!
            let upper = Unicode.Scalar(u.value & ~0x20)!
            let isLetter = (u >= "a" && u <= "z") || (u >= "A" && u <= "Z")
            spellings = spellings.flatMap { s in isLetter ? [s + [upper], s + [lower]] : [s + [u]] }
        }
        return
            spellings
            .map { s -> (lo: String, hi: String?) in
                var lo = String.UnicodeScalarView()
                lo.append(contentsOf: s)
                return (String(lo), successor(s))
            }
            .sorted { utf8Less($0.lo, $1.lo) }
    }

    /// The smallest string above every string that starts with `s` (its last scalar moved up by one; nil if none is).
    static func successor(_ s: [Unicode.Scalar]) -> String? {
        guard let last = s.last else { return nil }
        var next = last.value + 1
        if next == 0xD800 { next = 0xE000 }  // surrogates are no scalars
        guard let u = Unicode.Scalar(next) else { return nil }
        var v = String.UnicodeScalarView()
        v.append(contentsOf: s.dropLast())
        v.append(u)
        return String(v)
    }

    /// SQLite's BINARY order: byte by byte in UTF-8 (Swift's `<` compares canonical equivalents instead).
    static func utf8Less(_ a: String, _ b: String) -> Bool { a.utf8.lexicographicallyPrecedes(b.utf8) }
}
