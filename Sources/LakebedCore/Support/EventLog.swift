public import Foundation
import Synchronization

/// One thing that happened in the lake, on the lake clock: a transfer, a rule change, a scenario event.
public struct LakeEvent: Sendable, Equatable {
    /// Position in the log (1, 2, 3…), for readers that poll or stream from a point.
    public var seq: Int
    /// When it happened, on the lake clock.
    public var time: Date
    /// `transfer.finished`, `transfer.failed`, `rule.stuck`, `scenario.rse_down`, `expectation.failed`…
    public var kind: String
    /// What it is about, as ordered key/value pairs (stable order, so logs compare byte for byte).
    public var fields: [(String, String)]

    public init(seq: Int, time: Date, kind: String, fields: [(String, String)]) {
        self.seq = seq
        self.time = time
        self.kind = kind
        self.fields = fields
    }

    public static func == (a: LakeEvent, b: LakeEvent) -> Bool {
        a.seq == b.seq && a.time == b.time && a.kind == b.kind && a.fields.map(\.0) == b.fields.map(\.0) && a.fields.map(\.1) == b.fields.map(\.1)
    }

    public func field(_ key: String) -> String? { fields.first { $0.0 == key }?.1 }

    /// One line: `2026-01-01T00:00:01.500Z transfer.finished src=SITE-A dst=SITE-B …` (deterministic for a seed).
    public var line: String {
        var s = RucioDate.isoMillis(time) + " " + kind
        for (k, v) in fields { s += " \(k)=\(v.contains(" ") ? "\"\(v)\"" : v)" }
        return s
    }

    /// As a JSON object.
    public var json: JSON {
        var o = JSONObject()
        o["seq"] = .int(Int64(seq))
        o["time"] = .string(RucioDate.isoMillis(time))
        o["kind"] = .string(kind)
        for (k, v) in fields { o[k] = .string(v) }
        return .object(o)
    }
}

/// The lake's event log: bounded in memory, readable from a sequence number, and streamable to live readers
/// (the dashboard's server-sent events).
public final class EventLog: Sendable {
    struct State {
        var events: [LakeEvent] = []
        var nextSeq = 1
        var subscribers: [UUID: AsyncStream<LakeEvent>.Continuation] = [:]
    }
    private let state = Mutex(State())
    /// Events kept in memory; beyond it the oldest are dropped (in slices of a tenth), sequence numbers carry on.
    public let capacity: Int

    public init(capacity: Int = 200_000) { self.capacity = capacity }

    /// Appends an event and hands it to live subscribers.
    @discardableResult
    public func append(_ time: Date, _ kind: String, _ fields: [(String, String)] = []) -> LakeEvent {
        let (event, subs) = state.withLock { s -> (LakeEvent, [AsyncStream<LakeEvent>.Continuation]) in
            let e = LakeEvent(seq: s.nextSeq, time: time, kind: kind, fields: fields)
            s.nextSeq += 1
            s.events.append(e)
            // Trimmed in slices of a tenth, so a full log does not shift all its events on every append.
            if s.events.count > capacity + max(1, capacity / 10) { s.events.removeFirst(s.events.count - capacity) }
            return (e, Array(s.subscribers.values))
        }
        for c in subs { c.yield(event) }
        return event
    }

    /// Events with `seq > after`, at most `limit`.
    public func events(after: Int = 0, limit: Int = 10_000) -> [LakeEvent] {
        state.withLock { s in
            // Sequence numbers are consecutive, so the first wanted event's index is arithmetic.
            guard limit > 0, let first = s.events.first?.seq else { return [] }
            let i = after < first ? 0 : after - first + 1  // no overflow for any `after`
            guard i < s.events.count else { return [] }
            return Array(s.events[i..<(i + min(s.events.count - i, limit))])
        }
    }

    /// Every event in the log.
    public var all: [LakeEvent] { state.withLock { $0.events } }

    /// The sequence number of the last event (0 when empty).
    public var lastSeq: Int { state.withLock { $0.nextSeq - 1 } }

    /// Forgets everything (scenario reset); sequence numbers start again at 1.
    public func clear() {
        state.withLock {
            $0.events = []
            $0.nextSeq = 1
        }
    }

    /// A live stream of new events; ends when the consumer stops iterating.
    public func subscribe() -> AsyncStream<LakeEvent> {
        let id = UUID()
        let (stream, continuation) = AsyncStream<LakeEvent>.makeStream(bufferingPolicy: .bufferingNewest(10_000))
        continuation.onTermination = { [weak self] _ in self?.state.withLock { _ = $0.subscribers.removeValue(forKey: id) } }
        state.withLock { $0.subscribers[id] = continuation }
        return stream
    }
}
