public import Foundation
public import LakebedCore
public import LakebedFTS
public import Logging
import Synchronization

/// The daemons a lake runs besides the conveyor and FTS, named as Rucio names them. Each can be stopped and run once
/// by hand (`serve --stop-daemon`, `/lakebed/daemons`), as in Rucio's dev environment, where daemons run only when
/// started: a stopped transmogrifier leaves DIDs flagged new, a stopped reaper leaves unlocked replicas in place.
public enum Daemon: String, CaseIterable, Sendable {
    case judgeCleaner = "judge-cleaner"
    case reaper
    case judgeRepairer = "judge-repairer"
    case transmogrifier
    case necromancer
}

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

    let stopped = Mutex<Set<Daemon>>([])

    /// Whether `daemon` runs on every tick (all do, until stopped).
    public func isRunning(_ daemon: Daemon) -> Bool { !stopped.withLock { $0.contains(daemon) } }

    /// Starts or stops `daemon` on the lake's ticks; a stopped daemon still runs by `runOnce`.
    public func setRunning(_ daemon: Daemon, _ running: Bool) {
        stopped.withLock { if running { $0.remove(daemon) } else { $0.insert(daemon) } }
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
        let rep = try await passHeld(Set(Daemon.allCases).filter(isRunning))
        try await catalog.drainRuleEvents()
        return rep
    }

    /// One pass of `daemons` at the current instant, in the order a tick runs them; the conveyor steps again when
    /// they made new work.
    func passHeld(_ daemons: Set<Daemon>) async throws -> Housekeeping.HousekeepingReport {
        var rep = Housekeeping.HousekeepingReport()
        if daemons.contains(.judgeCleaner) {
            let cleaner = JudgeCleaner(catalog: catalog)
            rep.expiredRules = try await cleaner.expireRules() + (try await cleaner.retireMovedRules())
        }
        if daemons.contains(.reaper) {
            let r = try await Reaper(catalog: catalog).reap()
            rep.reapedReplicas = r.count
            rep.reapedBytes = r.bytes
        }
        if daemons.contains(.judgeRepairer) {
            rep.repairedRules = try await JudgeRepairer(catalog: catalog).repairStuckRules(at: clock.now(), policy: await engine.policy)
        }
        let subscribed = daemons.contains(.transmogrifier) ? try await Transmogrifier(catalog: catalog).run(at: clock.now()) : 0
        let recovering = daemons.contains(.necromancer) ? try await Necromancer(catalog: catalog).run().recovering : 0
        if rep.repairedRules > 0 || rep.expiredRules > 0 || subscribed > 0 || recovering > 0 { try await engine.step() }
        return rep
    }

    /// Runs one daemon once at the current instant, stopped or not (Rucio's `--run-once`).
    @discardableResult
    public func runOnce(_ daemon: Daemon) async throws -> Housekeeping.HousekeepingReport {
        try await exclusive {
            let rep = try await self.passHeld([daemon])
            try await self.catalog.drainRuleEvents()
            return rep
        }
    }

    /// When the next daemon has something to do by itself.
    public func nextEventTime() async throws -> Date? {
        let policy = await engine.policy
        let candidates = [
            try await engine.nextEventTime(),
            isRunning(.judgeRepairer) ? try await JudgeRepairer(catalog: catalog).nextRepairTime(policy: policy) : nil,
            isRunning(.judgeCleaner) ? try await JudgeCleaner(catalog: catalog).nextRuleExpiry() : nil,
            isRunning(.transmogrifier) ? (try await Transmogrifier(catalog: catalog).hasWork() ? clock.now() : nil) : nil,
            isRunning(.necromancer) ? (try await Necromancer(catalog: catalog).hasWork() ? clock.now() : nil) : nil,
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
