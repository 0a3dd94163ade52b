import Foundation
import LakebedTesting
import Synchronization
import Testing

@testable import LakebedCore
@testable import LakebedDaemons
@testable import LakebedFTS

final class EventLog: Sendable {
    let events = Mutex<[TransferEvent]>([])
    func withLock<R>(_ body: (inout [TransferEvent]) -> R) -> R { events.withLock { body(&$0) } }
}

/// A lake on a manual clock with the default RSEs, and a way to put real files on them.
struct TestLake {
    let root = Issuer(account: "root", identity: "ddmlab", isAdmin: true)
    let clock: VirtualClock
    let catalog: Catalog
    let engine: TransferEngine
    let driver: LakeDriver
    let log = EventLog()

    init(topology: Topology = Topology(), seed: UInt64 = 7, dir: String? = nil) async throws {
        clock = VirtualClock.manual()
        catalog = try Catalog(dataDir: dir ?? TemporaryLake.folder("xfer"), clock: clock, seed: seed)
        try await DefaultLake.seedIfEmpty(catalog)
        engine = TransferEngine(catalog: catalog, topology: topology, seed: seed)
        driver = LakeDriver(catalog: catalog, clock: clock, engine: engine)
        let log = self.log
        await engine.addEventSink { e in log.withLock { $0.append(e) } }
    }

    var start: Date { Date(timeIntervalSince1970: 1_767_225_600) }

    func put(_ rse: String, _ scope: String, _ name: String, _ bytes: [UInt8]) async throws {
        let model = try await catalog.rses.rse(rse)
        let path = try catalog.replicas.absolutePath(rse: model, relative: LFN2PFN.hash.path(scope: scope, name: name))
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
        let sums = Checksums.of(bytes)
        try await catalog.replicas.addReplicas(
            rse: rse, files: [FileSpec(scope: scope, name: name, bytes: sums.bytes, adler32: sums.adler32, md5: sums.md5)], ignoreAvailability: false,
            issuer: root)
    }

    func rule(_ did: DIDRef, _ expr: String, copies: Int = 1) async throws -> String {
        var spec = RuleSpec()
        spec.dids = [did]
        spec.copies = copies
        spec.rseExpression = expr
        return try await catalog.rules.addRules(spec, issuer: root)[0]
    }

    func finishTimes() -> [String: Double] {
        var out: [String: Double] = [:]
        for e in log.withLock({ $0 }) where e.kind == .finished { out[e.did ?? "?"] = e.time.timeIntervalSince(start) }
        return out
    }
}

@Suite("Transfer engine on a manual clock")
struct TransferEngineTests {
    @Test func ruleReplicatesRealBytesAndGoesOK() async throws {
        let lake = try await TestLake()
        let bytes = (0..<5000).map { UInt8($0 % 251) }
        try await lake.put("SITE-A", "test", "f1", bytes)
        let id = try await lake.rule(DIDRef("test", "f1"), "SITE-B")
        #expect(try await lake.catalog.rules.rule(id).state == .replicating)
        try await lake.driver.advance(by: 0.5)
        // Latency is 1 s: nothing has arrived yet.
        #expect(try await lake.catalog.rules.rule(id).state == .replicating)
        #expect(try await lake.catalog.requests.requests(scope: "test", name: "f1", rse: "SITE-B")[0].state == .submitted)
        try await lake.driver.advance(by: 10)
        let rule = try await lake.catalog.rules.rule(id)
        #expect(rule.state == .ok)
        #expect(rule.locksOK == 1)
        let b = try await lake.catalog.rses.rse("SITE-B")
        let copied = try Data(
            contentsOf: URL(fileURLWithPath: lake.catalog.replicas.absolutePath(rse: b, relative: LFN2PFN.hash.path(scope: "test", name: "f1"))))
        #expect(Array(copied) == bytes)
        let req = try await lake.catalog.requests.requests(scope: "test", name: "f1", rse: "SITE-B")[0]
        #expect(req.state == .done)
        #expect(req.sourceRSE == "SITE-A")
    }

