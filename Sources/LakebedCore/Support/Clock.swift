public import Foundation
import Synchronization

/// The one source of time for the whole lake: rules, tokens, transfers and scenarios read it.
public protocol LakeClock: Sendable {
    /// The current instant on this clock.
    func now() -> Date
}

/// Wall-clock time.
public struct SystemClock: LakeClock {
    public init() {}
    public func now() -> Date { Date() }
}

/// A clock that can follow real time at a speed factor, be paused, or be advanced by hand.
///
/// `scale == 0` means "manual": time moves only through `advance(by:)` / `set(_:)`, which is what tests use.
public final class VirtualClock: LakeClock {
    struct State {
        var anchorVirtual: Date
        var anchorReal: Date
        var scale: Double
        var paused: Bool
    }
    private let state: Mutex<State>
    private let realNow: @Sendable () -> Date

    /// Creates a clock starting at `start` that runs at `scale` times real time (0 = manual).
    public init(start: Date = Date(), scale: Double = 1, realNow: @escaping @Sendable () -> Date = { Date() }) {
        self.realNow = realNow
        self.state = Mutex(State(anchorVirtual: start, anchorReal: realNow(), scale: scale, paused: false))
    }

    /// A manual clock that starts at `start` and only moves when told to.
    public static func manual(start: Date = Date(timeIntervalSince1970: 1_767_225_600)) -> VirtualClock {
        VirtualClock(start: start, scale: 0)
    }

    public func now() -> Date {
        let real = realNow()
        return state.withLock { Self.current($0, real: real) }
    }

    private static func current(_ s: State, real: Date) -> Date {
        if s.paused || s.scale == 0 { return s.anchorVirtual }
        return s.anchorVirtual.addingTimeInterval(real.timeIntervalSince(s.anchorReal) * s.scale)
    }

    /// Moves the clock forward by `seconds` of virtual time.
    public func advance(by seconds: TimeInterval) {
        let real = realNow()
        state.withLock { s in
            s.anchorVirtual = Self.current(s, real: real).addingTimeInterval(max(0, seconds))
            s.anchorReal = real
        }
    }

    /// Jumps to `date` if it is later than now.
    public func advance(to date: Date) {
        let real = realNow()
        state.withLock { s in
            let cur = Self.current(s, real: real)
            s.anchorVirtual = max(cur, date)
            s.anchorReal = real
        }
    }

    /// Sets the clock to `date`, backwards too (a scenario reset or a restored snapshot).
    public func set(_ date: Date) {
        let real = realNow()
        state.withLock { s in
            s.anchorVirtual = date
            s.anchorReal = real
        }
    }

    /// Current speed factor (0 = manual).
    public var scale: Double { state.withLock { $0.scale } }
    /// Whether time is frozen.
    public var isPaused: Bool { state.withLock { $0.paused || $0.scale == 0 } }
    /// Whether the clock only moves by hand.
    public var isManual: Bool { state.withLock { $0.scale == 0 } }

    /// Changes the speed factor, keeping the current instant.
    public func setScale(_ newScale: Double) {
        let real = realNow()
        state.withLock { s in
            s.anchorVirtual = Self.current(s, real: real)
            s.anchorReal = real
            s.scale = max(0, newScale)
        }
    }

    /// Freezes or resumes the flow of time.
    public func setPaused(_ paused: Bool) {
        let real = realNow()
        state.withLock { s in
            s.anchorVirtual = Self.current(s, real: real)
            s.anchorReal = real
            s.paused = paused
        }
    }
}
