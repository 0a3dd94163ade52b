public import Foundation
public import LakebedCore
public import LakebedDaemons
public import LakebedIAM
import LakebedOIDC
import LakebedFTS
import Synchronization

/// Plays a scenario against a lake: seeds it, applies the timeline on the lake clock, checks expectations,
/// and reports. The same runner serves `lakebed simulate` (as fast as the machine allows) and `lakebed serve
/// --scenario` (live, while real clients work), plus the control API's reset, snapshot, restore and inject.
public final class ScenarioRunner: Sendable {
    /// The scenario being played, as parsed; its timeline and expectations are read, never changed.
    public let scenario: Scenario
    /// The lake the scenario drives: its catalog, clock, FTS engine and daemons.
    public let driver: LakeDriver
    /// The IAM token issuer to seed users into and expire tokens on; nil = no IAM (scenario IAM users are then ignored).
    public let iam: IAM?
    public var catalog: Catalog { driver.catalog }
    let admin = Issuer(account: "root", identity: "scenario", isAdmin: true)

    struct State {
        var nextEvent = 0
        var ruleLabels: [String: String] = [:]
        var results: [Int: ExpectationResult] = [:]
        var snapshots: [String: [String: String]] = [:]
        var tally = Tally()
    }
    private let state = Mutex(State())

    /// What the report says about rules and retries, kept up as the run goes: the event log is bounded, and a long
    /// run trims its first events (a report read off the log alone then said "Rules (none)").
    struct Tally {
        var seen = 0
        var added: [String: Date] = [:], ok: [String: Date] = [:], stuck: [String: Int] = [:]
        var retries = 0, stuckTransfers = 0
    }

    /// Folds the events logged since the last call into the tally (called at every step, and by the report).
    func tallyEvents() {
        let seen = state.withLock { $0.tally.seen }
        let events = log.events(after: seen, limit: Int.max)
        guard let last = events.last else { return }
        state.withLock { s in
            for e in events {
                switch e.kind {
                case "rule.added": if let r = e.field("rule"), s.tally.added[r] == nil { s.tally.added[r] = e.time }
                case "rule.ok": if let r = e.field("rule"), s.tally.ok[r] == nil { s.tally.ok[r] = e.time }
                case "rule.stuck": if let r = e.field("rule") { s.tally.stuck[r, default: 0] += 1 }
                case "transfer.retry": s.tally.retries += 1
                case "transfer.stuck": s.tally.stuckTransfers += 1
                default: break
                }
            }
            s.tally.seen = last.seq
        }
    }

    public init(scenario: Scenario, driver: LakeDriver, iam: IAM? = nil) {
        self.scenario = scenario
        self.driver = driver
        self.iam = iam
    }

    var start: Date { scenario.start }
    var log: EventLog { catalog.events }
    func t(_ offset: TimeInterval) -> Date { start.addingTimeInterval(offset) }
    func offset(_ d: Date) -> TimeInterval { d.timeIntervalSince(start) }

    /// Rule ids by the labels the scenario gave them.
    public var ruleLabels: [String: String] { state.withLock { $0.ruleLabels } }

    // MARK: seeding

