import Foundation
import Synchronization

/// Counts and times the HTTP requests the lake answers, by endpoint (the route's pattern, so the number of
/// series stays bounded), method and status. One lock and a few dictionary updates per request.
public final class RequestMetrics: Sendable {
    /// Upper bounds of the latency histogram, in seconds.
    public static let buckets: [Double] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    struct Key: Hashable {
        var endpoint: String
        var method: String
    }
    struct StatusKey: Hashable {
        var endpoint: String
        var method: String
        var status: Int
    }
    struct Histogram {
        var counts = [UInt64](repeating: 0, count: RequestMetrics.buckets.count)
        var count: UInt64 = 0
        var sum: Double = 0
    }
    struct State {
        var requests: [StatusKey: UInt64] = [:]
        var latency: [Key: Histogram] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    /// Records one answered request.
    public func record(endpoint: String, method: String, status: Int, seconds: Double) {
        let bucket = Self.buckets.firstIndex { seconds <= $0 }
        state.withLock { s in
            s.requests[StatusKey(endpoint: endpoint, method: method, status: status), default: 0] += 1
            let key = Key(endpoint: endpoint, method: method)
            var h = s.latency[key] ?? Histogram()
            if let bucket { h.counts[bucket] += 1 }
            h.count += 1
            h.sum += seconds
            s.latency[key] = h
        }
    }

    /// The request counters and latency histograms in Prometheus' text format.
    public func render(into out: inout PrometheusText) {
        let s = state.withLock { $0 }
        out.header("lakebed_http_requests_total", "counter", "HTTP requests answered, by endpoint (route pattern), method and status.")
        for (k, n) in s.requests.sorted(by: { ($0.key.endpoint, $0.key.method, $0.key.status) < ($1.key.endpoint, $1.key.method, $1.key.status) }) {
            out.sample("lakebed_http_requests_total", ["endpoint": k.endpoint, "method": k.method, "status": String(k.status)], Double(n))
        }
        out.header("lakebed_http_request_duration_seconds", "histogram", "Time to produce a response (head), by endpoint and method.")
        for (k, h) in s.latency.sorted(by: { ($0.key.endpoint, $0.key.method) < ($1.key.endpoint, $1.key.method) }) {
            var cumulative: UInt64 = 0
            let labels = ["endpoint": k.endpoint, "method": k.method]
            for (i, le) in Self.buckets.enumerated() {
                cumulative += h.counts[i]
                out.sample("lakebed_http_request_duration_seconds_bucket", labels, Double(cumulative), le: PrometheusText.format(le))
            }
            out.sample("lakebed_http_request_duration_seconds_bucket", labels, Double(h.count), le: "+Inf")
            out.sample("lakebed_http_request_duration_seconds_sum", labels, h.sum)
            out.sample("lakebed_http_request_duration_seconds_count", labels, Double(h.count))
        }
    }
}

/// Prometheus' text exposition format (version 0.0.4), written by hand: HELP/TYPE headers and samples.
public struct PrometheusText {
    /// The exposition text written so far, ready to serve as `text/plain; version=0.0.4`.
    public private(set) var text = ""

    public init() {}

    /// `# HELP` and `# TYPE` for a metric family.
    public mutating func header(_ name: String, _ type: String, _ help: String) {
        text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
    }

    /// One sample without labels.
    public mutating func sample(_ name: String, _ value: Double) { sample(name, [:], value) }

    /// One sample; labels are written in key order, `le` last (for histogram buckets).
    public mutating func sample(_ name: String, _ labels: [String: String], _ value: Double, le: String? = nil) {
        text += name
        var pairs = labels.sorted { $0.key < $1.key }.map { "\($0.key)=\"\(Self.escape($0.value))\"" }
        if let le { pairs.append("le=\"\(le)\"") }
        if !pairs.isEmpty { text += "{" + pairs.joined(separator: ",") + "}" }
        text += " " + Self.format(value) + "\n"
    }

    /// Numbers as Prometheus reads them: integers without a fraction, `+Inf`/`NaN` spelled out.
    public static func format(_ v: Double) -> String {
        if v.isNaN { return "NaN" }
        if v.isInfinite { return v > 0 ? "+Inf" : "-Inf" }
        if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        return String(v)
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
    }
}
