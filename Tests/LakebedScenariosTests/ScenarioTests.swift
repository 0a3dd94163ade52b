import Foundation
import LakebedApp
import LakebedTesting
import Testing

@testable import LakebedCore
@testable import LakebedDaemons
@testable import LakebedFTS
@testable import LakebedScenarios

let smallScenario = """
    name: small
    seed: 5
    duration: 2h
    rses:
      - {name: EU-DISK, attributes: {continent: EU}}
      - {name: US-DISK, attributes: {continent: NA}}
    scopes:
      - {name: data, account: root}
    topology:
      defaults: {bandwidth: 10kB/s, latency: 1s, concurrency: 3, failure_rate: 0.3}
    retries: {max_attempts: 2, base_delay: 1m, repair_delay: 10m}
    datasets:
      - did: data:ds
    files:
      - {scope: data, name: "f{i}", count: 12, size: 5kB, rse: EU-DISK, dataset: "data:ds"}
    rules:
      - {id: r1, did: "data:ds", rse_expression: continent=NA}
    timeline:
      - {at: 30m, event: link, from: EU-DISK, to: US-DISK, failure_rate: 0}
    expectations:
      - {by: 1h30m, rule: r1, state: OK}
      - {at: end, rse: US-DISK, files: 12}
    """

func makeRunner(_ text: String, seed: UInt64? = nil) async throws -> ScenarioRunner {
    var s = try ScenarioParser.parse(text)
    if let seed { s.seed = seed }
    return try await TemporaryLake.simulation(of: s, label: "scn").scenario
}

@Suite("Scenarios")
struct ScenarioTests {
    @Test func durationsAndSizes() {
        #expect(Durations.parse("90s") == 90)
        #expect(Durations.parse("1h30m") == 5400)
        #expect(Durations.parse("250ms") == 0.25)
        #expect(Durations.parse("2d") == 172_800)
        #expect(Durations.parse("ten") == nil)
        #expect(Durations.parse("5x") == nil)
        #expect(Sizes.parse("5MB") == 5_000_000)
        #expect(Sizes.parse("2GiB") == 2_147_483_648)
        #expect(Sizes.parseRate("1Gb/s") == 125_000_000)
        #expect(Sizes.parseRate("100MB/s") == 100_000_000)
        #expect(Durations.format(5400) == "1h30m")
    }