    /// Seeds an empty catalog with the scenario's lake, and configures the transfer engine. Calls `progress`
    /// with (done, total) file counts while creating files.
    public func seed(progress: (@Sendable (Int, Int) -> Void)? = nil) async throws {
        let s = scenario
        driver.clock.advance(to: s.start)
        try await DefaultLake.seedRoot(catalog)
        if s.keepDefaultLake { try await DefaultLake.seedSites(catalog) }
        for a in s.accounts where a.name != "root" {
            try await catalog.accounts.addAccount(a.name, type: a.type, email: a.email, by: nil)
        }
        for a in s.accounts {
            if let u = a.username, let p = a.password {
                try await catalog.auth.addIdentity(account: a.name, identity: u, type: "USERPASS", email: a.email, password: p, isDefault: true, by: nil)
            }
        }
        for sc in s.scopes { try await catalog.scopes.addScope(sc.name, account: sc.account, by: nil) }
        for r in s.rses {
            var settings = JSONObject([("rse_type", .string(r.type))])
            for (k, v) in r.settings { settings[k] = v }
            // A relative directory is taken from where Lakebed runs, as any path on its command line.
            let root = r.directory.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
            try await catalog.rses.addRSE(r.name, settings: RSESettings(settings), root: root, by: nil)
            for (k, v) in r.attributes { try await catalog.rses.addRSEAttribute(r.name, key: k, value: v, by: nil) }
            if r.oidcSupport { try await catalog.rses.addRSEAttribute(r.name, key: "oidc_support", value: .bool(true), by: nil) }
        }
        for a in s.accounts { for (rse, bytes) in a.limits { try await catalog.accountLimits.setLocalAccountLimit(a.name, rse: rse, bytes: bytes, by: nil) } }
        for d in s.distances {
            try await catalog.rses.setDistance(from: d.from, to: d.to, distance: d.distance, create: true, by: nil)
            if d.symmetric && d.from != d.to { try await catalog.rses.setDistance(from: d.to, to: d.from, distance: d.distance, create: true, by: nil) }
        }
        // Datasets first (files attach to them), then files, then containers.
        for c in s.collections where c.type == .dataset {
            try await catalog.dids.addCollection(scope: c.did.scope, name: c.did.name, type: .dataset, issuer: admin, account: c.account, meta: JSONObject(c.metadata))
        }
        CrashPoint.reach("seed:datasets")
        let total = s.files.reduce(0) { $0 + $1.count }
        var done = 0
        for f in s.files {
            var batch: [FileSpec] = []
            for i in 0..<f.count {
                let name = f.name.replacingOccurrences(of: "{i}", with: Self.pad(i, f.count))
                let (adler, md5) = f.isVirtual ? ScenarioContent.virtualSums(f.scope, name, f.size) : ScenarioContent.sums(seed: s.seed, f.scope, name, f.size)
                var meta = JSONObject(f.metadata)
                for (k, v) in meta { if case .string(let sv) = v, sv.contains("{i}") { meta[k] = .string(sv.replacingOccurrences(of: "{i}", with: String(i))) } }
                batch.append(FileSpec(scope: f.scope, name: name, bytes: f.size, adler32: adler, md5: md5, meta: meta))
                if batch.count == 5000 || i == f.count - 1 {
                    let seed = s.seed
                    try await catalog.replicas.seedFiles(batch, rses: f.rses, dataset: f.dataset, virtual: f.isVirtual, account: admin.account) { spec, path in
                        try ScenarioContent.write(seed: seed, spec.scope, spec.name, spec.bytes ?? 0, to: path)
                    }
                    done += batch.count
                    progress?(done, total)
                    batch = []
                }
            }
        }
        for c in s.collections where c.type == .container {
            try await catalog.dids.addCollection(scope: c.did.scope, name: c.did.name, type: .container, issuer: admin, account: c.account, meta: JSONObject(c.metadata))
        }
        for c in s.collections where !c.contents.isEmpty {
            try await catalog.dids.attach(to: c.did, children: c.contents.map { FileSpec(scope: $0.scope, name: $0.name) }, rse: nil, issuer: admin)
        }
        let oidcMapped = s.accounts.flatMap { a in a.oidcUsers.map { ($0, a.name) } }
        if let iam, !s.iamUsers.isEmpty || !oidcMapped.isEmpty {
            var dir = await iam.directory
            for u in s.iamUsers {
                dir.users.removeAll { $0.username == u.username }
                let sub = Self.stableUUID("\(s.name)/\(u.username)")
                dir.users.append(IAMUser(username: u.username, sub: sub, password: u.password, name: u.username, email: "\(u.username)@lakebed.local",
                                         groups: u.groups, rucioAccount: u.account))
            }
            // `oidc_users` on an account: the IAM user's identity maps to that account.
            for (user, account) in oidcMapped {
                guard let i = dir.users.firstIndex(where: { $0.username == user }) else {
                    throw RucioError(.invalidObject, "account \(account) lists OIDC user \(user), who is not an IAM user")
                }
                dir.users[i].rucioAccount = account
            }
            try await iam.setDirectory(dir)
            _ = try await iam.ensureRucioIdentities(in: catalog)
        }
        for b in s.basket {
            var items: [JSON] = []
            for d in b.dids {
                let did = try await catalog.dids.did(d.scope, d.name)
                items.append(["archive": "rucio", "record": ["scope": .string(d.scope), "name": .string(d.name), "type": .string(did.type.rawValue),
                                                             "parent": .null, "level": 0, "bytes": did.bytes.map(JSON.int) ?? .null]])
            }
            try await catalog.baskets.setBasket(user: b.user, items: items)
        }
        await configureEngine()
        for r in s.rules { try await addRule(r, at: s.start) }
        // RSEs counted in the catalog: the default lake's come from `keep_default_lake`, not from the scenario's list.
        let rses = try await catalog.rses.listRSEs().count
        log.append(s.start, "scenario.seeded", [("scenario", s.name), ("files", String(total)), ("rses", String(rses)), ("rules", String(s.rules.count))])
        try await catalog.drainRuleEvents()
    }

