import Foundation
import GRDB
import LakebedApp
import LakebedTesting
import Testing

@testable import LakebedCore
@testable import LakebedDaemons
@testable import LakebedFTS
@testable import LakebedScenarios

/// Two rules lock every file of `data:one` at DST-A (one on the dataset, one on a container of it); `data:two` has
/// its own rule. One attempt per request, so a failure turns locks and rules STUCK at once.
let batchScenario = """
    name: batch
    seed: 11
    start: 2026-01-01T00:00:00Z
    duration: 1h
    rses:
      - {name: SRC}
      - {name: DST-A}
    scopes:
      - {name: data, account: root}
    retries: {max_attempts: 1, base_delay: 1m, repair_delay: 10m}
    datasets:
      - did: data:one
      - did: data:two
    containers:
      - did: data:all
        contents: [data:one]
    files:
      - {scope: data, name: "a{i}", count: 6, size: 1MB, virtual: true, rse: SRC, dataset: "data:one"}
      - {scope: data, name: "b{i}", count: 6, size: 1MB, virtual: true, rse: SRC, dataset: "data:two"}
    rules:
      - {id: one, did: "data:one", rse_expression: DST-A}
      - {id: all, did: "data:all", rse_expression: DST-A}
      - {id: two, did: "data:two", rse_expression: DST-A}
    """

/// The bench's workload in small (Scripts/bench-simulate): three links, files queued well beyond the links' slots,
/// and failures with retries, so claims, starts, ends and rule counters all run batched over many instants.
let batchedBenchScenario = """
    name: bench-small
    seed: 1
    start: 2026-01-01T00:00:00Z
    duration: 3h
    scopes: [{name: bench, account: root}]
    rses:
      - {name: SRC-0}
      - {name: DST-0}
      - {name: SRC-1}
      - {name: DST-1}
      - {name: SRC-2}
      - {name: DST-2}
    topology: {defaults: {bandwidth: 10GB/s, latency: 1s, concurrency: 50, failure_rate: 0.05}}
    retries: {max_attempts: 2, base_delay: 1m, repair_delay: 10m}
    datasets:
      - did: bench:link0
      - did: bench:link1
      - did: bench:link2
    files:
      - {scope: bench, name: "l0.{i}", count: 400, size: 1GB, virtual: true, rse: SRC-0, dataset: "bench:link0"}
      - {scope: bench, name: "l1.{i}", count: 400, size: 1GB, virtual: true, rse: SRC-1, dataset: "bench:link1"}
      - {scope: bench, name: "l2.{i}", count: 300, size: 2GB, virtual: true, rse: SRC-2, dataset: "bench:link2"}
    rules:
      - {id: link0, did: "bench:link0", rse_expression: DST-0}
      - {id: link1, did: "bench:link1", rse_expression: DST-1}
      - {id: link2, did: "bench:link2", rse_expression: DST-2}
    """

