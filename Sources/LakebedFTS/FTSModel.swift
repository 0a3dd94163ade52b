public import Foundation

/// File states as FTS3 reports them.
public enum FTSFileState: String, Sendable, CaseIterable {
    case submitted = "SUBMITTED", ready = "READY", active = "ACTIVE", finished = "FINISHED", failed = "FAILED", canceled = "CANCELED"
    public var isTerminal: Bool { self == .finished || self == .failed || self == .canceled }
}

/// Job states as FTS3 reports them.
public enum FTSJobState: String, Sendable, CaseIterable {
    case submitted = "SUBMITTED", ready = "READY", active = "ACTIVE", finished = "FINISHED", failed = "FAILED"
    case finishedDirty = "FINISHEDDIRTY", canceled = "CANCELED"
    public var isTerminal: Bool { [.finished, .failed, .finishedDirty, .canceled].contains(self) }
}

/// One file to move, as submitted: where from, where to, and what the bytes must check out as.
public struct FTSFileSpec: Sendable, Equatable {
    public var sourceURL: String
    public var destURL: String
    /// Endpoint names used for the link (RSE names when the URLs are inside an RSE).
    public var sourceSE: String
    public var destSE: String
    /// Absolute paths on this machine.
    public var sourcePath: String
    public var destPath: String
    public var bytes: Int64
    /// Expected adler32 (hex), checked on the destination when set.
    public var adler32: String?
    public var isVirtual: Bool
    public var activity: String
    public var metadata: String?
    /// The Rucio request this file serves (nil for jobs submitted directly to FTS).
    public var requestID: String?
    public var scope: String?
    public var name: String?

    public init(sourceURL: String, destURL: String, sourceSE: String, destSE: String, sourcePath: String, destPath: String,
                bytes: Int64, adler32: String? = nil, isVirtual: Bool = false, activity: String = "default", metadata: String? = nil,
                requestID: String? = nil, scope: String? = nil, name: String? = nil) {
        self.sourceURL = sourceURL; self.destURL = destURL; self.sourceSE = sourceSE; self.destSE = destSE
        self.sourcePath = sourcePath; self.destPath = destPath; self.bytes = bytes; self.adler32 = adler32
        self.isVirtual = isVirtual; self.activity = activity; self.metadata = metadata
        self.requestID = requestID; self.scope = scope; self.name = name
    }
}

/// A file inside a job, with its progress.
public struct FTSFile: Sendable, Equatable {
    public var fileID: Int
    public var jobID: String
    public var spec: FTSFileSpec
    public var state: FTSFileState
    public var reason: String
    public var submitTime: Date
    public var startTime: Date?
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
    public var jobID: String
    public var state: FTSJobState
    public var submitTime: Date
    public var finishTime: Date?
    public var submitter: String
    public var priority: Int
    public var verifyChecksum: String
    public var metadata: String?
    public var fileIDs: [Int]
    public var reason: String
    public var overwrite: Bool
}

/// Something the transfer service did, for event logs, dashboards and metrics.
public struct TransferEvent: Sendable, Equatable {
    public enum Kind: String, Sendable { case submitted, started, finished, failed, retry, stuck, canceled }
    public var time: Date
    public var kind: Kind
    public var jobID: String
    public var fileID: Int
    public var source: String
    public var destination: String
    public var bytes: Int64
    public var requestID: String?
    public var did: String?
    public var reason: String?
}

/// Totals per link.
public struct LinkStats: Sendable, Equatable {
    public var submitted = 0
    public var finished = 0
    public var failed = 0
    public var bytes: Int64 = 0
    public var active = 0
    public var queued = 0
    public init() {}
}