    @Test func bandwidthIsSharedAndConcurrencyQueues() async throws {
        // 1000 bytes per second, no latency: two 1000-byte files sharing the link both end at t = 2 s;
        // with one slot they end at 1 s and 2 s.
        for (concurrency, expected) in [(2, [2.0, 2.0]), (1, [1.0, 2.0])] {
            let topo = Topology(defaults: LinkSettings(bandwidth: 1000, latency: 0, concurrency: concurrency))
            let lake = try await TestLake(topology: topo)
            try await lake.put("SITE-A", "test", "a1", Array(repeating: 1, count: 1000))
            try await lake.put("SITE-A", "test", "b1", Array(repeating: 2, count: 1000))
            _ = try await lake.rule(DIDRef("test", "a1"), "SITE-B")
            _ = try await lake.rule(DIDRef("test", "b1"), "SITE-B")
            try await lake.driver.advance(by: 60)
            let times = lake.finishTimes().values.sorted()
            #expect(times.count == 2)
            for (t, e) in zip(times, expected) { #expect(abs(t - e) < 0.01, "concurrency \(concurrency): finished at \(times)") }
        }
    }

    @Test func failingLinkRetriesThenStuckThenRecovers() async throws {
        let topo = Topology(defaults: LinkSettings(bandwidth: 1_000_000, latency: 1, concurrency: 5))
        let lake = try await TestLake(topology: topo)
        try await lake.put("SITE-A", "test", "file1", Array("payload".utf8))
        await lake.engine.updateLink("SITE-A", "SITE-C") { $0.down = true }
        let id = try await lake.rule(DIDRef("test", "file1"), "SITE-C")
        // Three attempts, 60 s then 120 s apart; the repairer waits 600 s.
        try await lake.driver.advance(by: 200)
        var rule = try await lake.catalog.rules.rule(id)
        #expect(rule.state == .stuck)
        #expect(rule.locksStuck == 1)
        #expect(rule.error?.contains("link SITE-A->SITE-C is down") == true)
        let req = try await lake.catalog.requests.requests(scope: "test", name: "file1", rse: "SITE-C")[0]
        #expect(req.state == .failed)
        #expect(req.retryCount == 3)
        #expect(lake.log.withLock { $0.filter { $0.kind == .failed }.count } == 3)
        // Restore the link: the judge-repairer retries the stuck lock and the rule goes OK.
        await lake.engine.updateLink("SITE-A", "SITE-C") { $0.down = false }
        try await lake.driver.advance(by: 700)
        rule = try await lake.catalog.rules.rule(id)
        #expect(rule.state == .ok)
        #expect(rule.error == nil)
    }

    @Test func repairerWaitsLongerAfterEveryAttempt() async throws {
        // As Rucio's judge-repairer: a site that stays down is retried less and less often (10, 20, 30, 40, 40 … min).
        let topo = Topology(defaults: LinkSettings(bandwidth: 1_000_000, latency: 1, concurrency: 5))
        let lake = try await TestLake(topology: topo)
        try await lake.put("SITE-A", "test", "far", Array("payload".utf8))
        await lake.engine.updateLink("SITE-A", "SITE-C") { $0.down = true }
        let id = try await lake.rule(DIDRef("test", "far"), "SITE-C")
        var retries: [(attempt: Int, wait: TimeInterval)] = []
        var planned: RepairPlan?
        for _ in 0..<2_000 where retries.count < 5 {
            try await lake.driver.advance(by: 30)
            let rule = try await lake.catalog.rules.rule(id)
            if rule.state == .stuck, let plan = rule.repair, plan != planned {
                planned = plan
                retries.append((plan.attempt, plan.at.timeIntervalSince(rule.stuckAt!)))
                #expect(rule.shownError(now: lake.catalog.clock.now())?.contains("retry \(plan.attempt) in ") == true)
            }
        }
        #expect(retries.map(\.attempt) == [1, 2, 3, 4, 5])
        #expect(retries.map(\.wait) == [600, 1200, 1800, 2400, 2400])
        // Once the link is back, the next planned retry brings the rule to OK and the plan is gone.
        await lake.engine.updateLink("SITE-A", "SITE-C") { $0.down = false }
        try await lake.driver.advance(by: 2_500)
        let rule = try await lake.catalog.rules.rule(id)
        #expect(rule.state == .ok && rule.repair == nil && rule.error == nil)
    }

    @Test func repairPlanSaysWhenInWords() {
        let now = Date(timeIntervalSince1970: 1_000_000)
        let plan = RepairPlan(attempt: 2, at: now.addingTimeInterval(1200))
        #expect(plan.summary(now: now) == "retry 2 in 20 min")
        #expect(plan.summary(now: now.addingTimeInterval(1170)) == "retry 2 in 30 s")
        #expect(plan.summary(now: now.addingTimeInterval(1200)) == "retry 2 now")
        #expect(RepairPlan(attempt: 1, at: now.addingTimeInterval(5400)).summary(now: now) == "retry 1 in 1 h 30 min")
        var policy = RetryPolicy()
        policy.repairDelay = 60
        #expect((1...6).map { policy.repairWait(attempt: $0) } == [60, 120, 180, 240, 240, 240])
    }

    @Test func corruptedSourceFailsTheChecksum() async throws {
        let lake = try await TestLake()
        try await lake.put("SITE-A", "test", "c1", Array("good bytes".utf8))
        let a = try await lake.catalog.rses.rse("SITE-A")
        let path = try lake.catalog.replicas.absolutePath(rse: a, relative: LFN2PFN.hash.path(scope: "test", name: "c1"))
        try Data("evil bytes".utf8).write(to: URL(fileURLWithPath: path))
        _ = try await lake.rule(DIDRef("test", "c1"), "SITE-B")
        try await lake.driver.advance(by: 5)
        let failures = lake.log.withLock { $0.filter { $0.kind == .failed } }
        #expect(failures.first?.reason?.contains("CHECKSUM MISMATCH") == true)
        let b = try await lake.catalog.rses.rse("SITE-B")
        #expect(
            !FileManager.default.fileExists(
                atPath: try lake.catalog.replicas.absolutePath(rse: b, relative: LFN2PFN.hash.path(scope: "test", name: "c1"))))
    }

