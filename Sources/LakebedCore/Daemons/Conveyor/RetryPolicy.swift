public import Foundation

/// How retries back off and when a lock is given up as STUCK.
public struct RetryPolicy: Sendable, Equatable {
    /// Attempts per request before its locks go STUCK.
    public var maxAttempts: Int = 3
    /// Delay before the n-th retry: `baseDelay * 2^(n-1)` seconds of lake time.
    public var baseDelay: TimeInterval = 60
    /// How long a request with no usable source waits before it is looked at again.
    public var noSourceDelay: TimeInterval = 60
    /// How long a STUCK rule waits before the repairer tries its stuck locks again.
    public var repairDelay: TimeInterval = 600
    public init() {}
}
