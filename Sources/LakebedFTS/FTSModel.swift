public import Foundation
public import LakebedCore

/// File states as FTS3 reports them.
public enum FTSFileState: String, Sendable, CaseIterable {
    case submitted = "SUBMITTED"
    case ready = "READY"
    case active = "ACTIVE"
    case finished = "FINISHED"
    case failed = "FAILED"
    case canceled = "CANCELED"
    public var isTerminal: Bool { self == .finished || self == .failed || self == .canceled }
}

/// Job states as FTS3 reports them.
public enum FTSJobState: String, Sendable, CaseIterable {
    case submitted = "SUBMITTED"
    case ready = "READY"
    case active = "ACTIVE"
    case finished = "FINISHED"
    case failed = "FAILED"
    case finishedDirty = "FINISHEDDIRTY"
    case canceled = "CANCELED"
    public var isTerminal: Bool { [.finished, .failed, .finishedDirty, .canceled].contains(self) }
}

/// A file inside a job, with its progress.
public struct FTSFile: Sendable, Equatable {
    /// FTS `file_id`: a number unique within this engine, counting from 1 since the last reset.
    public var fileID: Int
    /// FTS `job_id` of the job the file belongs to.
    public var jobID: String
    /// What was submitted for the file.
    public var spec: FTSFileSpec
    /// SUBMITTED, then ACTIVE once it has a slot on its link, then FINISHED, FAILED or CANCELED.
    public var state: FTSFileState
    /// FTS `reason`: the error text of a FAILED or CANCELED file (e.g. `TRANSFER [5] …`); empty otherwise.
    public var reason: String
    /// Lake time the file was submitted.
    public var submitTime: Date
    /// Lake time the file got a slot on its link and went ACTIVE; nil while it waits.
    public var startTime: Date?
    /// Lake time the file reached a terminal state; nil before.
    public var finishTime: Date?
    /// Bytes still to move.
    public var remaining: Double
    /// When bytes start to flow (start + latency).
    public var flowFrom: Date?
    /// Decided when the transfer starts: the failure it will end with, if any.
    var plannedFailure: String?

    public var transferredBytes: Int64 { max(0, spec.bytes - Int64(remaining.rounded(.up))) }
}

/// A job: files submitted together.
public struct FTSJob: Sendable, Equatable {
    /// FTS `job_id`: a UUID drawn from the engine's seeded generator.
    public var jobID: String
    /// SUBMITTED, ACTIVE once a file starts, then FINISHED, FINISHEDDIRTY (some failed), FAILED or CANCELED.
    public var state: FTSJobState
    /// Lake time the job was submitted (FTS `submit_time`).
    public var submitTime: Date
    /// Lake time the last file reached a terminal state (FTS `job_finished`); nil before.
    public var finishTime: Date?
    /// Who submitted: the bearer token's owner for REST jobs, `rucio` for the conveyor (FTS `user_dn`).
    public var submitter: String
    /// FTS priority (1–5, default 3; conveyor jobs take their highest request priority); reported only, queues are FIFO.
    public var priority: Int
    /// FTS `verify_checksum` as submitted (`b`, `n`, `s`, `t`…); with `n` no checksum is checked, otherwise adler32 is.
    public var verifyChecksum: String
    /// The job's `job_metadata` from a REST submission, as JSON text; nil for the conveyor's jobs.
    public var metadata: String?
    /// FTS `file_id`s of the job's files, in submission order.
    public var fileIDs: [Int]
    /// FTS `reason` of a job that did not fully finish: the first non-finished file's reason; empty otherwise.
    public var reason: String
    /// FTS `overwrite`: whether an existing destination file may be replaced (conveyor jobs always overwrite).
    public var overwrite: Bool
    /// FTS `cred_id` of a job submitted with a certificate: the delegation id whose proxy its transfers run on;
    /// nil for token and conveyor jobs, which need no delegated proxy.
    public var credentialID: String? = nil
}

/// Something the transfer service did, for event logs, dashboards and metrics.
public struct TransferEvent: Sendable, Equatable {
    public enum Kind: String, Sendable { case submitted, started, finished, failed, retry, stuck, canceled }
    /// Lake time it happened.
    public var time: Date
    /// What happened: submitted, started, finished, failed, retry, stuck or canceled.
    public var kind: Kind
    /// FTS `job_id` of the file's job.
    public var jobID: String
    /// FTS `file_id` of the file.
    public var fileID: Int
    /// Source endpoint (RSE name) of the link.
    public var source: String
    /// Destination endpoint (RSE name) of the link.
    public var destination: String
    /// The file's size in bytes (as submitted, whether or not it moved).
    public var bytes: Int64
    /// Rucio request id the file serves; nil for jobs submitted directly to FTS.
    public var requestID: String?
    /// The file's DID as `scope:name`; nil for jobs submitted directly to FTS.
    public var did: String?
    /// The error text for failed, retry, stuck and canceled events; nil otherwise.
    public var reason: String?
}

/// Totals per link.
public struct LinkStats: Sendable, Equatable {
    /// Files submitted on the link since the last reset.
    public var submitted = 0
    /// Files that finished on the link.
    public var finished = 0
    /// Transfer attempts that failed on the link.
    public var failed = 0
    /// Bytes moved by the link's finished files.
    public var bytes: Int64 = 0
    /// Files moving on the link right now (filled by `linkStats()`).
    public var active = 0
    /// Files waiting for a slot on the link right now (filled by `linkStats()`).
    public var queued = 0
    public init() {}
}

/// FTS's queue of files waiting for a slot on one link, first in first out: taking the front is O(1) (a link may
/// hold a hundred thousand waiting files), the space before the front is given back once it is half the array.
struct WaitingQueue: Sendable {
    private var items: [Int] = []
    private var head = 0

    var count: Int { items.count - head }
    var isEmpty: Bool { head == items.count }

    mutating func append(_ id: Int) { items.append(id) }

    mutating func popFirst() -> Int? {
        guard head < items.count else { return nil }
        let id = items[head]
        head += 1
        if head == items.count {
            items.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 1024 && head * 2 >= items.count {
            items.removeFirst(head)
            head = 0
        }
        return id
    }

    mutating func remove(_ id: Int) {
        items.removeSubrange(0..<head)
        head = 0
        items.removeAll { $0 == id }
    }
}