    public func configureEngine() async {
        await driver.engine.setTopology(scenario.topology)
        await driver.engine.setPolicy(scenario.retry)
        for (rse, d) in scenario.stagingDelays.sorted(by: { $0.key < $1.key }) { await driver.engine.setStagingDelay(rse, d) }
    }

    static func pad(_ i: Int, _ count: Int) -> String {
        let width = String(max(0, count - 1)).count
        let s = String(i)
        return String(repeating: "0", count: max(0, width - s.count)) + s
    }

    static func stableUUID(_ s: String) -> String {
        let h = Array(md5Hex(s))
        return "\(String(h[0..<8]))-\(String(h[8..<12]))-\(String(h[12..<16]))-\(String(h[16..<20]))-\(String(h[20..<32]))"
    }

    func addRule(_ r: RuleSeed, at time: Date) async throws {
        let id = try await catalog.rules.addRules(r.spec, issuer: admin)[0]
        if let label = r.id { state.withLock { $0.ruleLabels[label] = id } }
    }

    // MARK: timeline

    /// When the next timeline event or timed expectation falls due.
    public func nextDue() -> Date? {
        let (idx, checked) = state.withLock { ($0.nextEvent, Set($0.results.keys)) }
        var next: TimeInterval? = idx < scenario.timeline.count ? scenario.timeline[idx].at : nil
        for (i, e) in scenario.expectations.enumerated() where !checked.contains(i) {
            if let at = e.at { next = min(next ?? at, at) }
        }
        return next.map(t)
    }

    /// Applies every timeline event due by `now` (in file order), then checks timed expectations due by `now`.
    public func applyDue(_ now: Date) async throws {
        tallyEvents()
        while true {
            let ev: TimelineEvent? = state.withLock { s in
                guard s.nextEvent < scenario.timeline.count, t(scenario.timeline[s.nextEvent].at) <= now else { return nil }
                defer { s.nextEvent += 1 }
                return scenario.timeline[s.nextEvent]
            }
            guard let ev else { break }
            try await apply(ev.action, at: t(ev.at))
        }
        for (i, e) in scenario.expectations.enumerated() {
            guard let at = e.at, t(at) <= now, state.withLock({ $0.results[i] == nil }) else { continue }
            // Let the daemons act on the instant first, so "OK by t" sees work finished at t.
            try await driver.tick()
            let r = try await evaluate(e, at: t(at))
            state.withLock { $0.results[i] = r }
            log.append(t(at), r.passed ? "expectation.met" : "expectation.failed", [("expect", e.summary), ("actual", r.actual)])
        }
    }

    /// Injects a fault preset by id now.
    public func inject(fault id: String) async throws {
        try await driver.exclusive { try await self.injectHeld(fault: id) }
    }

    func injectHeld(fault id: String) async throws {
        guard let f = scenario.faults.first(where: { $0.id == id }) else { throw LakeError.notFound("No fault `\(id)` in scenario \(scenario.name)") }
        let now = driver.clock.now()
        log.append(now, "scenario.fault", [("id", id), ("label", f.label)])
        for a in f.actions { try await apply(a, at: now) }
    }