    @Test func mistakesAreReportedWithLinesAndHints() {
        let text = """
            name: broken
            rses:
              - name: A-DISK
                atributes: {tier: 1}
            timeline:
              - at: soon
                event: rse_down
                rse: A-DISK
              - at: 1h
                event: link_down
            expectations:
              - {at: 2h, rule: nope, state: OK}
            """
        do {
            _ = try ScenarioParser.parse(text, file: "broken.yaml")
            Issue.record("a broken scenario parsed")
        } catch let e as ScenarioErrors {
            let lines = e.errors.map(\.description)
            #expect(
                lines.contains { $0.hasPrefix("broken.yaml:4:") && $0.contains("unknown key `atributes` (did you mean `attributes`?)") }, "\(lines)")
            #expect(lines.contains { $0.hasPrefix("broken.yaml:6:") && $0.contains("`soon` is not a duration") }, "\(lines)")
            #expect(lines.contains { $0.hasPrefix("broken.yaml:10:") && $0.contains("unknown event `link_down`") }, "\(lines)")
            #expect(lines.contains { $0.hasPrefix("broken.yaml:12:") && $0.contains("no rule has the id `nope`") }, "\(lines)")
        } catch { Issue.record("unexpected error \(error)") }
    }

    @Test func sameSeedSameEventLogAndExpectationsHold() async throws {
        let a = try await makeRunner(smallScenario)
        let ra = try await a.simulate()
        let b = try await makeRunner(smallScenario)
        let rb = try await b.simulate()
        let la = a.catalog.events.all.map(\.line)
        let lb = b.catalog.events.all.map(\.line)
        #expect(la == lb)
        #expect(la.contains { $0.contains("transfer.failed") })
        #expect(ra.passed && rb.passed, "\(ra.text)")
        let c = try await makeRunner(smallScenario, seed: 6)
        _ = try await c.simulate()
        #expect(c.catalog.events.all.map(\.line) != la)
    }

    @Test func rulesCanBeGivenTheirRucioIDs() async throws {
        let named = smallScenario.replacingOccurrences(of: "{id: r1, did:", with: "{id: r1, rule_id: 0123456789abcdef0123456789abcdef, did:")
        let r = try await makeRunner(named)
        #expect(r.ruleLabels["r1"] == "0123456789abcdef0123456789abcdef")
        #expect(try await r.catalog.rules.rule("0123456789abcdef0123456789abcdef").rseExpression == "continent=NA")
        let report = try await r.simulate()
        #expect(report.passed, "\(report.text)")
        // Not a Rucio id: the parser says so, with the line.
        let bad = smallScenario.replacingOccurrences(of: "{id: r1, did:", with: "{id: r1, rule_id: r-one, did:")
        #expect(throws: (any Error).self) { try ScenarioParser.parse(bad) }
        do { _ = try ScenarioParser.parse(bad) } catch { #expect("\(error)".contains("32 lower-case hex digits")) }
    }

    @Test func anRSEWithForeignProtocolsReplicatesOnVirtualStorage() async throws {
        // EU-DISK holds bytes in its file protocol's folder and speaks root:// too; US-DISK is copied from a production
        // topology: only root:// at a host Lakebed does not serve, so its storage is virtual.
        let euFolder = TemporaryLake.folder("eu-prefix")
        let text = smallScenario.replacingOccurrences(
            of: """
                  - {name: EU-DISK, attributes: {continent: EU}}
                  - {name: US-DISK, attributes: {continent: NA}}
                """,
            with: """
                  - name: EU-DISK
                    attributes: {continent: EU}
                    protocols:
                      - {scheme: file, prefix: \(euFolder)/}
                      - {scheme: root, hostname: xrd-eu, port: 1094, prefix: //rucio, impl: rucio.rse.protocols.xrootd.Default}
                  - name: US-DISK
                    attributes: {continent: NA}
                    protocols:
                      - {scheme: root, hostname: xrd-us, port: 1094, prefix: //rucio, impl: rucio.rse.protocols.xrootd.Default}
                """)
        #expect(text != smallScenario)
        let r = try await makeRunner(text)
        let eu = try await r.catalog.rses.rse("EU-DISK")
        let us = try await r.catalog.rses.rse("US-DISK")
        #expect(eu.root == euFolder)
        #expect(try await r.catalog.rses.storageSite(us) == .virtual)
        #expect(try await r.catalog.rses.protocols("US-DISK").map(\.scheme) == ["root"])
        let report = try await r.simulate()
        #expect(report.passed, "\(report.text)")
        // The seeded bytes are in EU's folder; nothing was written for US-DISK, and the lake is consistent.
        let seeded = FileManager.default.enumerator(atPath: euFolder)?.allObjects as? [String] ?? []
        #expect(seeded.contains { $0.hasSuffix("/f03") }, "\(seeded)")
        #expect(!FileManager.default.fileExists(atPath: us.root))
        let check = try await r.catalog.checkConsistency()
        #expect(check.isConsistent && check.lost.isEmpty, "\(check.problems)")
        try? FileManager.default.removeItem(atPath: euFolder)
    }

    @Test func resetReturnsToTheSeedState() async throws {
        let r = try await makeRunner(smallScenario)
        try await r.snapshot("seed")
        let start = r.driver.clock.now()
        _ = try await r.simulate()
        let id = r.ruleLabels["r1"]!
        #expect(try await r.catalog.rules.rule(id).state == .ok)
        #expect(try await r.catalog.replicas.availableReplicaCount(rse: "US-DISK") == 12)
        try await r.reset()
        #expect(r.driver.clock.now() == start)
        #expect(try await r.catalog.replicas.availableReplicaCount(rse: "US-DISK") == 0)
        #expect(try await r.catalog.rules.rule(r.ruleLabels["r1"]!).state == .replicating)
        // The US copies' bytes are gone from disk too; the EU originals are back.
        let us = try await r.catalog.rses.rse("US-DISK")
        let left = (FileManager.default.enumerator(atPath: us.root)?.allObjects as? [String] ?? []).filter {
            $0.hasPrefix("data/") && $0.split(separator: "/").count == 4
        }
        #expect(left.isEmpty, "\(left)")
        #expect(try await r.catalog.replicas.availableReplicaCount(rse: "EU-DISK") == 12)
    }

    @Test func lostAndCorruptedFilesFailTheirTransfersAndAreReported() async throws {
        let text = """
            name: damage
            seed: 9
            duration: 3h
            rses:
              - {name: SRC-DISK}
              - {name: DST-DISK}
            scopes:
              - {name: data, account: root}
            topology:
              defaults: {bandwidth: 1MB/s, latency: 1s, concurrency: 5}
            retries: {max_attempts: 2, base_delay: 1m, repair_delay: 10h}
            datasets:
              - did: data:ds
            files:
              - {scope: data, name: "f{i}", count: 3, size: 2kB, rse: SRC-DISK, dataset: "data:ds"}
            rules:
              - {id: keep, did: "data:f2", rse_expression: SRC-DISK}
            timeline:
              - {at: 1m, event: corrupt_file, did: "data:f0", rse: SRC-DISK}
              - {at: 1m, event: lose_file, did: "data:f1", rse: SRC-DISK}
              - {at: 2m, event: add_rule, id: copy, did: "data:ds", rse_expression: DST-DISK}
              - {at: 2h, event: delete_rule, rule: keep}
            expectations:
              - {at: 1h, rule: copy, state: STUCK}
              - {at: end, rse: DST-DISK, files: 1}
              - {at: end, no_lost_replicas: true}
            """
        let r = try await makeRunner(text)
        let report = try await r.simulate()
        let failures = r.catalog.events.all.filter { $0.kind == "transfer.failed" }
        #expect(failures.contains { $0.field("did") == "data:f0" && ($0.field("reason") ?? "").contains("CHECKSUM MISMATCH") })
        #expect(failures.contains { $0.field("did") == "data:f1" && ($0.field("reason") ?? "").contains("No such file") })
        #expect(!failures.contains { $0.field("did") == "data:f2" })
        // The rule is stuck on the damaged files; the healthy one arrived; the lost file is reported as lost.
        #expect(report.expectations.map(\.passed) == [true, true, false], "\(report.text)")
        #expect(report.expectations[2].actual.contains("data:f1"))
        #expect(r.catalog.events.all.contains { $0.kind == "scenario.delete_rule" && $0.field("rule") == "keep" })
        #expect(r.catalog.events.all.contains { $0.kind == "rule.removed" })
    }
}
