public import Foundation
public import LakebedCore
public import LakebedDaemons
import LakebedFTS
public import LakebedIAM
import LakebedOIDC
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
    let state = Mutex(State())

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
        try await DefaultLake.seedRoot(catalog, scopes: s.rootScopes)
        if s.keepDefaultLake { try await DefaultLake.seedSites(catalog) }
        for a in s.accounts where a.name != "root" {
            try await catalog.accounts.addAccount(a.name, type: a.type, email: a.email, by: nil)
        }
        for a in s.accounts {
            if let u = a.username, let p = a.password {
                try await catalog.auth.addIdentity(
                    account: a.name, identity: u, type: "USERPASS", email: a.email, password: p, isDefault: true, by: nil)
            }
        }
        for sc in s.scopes { try await catalog.scopes.addScope(sc.name, account: sc.account, by: nil) }
        for r in s.rses {
            var settings = JSONObject([("rse_type", .string(r.type))])
            for (k, v) in r.settings { settings[k] = v }
            // A relative directory is taken from where Lakebed runs, as any path on its command line.
            let root = r.directory.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
            try await catalog.rses.addRSE(r.name, settings: RSESettings(settings), root: root, readyMade: r.protocols == nil, by: nil)
            for p in r.protocols ?? [] { try await catalog.rses.addProtocol(r.name, p, by: nil) }
            for (k, v) in r.attributes { try await catalog.rses.addRSEAttribute(r.name, key: k, value: v, by: nil) }
            if r.oidcSupport { try await catalog.rses.addRSEAttribute(r.name, key: "oidc_support", value: .bool(true), by: nil) }
        }
        for a in s.accounts {
            for (rse, bytes) in a.limits { try await catalog.accountLimits.setLocalAccountLimit(a.name, rse: rse, bytes: bytes, by: nil) }
        }
        for d in s.distances {
            try await catalog.rses.setDistance(from: d.from, to: d.to, distance: d.distance, create: true, by: nil)
            if d.symmetric && d.from != d.to {
                try await catalog.rses.setDistance(from: d.to, to: d.from, distance: d.distance, create: true, by: nil)
            }
        }
        // Datasets first (files attach to them), then files, then containers.
        for c in s.collections where c.type == .dataset {
            try await catalog.dids.addCollection(
                scope: c.did.scope, name: c.did.name, type: .dataset, issuer: admin, account: c.account, meta: JSONObject(c.metadata))
        }
        CrashPoint.reach("seed:datasets")
        let total = s.files.reduce(0) { $0 + $1.count }
        var done = 0
        try await catalog.replicas.withSeedingCache {
            for f in s.files {
                // The name's parts around `{i}`, split once: a million names are built from them.
                let parts = f.name.components(separatedBy: "{i}")
                let templated = f.metadata.contains { if case .string(let sv) = $0.1 { sv.contains("{i}") } else { false } }
                var batch: [FileSpec] = []
                batch.reserveCapacity(min(f.count, Self.seedBatch))
                for i in 0..<f.count {
                    let name = parts.count == 1 ? parts[0] : parts.joined(separator: Self.pad(i, f.count))
                    let (adler, md5) =
                        f.isVirtual ? ScenarioContent.virtualSums(f.scope, name, f.size) : ScenarioContent.sums(seed: s.seed, f.scope, name, f.size)
                    var meta = JSONObject(f.metadata)
                    if templated {
                        for (k, v) in meta {
                            if case .string(let sv) = v, sv.contains("{i}") { meta[k] = .string(sv.replacingOccurrences(of: "{i}", with: String(i))) }
                        }
                    }
                    batch.append(FileSpec(scope: f.scope, name: name, bytes: f.size, adler32: adler, md5: md5, meta: meta))
                    if batch.count == Self.seedBatch || i == f.count - 1 {
                        let seed = s.seed
                        try await catalog.replicas.seedFiles(batch, rses: f.rses, dataset: f.dataset, virtual: f.isVirtual, account: admin.account) {
                            spec, path in
                            try ScenarioContent.write(seed: seed, spec.scope, spec.name, spec.bytes ?? 0, to: path)
                        }
                        done += batch.count
                        progress?(done, total)
                        batch.removeAll(keepingCapacity: true)
                    }
                }
            }
        }
        for c in s.collections where c.type == .container {
            try await catalog.dids.addCollection(
                scope: c.did.scope, name: c.did.name, type: .container, issuer: admin, account: c.account, meta: JSONObject(c.metadata))
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
                dir.users.append(
                    IAMUser(
                        username: u.username, sub: sub, password: u.password, name: u.username, email: "\(u.username)@lakebed.local",
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
                items.append([
                    "archive": "rucio",
                    "record": [
                        "scope": .string(d.scope), "name": .string(d.name), "type": .string(did.type.rawValue),
                        "parent": .null, "level": 0, "bytes": did.bytes.map(JSON.int) ?? .null,
                    ],
                ])
            }
            try await catalog.baskets.setBasket(user: b.user, items: items)
        }
        await configureEngine()
        // A rule over a large dataset writes a lock, a replica and a request per file in one transaction: with the
        // seeding cache those pages stay in memory until it commits.
        try await catalog.replicas.withSeedingCache { for r in s.rules { try await addRule(r, at: s.start) } }
        // RSEs counted in the catalog: the default lake's come from `keep_default_lake`, not from the scenario's list.
        let rses = try await catalog.rses.listRSEs().count
        log.append(
            s.start, "scenario.seeded", [("scenario", s.name), ("files", String(total)), ("rses", String(rses)), ("rules", String(s.rules.count))])
        try await catalog.drainRuleEvents()
    }

    public func configureEngine() async {
        await driver.engine.setTopology(scenario.topology)
        await driver.engine.setPolicy(scenario.retry)
        for (rse, d) in scenario.stagingDelays.sorted(by: { $0.key < $1.key }) { await driver.engine.setStagingDelay(rse, d) }
    }

    /// Files seeded per transaction: large, because each commit writes every catalog page it changed, and the
    /// replicas' path index changes pages all over (paths start with a hash); small enough that a batch stays tens of MB.
    static let seedBatch = 50_000

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

    // MARK: running

    /// Runs the whole scenario on the virtual clock, as fast as possible, and reports.
    public func simulate(progress: (@Sendable (TimeInterval, TimeInterval) -> Void)? = nil) async throws -> ScenarioReport {
        let wallStart = Date()
        let end = t(scenario.end)
        try await applyDue(driver.clock.now())
        let stops = try await driver.advance(
            to: end, also: { [self] in self.nextDue() },
            at: { [self] now in
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
}