    /// Applies one timeline action at `time` and logs it.
    public func apply(_ action: TimelineEvent.Action, at time: Date) async throws {
        let engine = driver.engine
        switch action {
        case .rseAvailability(let rse, let read, let write, let delete):
            try await catalog.rses.setRSEAvailability(rse, read: read, write: write, delete: delete)
            let up = [read, write, delete].compactMap { $0 }.allSatisfy { $0 }
            var ops: [String] = []
            if read != nil { ops.append("read") }; if write != nil { ops.append("write") }; if delete != nil { ops.append("delete") }
            log.append(time, up ? "scenario.rse_up" : "scenario.rse_down", [("rse", rse), ("operations", ops.joined(separator: ","))])
        case .link(let from, let to, let change, let bothWays):
            await engine.updateLink(from, to) { change.apply(to: &$0) }
            if bothWays { await engine.updateLink(to, from) { change.apply(to: &$0) } }
            log.append(time, "scenario.link", [("src", from), ("dst", to)] + change.fields)
        case .stagingDelay(let rse, let seconds):
            await engine.setStagingDelay(rse, seconds)
            log.append(time, "scenario.staging_delay", [("rse", rse), ("delay", Durations.format(seconds))])
        case .tokensExpire:
            try await catalog.auth.expireAllTokens()
            await iam?.refuseTokensIssued(before: time)
            log.append(time, "scenario.tokens_expire", [])
        case .iamDown(let duration):
            catalog.faults.setIAMDown(true, until: duration.map { time.addingTimeInterval($0) })
            log.append(time, "scenario.iam_down", duration.map { [("duration", Durations.format($0))] } ?? [])
        case .iamUp:
            catalog.faults.setIAMDown(false)
            log.append(time, "scenario.iam_up", [])
        case .apiFault(let path, let method, let status, let delay, let duration):
            catalog.faults.addAPIFault(Faults.APIFault(pathPrefix: path, method: method, status: status, delay: delay, until: duration.map { time.addingTimeInterval($0) }))
            var f: [(String, String)] = [("path", path)]
            if let method { f.append(("method", method)) }
            if let status { f.append(("status", String(status))) }
            if delay > 0 { f.append(("delay", Durations.format(delay))) }
            if let duration { f.append(("duration", Durations.format(duration))) }
            log.append(time, "scenario.api_fault", f)
        case .apiRecover:
            catalog.faults.clearAPIFaults()
            log.append(time, "scenario.api_recover", [])
        case .loseFile(let did, let rse):
            let path = try await catalog.replicas.replicaFile(did, rse: rse)
            try? FileManager.default.removeItem(atPath: path)
            log.append(time, "scenario.lose_file", [("did", did.description), ("rse", rse)])
        case .corruptFile(let did, let rse):
            let path = try await catalog.replicas.replicaFile(did, rse: rse)
            if let h = FileHandle(forUpdatingAtPath: path) {
                let first = (try? h.read(upToCount: 1))?.first ?? 0
                try h.seek(toOffset: 0)
                try h.write(contentsOf: [first ^ 0xFF])
                try h.close()
            }
            log.append(time, "scenario.corrupt_file", [("did", did.description), ("rse", rse)])
        case .addRule(let r):
            do {
                try await addRule(r, at: time)
                log.append(time, "scenario.add_rule", [("did", r.did.description), ("rse_expression", r.rseExpression), ("copies", String(r.copies))])
            } catch let e as RucioError {
                log.append(time, "scenario.add_rule_failed", [("did", r.did.description), ("error", "\(e.exceptionClass): \(e.message)")])
            }
        case .deleteRule(let label):
            guard let id = state.withLock({ $0.ruleLabels[label] }) else { throw RucioError(.ruleNotFound, "No rule labelled \(label)") }
            try? await catalog.rules.deleteRule(id, purgeReplicas: nil, issuer: nil)
            log.append(time, "scenario.delete_rule", [("rule", label)])
        case .clockScale(let v):
            driver.clock.setScale(v)
            log.append(time, "scenario.clock_scale", [("scale", String(v))])
        case .fault(let id):
            guard let f = scenario.faults.first(where: { $0.id == id }) else { throw LakeError.notFound("No fault \(id)") }
            log.append(time, "scenario.fault", [("id", id), ("label", f.label)])
            for a in f.actions { try await apply(a, at: time) }
        }
        try await engine.step()
    }

