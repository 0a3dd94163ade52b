import Foundation
import Hummingbird
import HummingbirdTesting
import LakebedCore
import LakebedDaemons
import LakebedFTS
import LakebedTesting
import Testing

@testable import LakebedHTTP

@Suite("Metrics and dashboard")
struct MetricsTests {
    @Test func histogramIsCumulativeAndLabelsAreEscaped() {
        let m = RequestMetrics()
        m.record(endpoint: "/ping", method: "GET", status: 200, seconds: 0.0002)
        m.record(endpoint: "/ping", method: "GET", status: 200, seconds: 0.003)
        m.record(endpoint: "/a\"b", method: "GET", status: 404, seconds: 30)
        var out = PrometheusText()
        m.render(into: &out)
        let t = out.text
        #expect(t.contains("lakebed_http_requests_total{endpoint=\"/ping\",method=\"GET\",status=\"200\"} 2\n"))
        #expect(t.contains("lakebed_http_request_duration_seconds_bucket{endpoint=\"/ping\",method=\"GET\",le=\"0.0005\"} 1\n"))
        #expect(t.contains("lakebed_http_request_duration_seconds_bucket{endpoint=\"/ping\",method=\"GET\",le=\"0.005\"} 2\n"))
        #expect(t.contains("lakebed_http_request_duration_seconds_bucket{endpoint=\"/ping\",method=\"GET\",le=\"+Inf\"} 2\n"))
        #expect(t.contains("lakebed_http_request_duration_seconds_count{endpoint=\"/ping\",method=\"GET\"} 2\n"))
        // Slower than the last bucket: only in +Inf.
        #expect(t.contains("lakebed_http_request_duration_seconds_bucket{endpoint=\"/a\\\"b\",method=\"GET\",le=\"10\"} 0\n"))
        #expect(t.contains("lakebed_http_request_duration_seconds_bucket{endpoint=\"/a\\\"b\",method=\"GET\",le=\"+Inf\"} 1\n"))
    }

    @Test func responderCountsRoutesByPattern() async throws {
        let clock = VirtualClock.manual()
        let catalog = try TemporaryLake.catalog("metrics", clock: clock)
        try await DefaultLake.seedIfEmpty(catalog)
        let driver = LakeDriver(catalog: catalog, clock: clock, engine: TransferEngine(catalog: catalog))
        let metrics = RequestMetrics()
        let loopback = Loopback()
        let responder = LakebedResponder(
            catalog: catalog,
            mounts: [
                ControlAPI(driver: driver).mount, DashboardAPI(driver: driver, loopback: loopback).mount,
                MetricsAPI(driver: driver, requests: metrics).mount,
            ], metrics: metrics)
        loopback.attach(responder)
        try await Application(responder: responder).test(.router) { client in
            try await client.execute(uri: "/dids/user.root/x1", method: .get) { #expect($0.status == .badRequest) }
            try await client.execute(uri: "/dids/user.root/x2", method: .get) { _ in }
            try await client.execute(uri: "/nowhere/at/all", method: .get) { #expect($0.status == .notFound) }
            try await client.execute(uri: "/dashboard/api/scenario", method: .get) { r in
                #expect(String(buffer: r.body) == "{\"scenario\": null}")
            }
            try await client.execute(uri: "/metrics", method: .get) { r in
                let text = String(buffer: r.body)
                #expect(text.contains("lakebed_http_requests_total{endpoint=\"/dids/:scope/:name\",method=\"GET\",status=\"400\"} 2\n"))
                #expect(text.contains("lakebed_http_requests_total{endpoint=\"-\",method=\"GET\",status=\"404\"} 1\n"))
                #expect(text.contains("lakebed_rules{state=\"OK\"} 0\n"))
                #expect(text.contains("lakebed_rse_files{rse=\"SITE-A\"} 0\n"))
                #expect(!text.contains("x1"))
            }
        }
    }

    @Test func dashboardPassesTheScenarioMenuThrough() async throws {
        let clock = VirtualClock.manual()
        let catalog = try TemporaryLake.catalog("dash", clock: clock)
        try await DefaultLake.seedIfEmpty(catalog)
        let driver = LakeDriver(catalog: catalog, clock: clock, engine: TransferEngine(catalog: catalog))
        // A stand-in for the scenario service, answering the contract the dashboard reads.
        var scenario = RouteTable()
        scenario.add(.get, "/scenario", auth: false) { _ in
            Reply.json(["name": "site-outage", "faults": [["id": "c-down", "label": "SITE-C goes dark"]]])
        }
        let loopback = Loopback()
        let responder = LakebedResponder(
            catalog: catalog,
            mounts: [
                Mount(prefix: "/lakebed", table: scenario, errors: ControlError.self),
                DashboardAPI(driver: driver, loopback: loopback).mount,
            ])
        loopback.attach(responder)
        try await Application(responder: responder).test(.router) { client in
            try await client.execute(uri: "/dashboard/api/scenario", method: .get) { r in
                let doc = try JSONParser.parse(String(buffer: r.body))
                #expect(doc["scenario"]?["name"] == .string("site-outage"))
                #expect(doc["scenario"]?["faults"]?.arrayValue?.first?["id"] == .string("c-down"))
            }
            try await client.execute(uri: "/dashboard/", method: .get) { r in
                let page = String(buffer: r.body)
                #expect(page.contains("<title>Lakebed dashboard</title>") && page.contains("new EventSource(\"/dashboard/api/stream\")"))
                // Nothing loaded from elsewhere (the only URL is the SVG namespace).
                #expect(!page.contains("src=\"http") && !page.contains("href=\"http") && !page.contains("src=\"//"))
            }
        }
    }
}
