public import Foundation

/// How retries back off and when a lock is given up as STUCK.
public struct RetryPolicy: Sendable, Equatable {
    /// Attempts per request before its locks go STUCK.
    public var maxAttempts: Int = 3
    /// Delay before the n-th retry: `baseDelay * 2^(n-1)` seconds of lake time.
    public var baseDelay: TimeInterval = 60
    /// How long a request with no usable source waits before it is looked at again.
    public var noSourceDelay: TimeInterval = 60
    /// The judge-repairer's first wait: how long a rule stays STUCK before its stuck locks are retried the first time.
    public var repairDelay: TimeInterval = 600
    /// How many times `repairDelay` the wait grows to at most (see `repairWait(attempt:)`).
    public static let repairSteps = 4
    public init() {}

    /// How long a STUCK rule waits before the repairer's `attempt`-th retry (1 for the first): one `repairDelay`
    /// more for every attempt, up to `repairSteps` of them. Rucio's judge-repairer backs off the same way, by the
    /// age of the stuck lock (a retry every 2 h on its first day, 4 h on the second, 6 h on the third, 8 h after);
    /// counting attempts instead of days keeps that shape on a lake whose outages last minutes.
    public func repairWait(attempt: Int) -> TimeInterval {
        repairDelay * Double(min(max(attempt, 1), Self.repairSteps))
    }
}

/// When the judge-repairer will next retry a STUCK rule, and which retry that will be.
public struct RepairPlan: Sendable, Equatable {
    /// 1 for the first retry of the rule's stuck locks, 2 for the second, …
    public var attempt: Int
    /// The lake time of that retry.
    public var at: Date

    public init(attempt: Int, at: Date) {
        self.attempt = attempt
        self.at = at
    }

    /// `retry 2 in 20 min` (rounded up to the minute; seconds under a minute), `retry 2 now` once due.
    public func summary(now: Date) -> String {
        let left = at.timeIntervalSince(now)
        guard left > 0.5 else { return "retry \(attempt) now" }
        if left < 60 { return "retry \(attempt) in \(Int(left.rounded(.up))) s" }
        let minutes = Int((left / 60).rounded(.up))
        if minutes < 60 { return "retry \(attempt) in \(minutes) min" }
        return "retry \(attempt) in \(minutes / 60) h" + (minutes % 60 == 0 ? "" : " \(minutes % 60) min")
    }
}
