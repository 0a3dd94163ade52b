import Foundation
import LakebedCore
import LakebedDaemons
import LakebedFTS
import LakebedIAM
import LakebedOIDC
import Synchronization

/// Reset, snapshots and restores of the whole lake (catalog, RSE bytes, the runner's own labels and progress).
extension ScenarioRunner {
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
        let final = try snapshotDir(name)
        let partial = final + ".partial"
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
            let o = (try? JSONParser.parse(Array(data)))?.objectValue
        else { return nil }
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
        state.withLock { s in
            s.ruleLabels = labels
            s.nextEvent = next
            s.results = [:]
        }
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