    static func text(_ v: JSON) -> String {
        switch v {
        case .string(let s): return s
        case .double(let d): return d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : String(d)
        case .int(let i): return String(i)
        case .bool(let b): return b ? "true" : "false"
        default: return v.serialized()
        }
    }

    // MARK: expectations

    public struct ExpectationResult: Sendable {
        /// The expectation in words, e.g. "rule r1 is OK at t=1h".
        public var expectation: String
        /// Whether the expectation held when it was checked.
        public var passed: Bool
        /// What the lake showed at the check, e.g. "OK (3 ok, 0 replicating, 0 stuck)" or "12 files".
        public var actual: String
        /// Line of the expectation in the scenario file (0 = unknown).
        public var line: Int
    }

    func evaluate(_ e: Expectation, at time: Date) async throws -> ExpectationResult {
        var passed = false
        var actual = ""
        switch e.check {
        case .ruleState(let label, let want):
            if let id = ruleLabels[label] {
                do {
                    let r = try await catalog.rules.rule(id)
                    actual = "\(r.state.name) (\(r.locksOK) ok, \(r.locksReplicating) replicating, \(r.locksStuck) stuck)"
                    passed = r.state.name == want
                } catch { actual = "GONE"; passed = want == "GONE" }
            } else { actual = "never created" }
        case .rseFiles(let rse, let op, let n):
            let have = try await catalog.replicas.availableReplicaCount(rse: rse)
            actual = "\(have) files"
            passed = op == "==" ? have == n : op == ">=" ? have >= n : have <= n
        case .noLostReplicas:
            let lost = try await catalog.replicas.lostReplicas(limit: 5)
            passed = lost.isEmpty
            actual = lost.isEmpty ? "none lost" : lost.joined(separator: "; ")
        case .maxFailedTransfers(let n):
            let failed = await driver.engine.linkStats().reduce(0) { $0 + $1.1.failed }
            actual = "\(failed) failed"
            passed = failed <= n
        case .minFinishedTransfers(let n):
            let finished = await driver.engine.linkStats().reduce(0) { $0 + $1.1.finished }
            actual = "\(finished) finished"
            passed = finished >= n
        }
        return ExpectationResult(expectation: e.summary, passed: passed, actual: actual, line: e.line)
    }

    /// Checks the expectations that have no time (at the end).
    public func checkFinal() async throws {
        let now = driver.clock.now()
        for (i, e) in scenario.expectations.enumerated() where e.at == nil && state.withLock({ $0.results[i] == nil }) {
            let r = try await evaluate(e, at: now)
            state.withLock { $0.results[i] = r }
            log.append(now, r.passed ? "expectation.met" : "expectation.failed", [("expect", e.summary), ("actual", r.actual)])
        }
    }

    public var results: [ExpectationResult] { state.withLock { s in s.results.sorted { $0.key < $1.key }.map(\.value) } }

    // MARK: running

    /// Runs the whole scenario on the virtual clock, as fast as possible, and reports.
    public func simulate(progress: (@Sendable (TimeInterval, TimeInterval) -> Void)? = nil) async throws -> ScenarioReport {
        let wallStart = Date()
        let end = t(scenario.end)
        try await applyDue(driver.clock.now())
        let stops = try await driver.advance(to: end, also: { [self] in self.nextDue() }, at: { [self] now in
            try await self.applyDue(now)
            progress?(self.offset(now), self.scenario.end)
        })
        try await applyDue(end)
        try await checkFinal()
        var rep = try await report(wallSeconds: Date().timeIntervalSince(wallStart))
        rep.steps = stops
        return rep
    }

    /// Live: applies what is due now and runs one daemon pass (called on every server tick).
    public func liveTick() async throws {
        try await applyDue(driver.clock.now())
        try await driver.tick()
    }

