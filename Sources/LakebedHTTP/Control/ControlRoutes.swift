import Foundation
public import HTTPTypes
public import Hummingbird
public import LakebedCore
public import LakebedDaemons
import LakebedFTS
public import LakebedIAM
public import LakebedScenarios

/// Lakebed's own control API under `/lakebed/`: the clock, the links, the transfers in flight.
/// It is what CI suites and workshop presenters call. Bodies must be JSON (`application/json`), so a web page cannot
/// post a form or plain text to it; with a control token (`serve --control-token`), every request must carry it.
public struct ControlAPI: Sendable {
    let driver: LakeDriver
    let scenario: ScenarioRunner?
    let iam: IAM?
    let token: String?

    /// The header a control token travels in (`Authorization: Bearer <token>` works too).
    public static let tokenHeader = "X-Lakebed-Control-Token"

    public init(driver: LakeDriver, scenario: ScenarioRunner? = nil, iam: IAM? = nil, token: String? = nil) {
        self.driver = driver
        self.scenario = scenario
        self.iam = iam
        self.token = token.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Refuses requests without the control token (when one is set) and bodies that are not JSON.
    func admit(_ r: RucioRequest) throws {
        if let token {
            let bearer = r.header("Authorization").flatMap { $0.lowercased().hasPrefix("bearer ") ? String($0.dropFirst(7)) : nil }
            let given = r.header(Self.tokenHeader) ?? bearer?.trimmingCharacters(in: .whitespaces)
            guard let given, Self.sameSecret(given, token) else {
                throw RucioError(.cannotAuthenticate, "The control API needs its token (header \(Self.tokenHeader), or Authorization: Bearer)")
            }
        }
        let type = r.header("Content-Type")
        if let type, !Self.isJSON(type) {
            throw ControlError.unsupportedMediaType(
                "The control API takes JSON bodies (Content-Type: application/json), not \(Validation.printable(type))")
        }
        if type == nil, !r.body.isEmpty {
            throw ControlError.unsupportedMediaType("The control API takes JSON bodies: send Content-Type: application/json")
        }
    }

    /// `application/json`, or any `+json` type, with or without parameters.
    static func isJSON(_ contentType: String) -> Bool {
        let media = contentType.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        return media == "application/json" || (media.hasPrefix("application/") && media.hasSuffix("+json"))
    }

    /// Compares in time independent of where the strings differ.
    static func sameSecret(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        var diff = x.count ^ y.count
        for i in 0..<max(x.count, y.count) { diff |= Int((i < x.count ? x[i] : 0) ^ (i < y.count ? y[i] : 0)) }
        return diff == 0
    }

    func runner() throws -> ScenarioRunner {
        guard let scenario else { throw LakeError.notFound("No scenario is loaded (start with `lakebed serve --scenario FILE`)") }
        return scenario
    }

    public var mount: Mount {
        var t = RouteTable()
        register(&t)
        let api = self
        return Mount(prefix: "/lakebed", table: t, errors: ControlError.self, admit: { r in try api.admit(r) })
    }

    func clockDoc() -> JSON {
        let c = driver.clock
        let now = c.now()
        return [
            "now": .string(ISO8601DateFormatter().string(from: now)), "epoch": .double(now.timeIntervalSince1970),
            "scale": .double(c.scale), "paused": .bool(c.isPaused), "manual": .bool(c.isManual),
        ]
    }

    static func linkDoc(_ key: LinkKey?, _ s: LinkSettings) -> JSON {
        var o = JSONObject()
        if let key {
            o["source"] = .string(key.source)
            o["destination"] = .string(key.destination)
        }
        o["bandwidth"] = .double(s.bandwidth)
        o["latency"] = .double(s.latency)
        o["concurrency"] = .int(Int64(s.concurrency))
        o["failure_rate"] = .double(s.failureRate)
        o["down"] = .bool(s.down)
        o["failure_reason"] = s.failureReason.map(JSON.string) ?? .null
        return .object(o)
    }

    /// Totals of one link: transfers submitted/finished/failed, bytes moved, active and queued now.
    static func linkStatsDoc(_ k: LinkKey, _ s: LinkStats) -> JSON {
        [
            "source": .string(k.source), "destination": .string(k.destination), "submitted": .int(Int64(s.submitted)),
            "finished": .int(Int64(s.finished)), "failed": .int(Int64(s.failed)), "bytes": .int(s.bytes),
            "active": .int(Int64(s.active)), "queued": .int(Int64(s.queued)),
        ]
    }

    /// A file in flight with its progress.
    static func transferDoc(_ f: FTSFile) -> JSON {
        [
            "job_id": .string(f.jobID), "file_id": .int(Int64(f.fileID)), "source": .string(f.spec.sourceSE), "destination": .string(f.spec.destSE),
            "did": f.spec.scope.map { .string("\($0):\(f.spec.name ?? "")") } ?? .null, "bytes": .int(f.spec.bytes),
            "transferred": .int(f.transferredBytes), "state": .string(f.state.rawValue),
        ]
    }

    /// A consistency report (`GET /lakebed/check`, the same as `lakebed check --json` plus `consistent`).
    static func checkDoc(_ r: ConsistencyReport) -> JSON {
        func findings(_ f: [ConsistencyReport.Finding]) -> JSON { .array(f.map { ["kind": .string($0.kind), "detail": .string($0.detail)] }) }
        return [
            "consistent": .bool(r.isConsistent), "replicas": .int(Int64(r.replicas)), "bytesVerified": .int(Int64(r.bytesVerified)),
            "rules": .int(Int64(r.rules)), "locks": .int(Int64(r.locks)), "liveRequests": .int(Int64(r.liveRequests)),
            "filesOnDisk": .int(Int64(r.filesOnDisk)), "problems": findings(r.problems), "notes": findings(r.notes), "lost": findings(r.lost),
        ]
    }

    /// The daemon a path names.
    static func daemon(_ name: String) throws -> Daemon {
        guard let d = Daemon(rawValue: name) else {
            throw LakeError.notFound("No daemon \(name): the lake's daemons are \(Daemon.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return d
    }

    /// The link settings a JSON body gives, checked.
    static func linkChange(_ o: JSONObject) throws -> LinkChange {
        var c = LinkChange()
        c.bandwidth = try o.optionalDouble("bandwidth")
        c.latency = try o.optionalDouble("latency")
        c.concurrency = try o.optionalInt("concurrency").map { Int(clamping: $0) }
        c.failureRate = try o.optionalDouble("failure_rate")
        c.down = try o.optionalBool("down")
        if o["failure_reason"] != nil { c.failureReason = .some(try o.optionalString("failure_reason")) }
        if let problem = c.problem { throw RucioError.valueError(problem) }
        return c
    }

    func register(_ t: inout RouteTable) {
        t.add(.get, "/clock", auth: false) { _ in Reply.json(clockDoc()) }
        t.add(.put, "/clock", auth: false) { r in
            let b = try r.jsonObject()
            if let s = try b.optionalDouble("scale") {
                guard s >= 0, s <= 1e6 else { throw RucioError.valueError("scale must be between 0 (manual) and 1000000") }
                driver.clock.setScale(s)
            }
            if let p = try b.optionalBool("paused") { driver.clock.setPaused(p) }
            return Reply.json(clockDoc())
        }
        t.add(.post, "/clock/advance", auth: false) { r in
            let b = try r.jsonObject()
            guard let seconds = try b.optionalDouble("seconds"), seconds >= 0, seconds <= 10 * 365 * 86400 else {
                throw RucioError.valueError("give 'seconds' to advance, between 0 and ten years")
            }
            let target = driver.clock.now().addingTimeInterval(seconds)
            let stops: Int
            if let scenario {
                try await scenario.applyDue(driver.clock.now())
                stops = try await driver.advance(to: target, also: { scenario.nextDue() }, at: { now in try await scenario.applyDue(now) })
            } else {
                stops = try await driver.advance(to: target)
            }
            guard case .object(var o) = clockDoc() else { return Reply.json(clockDoc()) }
            o["stops"] = .int(Int64(stops))
            return Reply.json(.object(o))
        }
        t.add(.get, "/daemons", auth: false) { _ in
            Reply.json(.array(Daemon.allCases.map { ["name": .string($0.rawValue), "running": .bool(driver.isRunning($0))] }))
        }
        t.add(.put, "/daemons/:name", auth: false) { r in
            let d = try Self.daemon(r.param("name"))
            guard let running = try r.jsonObject().optionalBool("running") else { throw RucioError.valueError("give 'running': true or false") }
            driver.setRunning(d, running)
            return Reply.json(["name": .string(d.rawValue), "running": .bool(driver.isRunning(d))])
        }
        t.add(.post, "/daemons/:name/run", auth: false) { r in
            let d = try Self.daemon(r.param("name"))
            let rep = try await driver.runOnce(d)
            return Reply.json([
                "name": .string(d.rawValue), "running": .bool(driver.isRunning(d)), "expired_rules": .int(Int64(rep.expiredRules)),
                "reaped_replicas": .int(Int64(rep.reapedReplicas)), "repaired_rules": .int(Int64(rep.repairedRules)),
            ])
        }
        t.add(.get, "/links", auth: false) { _ in
            let topo = await driver.engine.topology
            let stats = await driver.engine.linkStats().map(Self.linkStatsDoc)
            return Reply.json([
                "defaults": Self.linkDoc(nil, topo.defaults),
                "links": .array(topo.links.sorted { $0.key < $1.key }.map { Self.linkDoc($0.key, $0.value) }),
                "stats": .array(stats),
            ])
        }
        t.add(.put, "/links/:src/:dst", auth: false) { r in
            let change = try Self.linkChange(try r.jsonObject())
            let src = r.param("src")
            let dst = r.param("dst")
            await driver.engine.updateLink(src, dst) { change.apply(to: &$0) }
            try await driver.engine.step()
            return Reply.json(Self.linkDoc(LinkKey(src, dst), await driver.engine.topology.settings(src, dst)))
        }
        t.add(.get, "/events", auth: false) { r in
            // The event log from a sequence number: JSON list, or one line per event with ?format=text.
            let after = Int(r.q("after") ?? "") ?? 0
            let limit = min(Int(r.q("limit") ?? "") ?? 10_000, 100_000)
            let events = driver.catalog.events.events(after: after, limit: limit)
            if r.q("format") == "text" { return Reply.text(events.map { $0.line + "\n" }.joined()) }
            return Reply.json(.array(events.map(\.json)))
        }
        t.add(.get, "/scenario", auth: false) { _ in
            let s = try runner()
            return Reply.json([
                "name": .string(s.scenario.name), "description": .string(s.scenario.description), "seed": .int(Int64(s.scenario.seed)),
                "start": .string(RucioDate.isoMillis(s.scenario.start)),
                "faults": .array(s.scenario.faults.map { ["id": .string($0.id), "label": .string($0.label)] }),
                "timeline": .array(s.scenario.timeline.map { ["at": .double($0.at), "event": .string($0.kind)] }),
                "rules": .object(JSONObject(s.ruleLabels.sorted { $0.key < $1.key }.map { ($0.key, JSON.string($0.value)) })),
                "expectations": .array(
                    s.results.map { ["expectation": .string($0.expectation), "passed": .bool($0.passed), "actual": .string($0.actual)] }),
            ])
        }
        t.add(.post, "/reset", auth: false) { _ in
            try await runner().reset()
            return Reply.json(clockDoc())
        }
        t.add(.post, "/snapshots/:name", auth: false) { r in
            try await runner().snapshot(r.param("name"))
            return Reply.json(["snapshot": .string(r.param("name"))])
        }
        t.add(.post, "/snapshots/:name/restore", auth: false) { r in
            try await runner().restore(r.param("name"))
            return Reply.json(clockDoc())
        }
        t.add(.post, "/inject", auth: false) { r in
            let s = try runner()
            let b = try r.jsonObject()
            // What the injection caused: the events from here on (up to the tick that follows it), nothing older.
            let before = driver.catalog.events.lastSeq
            if let id = try b.optionalString("fault") {
                try await s.inject(fault: id)
            } else {
                // A timeline event, written as in the scenario file (JSON is YAML): {"event": "rse_down", "rse": "SITE-B"}.
                let text = String(decoding: r.body, as: UTF8.self)
                let action: TimelineEvent.Action
                do { action = try ScenarioParser.parseEvent(text) } catch let e as ScenarioErrors {
                    throw RucioError.valueError(e.errors.map { "\($0.path): \($0.message)" }.joined(separator: "; "))
                }
                let driver = self.driver
                try await driver.exclusive { try await s.apply(action, at: driver.clock.now()) }
            }
            try await driver.tick()
            return Reply.json(["injected": true, "events": .array(driver.catalog.events.events(after: before).map(\.json))])
        }
        t.add(.get, "/transfers", auth: false) { _ in
            let files = await driver.engine.activeFiles()
            return Reply.json(.array(files.map(Self.transferDoc)))
        }
        t.add(.post, "/checkpoint", auth: false) { _ in
            // What the lake does about once a second, now, with a full checkpoint: the catalog file alone holds every
            // commit, and catalog.mark names them (before copying a data folder, say).
            var done = try driver.catalog.maintain()
            try driver.catalog.checkpoint()
            done.truncated = true
            return Reply.json(["commits": .int(try driver.catalog.commitCount()), "mark_written": .bool(done.markWritten)])
        }
        t.add(.post, "/rotate-keys", auth: false) { _ in
            // The same as `lakebed rotate-keys`: a new signing key; the previous one keeps verifying, older ones stop.
            guard let iam else { throw LakeError.notFound("This lake has no IAM") }
            let kid = try await iam.rotateKeys()
            let kids = (await iam.jwks())["keys"]?.arrayValue?.compactMap { $0["kid"]?.stringValue } ?? []
            return Reply.json(["kid": .string(kid), "keys": .array(kids.map(JSON.string))])
        }
        t.add(.get, "/storage", auth: false) { _ in
            // Where each RSE's bytes live, as its protocols say: a folder of this machine, virtual, or nowhere (no protocol).
            let rses = driver.catalog.rses
            var out: [JSON] = []
            let endpoints = rses.storageEndpoints
            for rse in try await rses.listRSEs() {
                let protos = try await rses.protocols(rse.rse)
                let site = try await rses.storageSite(rse)
                let kind: String
                switch site {
                case .directory: kind = "directory"
                case .virtual: kind = "virtual"
                case .unreachable: kind = "none"
                }
                out.append([
                    "rse": .string(rse.rse), "storage": .string(kind), "directory": site.directory.map(JSON.string) ?? .null,
                    "protocols": .array(
                        protos.map {
                            ["scheme": .string($0.scheme), "hostname": .string($0.hostname), "port": .int(Int64($0.port)), "prefix": .string($0.prefix),
                                "served": .bool(endpoints.serves($0))]
                        }),
                ])
            }
            return Reply.json(.array(out))
        }
        t.add(.get, "/check", auth: false) { r in
            let report = try await driver.catalog.checkConsistency(verifyChecksums: r.q("checksums") != "false")
            return Reply.json(Self.checkDoc(report))
        }
    }
}

/// An error of Lakebed's own services (the control API, the dashboard, metrics, the OpenAPI description):
/// `{"error": "<name>", "message": "..."}`, where the name is the Rucio exception class when the catalog refused.
public struct ControlError: ServiceError {
    /// HTTP status of the reply (a catalog refusal takes its Rucio exception class's status).
    public var status: HTTPResponse.Status
    /// What went wrong, as a word a script can test.
    public var error: String
    /// Human-readable text for the body's `message`.
    public var message: String

    public init(_ status: HTTPResponse.Status, error: String, _ message: String) {
        self.status = status
        self.error = error
        self.message = message
    }

    public init(_ failure: HTTPFailure) {
        switch failure {
        case .noEndpoint: self.init(.notFound, error: "NotFound", failure.message)
        case .methodNotAllowed: self.init(.methodNotAllowed, error: "MethodNotAllowed", failure.message)
        case .bodyTooLarge: self.init(.init(code: 413), error: RucioExceptionClass.requestEntityTooLarge.rawValue, failure.message)
        case .unreadableBody: self.init(.badRequest, error: RucioExceptionClass.inputValidationError.rawValue, failure.message)
        case .internalError: self.init(.internalServerError, error: "InternalError", failure.message)
        }
    }

    public init(_ e: RucioError) { self.init(.init(code: e.exceptionClass.status), error: e.exceptionClass.rawValue, e.message) }

    public init(_ e: LakeError) {
        switch e.kind {
        case .notFound: self.init(.notFound, error: e.kind.rawValue, e.message)
        case .insufficientStorage: self.init(.init(code: 507), error: e.kind.rawValue, e.message)
        }
    }

    /// A body that is not JSON (werkzeug's `UnsupportedMediaType`, 415).
    static func unsupportedMediaType(_ message: String) -> ControlError {
        ControlError(.unsupportedMediaType, error: "UnsupportedMediaType", message)
    }

    public var response: Response {
        let body: JSON = ["error": .string(error), "message": .string(message)]
        return Reply.make(status, "application/json", body.serialized())
    }
}
