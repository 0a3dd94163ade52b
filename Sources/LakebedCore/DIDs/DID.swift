public import Foundation
import GRDB

/// The three kinds of data identifier.
public enum DIDType: String, Sendable, CaseIterable {
    case file = "FILE"
    case dataset = "DATASET"
    case container = "CONTAINER"

    /// Accepts Rucio's names and one-letter codes.
    public init?(loose: String) {
        switch loose.uppercased() {
        case "FILE", "F": self = .file
        case "DATASET", "D": self = .dataset
        case "CONTAINER", "C": self = .container
        default: return nil
        }
    }
    public var isCollection: Bool { self != .file }
}

/// A data identifier row: a file, dataset or container, with its metadata.
public struct DID: Sendable, Equatable {
    /// The DID's scope, e.g. `user.alice`; scope and name together identify it.
    public var scope: String
    /// The DID's name, unique within its scope; may contain `/`.
    public var name: String
    /// FILE, DATASET or CONTAINER.
    public var type: DIDType
    /// Account that owns the DID (Rucio `account`).
    public var account: String
    /// A file's size; for a collection, the sum of its direct content's bytes (or of all files with `dynamic_depth`).
    public var bytes: Int64?
    /// 1 for a file; for a collection, how many DIDs it holds directly (or files / datasets with `dynamic_depth`).
    public var length: Int64?
    /// A file's MD5 (hex); nil = unknown, and nil for collections.
    public var md5: String?
    /// A file's adler32 (8 hex digits); nil = unknown, and nil for collections.
    public var adler32: String?
    /// Whether a collection accepts new content (Rucio `is_open`); nil for files.
    public var isOpen: Bool?
    /// Rucio `monotonic`: a collection whose content may only grow; stored and reported only.
    public var monotonic: Bool
    /// Rucio `expired_at` (from a lifetime); recorded and searchable only, nothing removes expired DIDs.
    public var expiredAt: Date?
    /// When the DID was added.
    public var createdAt: Date
    /// When the DID's row last changed (metadata, content, open/close).
    public var updatedAt: Date
    /// Every column of the row, for the metadata plugins (built when asked for: most reads need only the fields above).
    public var columns: JSONObject { rowColumns.document }
    /// The row's columns as read, behind `columns`.
    let rowColumns: RowColumns
    /// Free JSON metadata.
    public var meta: JSONObject

    /// DID columns that `set_metadata` may change, with their SQL type.
    public static let settableColumns: [String: ColumnKind] = [
        "guid": .text, "events": .int, "project": .text, "datatype": .text, "run_number": .int, "stream_name": .text,
        "prod_step": .text, "version": .text, "campaign": .text, "task_id": .int, "panda_id": .int, "lumiblocknr": .int,
        "provenance": .text, "phys_group": .text, "transient": .bool, "hidden": .bool, "obsolete": .bool,
        "is_archive": .bool, "constituent": .bool, "eol_at": .date, "purge_replicas": .bool, "availability": .text,
        "suppressed": .bool, "bytes": .int, "adler32": .text, "md5": .text,
    ]
    /// Every searchable column.
    public static let searchableColumns: [String: ColumnKind] = settableColumns.merging([
        "scope": .text, "name": .text, "account": .text, "did_type": .text, "length": .int, "is_open": .bool,
        "monotonic": .bool, "complete": .bool, "created_at": .date, "updated_at": .date, "expired_at": .date,
        "accessed_at": .date, "closed_at": .date, "access_cnt": .int,
    ]) { a, _ in a }

    public enum ColumnKind: Sendable { case text, int, bool, date, real }

    /// Column order of Rucio's DID_COLUMN metadata document.
    static let columnOrder = [
        "scope", "name", "account", "did_type", "is_open", "monotonic", "hidden", "obsolete", "complete",
        "is_new", "availability", "suppressed", "bytes", "length", "md5", "adler32", "expired_at",
        "purge_replicas", "deleted_at", "events", "guid", "project", "datatype", "run_number",
        "stream_name", "prod_step", "version", "campaign", "task_id", "panda_id", "lumiblocknr",
        "provenance", "phys_group", "transient", "accessed_at", "closed_at", "eol_at", "is_archive",
        "constituent", "access_cnt", "created_at", "updated_at",
    ]
    static let boolColumns: Set<String> = [
        "is_open", "monotonic", "hidden", "obsolete", "complete", "suppressed", "purge_replicas", "transient", "is_archive", "constituent",
    ]
    static let dateColumns: Set<String> = ["expired_at", "accessed_at", "closed_at", "eol_at", "created_at", "updated_at"]

