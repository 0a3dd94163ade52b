public import Foundation
public import LakebedCore
import LakebedDaemons
import LakebedFTS
import LakebedIAM
import LakebedOIDC
import Synchronization

extension ScenarioRunner {
    /// What happened in a run, for people (`text`) and machines (`json`).
    public func report(wallSeconds: Double) async throws -> ScenarioReport {
        tallyEvents()
        let tally = state.withLock { $0.tally }
        let added = tally.added
        let ok = tally.ok
        let stuckCount = tally.stuck
        let retries = tally.retries
        let stuck = tally.stuckTransfers
        let eventCount = log.lastSeq
        let labelOf = Dictionary(ruleLabels.map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        var rules: [ScenarioReport.RuleLine] = []
        for (id, at) in added.sorted(by: { ($0.value, $0.key) < ($1.value, $1.key) }) {
            let state = (try? await catalog.rules.rule(id))?.state.name ?? "GONE"
            rules.append(
                .init(
                    id: id, label: labelOf[id], addedAt: offset(at), okAfter: ok[id].map { $0.timeIntervalSince(at) },
                    state: state, timesStuck: stuckCount[id] ?? 0))
        }
        let links = await driver.engine.linkStats().map { k, s in
            ScenarioReport.LinkLine(source: k.source, destination: k.destination, finished: s.finished, failed: s.failed, bytes: s.bytes)
        }
        return ScenarioReport(
            scenario: scenario.name, seed: scenario.seed, simulated: offset(driver.clock.now()), wallSeconds: wallSeconds,
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
        var v = Double(b)
        var i = 0
        while v >= 1000 && i < units.count - 1 {
            v /= 1000
            i += 1
        }
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
            out +=
                "  \(name.padding(toLength: 28, withPad: " ", startingAt: 0)) added t=\(Durations.format(r.addedAt).padding(toLength: 8, withPad: " ", startingAt: 0)) \(done.padding(toLength: 20, withPad: " ", startingAt: 0)) now \(r.state)\(r.timesStuck > 0 ? ", stuck \(r.timesStuck)x" : "")\n"
        }
        out += "\nTransfers per link\n"
        if links.isEmpty { out += "  (none)\n" }
        for l in links {
            out +=
                "  \("\(l.source) -> \(l.destination)".padding(toLength: 28, withPad: " ", startingAt: 0)) \(String(l.finished).leftPad(7)) done \(String(l.failed).leftPad(6)) failed \(Self.bytes(l.bytes).leftPad(10))\n"
        }
        let finished = links.reduce(0) { $0 + $1.finished }
        let failed = links.reduce(0) { $0 + $1.failed }
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
            "rules": .array(
                rules.map { r in
                    [
                        "id": .string(r.id), "label": r.label.map(JSON.string) ?? .null, "added_at": .double(r.addedAt),
                        "ok_after": r.okAfter.map(JSON.double) ?? .null, "state": .string(r.state), "times_stuck": .int(Int64(r.timesStuck)),
                    ]
                }),
            "links": .array(
                links.map { l in
                    [
                        "source": .string(l.source), "destination": .string(l.destination), "finished": .int(Int64(l.finished)),
                        "failed": .int(Int64(l.failed)), "bytes": .int(l.bytes),
                    ]
                }),
            "expectations": .array(
                expectations.map { e in
                    ["expectation": .string(e.expectation), "passed": .bool(e.passed), "actual": .string(e.actual), "line": .int(Int64(e.line))]
                }),
        ]
    }
}

extension String {
    func leftPad(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
}