    // MARK: reset, snapshot, restore

    /// A snapshot's folder; the name can only ever name an entry of `<data>/snapshots/`.
    func snapshotDir(_ name: String) throws -> String {
        catalog.dataDir + "/snapshots/" + (try Validation.pathComponent(name, what: "snapshot"))
    }

    /// Saves the lake's state under a name.
    public func snapshot(_ name: String) async throws {
        try await driver.exclusive { try await self.snapshotHeld(name) }
    }

    func snapshotHeld(_ name: String) async throws {
        // Written beside its final place and renamed in: a kill mid-snapshot never leaves half a snapshot under the name.
        let final = try snapshotDir(name), partial = final + ".partial"
        do { try await catalog.snapshots.snapshot(to: partial) } catch {
            // Nothing half-written stays behind; a full disk is said as such (the control API answers 507).
            try? FileManager.default.removeItem(atPath: partial)
            if SnapshotStore.isOutOfSpace(error, at: catalog.dataDir) {
                throw LakeError.insufficientStorage("No space left on the device of \(catalog.dataDir): snapshot \(name) was not taken")
            }
            throw error
        }
        CrashPoint.reach("snapshot:copied")
        let meta = state.withLock { s in (s.ruleLabels, s.nextEvent) }
        var labels = meta.0
        labels["__next_event"] = String(meta.1)
        labels["__clock"] = String(driver.clock.now().timeIntervalSince1970)
        let saved = JSON.object(JSONObject(labels.sorted { $0.key < $1.key }.map { ($0.key, JSON.string($0.value)) }))
        try saved.serialized().write(toFile: partial + "/scenario.json", atomically: true, encoding: .utf8)
        try? FileManager.default.removeItem(atPath: final)
        try FileManager.default.moveItem(atPath: partial, toPath: final)
        state.withLock { $0.snapshots[name] = labels }
    }

    /// Snapshot bookkeeping, from memory or from the snapshot folder (after a restart).
    func snapshotMeta(_ name: String) -> [String: String]? {
        if let m = state.withLock({ $0.snapshots[name] }) { return m }
        guard let dir = try? snapshotDir(name), let data = FileManager.default.contents(atPath: dir + "/scenario.json"),
              let o = (try? JSONParser.parse(Array(data)))?.objectValue else { return nil }
        var m: [String: String] = [:]
        for (k, v) in o { if let s = v.stringValue { m[k] = s } }
        return m
    }

    /// Puts the lake back as it was when the snapshot was taken (catalog, bytes, clock, timeline position).
    public func restore(_ name: String) async throws {
        try await driver.exclusive { try await self.restoreHeld(name) }
    }

    /// `rewindClock`: also on a lake that follows the wall clock (`start: now`), the clock goes back to the snapshot's
    /// instant — what a reset promises; restoring a named snapshot there keeps the time.
    func restoreHeld(_ name: String, rewindClock: Bool = false) async throws {
        let dir = try snapshotDir(name)
        guard let meta = snapshotMeta(name) else { throw LakeError.notFound("No snapshot named \(name)") }
        try await catalog.snapshots.restore(from: dir)
        await driver.engine.reset(at: driver.clock.now())
        _ = try await ConveyorSubmitter(catalog: catalog).requeueInFlightRequests()
        var labels = meta
        let next = Int(labels.removeValue(forKey: "__next_event") ?? "0") ?? 0
        let clockAt = Double(labels.removeValue(forKey: "__clock") ?? "") ?? driver.clock.now().timeIntervalSince1970
        state.withLock { s in s.ruleLabels = labels; s.nextEvent = next; s.results = [:] }
        // A scripted lake goes back to the snapshot's instant; one that follows the wall clock only when reset.
        if rewindClock || !scenario.startsNow { driver.clock.set(Date(timeIntervalSince1970: clockAt)) }
        await driver.engine.reset(at: driver.clock.now())
        if let iam { _ = try? await iam.ensureRucioIdentities(in: catalog) }
        log.append(driver.clock.now(), "scenario.restored", [("snapshot", name)])
    }

