import Foundation
import Hummingbird
import LakebedCore
public import LakebedDaemons
import LakebedFTS

/// `GET /metrics`: the lake in Prometheus' text format — HTTP requests and latencies, transfers by state and
/// link, bytes moved, rules and locks by state, RSE usage, the clock. Lake figures are read at scrape time.
public struct MetricsAPI: Sendable {
    let driver: LakeDriver
    let requests: RequestMetrics

    public init(driver: LakeDriver, requests: RequestMetrics) {
        self.driver = driver
        self.requests = requests
    }

    public var mount: Mount {
        var t = RouteTable()
        t.add(.get, "/", auth: false) { _ in
            Reply.text(try await render(), contentType: "text/plain; version=0.0.4; charset=utf-8")
        }
        return Mount(prefix: "/metrics", table: t, errors: ControlError.self)
    }

    /// The whole exposition.
    func render() async throws -> String {
        var out = PrometheusText()
        requests.render(into: &out)
        try await renderTransfers(into: &out)
        try await renderRules(into: &out)
        try await renderRSEs(into: &out)
        renderClock(into: &out)
        return out.text
    }

    func renderTransfers(into out: inout PrometheusText) async throws {
        let stats = await driver.engine.linkStats()
        out.header("lakebed_transfers_total", "counter", "Transfers that reached a state, by link (source, destination) and state.")
        for (k, s) in stats {
            for (state, n) in [("submitted", s.submitted), ("finished", s.finished), ("failed", s.failed)] {
                out.sample("lakebed_transfers_total", ["source": k.source, "destination": k.destination, "state": state], Double(n))
            }
        }
        out.header(
            "lakebed_transfers", "gauge", "Transfers in flight right now, by link and state (active = moving bytes, queued = waiting for a slot).")
        for (k, s) in stats {
            out.sample("lakebed_transfers", ["source": k.source, "destination": k.destination, "state": "active"], Double(s.active))
            out.sample("lakebed_transfers", ["source": k.source, "destination": k.destination, "state": "queued"], Double(s.queued))
        }
        out.header("lakebed_transfer_bytes_total", "counter", "Bytes moved by finished transfers, by link.")
        for (k, s) in stats {
            out.sample("lakebed_transfer_bytes_total", ["source": k.source, "destination": k.destination], Double(s.bytes))
        }
        let requestCounts = try await driver.catalog.requests.requestCounts()
        out.header("lakebed_transfer_requests", "gauge", "Rucio transfer requests in the catalog, by state.")
        for state in ["QUEUED", "SUBMITTED", "WAITING", "DONE", "FAILED"] {
            out.sample("lakebed_transfer_requests", ["state": state], Double(requestCounts[state] ?? 0))
        }
        for (state, n) in requestCounts.sorted(by: { $0.key < $1.key }) where !["QUEUED", "SUBMITTED", "WAITING", "DONE", "FAILED"].contains(state) {
            out.sample("lakebed_transfer_requests", ["state": state], Double(n))
        }
    }

    func renderRules(into out: inout PrometheusText) async throws {
        let rules = try await driver.catalog.overview.ruleCounts()
        out.header("lakebed_rules", "gauge", "Replication rules, by state.")
        for s in RuleState.allCases { out.sample("lakebed_rules", ["state": s.name], Double(rules[s] ?? 0)) }
        let locks = try await driver.catalog.overview.lockCounts()
        out.header("lakebed_locks", "gauge", "Replica locks, by state.")
        for s in [LockState.ok, .replicating, .stuck] { out.sample("lakebed_locks", ["state": s.name], Double(locks[s] ?? 0)) }
    }

    func renderRSEs(into out: inout PrometheusText) async throws {
        let rses = try await driver.catalog.overview.rseOverview()
        out.header("lakebed_rse_used_bytes", "gauge", "Bytes of the AVAILABLE replicas on each RSE.")
        for r in rses { out.sample("lakebed_rse_used_bytes", ["rse": r.rse.rse], Double(r.usedBytes)) }
        out.header("lakebed_rse_files", "gauge", "AVAILABLE replicas on each RSE (what rucio replica list lists).")
        for r in rses { out.sample("lakebed_rse_files", ["rse": r.rse.rse], Double(r.files)) }
        out.header("lakebed_rse_incoming_files", "gauge", "Replicas being copied to each RSE (COPYING).")
        for r in rses { out.sample("lakebed_rse_incoming_files", ["rse": r.rse.rse], Double(r.incomingFiles)) }
        out.header("lakebed_rse_available", "gauge", "RSE availability per operation (1 = enabled).")
        for r in rses {
            for (op, on) in [("read", r.rse.availabilityRead), ("write", r.rse.availabilityWrite), ("delete", r.rse.availabilityDelete)] {
                out.sample("lakebed_rse_available", ["rse": r.rse.rse, "operation": op], on ? 1 : 0)
            }
        }
    }

    func renderClock(into out: inout PrometheusText) {
        let c = driver.clock
        out.header("lakebed_clock_time_seconds", "gauge", "The lake clock, in seconds since 1970.")
        out.sample("lakebed_clock_time_seconds", c.now().timeIntervalSince1970)
        out.header("lakebed_clock_scale", "gauge", "Lake seconds per real second (0 = manual clock).")
        out.sample("lakebed_clock_scale", c.scale)
        out.header("lakebed_clock_paused", "gauge", "1 while the lake clock is paused or manual.")
        out.sample("lakebed_clock_paused", c.isPaused ? 1 : 0)
        out.header("lakebed_events_total", "counter", "Events written to the lake's event log.")
        out.sample("lakebed_events_total", Double(driver.catalog.events.lastSeq))
    }
}