@Suite("Batched conveyor")
struct BatchedConveyorTests {
    /// Claims every request of `batchScenario` and ends them at one instant: the a-files' second one failed, the rest
    /// arrived. `batched`: through `finishTransfers` (one transaction, rule counters in memory); otherwise one by one
    /// through the unbatched finisher. Returns the rules and the rule events logged.
    /// `failing`: the a-files' second transfer fails (otherwise all arrive, and the finisher takes its set-based
    /// path). `orphans`: b2's destination replica is gone before the end, and a request that is not in flight is
    /// reported too. `rows` is every request, replica, lock and bad replica afterwards, and the commit counter.
    /// `setBased: false`: batched, but recorded one by one within the batch's transaction.
    func endTransfers(batched: Bool, failing: Bool = true, orphans: Bool = false, setBased: Bool = true) async throws -> (
        rules: [String], events: [String], rows: [String]
    ) {
        let lake = try await TemporaryLake.simulation(of: try ScenarioParser.parse(batchScenario), label: "batch")
        let catalog = lake.catalog
        let policy = catalog.retryPolicy
        let t = catalog.clock.now().addingTimeInterval(100)
        let specs = try await ConveyorSubmitter(catalog: catalog).claimQueuedRequests(now: t, limit: 100, policy: policy, externalHost: "fts")
        #expect(specs.count == 12)
        var items = specs.map { s in
            (requestID: s.requestID!, failure: failing && s.name == "a1" ? "TRANSFER [5] injected" : nil, virtual: s.name == "b3" ? false : s.isVirtual)
        }
        if orphans {
            try await catalog.db.write { db in
                try db.execute(sql: "DELETE FROM replicas WHERE name = 'b2' AND rse_id = (SELECT id FROM rses WHERE rse = 'DST-A')")
                // Two replicas were being recovered: a5's at DST-A, whose copy arrives now (recovered), and a4's at
                // SRC, which no transfer brings back (still bad).
                try db.execute(
                    sql: """
                        INSERT INTO bad_replicas (scope, name, rse_id, reason, state, account, bytes, created_at, updated_at)
                        SELECT scope, name, rse_id, 'lost', 'B', 'root', bytes, 0, 0 FROM replicas
                        WHERE (name = 'a4' AND state = 'A') OR (name = 'a5' AND state = 'C') ORDER BY name
                        """)
            }
            items.insert((requestID: "not-a-request", failure: nil, virtual: true), at: 3)
        }
        let finisher = ConveyorFinisher(catalog: catalog)
        if batched {
            _ = try await finisher.finishTransfers(items, at: t, policy: policy, setBased: setBased)
        } else {
            for i in items {
                if let f = i.failure {
                    _ = try await finisher.transferFailed(requestID: i.requestID, reason: f, at: t, policy: policy)
                } else {
                    _ = try await finisher.transferSucceeded(requestID: i.requestID, at: t, virtual: i.virtual)
                }
            }
        }
        let seen = catalog.events.lastSeq
        try await catalog.drainRuleEvents()
        let rules = try await catalog.rules.listRules(filters: [:]).map { String(describing: $0) }
        let rows = try await catalog.db.read { db in
            try [("requests", "id"), ("replicas", "rse_id, scope, name"), ("locks", "rule_id, scope, name, rse_id"), ("bad_replicas", "name"), ("lake_mark", "id")]
                .flatMap { table, order in
                    // Each lake has its own folder, which the destination URLs name.
                    try Row.fetchAll(db, sql: "SELECT * FROM \(table) ORDER BY \(order)").map {
                        "\(table): " + $0.description.replacingOccurrences(of: catalog.dataDir, with: "<lake>")
                    }
                }
        }
        return (rules, catalog.events.events(after: seen).map(\.line), rows)
    }

    @Test func aSimulationWriterKeepsItsCacheAndCheckpointIntervalThroughSeeding() async throws {
        let lake = try await TemporaryLake.simulation(of: try ScenarioParser.parse(batchScenario), label: "batch-tuning")
        let (cache, checkpoint) = try await lake.catalog.db.write { db in
            (try Int.fetchOne(db, sql: "PRAGMA cache_size"), try Int.fetchOne(db, sql: "PRAGMA wal_autocheckpoint"))
        }
        #expect(cache == -Lake.simulationCacheMegabytes * 1024)
        #expect(checkpoint == Lake.simulationCheckpointPages)
        // A reader keeps SQLite's default: only the one writer holds the large cache.
        #expect(try await lake.catalog.db.read { db in try Int.fetchOne(db, sql: "PRAGMA cache_size") } == -2000)
    }

