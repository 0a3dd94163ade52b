public import Foundation
import GRDB

/// States of a replica, with Rucio's one-letter codes.
public enum ReplicaState: String, Sendable, CaseIterable {
    case available = "A", unavailable = "U", copying = "C", beingDeleted = "B", bad = "D", source = "S", temporaryUnavailable = "T"

    public var name: String {
        switch self {
        case .available: return "AVAILABLE"
        case .unavailable: return "UNAVAILABLE"
        case .copying: return "COPYING"
        case .beingDeleted: return "BEING_DELETED"
        case .bad: return "BAD"
        case .source: return "SOURCE"
        case .temporaryUnavailable: return "TEMPORARY_UNAVAILABLE"
        }
    }

    /// Accepts names or letters.
    public init?(loose: String) {
        if let s = ReplicaState(rawValue: loose.uppercased()) { self = s; return }
        guard let s = ReplicaState.allCases.first(where: { $0.name == loose.uppercased() }) else { return nil }
        self = s
    }
}

/// Bytes of a file on an RSE.
public struct Replica: Sendable, Equatable {
    public var rseID: String
    public var scope: String
    public var name: String
    public var bytes: Int64
    public var md5: String?
    public var adler32: String?
    /// Path relative to the RSE root.
    public var path: String
    public var state: ReplicaState
    public var lockCount: Int
    public var tombstone: Date?
    /// Whether the replica has no bytes on disk (large simulations).
    public var isVirtual: Bool
    public var createdAt: Date
    public var updatedAt: Date

    init(row: Row) {
        rseID = row["rse_id"]; scope = row["scope"]; name = row["name"]; bytes = row["bytes"]; md5 = row["md5"]; adler32 = row["adler32"]
        path = row["path"] ?? ""; state = ReplicaState(rawValue: row["state"]) ?? .unavailable; lockCount = row["lock_cnt"]
        tombstone = Date(stamp: row["tombstone"]); isVirtual = row["virtual"]
        createdAt = Date(timeIntervalSince1970: row["created_at"]); updatedAt = Date(timeIntervalSince1970: row["updated_at"])
    }
}