    /// Back to the scenario's seed state: catalog, bytes, clock at the start, faults cleared, timeline from the top.
    public func reset() async throws {
        try await driver.exclusive { try await self.resetHeld() }
    }

    func resetHeld() async throws {
        catalog.faults.reset()
        await iam?.refuseTokensIssued(before: nil)
        catalog.ids.reseed(scenario.seed)
        await driver.engine.reseed(scenario.seed)
        await configureEngine()
        try await restoreHeld("seed", rewindClock: true)
        log.clear()
        state.withLock { $0.tally = Tally() }
        log.append(driver.clock.now(), "scenario.reset", [("scenario", scenario.name)])
    }
}

extension ScenarioRunner {
    /// What happened in a run, for people (`text`) and machines (`json`).
    public func report(wallSeconds: Double) async throws -> ScenarioReport {
        tallyEvents()
        let tally = state.withLock { $0.tally }
        let added = tally.added, ok = tally.ok, stuckCount = tally.stuck, retries = tally.retries, stuck = tally.stuckTransfers
        let eventCount = log.lastSeq
        let labelOf = Dictionary(ruleLabels.map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        var rules: [ScenarioReport.RuleLine] = []
        for (id, at) in added.sorted(by: { ($0.value, $0.key) < ($1.value, $1.key) }) {
            let state = (try? await catalog.rules.rule(id))?.state.name ?? "GONE"
            rules.append(.init(id: id, label: labelOf[id], addedAt: offset(at), okAfter: ok[id].map { $0.timeIntervalSince(at) },
                               state: state, timesStuck: stuckCount[id] ?? 0))
        }
        let links = await driver.engine.linkStats().map { k, s in
            ScenarioReport.LinkLine(source: k.source, destination: k.destination, finished: s.finished, failed: s.failed, bytes: s.bytes)
        }
        return ScenarioReport(scenario: scenario.name, seed: scenario.seed, simulated: offset(driver.clock.now()), wallSeconds: wallSeconds,
                              events: eventCount, rules: rules, links: links, retries: retries, stuckTransfers: stuck, expectations: results)
    }
}

/// The report of a run.
public struct ScenarioReport: Sendable {
    public struct RuleLine: Sendable {
        /// The Rucio rule id (32 hex digits).
        public var id: String
        /// The scenario's `id:` label for the rule; nil = the rule had none (e.g. added by a client).
        public var label: String?
        /// When the rule was added, in seconds from the scenario start.
        public var addedAt: TimeInterval
        /// Seconds from being added to first reaching OK; nil = never OK during the run.
        public var okAfter: TimeInterval?
        /// The rule's state at the end: OK, REPLICATING, STUCK, SUSPENDED, or GONE once deleted.
        public var state: String
        /// How many times the rule went STUCK (`rule.stuck` events).
        public var timesStuck: Int
    }
    public struct LinkLine: Sendable {
        /// Source RSE of the link.
        public var source: String
        /// Destination RSE of the link.
        public var destination: String
        /// Transfers that finished on the link.
        public var finished: Int
        /// Transfer attempts that failed on the link (retried ones included).
        public var failed: Int
        /// Bytes moved by the link's finished transfers.
        public var bytes: Int64
    }
    /// The scenario's name.
    public var scenario: String
    /// The scenario seed the run used.
    public var seed: UInt64
    /// Lake time covered by the run, in seconds from the scenario start.
    public var simulated: TimeInterval
    /// Real time the run took, in seconds.
    public var wallSeconds: Double
    /// Number of events logged by the end of the run (the log's last sequence number, events trimmed from memory included).
    public var events: Int
    /// Rules added during the run, in order of addition, with when they became OK.
    public var rules: [RuleLine]
    /// Finished and failed transfers and bytes moved, per FTS link.
    public var links: [LinkLine]
    /// Transfer attempts that were retried (`transfer.retry` events).
    public var retries: Int
    /// Transfers that ran out of attempts and left their lock STUCK (`transfer.stuck` events).
    public var stuckTransfers: Int
    /// Expectation results, in the order the scenario lists them.
    public var expectations: [ScenarioRunner.ExpectationResult]
    /// Instants the simulation stopped at (events processed in order).
    public var steps = 0