    @Test func aClaimDropsTheRequestWhoseDestinationReplicaWentAwayAndSubmitsTheRest() async throws {
        let lake = try await TemporaryLake.simulation(of: try ScenarioParser.parse(batchScenario), label: "batch-gone")
        let catalog = lake.catalog
        try await catalog.db.write { db in
            try db.execute(sql: "DELETE FROM replicas WHERE name = 'b2' AND rse_id = (SELECT id FROM rses WHERE rse = 'DST-A')")
        }
        let t = catalog.clock.now().addingTimeInterval(100)
        let specs = try await ConveyorSubmitter(catalog: catalog).claimQueuedRequests(
            now: t, limit: 100, policy: catalog.retryPolicy, externalHost: "fts")
        #expect(specs.count == 11)
        #expect(!specs.contains { $0.name == "b2" })
        #expect(specs.allSatisfy { $0.destPath.hasSuffix($0.name!) && $0.destURL.contains($0.name!) }, "\(specs.map(\.destPath))")
        let left = try await catalog.db.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM requests WHERE name = 'b2'")
        }
        #expect(left == 0)
    }

    @Test func endingTransfersTogetherLeavesTheRulesAndEventsOfEndingThemOneByOne() async throws {
        let batched = try await endTransfers(batched: true)
        let oneByOne = try await endTransfers(batched: false)
        #expect(batched.rules == oneByOne.rules)
        #expect(batched.events == oneByOne.events)
        // Both rules on the a-files went STUCK with the failure's error, the b-files' rule OK.
        #expect(batched.events.filter { $0.contains("rule.stuck") && $0.contains("injected") }.count == 2, "\(batched.events)")
        #expect(batched.events.filter { $0.contains("rule.ok") }.count == 1, "\(batched.events)")
        #expect(batched.rules.filter { $0.contains("locksOK: 5") && $0.contains("locksStuck: 1") }.count == 2, "\(batched.rules)")
    }

    @Test func endingSuccessfulTransfersSetBasedLeavesTheRowsRulesAndEventsOfEndingThemOneByOne() async throws {
        for orphans in [false, true] {
            let batched = try await endTransfers(batched: true, failing: false, orphans: orphans)
            let rowByRow = try await endTransfers(batched: true, failing: false, orphans: orphans, setBased: false)
            let oneByOne = try await endTransfers(batched: false, failing: false, orphans: orphans)
            #expect(batched.rows == rowByRow.rows, "\(Set(batched.rows).symmetricDifference(rowByRow.rows).sorted())")
            // Transaction by transaction, every rule counter change also moves the commit counter; nothing else differs.
            let counted = { (rows: [String]) in rows.filter { !$0.hasPrefix("lake_mark:") } }
            #expect(counted(batched.rows) == counted(oneByOne.rows), "\(Set(batched.rows).symmetricDifference(oneByOne.rows).sorted())")
            #expect(batched.rules == oneByOne.rules && batched.rules == rowByRow.rules)
            #expect(batched.events == oneByOne.events && batched.events == rowByRow.events)
            // Every rule went OK but, with b2's replica gone, the b-files' rule: its lock on b2 stays REPLICATING.
            #expect(batched.events.filter { $0.contains("rule.ok") }.count == (orphans ? 2 : 3), "\(batched.events)")
            #expect(batched.rows.filter { $0.hasPrefix("requests:") && $0.contains("state:\"DONE\"") }.count == 12)
            #expect(batched.rows.filter { $0.hasPrefix("replicas:") && $0.contains("name:\"b3\"") && $0.contains("virtual:0") }.count == 1)
            if orphans {
                let bad = batched.rows.filter { $0.hasPrefix("bad_replicas:") }
                #expect(bad.count == 2 && bad[0].contains("name:\"a4\"") && bad[0].contains("state:\"B\""), "\(bad)")
                #expect(bad.count == 2 && bad[1].contains("name:\"a5\"") && bad[1].contains("state:\"R\""), "\(bad)")
            }
        }
    }

    @Test func theBenchWorkloadLogsTheEventsRecordedBeforeBatching() async throws {
        // Recorded with the build before the conveyor's batched paths (main at 7b7ce7f): `lakebed simulate --seed 1
        // --events` of this scenario; its MD5 and line count.
        let runner = try await makeRunner(batchedBenchScenario, seed: 1)
        _ = try await runner.simulate()
        let lines = runner.catalog.events.all.map { $0.line + "\n" }.joined()
        #expect(lines.split(separator: "\n").count == 3521)
        #expect(md5Hex(lines) == "d41119c0b2d394519bc2936801c95ebb")
        #expect(lines.contains("transfer.retry"))
    }
}
