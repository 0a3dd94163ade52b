public import Foundation
import GRDB

/// States of a replica, with Rucio's one-letter codes.
public enum ReplicaState: String, Sendable, CaseIterable {
    case available = "A"
    case unavailable = "U"
    case copying = "C"
    case beingDeleted = "B"
    case bad = "D"
    case source = "S"
    case temporaryUnavailable = "T"

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
        if let s = ReplicaState(rawValue: loose.uppercased()) {
            self = s
            return
        }
        guard let s = ReplicaState.allCases.first(where: { $0.name == loose.uppercased() }) else { return nil }
        self = s
    }
}

/// Bytes of a file on an RSE.
public struct Replica: Sendable, Equatable {
    /// Id of the RSE holding the replica (see `RSE.id`).
    public var rseID: String
    /// Scope of the file.
    public var scope: String
    /// Name of the file.
    public var name: String
    /// Size in bytes, as the catalog has it for the file.
    public var bytes: Int64
    /// MD5 (hex) recorded for the replica; nil = unknown.
    public var md5: String?
    /// Adler32 (8 hex digits) recorded for the replica; nil = unknown.
    public var adler32: String?
    /// Path relative to the RSE root.
    public var path: String
    /// AVAILABLE (bytes in place), COPYING (a rule's transfer is coming), or what `update_replicas_states` set (e.g. UNAVAILABLE, BAD).
    public var state: ReplicaState
    /// Number of rule locks on the replica (Rucio `lock_cnt`); the reaper only deletes replicas at 0.
    public var lockCount: Int
    /// When the reaper may delete the replica (set as its last lock goes; the epoch when purged); nil = keep.
    public var tombstone: Date?
    /// Whether the replica has no bytes on disk (large simulations).
    public var isVirtual: Bool
    /// When the replica was registered.
    public var createdAt: Date
    /// When the replica's row last changed (state, lock count).
    public var updatedAt: Date

    init(row: Row) {
        rseID = row["rse_id"]
        scope = row["scope"]
        name = row["name"]
        bytes = row["bytes"]
        md5 = row["md5"]
        adler32 = row["adler32"]
        path = row["path"] ?? ""
        state = ReplicaState(rawValue: row["state"]) ?? .unavailable
        lockCount = row["lock_cnt"]
        tombstone = Date(stamp: row["tombstone"])
        isVirtual = row["virtual"]
        createdAt = Date(timeIntervalSince1970: row["created_at"])
        updatedAt = Date(timeIntervalSince1970: row["updated_at"])
    }
}
