public import Foundation
import Synchronization

/// Faults injected into the lake's front doors by scenarios: endpoints that answer slowly or with errors,
/// an unreachable IAM, tokens cut short. Consulted by the HTTP layer on every request, so the empty case is cheap.
public final class Faults: Sendable {
    /// An API fault: requests whose path starts with `pathPrefix` (and method matches, when given) are delayed
    /// and/or answered with `status` until `until` (lake time).
    public struct APIFault: Sendable, Equatable {
        /// Raw request path prefix the fault applies to, e.g. `/replicas` (plain string prefix, so `/rules` also catches `/rules/x`).
        public var pathPrefix: String
        /// HTTP method the fault applies to (upper-case); nil = every method.
        public var method: String?
        /// HTTP status to answer with, as a Rucio error (503 = `ResourceTemporaryUnavailable`); nil = answer normally after the delay.
        public var status: Int?
        /// Seconds of wall-clock time (not lake time) each matching request waits before it is handled.
        public var delay: TimeInterval
        /// Lake time the fault ends and is dropped; nil = until `api_recover`.
        public var until: Date?
        public init(pathPrefix: String, method: String? = nil, status: Int? = nil, delay: TimeInterval = 0, until: Date? = nil) {
            self.pathPrefix = pathPrefix
            self.method = method
            self.status = status
            self.delay = delay
            self.until = until
        }
    }

    struct State {
        var api: [APIFault] = []
        var iamDownUntil: Date?
        var iamDown = false
        var tokensIssuedBefore: Date?
    }
    private let state = Mutex(State())
    private let clock: any LakeClock

    public init(clock: any LakeClock) { self.clock = clock }

    public func addAPIFault(_ f: APIFault) { state.withLock { $0.api.append(f) } }
    public func clearAPIFaults() { state.withLock { $0.api = [] } }

    /// The fault that applies to a request now, if any.
    public func apiFault(path: String, method: String) -> APIFault? {
        let now = clock.now()
        return state.withLock { s in
            guard !s.api.isEmpty else { return nil }
            s.api.removeAll { $0.until.map { $0 <= now } ?? false }
            return s.api.last { path.hasPrefix($0.pathPrefix) && ($0.method == nil || $0.method!.uppercased() == method) }
        }
    }

    /// Makes the IAM unreachable (503) until `until`, or indefinitely.
    public func setIAMDown(_ down: Bool, until: Date? = nil) {
        state.withLock {
            $0.iamDown = down
            $0.iamDownUntil = until
        }
    }
    public var iamDown: Bool {
        let now = clock.now()
        return state.withLock { s in
            if s.iamDown, let u = s.iamDownUntil, u <= now {
                s.iamDown = false
                s.iamDownUntil = nil
            }
            return s.iamDown
        }
    }

    /// Tokens issued before this instant are no longer accepted ("tokens expire early").
    public func expireTokensIssued(before date: Date) { state.withLock { $0.tokensIssuedBefore = date } }
    public var tokensIssuedBefore: Date? { state.withLock { $0.tokensIssuedBefore } }

    /// Forgets every fault (scenario reset).
    public func reset() { state.withLock { $0 = State() } }
}