    @Test func aSymbolicLinkPlantedInTheDestinationFailsTheTransferNotTheLake() async throws {
        // A rule only checks its new replicas' paths by their text; the conveyor checks them on disk before any byte
        // moves. A link planted where a replica's folder would be fails that transfer (retried, then STUCK), writes
        // nothing outside the RSE, and the other transfers of the claim go on.
        let lake = try await TestLake()
        try await lake.put("SITE-A", "test", "planted", Array(repeating: 7, count: 100))
        try await lake.put("SITE-A", "test", "plain", Array(repeating: 8, count: 100))
        let b = try await lake.catalog.rses.rse("SITE-B")
        let outside = TemporaryLake.folder("outside")
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        let rel = LFN2PFN.hash.path(scope: "test", name: "planted")
        let folder = b.root + "/" + rel.split(separator: "/").dropLast().joined(separator: "/")
        try FileManager.default.createDirectory(atPath: (folder as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: folder, withDestinationPath: outside)
        let planted = try await lake.rule(DIDRef("test", "planted"), "SITE-B")
        let plain = try await lake.rule(DIDRef("test", "plain"), "SITE-B")
        // Three attempts (60 s, then 120 s apart), before the judge-repairer would try the rule again.
        try await lake.driver.advance(by: 600)
        let stuck = try await lake.catalog.rules.rule(planted)
        #expect(stuck.state == .stuck)
        #expect(stuck.error?.contains("leaves the RSE root") == true)
        #expect(try await lake.catalog.rules.rule(plain).state == .ok)
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside).isEmpty)
    }

    @Test func sameSeedSameEvents() async throws {
        func run() async throws -> [String] {
            let topo = Topology(defaults: LinkSettings(bandwidth: 5000, latency: 0.5, concurrency: 3, failureRate: 0.3))
            let lake = try await TestLake(topology: topo, seed: 42)
            for i in 0..<12 { try await lake.put("SITE-A", "test", "f\(i)", Array(repeating: UInt8(i), count: 1000 + i * 300)) }
            try await lake.catalog.dids.addCollection(scope: "test", name: "ds", type: .dataset, issuer: lake.root)
            try await lake.catalog.dids.attach(
                to: DIDRef("test", "ds"), children: (0..<12).map { FileSpec(scope: "test", name: "f\($0)") }, rse: nil, issuer: lake.root)
            _ = try await lake.rule(DIDRef("test", "ds"), "SITE-B|SITE-C", copies: 2)
            try await lake.driver.advance(by: 3600)
            return lake.log.withLock {
                $0.map {
                    "\($0.time.timeIntervalSince1970) \($0.kind) \($0.jobID) \($0.did ?? "") \($0.source)->\($0.destination) \($0.reason ?? "")"
                }
            }
        }
        let first = try await run()
        let second = try await run()
        #expect(first.count > 24)
        #expect(first == second)
        #expect(first.contains { $0.contains(" failed ") })
    }

    @Test func destinationGoingDownMidTransferFailsItThenRetrySucceeds() async throws {
        // 10,000 bytes at 1,000 B/s: the transfer is half way at t = 5 s when SITE-B stops accepting writes.
        let lake = try await TestLake(topology: Topology(defaults: LinkSettings(bandwidth: 1000, latency: 0, concurrency: 1)))
        try await lake.put("SITE-A", "test", "midway", Array(repeating: 7, count: 10_000))
        let id = try await lake.rule(DIDRef("test", "midway"), "SITE-B")
        try await lake.driver.advance(by: 5)
        try await lake.catalog.rses.setRSEAvailability("SITE-B", read: nil, write: false, delete: nil)
        try await lake.driver.advance(by: 10)
        let failed = lake.log.withLock { $0.filter { $0.kind == .failed } }
        #expect(failed.count == 1)
        #expect(failed.first?.reason?.contains("SITE-B is not available for writing") == true)
        #expect(try await lake.catalog.rules.rule(id).state == .replicating)
        try await lake.catalog.rses.setRSEAvailability("SITE-B", read: nil, write: true, delete: nil)
        try await lake.driver.advance(by: 120)
        #expect(try await lake.catalog.rules.rule(id).state == .ok)
    }

    @Test func wildcardChangesReachLinksTunedBefore() {
        var t = Topology()
        t.update("SITE-A", "SITE-C") { $0.bandwidth = 20_000 }
        t.update("*", "SITE-C") { $0.down = true }
        #expect(t.settings("SITE-A", "SITE-C").down)
        #expect(t.settings("SITE-A", "SITE-C").bandwidth == 20_000)
        #expect(t.settings("SITE-B", "SITE-C").down)
        #expect(!t.settings("SITE-A", "SITE-B").down)
        t.update("*", "SITE-C") { $0.down = false }
        #expect(!t.settings("SITE-A", "SITE-C").down)
    }
}
