import Foundation
import HTTPTypes
import Hummingbird
import LakebedCore
public import LakebedDaemons
import LakebedFTS
import NIOCore
import ServiceLifecycle
import Synchronization

/// The open dashboard event streams, capped: each costs a loop and its snapshots, and the dashboard is unauthenticated.
final class StreamSlots: Sendable {
    let limit: Int
    private let open = Mutex(0)
    init(limit: Int) { self.limit = limit }

    /// A slot, given back when the token goes away (the stream ended, or its response was dropped unsent).
    final class Token: Sendable {
        let slots: StreamSlots
        init(_ slots: StreamSlots) { self.slots = slots }
        deinit { slots.open.withLock { $0 -= 1 } }
    }

    func take() -> Token? {
        let granted = open.withLock { n -> Bool in
            guard n < limit else { return false }
            n += 1
            return true
        }
        return granted ? Token(self) : nil
    }
}

/// The workshop dashboard under `/dashboard/`: one self-contained page (no build step, no CDN) and the JSON and
/// server-sent-event endpoints it reads. Presenter controls go to the control API (`/lakebed/…`) directly.
public struct DashboardAPI: Sendable {
    let driver: LakeDriver
    let feed: DashboardFeed
    let loopback: Loopback
    /// Real time between two looks at the lake on an open event stream.
    let interval: Duration
    /// Open event streams, at most `maxStreams` at once.
    let slots: StreamSlots
    /// Real time between two snapshots of the lake and of the rules on one stream (changes in between are coalesced).
    let snapshotEvery: Duration

    public init(
        driver: LakeDriver, loopback: Loopback, interval: Duration = .milliseconds(250), maxStreams: Int = 16,
        snapshotEvery: Duration = .seconds(1)
    ) {
        self.driver = driver
        self.feed = DashboardFeed(driver: driver)
        self.loopback = loopback
        self.interval = interval
        self.slots = StreamSlots(limit: maxStreams)
        self.snapshotEvery = snapshotEvery
    }

    public var mount: Mount {
        var t = RouteTable()
        register(&t)
        return Mount(prefix: "/dashboard", table: t, errors: ControlError.self)
    }

    func register(_ t: inout RouteTable) {
        t.add(.get, "/", auth: false) { _ in Reply.text(DashboardPage.html, contentType: "text/html; charset=utf-8") }
        t.add(.get, "/api/state", auth: false) { _ in
            let s = try await feed.snapshot()
            return Reply.json(["lake": s.lake, "rules": s.rules])
        }
        t.add(.get, "/api/rules/:id", auth: false) { r in Reply.json(try await feed.ruleDetail(r.param("id"))) }
        t.add(.get, "/api/scenario", auth: false) { _ in
            // The scenario's fault menu, or null when none is loaded (the control API answers 404 then).
            let (status, body) = await loopback.call(.get, "/lakebed/scenario")
            guard status == 200, let doc = try? JSONParser.parse(String(decoding: body, as: UTF8.self)) else {
                return Reply.json(["scenario": .null])
            }
            return Reply.json(["scenario": doc])
        }
        t.add(.put, "/api/rses/:rse/links", auth: false) { r in
            // "Break a site": every link into and out of the RSE goes down (or comes back) at once.
            let b = try r.jsonObject()
            guard let down = try b.optionalBool("down") else { throw RucioError.valueError("give 'down': true or false") }
            let rse = try await driver.catalog.rses.rse(r.param("rse")).rse
            let reason = try b.optionalString("failure_reason") ?? "TRANSFER [113] No route to host (\(rse) unreachable)"
            let others = try await driver.catalog.rses.listRSEs().map(\.rse).filter { $0 != rse }
            for other in others {
                for (src, dst) in [(other, rse), (rse, other)] {
                    await driver.engine.updateLink(src, dst) { s in
                        s.down = down
                        s.failureReason = down ? reason : nil
                    }
                }
            }
            try await driver.engine.step()
            // Named as the card says it: the RSE is not down (Rucio still marks it available), it is cut off from the rest.
            driver.catalog.events.append(driver.clock.now(), down ? "dashboard.site_cut_off" : "dashboard.site_reconnected", [("rse", rse)])
            return Reply.json(["rse": .string(rse), "down": .bool(down), "links": .int(Int64(2 * others.count))])
        }
        t.add(.get, "/api/stream", auth: false) { r in
            let log = driver.catalog.events
            // Resume after the last event the browser saw (EventSource sends Last-Event-ID when it reconnects).
            let after = Int(r.header("Last-Event-ID") ?? r.q("after") ?? "") ?? max(0, log.lastSeq - 200)
            guard let slot = slots.take() else {
                throw RucioError(.resourceTemporaryUnavailable, "Too many open dashboard streams (at most \(slots.limit)); close one and retry")
            }
            let body = ResponseBody { writer in
                defer { withExtendedLifetime(slot) {} }  // the slot is held until the stream ends
                try await stream(after: after, to: &writer)
            }
            return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: body)
        }
    }

    /// Server-sent events: `log` (new event-log entries), `lake` and `rules` (snapshots, sent when they change).
    func stream(after start: Int, to writer: inout any ResponseBodyWriter) async throws {
        let log = driver.catalog.events
        var after = start
        var lastLake = ""
        var lastRules = ""
        var quiet = ContinuousClock.now
        var snapshotAt = ContinuousClock.now - snapshotEvery
        try await writer.write(ByteBuffer(string: "retry: 1000\n\n"))
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            var out = ""
            if log.lastSeq < after { after = 0 }  // the log was cleared (scenario reset)
            // At most 200 events a message; a burst is sent over the next looks rather than in one huge write.
            let events = log.events(after: after, limit: 200)
            if let last = events.last {
                after = last.seq
                out += "id: \(after)\nevent: log\ndata: \(JSON.array(events.map(\.json)).serialized())\n\n"
            }
            // Snapshots change with every tick of the clock: one a second at most, whatever happened in between.
            if ContinuousClock.now - snapshotAt >= snapshotEvery {
                snapshotAt = ContinuousClock.now
                let snap = try await feed.snapshot()
                let lake = snap.lake.serialized()
                let rules = snap.rules.serialized()
                if lake != lastLake {
                    out += "event: lake\ndata: \(lake)\n\n"
                    lastLake = lake
                }
                if rules != lastRules {
                    out += "event: rules\ndata: \(rules)\n\n"
                    lastRules = rules
                }
            }
            if out.isEmpty && ContinuousClock.now - quiet > .seconds(15) { out = ": keep-alive\n\n" }
            if !out.isEmpty {
                try await writer.write(ByteBuffer(string: out))
                quiet = ContinuousClock.now
            }
            try await Task.sleep(for: interval)
        }
        try await writer.finish(nil)
    }
}