    /// One catalog column as metadata JSON. (Kept a separate, non-inlined function: Swift 6.3.1's optimizer
    /// crashed in CopyPropagation on the inline form of this switch inside `init(row:)`.)
    @inline(never)
    static func columnJSON(_ v: DatabaseValue, isBool: Bool, isDate: Bool) -> JSON {
        switch v.storage {
        case .null: return .null
        case .int64(let i): return isBool ? .bool(i != 0) : isDate ? .date(Date(timeIntervalSince1970: Double(i))) : .int(i)
        case .double(let d): return isBool ? .bool(d != 0) : isDate ? .date(Date(timeIntervalSince1970: d)) : .double(d)
        case .string(let t): return isBool ? .bool(t == "1") : .string(t)
        case .blob: return .null
        }
    }

    init(row: Row) {
        // One pass over the row's columns, kept as they are: looking 45 columns up by name in the row costs a
        // case-insensitive scan each, and hashing them into a dictionary costs more than the read itself.
        var names: [String] = []
        var values: [DatabaseValue] = []
        names.reserveCapacity(row.count)
        values.reserveCapacity(row.count)
        for (column, value) in row {
            names.append(column)
            values.append(value)
        }
        let raw = RowColumns(names: names, values: values)
        func text(_ k: String) -> String? { raw[k].flatMap { String.fromDatabaseValue($0) } }
        func int(_ k: String) -> Int64? { raw[k].flatMap { Int64.fromDatabaseValue($0) } }
        func real(_ k: String) -> Double? { raw[k].flatMap { Double.fromDatabaseValue($0) } }
        scope = text("scope") ?? ""
        name = text("name") ?? ""
        type = DIDType(rawValue: text("did_type") ?? "") ?? .file
        account = text("account") ?? ""
        bytes = int("bytes")
        length = int("length")
        md5 = text("md5")
        adler32 = text("adler32")
        isOpen = int("is_open").map { $0 == 1 }
        monotonic = (int("monotonic") ?? 0) != 0
        expiredAt = Date(stamp: real("expired_at"))
        createdAt = Date(timeIntervalSince1970: real("created_at") ?? 0)
        updatedAt = Date(timeIntervalSince1970: real("updated_at") ?? 0)
        rowColumns = raw
        meta = text("meta").flatMap { try? JSONParser.parse($0) }?.objectValue ?? JSONObject()
    }

    /// A DID row's columns by name, in the row's order.
    struct RowColumns: Sendable, Equatable {
        let names: [String]
        let values: [DatabaseValue]

        subscript(_ column: String) -> DatabaseValue? {
            guard let i = names.firstIndex(of: column) else { return nil }
            return values[i]
        }

        /// The columns as the metadata plugins show them, in Rucio's DID_COLUMN order.
        var document: JSONObject {
            var cols = JSONObject()
            for c in DID.columnOrder {
                switch c {
                case "is_new": cols[c] = (self["is_new"].flatMap { Int64.fromDatabaseValue($0) } ?? 0) == 1 ? .bool(true) : .null  // cleared by the transmogrifier, as Rucio's None
                case "deleted_at": cols[c] = .null
                default:
                    cols[c] = DID.columnJSON(self[c] ?? .null, isBool: DID.boolColumns.contains(c), isDate: DID.dateColumns.contains(c))
                }
            }
            return cols
        }

        /// Two DIDs' columns are equal when the documents they show are.
        static func == (a: RowColumns, b: RowColumns) -> Bool { a.document == b.document }
    }
}

/// One attachment row: a child inside a collection.
public struct ContentEntry: Sendable, Equatable {
    /// Scope of the child.
    public var scope: String
    /// Name of the child.
    public var name: String
    /// Type of the child: FILE, DATASET or CONTAINER.
    public var type: DIDType
    /// The child's bytes as recorded when attached; nil = unknown.
    public var bytes: Int64?
    /// The child file's adler32 as recorded when attached; nil for collections or unknown.
    public var adler32: String?
    /// The child file's MD5 as recorded when attached; nil for collections or unknown.
    public var md5: String?
    /// The child file's GUID (Rucio `guid`); nil = none.
    public var guid: String?
    /// The child's event count (Rucio `events` metadata); nil = none.
    public var events: Int64?
}

/// Reference to a DID by scope and name.
public struct DIDRef: Sendable, Hashable, CustomStringConvertible {
    /// The DID's scope.
    public var scope: String
    /// The DID's name, unique within its scope.
    public var name: String
    public init(_ scope: String, _ name: String) {
        self.scope = scope
        self.name = name
    }
    public var description: String { "\(scope):\(name)" }
}
