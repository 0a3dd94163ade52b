public import Foundation
public import LakebedCore
public import LakebedFTS
public import Logging

/// Runs the lake's daemons on its clock: the conveyor and FTS (`TransferEngine`), the judge-cleaner (rule
/// expiry), the reaper, the judge-repairer (stuck rules), the transmogrifier (subscriptions) and the necromancer
/// (bad replicas).
///
/// Live, `tick()` is called a few times a second of real time. Under test or simulation, `advance(to:)` moves a
/// virtual clock from event to event, so an hour of lake time costs only the work done in it.
public final class LakeDriver: Sendable {
    /// The catalog the daemons work on (rules, locks, requests, replicas).
    public let catalog: Catalog
    /// The lake clock the daemons run on; `advance(to:)` moves it, live serving follows the wall clock at its scale.
    public let clock: VirtualClock
    /// The emulated FTS that moves the conveyor's transfer requests.
    public let engine: TransferEngine
    let logger: Logger

    public init(catalog: Catalog, clock: VirtualClock, engine: TransferEngine, logger: Logger = Logger(label: "lakebed.driver")) {
        self.catalog = catalog
        self.clock = clock
        self.engine = engine
        self.logger = logger
    }

    /// Sends the transfer engine's events into the catalog's event log (call once).
    public func connectEventLog() async {
        let log = catalog.events
        await engine.addEventSink { e in
            var fields: [(String, String)] = [("src", e.source), ("dst", e.destination)]
            if let did = e.did { fields.append(("did", did)) }
            fields.append(("bytes", String(e.bytes)))
            fields.append(("job", e.jobID))
            if let r = e.reason { fields.append(("reason", r)) }
            log.append(e.time, "transfer.\(e.kind.rawValue)", fields)
        }
    }

    let gate = Gate()
    @TaskLocal static var holdsGate = false

    /// Runs `body` with the daemons held still: no tick or advance runs meanwhile (scenario reset and restore,
    /// injected events). Re-entrant within the same task.
    public func exclusive<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        if Self.holdsGate { return try await body() }
        await gate.lock()
        do {
            let r = try await Self.$holdsGate.withValue(true) { try await body() }
            await gate.unlock()
            return r
        } catch {
            await gate.unlock()
            throw error
        }
    }

    /// One pass at the current instant.
    @discardableResult
    public func tick() async throws -> Housekeeping.HousekeepingReport {
        try await exclusive { try await self.tickHeld() }
    }

    func tickHeld() async throws -> Housekeeping.HousekeepingReport {
        try await engine.step()
        let policy = await engine.policy
        var rep = try await Housekeeping(catalog: catalog).housekeeping()
        rep.repairedRules = try await JudgeRepairer(catalog: catalog).repairStuckRules(at: clock.now(), policy: policy)
        let subscribed = try await Transmogrifier(catalog: catalog).run(at: clock.now())
        let necromancy = try await Necromancer(catalog: catalog).run()
        if rep.repairedRules > 0 || rep.expiredRules > 0 || subscribed > 0 || necromancy.recovering > 0 { try await engine.step() }
        try await catalog.drainRuleEvents()
        return rep
    }

    /// When the next daemon has something to do by itself.
    public func nextEventTime() async throws -> Date? {
        let policy = await engine.policy
        let candidates = [
            try await engine.nextEventTime(), try await JudgeRepairer(catalog: catalog).nextRepairTime(policy: policy),
            try await JudgeCleaner(catalog: catalog).nextRuleExpiry(),
            try await Transmogrifier(catalog: catalog).hasWork() ? clock.now() : nil,
            try await Necromancer(catalog: catalog).hasWork() ? clock.now() : nil,
        ]
        return candidates.compactMap { $0 }.min()
    }

    /// Moves the clock to `target`, stopping at every event on the way (and at whatever `also` says is next:
    /// a scenario's timeline). Returns the number of stops.
    @discardableResult
    public func advance(
        to target: Date, also: (@Sendable () async throws -> Date?)? = nil, at stop: (@Sendable (Date) async throws -> Void)? = nil
    ) async throws -> Int {
        try await exclusive { try await self.advanceHeld(to: target, also: also, at: stop) }
    }

    func advanceHeld(
        to target: Date, also: (@Sendable () async throws -> Date?)?, at stop: (@Sendable (Date) async throws -> Void)?
    ) async throws -> Int {
        var stops = 0
        var stalled = 0
        while true {
            let now = clock.now()
            var next = try await nextEventTime()
            if let also, let a = try await also() { next = min(next ?? a, a) }
            let when = min(max(next ?? target, now), target)
            clock.advance(to: when)
            try await stop?(when)
            try await tick()
            stops += 1
            if when >= target && (next == nil || next! > target || stalled > 2) { return stops }
            stalled = when <= now ? stalled + 1 : 0
            if stalled > 10_000 {
                logger.error("driver made no progress at \(now); stopping the advance early")
                return stops
            }
        }
    }

    /// `advance(to: now + seconds)`.
    @discardableResult
    public func advance(by seconds: TimeInterval) async throws -> Int {
        try await advance(to: clock.now().addingTimeInterval(seconds))
    }
}

/// A FIFO async mutex.
actor Gate {
    private var busy = false
    private var waiters: [CheckedContinuation<Void, Never>] = []
    func lock() async {
        if !busy {
            busy = true
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }
    func unlock() {
        if waiters.isEmpty { busy = false } else { waiters.removeFirst().resume() }
    }
}
