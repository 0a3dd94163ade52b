import Foundation
import LakebedCore

/// The pictures of a finished run, from its event log and its rules' locks: transfers in flight and throughput per
/// link, each rule's completion, failures. `write(to:)` puts one SVG per chart and `report.html` (the text report
/// with the charts inline) in a folder. Deterministic: the same run gives the same bytes.
public struct ScenarioCharts: Sendable {
    /// File name (without `.svg`) and chart, in the order the report shows them.
    public var charts: [(name: String, chart: SVGChart)]
    /// The run's report, shown as text at the top of `report.html`.
    public var report: ScenarioReport

    /// Links drawn one by one; the others are summed into one line.
    static let maxLines = 8

    /// Writes `<name>.svg` for every chart and `report.html`; returns the files written.
    @discardableResult
    public func write(to dir: String) throws -> [String] {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var written: [String] = []
        for (name, chart) in charts {
            let path = (dir as NSString).appendingPathComponent(name + ".svg")
            try Data(chart.svg.utf8).write(to: URL(fileURLWithPath: path))
            written.append(path)
        }
        let html = (dir as NSString).appendingPathComponent("report.html")
        try Data(self.html.utf8).write(to: URL(fileURLWithPath: html))
        return written + [html]
    }

    /// One self-contained page: the report as text, then every chart inline.
    public var html: String {
        var o = """
            <!doctype html>
            <html lang="en">
            <head><meta charset="utf-8"><title>Lakebed simulation: \(SVGChart.escape(report.scenario))</title>
            <style>body{font-family:sans-serif;max-width:960px;margin:20px auto;padding:0 12px;color:#222}
            pre{background:#f6f8fa;padding:12px;border-radius:6px;overflow:auto;font-size:12px}
            figure{margin:18px 0}figcaption{color:#555;font-size:13px;margin-top:4px}</style></head>
            <body>
            <h1>Scenario \(SVGChart.escape(report.scenario)) <small>(seed \(report.seed))</small></h1>
            <pre>\(SVGChart.escape(report.text(wallTime: false)))</pre>

            """
        for (name, chart) in charts {
            o += "<figure id=\"\(name)\">\n\(chart.svg)<figcaption>\(SVGChart.escape(chart.title)) — also in \(name).svg</figcaption></figure>\n"
        }
        return o + "</body>\n</html>\n"
    }
}

