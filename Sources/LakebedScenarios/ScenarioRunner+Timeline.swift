public import Foundation
import LakebedCore
import LakebedDaemons
import LakebedFTS
import LakebedIAM
import LakebedOIDC
import Synchronization

/// The timeline: events due on the lake clock, faults injected by name, each action applied and logged.
extension ScenarioRunner {
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
            if read != nil { ops.append("read") }
            if write != nil { ops.append("write") }
            if delete != nil { ops.append("delete") }
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
            catalog.faults.addAPIFault(
                Faults.APIFault(pathPrefix: path, method: method, status: status, delay: delay, until: duration.map { time.addingTimeInterval($0) }))
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
                log.append(
                    time, "scenario.add_rule", [("did", r.did.description), ("rse_expression", r.rseExpression), ("copies", String(r.copies))])
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
        case .double(let d): return d.logText
        case .int(let i): return String(i)
        case .bool(let b): return b ? "true" : "false"
        default: return v.serialized()
        }
    }
}
