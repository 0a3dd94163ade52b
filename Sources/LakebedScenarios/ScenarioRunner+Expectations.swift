import Foundation
import LakebedCore
import LakebedDaemons
import LakebedFTS
import LakebedIAM
import LakebedOIDC
import Synchronization

/// Expectations: checked when due, and at the end.
extension ScenarioRunner {
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
                } catch {
                    actual = "GONE"
                    passed = want == "GONE"
                }
            } else {
                actual = "never created"
            }
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
}
