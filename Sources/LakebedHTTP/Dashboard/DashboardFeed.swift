import Foundation
import LakebedCore
import LakebedDaemons
import LakebedFTS

/// What the dashboard shows, as JSON documents built from the catalog and the transfer engine. Snapshots are
/// shared by every open dashboard and rebuilt at most every `maxAge`, so thirty browsers cost one query set.
actor DashboardFeed {
    let driver: LakeDriver
    let maxAge: Duration
    /// How many rules the dashboard lists (rules that are not OK first, then the newest).
    let ruleLimit: Int
    private var cached: (at: ContinuousClock.Instant, lake: JSON, rules: JSON)?

    init(driver: LakeDriver, maxAge: Duration = .milliseconds(200), ruleLimit: Int = 200) {
        self.driver = driver
        self.maxAge = maxAge
        self.ruleLimit = ruleLimit
    }

    /// The lake (clock, RSEs, links, transfers in flight) and the rules, each as one document.
    /// The clock is read fresh every time (it is cheap, and a presenter's pause must never be undone on screen
    /// by an older snapshot); the rest is shared for `maxAge`.
    func snapshot() async throws -> (lake: JSON, rules: JSON) {
        let now = ContinuousClock.now
        if cached == nil || now - cached!.at >= maxAge {
            cached = (now, try await lakeDoc(), try await rulesDoc())
        }
        var lake = JSONObject()
        lake["clock"] = ControlAPI(driver: driver).clockDoc()
        for (k, v) in cached!.lake.objectValue ?? JSONObject() { lake[k] = v }
        return (.object(lake), cached!.rules)
    }

    func lakeDoc() async throws -> JSON {
        let engine = driver.engine
        let topology = await engine.topology
        let stats = await engine.linkStats()
        let files = await engine.activeFiles()
        let rses = try await driver.catalog.overview.rseOverview()
        let names = Set(rses.map(\.rse.rse))
        var links: [LinkKey: JSONObject] = [:]
        // Every link a transfer may take is drawn from the start: the pairs with a distance, then any set explicitly.
        for p in try await driver.catalog.overview.distancePairs() {
            let k = LinkKey(p.source, p.destination)
            var o = ControlAPI.linkDoc(k, topology.settings(p.source, p.destination)).objectValue ?? JSONObject()
            o["distance"] = .int(Int64(p.distance))
            links[k] = o
        }
        for (k, s) in topology.links where names.contains(k.source) && names.contains(k.destination) {
            var o = ControlAPI.linkDoc(k, s).objectValue ?? JSONObject()
            if let d = links[k]?["distance"] { o["distance"] = d }
            links[k] = o
        }
        for (k, s) in stats {
            var o = links[k] ?? ControlAPI.linkDoc(k, topology.settings(k.source, k.destination)).objectValue ?? JSONObject()
            for (key, value) in ControlAPI.linkStatsDoc(k, s).objectValue ?? JSONObject() { o[key] = value }
            links[k] = o
        }
        return [
            "rses": .array(rses.map(Self.rseDoc)),
            "links": .array(links.sorted { $0.key < $1.key }.map { .object($0.value) }),
            "transfers": .array(files.map(ControlAPI.transferDoc)),
            "last_event": .int(Int64(driver.catalog.events.lastSeq)),
        ]
    }

    func rulesDoc() async throws -> JSON {
        let counts = try await driver.catalog.overview.ruleCounts()
        var byState = JSONObject()
        for s in RuleState.allCases { byState[s.name] = .int(Int64(counts[s] ?? 0)) }
        let rules = try await driver.catalog.overview.recentRules(limit: ruleLimit)
        let now = driver.clock.now()
        return [
            "counts": .object(byState), "total": .int(Int64(counts.values.reduce(0, +))), "rules": .array(rules.map { Self.ruleDoc($0, now: now) }),
        ]
    }

    static func rseDoc(_ o: RSEOverview) -> JSON {
        let r = o.rse
        return [
            "name": .string(r.rse), "type": .string(r.rseType), "up": .bool(r.availabilityRead && r.availabilityWrite),
            "availability": ["read": .bool(r.availabilityRead), "write": .bool(r.availabilityWrite), "delete": .bool(r.availabilityDelete)],
            "used": .int(o.usedBytes), "files": .int(o.files),
            "incoming_files": .int(o.incomingFiles), "incoming_bytes": .int(o.incomingBytes), "stuck_files": .int(o.stuckFiles),
        ]
    }

    /// A rule's row; `retry` is the judge-repairer's next try of a STUCK rule (`retry 2 in 20 min`, lake time `now`).
    static func ruleDoc(_ r: Rule, now: Date) -> JSON {
        [
            "id": .string(r.id), "did": .string("\(r.scope):\(r.name)"), "did_type": .string(r.didType.rawValue),
            "rse_expression": .string(r.rseExpression), "copies": .int(Int64(r.copies)), "state": .string(r.state.name),
            "locks_ok": .int(Int64(r.locksOK)), "locks_replicating": .int(Int64(r.locksReplicating)), "locks_stuck": .int(Int64(r.locksStuck)),
            "error": r.error.map(JSON.string) ?? .null, "retry": r.repair.map { .string($0.summary(now: now)) } ?? .null,
            "retry_at": r.repair.map { .string(RucioDate.isoMillis($0.at)) } ?? .null, "account": .string(r.account), "activity": .string(r.activity),
            "created_at": .string(RucioDate.isoMillis(r.createdAt)), "updated_at": .string(RucioDate.isoMillis(r.updatedAt)),
            "expires_at": r.expiresAt.map { .string(RucioDate.isoMillis($0)) } ?? .null,
        ]
    }

    /// One rule with its locks, its transfer requests and the events about it (the rule panel).
    func ruleDetail(_ id: String) async throws -> JSON {
        let catalog = driver.catalog
        let rule = try await catalog.rules.rule(id)
        let locks = try await catalog.rules.locks(ofRule: id)
        let requests = try await catalog.overview.requests(ofRule: id)
        // Transfer events name the file and the destination, not the rule: match them against the rule's locks.
        let lockKeys = Set(locks.map { "\($0.scope):\($0.name)|\($0.rse)" })
        let events = catalog.events.all.filter { e in
            if e.field("rule") == id { return true }
            guard e.kind.hasPrefix("transfer."), let did = e.field("did"), let dst = e.field("dst") else { return false }
            return lockKeys.contains("\(did)|\(dst)")
        }.suffix(500)
        return [
            "rule": Self.ruleDoc(rule, now: driver.clock.now()),
            "locks": .array(
                locks.map { l in
                    ["did": .string("\(l.scope):\(l.name)"), "rse": .string(l.rse), "state": .string(l.state.name), "bytes": .int(l.bytes)]
                }),
            "requests": .array(
                requests.map { q in
                    [
                        "did": .string("\(q.scope):\(q.name)"), "source": q.sourceRSE.map(JSON.string) ?? .null, "destination": .string(q.destRSE),
                        "state": .string(q.state.rawValue), "retry_count": .int(Int64(q.retryCount)), "error": q.errMsg.map(JSON.string) ?? .null,
                        "bytes": .int(q.bytes), "requested_at": q.requestedAt.map { .string(RucioDate.isoMillis($0)) } ?? .null,
                        "transferred_at": q.transferredAt.map { .string(RucioDate.isoMillis($0)) } ?? .null,
                    ]
                }),
            "events": .array(events.map(\.json)),
        ]
    }
}