    public var passed: Bool { expectations.allSatisfy(\.passed) }
    public var bytesMoved: Int64 { links.reduce(0) { $0 + $1.bytes } }

    static func bytes(_ b: Int64) -> String {
        let units = ["B", "kB", "MB", "GB", "TB", "PB"]
        var v = Double(b), i = 0
        while v >= 1000 && i < units.count - 1 { v /= 1000; i += 1 }
        return i == 0 ? "\(b) B" : String(format: "%.1f %@", v, units[i])
    }

    public var text: String { text(wallTime: true) }

    /// The report; without `wallTime`, nothing in it depends on the machine (what `--plot` writes into report.html).
    public func text(wallTime: Bool) -> String {
        let wall = wallTime ? " in \(String(format: "%.2f", wallSeconds)) s" : ""
        var out = "Scenario \(scenario) (seed \(seed)): \(Durations.format(simulated)) of lake time\(wall), \(events) events, \(steps) steps\n"
        out += "\nRules\n"
        if rules.isEmpty { out += "  (none)\n" }
        for r in rules {
            let name = r.label.map { "\($0) (\(r.id.prefix(8)))" } ?? String(r.id.prefix(8))
            let done = r.okAfter.map { "OK after \(Durations.format($0))" } ?? "not OK"
            out += "  \(name.padding(toLength: 28, withPad: " ", startingAt: 0)) added t=\(Durations.format(r.addedAt).padding(toLength: 8, withPad: " ", startingAt: 0)) \(done.padding(toLength: 20, withPad: " ", startingAt: 0)) now \(r.state)\(r.timesStuck > 0 ? ", stuck \(r.timesStuck)x" : "")\n"
        }
        out += "\nTransfers per link\n"
        if links.isEmpty { out += "  (none)\n" }
        for l in links {
            out += "  \("\(l.source) -> \(l.destination)".padding(toLength: 28, withPad: " ", startingAt: 0)) \(String(l.finished).leftPad(7)) done \(String(l.failed).leftPad(6)) failed \(Self.bytes(l.bytes).leftPad(10))\n"
        }
        let finished = links.reduce(0) { $0 + $1.finished }, failed = links.reduce(0) { $0 + $1.failed }
        out += "  total: \(finished) done, \(failed) failed, \(retries) retried, \(stuckTransfers) gave up (stuck), \(Self.bytes(bytesMoved)) moved\n"
        out += "\nExpectations\n"
        if expectations.isEmpty { out += "  (none)\n" }
        for e in expectations { out += "  \(e.passed ? "PASS" : "FAIL")  \(e.expectation) — \(e.actual)\n" }
        out += passed ? "\nAll expectations met.\n" : "\n\(expectations.filter { !$0.passed }.count) expectation(s) FAILED.\n"
        return out
    }

    public var json: JSON {
        [
            "scenario": .string(scenario), "seed": .int(Int64(seed)), "simulated_seconds": .double(simulated), "wall_seconds": .double(wallSeconds),
            "events": .int(Int64(events)), "passed": .bool(passed), "bytes_moved": .int(bytesMoved), "retries": .int(Int64(retries)),
            "stuck_transfers": .int(Int64(stuckTransfers)),
            "rules": .array(rules.map { r in
                ["id": .string(r.id), "label": r.label.map(JSON.string) ?? .null, "added_at": .double(r.addedAt),
                 "ok_after": r.okAfter.map(JSON.double) ?? .null, "state": .string(r.state), "times_stuck": .int(Int64(r.timesStuck))]
            }),
            "links": .array(links.map { l in
                ["source": .string(l.source), "destination": .string(l.destination), "finished": .int(Int64(l.finished)),
                 "failed": .int(Int64(l.failed)), "bytes": .int(l.bytes)]
            }),
            "expectations": .array(expectations.map { e in
                ["expectation": .string(e.expectation), "passed": .bool(e.passed), "actual": .string(e.actual), "line": .int(Int64(e.line))]
            }),
        ]
    }
}

extension String {
    func leftPad(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
}
