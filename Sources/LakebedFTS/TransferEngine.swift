public import Foundation
public import LakebedCore
public import Logging

/// The emulated FTS: takes the transfer requests Rucio's conveyor submitter hands it, groups them into jobs per link,
/// moves the bytes on the lake clock (latency, then the link's bandwidth shared by the transfers on it, at most
/// `concurrency` at once), verifies checksums, and tells the conveyor's poller what became of each. Jobs submitted
/// directly (FTS's REST API) run the same way without the conveyor.
///
/// Everything is a discrete-event simulation driven by `run(until:)`: given the same catalog, topology and seed,
/// the same calls produce the same events in the same order, whatever the speed of the machine.
public actor TransferEngine {
    /// The catalog whose transfer requests the engine takes and whose clock it runs on.
    public let catalog: Catalog
    /// Name the engine gives itself as the requests' `external_host` (Rucio's FTS host), `lakebed-fts` by default.
    public let host: String
    let logger: Logger
    /// Link settings the engine moves bytes by; changed with `setTopology` and `updateLink`.
    public private(set) var topology: Topology
    /// The catalog's retry policy (the judge-repairer and rule reads use the same one).
    public var policy: RetryPolicy { catalog.retryPolicy }
    /// Files per job when the conveyor submits.
    public var filesPerJob = 100
    /// Requests the conveyor claims per pass.
    public var claimBatch = 5_000

    private var rng: SplitMix64
    private var jobIDs: SplitMix64
    private var simTime: Date
    private var nextFileID = 1
    private var jobs: [String: FTSJob] = [:]
    private var jobOrder: [String] = []
    private var files: [Int: FTSFile] = [:]
    /// Files waiting for a slot, per link, in submission order.
    private var waiting: [LinkKey: WaitingQueue] = [:]
    /// Files active per link.
    private var active: [LinkKey: [Int]] = [:]
    private var stats: [LinkKey: LinkStats] = [:]
    private var sinks: [@Sendable (TransferEvent) -> Void] = []
    private var busy = false
    /// Rucio's conveyor, both ends: the submitter FTS takes work from, the poller it reports to.
    private let submitter: ConveyorSubmitter
    private let poller: ConveyorPoller
    private var waiters: [CheckedContinuation<Void, Never>] = []
    /// Finished jobs kept for inspection.
    public var jobHistory = 10_000
    /// Delegated proxies the transfers of certificate jobs run on (nil: none are checked).
    private var credentials: (any DelegatedCredentials)?
    /// Unfinished jobs that run on a delegated credential (`credentialID` set).
    private var delegatedJobs: Set<String> = []

    public init(
        catalog: Catalog, topology: Topology = Topology(), policy: RetryPolicy = RetryPolicy(), seed: UInt64 = 0,
        host: String = "lakebed-fts", logger: Logger = Logger(label: "lakebed.fts")
    ) {
        self.catalog = catalog
        self.topology = topology
        catalog.retryPolicy = policy
        self.rng = SplitMix64(seed: seed)
        self.jobIDs = SplitMix64(seed: seed ^ 0xF75_F75)
        self.simTime = catalog.clock.now()
        self.host = host
        self.logger = logger
        self.submitter = ConveyorSubmitter(catalog: catalog)
        self.poller = ConveyorPoller(catalog: catalog)
    }

    // MARK: configuration

    public func setTopology(_ t: Topology) { topology = t }
    public func updateLink(_ src: String, _ dst: String, _ change: @Sendable (inout LinkSettings) -> Void) { topology.update(src, dst, change) }
    public func setPolicy(_ p: RetryPolicy) { catalog.retryPolicy = p }
    /// Extra wait before bytes leave an RSE (a tape RSE staging files to its disk buffer).
    public private(set) var stagingDelays: [String: TimeInterval] = [:]
    public func setStagingDelay(_ rse: String, _ seconds: TimeInterval?) { stagingDelays[rse] = seconds }
    /// The store of delegated proxies that certificate jobs' transfers need.
    public func setCredentials(_ store: (any DelegatedCredentials)?) { credentials = store }
    public func addEventSink(_ sink: @escaping @Sendable (TransferEvent) -> Void) { sinks.append(sink) }
    /// Restarts the random sequences (scenario reset).
    public func reseed(_ seed: UInt64) {
        rng = SplitMix64(seed: seed)
        jobIDs = SplitMix64(seed: seed ^ 0xF75_F75)
    }

    /// Drops every job and file (after a catalog reset or restore); requests in flight are requeued by the catalog.
    public func reset(at time: Date) {
        jobs = [:]
        jobOrder = []
        files = [:]
        waiting = [:]
        active = [:]
        stats = [:]
        delegatedJobs = []
        nextFileID = 1
        simTime = time
    }

    // MARK: driving

    /// Processes every event up to `target` (on the lake clock), in time order.
    public func run(until target: Date) async throws {
        await acquire()
        defer { release() }
        if target < simTime { return }
        var t = simTime
        while true {
            try await admit(at: t)
            try await startWaiting(at: t)
            var next = nextInternalEvent()
            if let wake = try await submitter.nextRequestWakeup(), wake > t { next = min(next ?? wake, wake) }
            guard let ev = next, ev <= target else {
                advanceProgress(from: t, to: target)
                simTime = target
                return
            }
            advanceProgress(from: t, to: ev)
            t = ev
            simTime = t
            try await completeDue(at: t)
        }
    }

    /// `run(until: clock.now())`.
    public func step() async throws { try await run(until: catalog.clock.now()) }

    /// When the next thing happens by itself (a transfer's first byte or last byte, a retry becoming due).
    public func nextEventTime() async throws -> Date? {
        var next = nextInternalEvent()
        if let wake = try await submitter.nextRequestWakeup() { next = min(next ?? wake, wake) }
        if try await submitter.hasEligibleRequests(at: simTime) { next = min(next ?? simTime, simTime) }
        return next
    }

    // MARK: FTS's API

    /// Submits a job directly (FTS's `POST /jobs`); it starts at the next step. `jobID`: the id to file it under
    /// (FTS's REST API gives random ones); nil takes the next from the seeded sequence, as the conveyor's jobs do.
    /// `credentialID`: the delegation whose proxy the transfers run on (a certificate submission), checked with
    /// `credentials` when each transfer starts and ends.
    public func submit(
        files specs: [FTSFileSpec], submitter: String, jobID: String? = nil, priority: Int = 3, verifyChecksum: String = "b",
        metadata: String? = nil, overwrite: Bool = false, credentialID: String? = nil
    ) -> FTSJob {
        makeJob(
            specs, submitter: submitter, jobID: jobID, priority: priority, verifyChecksum: verifyChecksum, metadata: metadata,
            overwrite: overwrite, credentialID: credentialID, at: max(simTime, catalog.clock.now()))
    }

    public func job(_ id: String) -> FTSJob? { jobs[id] }
    public func files(ofJob id: String) -> [FTSFile] { (jobs[id]?.fileIDs ?? []).compactMap { files[$0] } }
    public func file(_ id: Int) -> FTSFile? { files[id] }

    /// Jobs, newest first, optionally filtered by state and by who submitted them.
    public func listJobs(states: Set<FTSJobState>? = nil, submitter: String? = nil, limit: Int = 1000) -> [FTSJob] {
        var out: [FTSJob] = []
        for id in jobOrder.reversed() {
            guard let j = jobs[id] else { continue }
            if let states, !states.contains(j.state) { continue }
            if let submitter, j.submitter != submitter { continue }
            out.append(j)
            if out.count >= limit { break }
        }
        return out
    }

    /// Cancels a job's files that have not finished (FTS's `DELETE /jobs/<id>`).
    public func cancel(job id: String) async throws -> FTSJob? {
        guard let job = jobs[id] else { return nil }
        let now = max(simTime, catalog.clock.now())
        for fid in job.fileIDs {
            guard var f = files[fid], !f.state.isTerminal else { continue }
            let link = LinkKey(f.spec.sourceSE, f.spec.destSE)
            waiting[link]?.remove(fid)
            active[link]?.removeAll { $0 == fid }
            f.state = .canceled
            f.reason = "Job canceled by the user"
            f.finishTime = now
            files[fid] = f
            emit(.canceled, f, at: now, reason: f.reason)
            if let rid = f.spec.requestID {
                try await poller.transferCanceled(requestID: rid, at: now, policy: policy)
            }
        }
        updateJobState(id, at: now)
        return jobs[id]
    }

    /// Totals per link, sorted by link.
    public func linkStats() -> [(LinkKey, LinkStats)] {
        var all = stats
        for (k, v) in active { all[k, default: LinkStats()].active = v.count }
        for (k, v) in waiting { all[k, default: LinkStats()].queued = v.count }
        return all.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    /// Files moving right now, with their progress (for dashboards).
    public func activeFiles() -> [FTSFile] {
        active.keys.sorted().flatMap { active[$0]!.compactMap { files[$0] } }
    }

    // MARK: internals

    private func acquire() async {
        while busy { await withCheckedContinuation { waiters.append($0) } }
        busy = true
    }

    private func release() {
        busy = false
        if !waiters.isEmpty { waiters.removeFirst().resume() }
    }

    private func newJobID() -> String {
        let a = jobIDs.next()
        let b = jobIDs.next()
        let h = String(format: "%016llx%016llx", a, b)
        let c = Array(h)
        return "\(String(c[0..<8]))-\(String(c[8..<12]))-\(String(c[12..<16]))-\(String(c[16..<20]))-\(String(c[20..<32]))"
    }

    @discardableResult
    private func makeJob(
        _ specs: [FTSFileSpec], submitter: String, jobID: String? = nil, priority: Int, verifyChecksum: String,
        metadata: String?, overwrite: Bool, credentialID: String? = nil, at time: Date
    ) -> FTSJob {
        let id = jobID.flatMap { jobs[$0] == nil ? $0 : nil } ?? newJobID()
        var ids: [Int] = []
        for spec in specs {
            let fid = nextFileID
            nextFileID += 1
            let f = FTSFile(
                fileID: fid, jobID: id, spec: spec, state: .submitted, reason: "", submitTime: time, startTime: nil,
                finishTime: nil, remaining: Double(spec.bytes), flowFrom: nil, plannedFailure: nil)
            files[fid] = f
            let link = LinkKey(spec.sourceSE, spec.destSE)
            waiting[link, default: WaitingQueue()].append(fid)
            stats[link, default: LinkStats()].submitted += 1
            ids.append(fid)
            emit(.submitted, f, at: time)
        }
        let job = FTSJob(
            jobID: id, state: .submitted, submitTime: time, finishTime: nil, submitter: submitter, priority: priority,
            verifyChecksum: verifyChecksum, metadata: metadata, fileIDs: ids, reason: "", overwrite: overwrite,
            credentialID: credentialID)
        jobs[id] = job
        if credentialID != nil { delegatedJobs.insert(id) }
        jobOrder.append(id)
        trimHistory()
        return job
    }

    private func trimHistory() {
        guard jobOrder.count > jobHistory else { return }
        var keep: [String] = []
        var excess = jobOrder.count - jobHistory
        for id in jobOrder {
            if excess > 0, let j = jobs[id], j.state.isTerminal {
                for fid in j.fileIDs { files[fid] = nil }
                jobs[id] = nil
                excess -= 1
            } else {
                keep.append(id)
            }
        }
        jobOrder = keep
    }

    /// Takes what the conveyor's submitter has for FTS now, as bulk jobs of at most `filesPerJob`, one per link.
    private func admit(at t: Date) async throws {
        guard try await submitter.hasEligibleRequests(at: t) else { return }
        let claimed = try await submitter.claimQueuedRequests(now: t, limit: claimBatch, policy: policy, externalHost: host)
        guard !claimed.isEmpty else { return }
        var byLink: [LinkKey: [FTSFileSpec]] = [:]
        var linkOrder: [LinkKey] = []
        for a in claimed {
            let k = LinkKey(a.sourceSE, a.destSE)
            if byLink[k] == nil { linkOrder.append(k) }
            byLink[k, default: []].append(a)
        }
        var pairs: [(requestID: String, externalID: String)] = []
        for k in linkOrder {
            let group = byLink[k]!
            var i = 0
            while i < group.count {
                let chunk = group[i..<min(i + filesPerJob, group.count)]
                i += filesPerJob
                let job = makeJob(
                    Array(chunk), submitter: "rucio", priority: chunk.map(\.priority).max() ?? 3, verifyChecksum: "b",
                    metadata: nil, overwrite: true, at: t)
                for a in chunk { if let rid = a.requestID { pairs.append((rid, job.jobID)) } }
            }
        }
        try await submitter.setExternalIDs(pairs)
    }

    /// Gives free slots on each link to waiting files (FIFO), deciding now whether each will fail.
    private func startWaiting(at t: Date) async throws {
        let revoked = await revokedCredentials()
        var started: [String] = []
        var failedJobs: [String] = []
        for link in waiting.keys.sorted() {
            guard waiting[link]?.isEmpty == false else { continue }
            // Taken out and put back, so that changing them does not copy them (the dictionaries keep no second reference).
            var queue = waiting.removeValue(forKey: link) ?? WaitingQueue()
            var act = active.removeValue(forKey: link) ?? []
            defer {
                waiting[link] = queue
                active[link] = act
            }
            let settings = topology.settings(link.source, link.destination)
            while act.count < max(1, settings.concurrency), let fid = queue.popFirst() {
                guard var f = files[fid] else { continue }
                if let reason = revoked[f.jobID] {
                    // Without its delegated proxy the transfer cannot start: it fails without taking a slot.
                    f.state = .failed
                    f.reason = reason
                    f.finishTime = t
                    f.remaining = 0
                    files[fid] = f
                    stats[link, default: LinkStats()].failed += 1
                    emit(.failed, f, at: t, reason: reason)
                    if failedJobs.last != f.jobID { failedJobs.append(f.jobID) }
                    continue
                }
                f.state = .active
                f.startTime = t
                f.flowFrom = t.addingTimeInterval(max(0, settings.latency) + (stagingDelays[link.source] ?? 0))
                if settings.down {
                    f.plannedFailure = settings.failureReason ?? "TRANSFER [113] Connection to \(link.destination) failed: link \(link) is down"
                    f.remaining = 0
                } else if settings.failureRate > 0, rng.unit() < settings.failureRate {
                    f.plannedFailure = settings.failureReason ?? "TRANSFER [5] Transfer failed on link \(link): injected failure"
                }
                files[fid] = f
                act.append(fid)
                if let rid = f.spec.requestID { started.append(rid) }
                setJobActive(f.jobID)
                emit(.started, f, at: t)
            }
        }
        for j in failedJobs { updateJobState(j, at: t) }
        if !started.isEmpty { try await poller.transfersStarted(started, at: t) }
    }

    /// Why each unfinished certificate job may not run now (its delegated credential deleted or expired), by job id.
    /// Asked before the queues are touched, so nothing submitted meanwhile is lost.
    private func revokedCredentials() async -> [String: String] {
        guard let credentials, !delegatedJobs.isEmpty else { return [:] }
        var checked: [String: String] = [:]
        var valid: Set<String> = []
        var out: [String: String] = [:]
        for id in delegatedJobs.sorted() {
            guard let j = jobs[id], let cred = j.credentialID else { continue }
            let key = cred + "\u{0}" + j.submitter
            if checked[key] == nil && !valid.contains(key) {
                if let reason = await credentials.refusal(delegationID: cred, dn: j.submitter) { checked[key] = reason } else { valid.insert(key) }
            }
            if let reason = checked[key] { out[id] = "TRANSFER [13] " + reason }
        }
        return out
    }

    /// The earliest first-byte or last-byte among active transfers.
    private func nextInternalEvent() -> Date? {
        var best: Date? = nil
        for (link, ids) in active where !ids.isEmpty {
            let s = topology.settings(link.source, link.destination)
            let flowing = ids.compactMap { files[$0] }.filter { $0.flowFrom.map { $0 <= simTime } ?? false }
            let share = s.bandwidth / Double(max(1, flowing.count))
            for id in ids {
                guard let f = files[id], let from = f.flowFrom else { continue }
                let when: Date
                if from > simTime {
                    when = from
                } else if f.remaining <= Self.tolerance(share) || share.isInfinite {
                    when = simTime
                } else if share <= 0 {
                    continue
                } else {
                    when = simTime.addingTimeInterval(f.remaining / share)
                }
                best = min(best ?? when, when)
            }
        }
        return best
    }

    /// Bytes small enough to count as arrived: half a byte, or a millisecond's worth (absorbs clock rounding).
    static func tolerance(_ share: Double) -> Double { share.isFinite ? max(0.5, share * 1e-3) : .infinity }

    /// Moves bytes on every link from `from` to `to` (no transfer starts or ends in between).
    private func advanceProgress(from: Date, to: Date) {
        let dt = to.timeIntervalSince(from)
        guard dt > 0 else { return }
        for (link, ids) in active where !ids.isEmpty {
            let s = topology.settings(link.source, link.destination)
            let flowing = ids.filter { files[$0]?.flowFrom.map { $0 <= from } ?? false }
            guard !flowing.isEmpty else { continue }
            let share = s.bandwidth / Double(flowing.count)
            for id in flowing { files[id]!.remaining = max(0, files[id]!.remaining - share * dt) }
        }
    }

    /// Ends every transfer whose last byte has arrived by `t`: copies and verifies the bytes, then reports them
    /// to the catalog together, in one transaction.
    private func completeDue(at t: Date) async throws {
        let revoked = await revokedCredentials()
        var ended: [(id: Int, link: LinkKey, failure: String?)] = []
        // A site that went down while the bytes were moving fails the transfer, as a storage element would.
        var availability: [String: (read: Bool, write: Bool)]? = nil
        for link in active.keys.sorted() {
            let ids = active[link] ?? []
            let s = topology.settings(link.source, link.destination)
            let flowing = ids.compactMap { files[$0] }.filter { $0.flowFrom.map { $0 <= t } ?? false }
            let tol = Self.tolerance(s.bandwidth / Double(max(1, flowing.count)))
            var keep: [Int] = []
            for id in ids {
                guard let f = files[id], let from = f.flowFrom, from <= t, f.remaining <= tol else {
                    keep.append(id)
                    continue
                }
                if availability == nil { availability = try await catalog.rses.rseAvailability() }
                var outage: String? = nil
                if availability?[link.destination]?.write == false {
                    outage = "DESTINATION [503] \(link.destination) is not available for writing"
                } else if availability?[link.source]?.read == false {
                    outage = "SOURCE [503] \(link.source) is not available for reading"
                }
                ended.append((id, link, finishBytes(id, link: link, at: t, outage: revoked[f.jobID] ?? outage)))
            }
            active[link] = keep
        }
        guard !ended.isEmpty else { return }
        let rucio = ended.compactMap { e -> (requestID: String, failure: String?, virtual: Bool)? in
            guard let f = files[e.id], let rid = f.spec.requestID else { return nil }
            return (rid, e.failure, f.spec.isVirtual)
        }
        let outcomes = rucio.isEmpty ? [] : try await poller.transfersEnded(rucio, at: t, policy: policy)
        var outcomeByRequest: [String: ConveyorFinisher.FinishOutcome] = [:]
        for (item, o) in zip(rucio, outcomes) { outcomeByRequest[item.requestID] = o }
        var jobsTouched: [String] = []
        for e in ended {
            guard let f = files[e.id] else { continue }
            if let rid = f.spec.requestID, let outcome = outcomeByRequest[rid] {
                switch outcome {
                case .retry: emit(.retry, f, at: t, reason: e.failure)
                case .stuck: emit(.stuck, f, at: t, reason: e.failure)
                case .orphaned: if e.failure == nil && !f.spec.isVirtual { try? FileManager.default.removeItem(atPath: f.spec.destPath) }
                case .done: break
                }
            }
            if jobsTouched.last != f.jobID { jobsTouched.append(f.jobID) }
        }
        for j in jobsTouched { updateJobState(j, at: t) }
    }

    /// Finishes one file's bytes (copy and verify, or the planned failure); returns the failure, if any.
    private func finishBytes(_ id: Int, link: LinkKey, at t: Date, outage: String?) -> String? {
        guard var f = files[id] else { return nil }
        var failure = f.plannedFailure ?? outage
        if failure == nil && topology.settings(link.source, link.destination).down {
            failure = "TRANSFER [113] Connection to \(link.destination) failed: link \(link) is down"
        }
        if failure == nil && !f.spec.isVirtual {
            failure = Self.copyBytes(f.spec, overwrite: f.spec.requestID != nil || (jobs[f.jobID]?.overwrite ?? false))
        }
        f.finishTime = t
        f.remaining = 0
        if let failure {
            f.state = .failed
            f.reason = failure
            stats[link, default: LinkStats()].failed += 1
        } else {
            f.state = .finished
            stats[link, default: LinkStats()].finished += 1
            stats[link, default: LinkStats()].bytes += f.spec.bytes
        }
        files[id] = f
        emit(f.state == .finished ? .finished : .failed, f, at: t, reason: failure)
        return failure
    }

    /// Copies the bytes to a temporary name, checks size and adler32, then renames into place.
    /// Returns an FTS-style error, or nil on success.
    static func copyBytes(_ spec: FTSFileSpec, overwrite: Bool) -> String? {
        let fm = FileManager.default
        guard fm.fileExists(atPath: spec.sourcePath) else {
            return "SOURCE [2] Failed to stat \(spec.sourceURL): No such file or directory"
        }
        if fm.fileExists(atPath: spec.destPath) && !overwrite {
            return "DESTINATION [17] Destination file exists and overwrite is not enabled"
        }
        let part = RSEStorage.partialPath(beside: spec.destPath)
        do {
            try fm.createDirectory(atPath: (spec.destPath as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try? fm.removeItem(atPath: part)
            try fm.copyItem(atPath: spec.sourcePath, toPath: part)
            let sums = try Checksums.ofFile(at: part)
            if let expected = spec.adler32, sums.adler32.lowercased() != Self.normalizeAdler32(expected) {
                try? fm.removeItem(atPath: part)
                return "CHECKSUM MISMATCH Source and destination checksums do not match (expected adler32 \(expected), got \(sums.adler32))"
            }
            if sums.bytes != spec.bytes && spec.bytes > 0 {
                try? fm.removeItem(atPath: part)
                return "DESTINATION SIZE MISMATCH expected \(spec.bytes) bytes, got \(sums.bytes)"
            }
            try? fm.removeItem(atPath: spec.destPath)
            try fm.moveItem(atPath: part, toPath: spec.destPath)
            return nil
        } catch {
            try? fm.removeItem(atPath: part)
            return "TRANSFER [5] copy failed: \(error.localizedDescription)"
        }
    }

    /// adler32 as 8 lower-case hex digits (FTS accepts `ADLER32:xxxx`, clients sometimes drop leading zeros).
    static func normalizeAdler32(_ s: String) -> String {
        var v = s.lowercased()
        if let colon = v.firstIndex(of: ":") { v = String(v[v.index(after: colon)...]) }
        return String(repeating: "0", count: max(0, 8 - v.count)) + v
    }

    private func setJobActive(_ id: String) {
        if var j = jobs[id], j.state == .submitted || j.state == .ready {
            j.state = .active
            jobs[id] = j
        }
    }

    private func updateJobState(_ id: String, at t: Date) {
        guard var j = jobs[id] else { return }
        let states = j.fileIDs.compactMap { files[$0]?.state }
        guard states.allSatisfy(\.isTerminal) else { return }
        let finished = states.filter { $0 == .finished }.count
        let canceled = states.filter { $0 == .canceled }.count
        if canceled > 0 && finished == 0 {
            j.state = .canceled
        } else if finished == states.count {
            j.state = .finished
        } else if finished == 0 {
            j.state = .failed
        } else {
            j.state = .finishedDirty
        }
        j.finishTime = t
        if j.state != .finished {
            j.reason = j.fileIDs.compactMap { files[$0] }.first { $0.state != .finished }?.reason ?? ""
        }
        jobs[id] = j
        delegatedJobs.remove(id)
    }

    private func emit(_ kind: TransferEvent.Kind, _ f: FTSFile, at t: Date, reason: String? = nil) {
        guard !sinks.isEmpty else { return }
        let e = TransferEvent(
            time: t, kind: kind, jobID: f.jobID, fileID: f.fileID, source: f.spec.sourceSE, destination: f.spec.destSE,
            bytes: f.spec.bytes, requestID: f.spec.requestID,
            did: f.spec.scope.map { "\($0):\(f.spec.name ?? "")" }, reason: reason)
        for s in sinks { s(e) }
    }
}