extension ScenarioRunner {
    /// The charts of a run that has finished (`simulate`), built from the event log and the rules' locks.
    public func charts(report: ScenarioReport) async throws -> ScenarioCharts {
        let events = log.all
        let end = max(scenario.end, events.last.map { offset($0.time) } ?? 0)
        let link = { (e: LakeEvent) in "\(e.field("src") ?? "?") -> \(e.field("dst") ?? "?")" }
        let transfers = events.filter { $0.kind.hasPrefix("transfer.") }
        // Links ordered by how many transfers they saw, the busiest first; the rest become "other links".
        var traffic: [String: Int] = [:]
        for e in transfers where e.kind == "transfer.started" || e.kind == "transfer.failed" { traffic[link(e), default: 0] += 1 }
        let ranked = traffic.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.map(\.key)
        let shown = Set(ranked.prefix(ScenarioCharts.maxLines))
        let lineOf = { (e: LakeEvent) in shown.contains(link(e)) ? link(e) : "other links" }
        let order = ranked.filter(shown.contains) + (ranked.count > shown.count ? ["other links"] : [])

        // Transfers in flight: started, until finished, failed or canceled.
        var inFlight: [String: Int] = [:]
        var flight: [String: [(t: Double, v: Double)]] = [:]
        for e in transfers {
            let k = lineOf(e)
            switch e.kind {
            case "transfer.started": inFlight[k, default: 0] += 1
            case "transfer.finished", "transfer.failed", "transfer.canceled": inFlight[k] = max(0, (inFlight[k] ?? 0) - 1)
            default: continue
            }
            Self.put(&flight[k, default: [(0, 0)]], offset(e.time), Double(inFlight[k] ?? 0))
        }
        // Throughput: bytes of the transfers that finished in each slice of time, per second.
        let slice = max(1, SVGChart.niceTimeStep(end) / 6)
        var moved: [String: [Int: Double]] = [:]
        for e in transfers where e.kind == "transfer.finished" {
            moved[lineOf(e), default: [:]][Int(offset(e.time) / slice), default: 0] += Double(e.field("bytes") ?? "0") ?? 0
        }
        let slices = Int((end / slice).rounded(.up))
        let throughput = order.map { k in
            SVGChart.Series(name: k, points: (0...max(slices, 0)).map { (Double($0) * slice, (moved[k]?[$0] ?? 0) / slice) })
        }
        // Failures: failed attempts so far, per link.
        var failedSoFar: [String: Int] = [:]
        var failures: [String: [(t: Double, v: Double)]] = [:]
        for e in transfers where e.kind == "transfer.failed" {
            let k = lineOf(e)
            failedSoFar[k, default: 0] += 1
            Self.put(&failures[k, default: [(0, 0)]], offset(e.time), Double(failedSoFar[k]!))
        }
        // Each rule's completion: the share of its locks whose file has arrived, over time.
        var finishedAt: [String: [Double]] = [:]
        for e in transfers where e.kind == "transfer.finished" {
            if let did = e.field("did"), let dst = e.field("dst") { finishedAt["\(did)|\(dst)", default: []].append(offset(e.time)) }
        }
        var completion: [SVGChart.Series] = []
        for r in report.rules.prefix(ScenarioCharts.maxLines + 2) {
            let locks = (try? await catalog.rules.locks(ofRule: r.id)) ?? []
            guard !locks.isEmpty else { continue }
            let times: [Double] = locks.compactMap { l in
                let arrived = finishedAt["\(l.scope):\(l.name)|\(l.rse)"]?.first { $0 >= r.addedAt }
                return arrived ?? (l.state == .ok ? r.addedAt : nil)
            }.sorted()
            var points: [(t: Double, v: Double)] = [(r.addedAt, 0)]
            for (i, t) in times.enumerated() { Self.put(&points, t, 100 * Double(i + 1) / Double(locks.count)) }
            completion.append(SVGChart.Series(name: r.label ?? String(r.id.prefix(8)), points: points))
        }
        let marks = scenario.timeline.map { (t: $0.at, label: $0.kind) }
        let series = { (d: [String: [(t: Double, v: Double)]]) in order.filter { d[$0] != nil }.map { SVGChart.Series(name: $0, points: d[$0]!) } }
        return ScenarioCharts(
            charts: [
                (
                    "transfers-in-flight",
                    SVGChart(title: "Transfers in flight per link", yLabel: "transfers", end: end, series: series(flight), marks: marks)
                ),
                (
                    "throughput",
                    SVGChart(
                        title: "Throughput per link (finished bytes per second, per \(SVGChart.timeLabel(slice)))", yLabel: "bytes/s",
                        end: end, series: throughput, marks: marks)
                ),
                (
                    "rules",
                    SVGChart(
                        title: "Rule completion (share of locks whose file has arrived)", yLabel: "% of locks", end: end,
                        series: completion, marks: marks)
                ),
                (
                    "failures",
                    SVGChart(
                        title: "Failed transfer attempts per link (so far)", yLabel: "failed attempts", end: end,
                        series: series(failures), marks: marks)
                ),
            ], report: report)
    }

    /// Adds a point; several changes at one instant keep only the last value.
    static func put(_ points: inout [(t: Double, v: Double)], _ t: Double, _ v: Double) {
        if let last = points.last, last.t == t { points[points.count - 1].v = v } else { points.append((t, v)) }
    }
}
