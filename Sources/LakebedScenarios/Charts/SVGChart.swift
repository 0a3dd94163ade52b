import Foundation

/// A small line chart written as SVG text: lake time on the x axis, one line per series, a legend. Same input, same
/// bytes (numbers are printed with fixed precision, series keep their order), so charts can be compared and committed.
public struct SVGChart: Sendable {
    /// One line: its name and its points (lake seconds from the scenario's start, value), in time order.
    public struct Series: Sendable {
        /// Legend text and the line's tooltip (a link such as `SITE-A -> SITE-B`, or a rule's label).
        public var name: String
        /// Points as (lake seconds from the scenario's start, value), in time order.
        public var points: [(t: Double, v: Double)]
        /// Drawn as steps (a count that holds until the next change) rather than straight segments.
        public var steps: Bool
        public init(name: String, points: [(t: Double, v: Double)], steps: Bool = true) {
            self.name = name
            self.points = points
            self.steps = steps
        }
    }

    /// Heading drawn at the top, also the SVG's `<title>`.
    public var title: String
    /// Label of the y axis, e.g. `transfers`, `bytes/s`, `% of locks`.
    public var yLabel: String
    /// Lake seconds from the start where the x axis ends (the run's end; at least 1).
    public var end: Double
    /// Lines to draw, in legend order; colours follow the order.
    public var series: [Series]
    /// Marks on the time axis (a scenario's timeline events), drawn as dashed verticals with a label.
    public var marks: [(t: Double, label: String)] = []
    /// Width of the SVG in pixels.
    public var width = 900.0
    /// Height of the SVG in pixels.
    public var height = 320.0

    public init(title: String, yLabel: String, end: Double, series: [Series], marks: [(t: Double, label: String)] = []) {
        self.title = title
        self.yLabel = yLabel
        self.end = end
        self.series = series
        self.marks = marks
    }

    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"]
    static func n(_ x: Double) -> String { String(format: "%.1f", x) }
    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
            .replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// A round step for `count` ticks over `0...max` (1, 2 or 5 times a power of ten).
    static func tickStep(_ max: Double, count: Int = 5) -> Double {
        guard max > 0 else { return 1 }
        let raw = max / Double(count)
        let p = pow(10, floor(log10(raw)))
        for m in [1.0, 2, 5, 10] where m * p >= raw { return m * p }
        return 10 * p
    }

    /// Lake seconds as a short axis label: `90s`, `15m`, `2h`, `1h30m`, `2d`.
    static func timeLabel(_ t: Double) -> String {
        let s = Int(t.rounded())
        if s < 60 { return "\(s)s" }
        if s < 3600 { return s % 60 == 0 ? "\(s / 60)m" : "\(s / 60)m\(s % 60)s" }
        if s < 86400 { return s % 3600 == 0 ? "\(s / 3600)h" : "\(s / 3600)h\((s % 3600) / 60)m" }
        return s % 86400 == 0 ? "\(s / 86400)d" : "\(s / 86400)d\((s % 86400) / 3600)h"
    }

    static func valueLabel(_ v: Double) -> String {
        if v >= 1e9 { return String(format: "%gG", (v / 1e8).rounded() / 10) }
        if v >= 1e6 { return String(format: "%gM", (v / 1e5).rounded() / 10) }
        if v >= 1e3 { return String(format: "%gk", (v / 1e2).rounded() / 10) }
        return String(format: "%g", (v * 100).rounded() / 100)
    }

    public var svg: String {
        let left = 64.0
        let right = 180.0
        let top = 34.0
        let bottom = 40.0
        let pw = width - left - right
        let ph = height - top - bottom
        let span = max(end, 1)
        let maxV = max(series.flatMap { $0.points.map(\.v) }.max() ?? 0, 1e-9)
        let yStep = Self.tickStep(maxV)
        let yMax = max(yStep, (maxV / yStep).rounded(.up) * yStep)
        let x = { (t: Double) in left + pw * min(max(t, 0), span) / span }
        let y = { (v: Double) in top + ph * (1 - v / yMax) }
        var o = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Self.n(width))" height="\(Self.n(height))" viewBox="0 0 \(Self.n(width)) \(Self.n(height))" font-family="sans-serif" font-size="11">
            <title>\(Self.escape(title))</title>
            <rect width="100%" height="100%" fill="#ffffff"/>
            <text x="\(Self.n(left))" y="20" font-size="14" font-weight="bold">\(Self.escape(title))</text>

            """
        // Grid and axes.
        var v = 0.0
        while v <= yMax + yStep / 2 {
            o += "<line x1=\"\(Self.n(left))\" y1=\"\(Self.n(y(v)))\" x2=\"\(Self.n(left + pw))\" y2=\"\(Self.n(y(v)))\" stroke=\"#e5e5e5\"/>"
            o += "<text x=\"\(Self.n(left - 6))\" y=\"\(Self.n(y(v) + 4))\" text-anchor=\"end\">\(Self.valueLabel(v))</text>\n"
            v += yStep
        }
        let tStep = Self.niceTimeStep(span)
        var t = 0.0
        while t <= span + 0.001 {
            o += "<line x1=\"\(Self.n(x(t)))\" y1=\"\(Self.n(top + ph))\" x2=\"\(Self.n(x(t)))\" y2=\"\(Self.n(top + ph + 4))\" stroke=\"#555\"/>"
            o += "<text x=\"\(Self.n(x(t)))\" y=\"\(Self.n(top + ph + 16))\" text-anchor=\"middle\">\(Self.timeLabel(t))</text>\n"
            t += tStep
        }
        o += "<line x1=\"\(Self.n(left))\" y1=\"\(Self.n(top + ph))\" x2=\"\(Self.n(left + pw))\" y2=\"\(Self.n(top + ph))\" stroke=\"#555\"/>\n"
        o += "<line x1=\"\(Self.n(left))\" y1=\"\(Self.n(top))\" x2=\"\(Self.n(left))\" y2=\"\(Self.n(top + ph))\" stroke=\"#555\"/>\n"
        o += "<text x=\"\(Self.n(left + pw / 2))\" y=\"\(Self.n(height - 6))\" text-anchor=\"middle\">lake time since the scenario's start</text>\n"
        o += "<text transform=\"translate(14 \(Self.n(top + ph / 2))) rotate(-90)\" text-anchor=\"middle\">\(Self.escape(yLabel))</text>\n"
        for m in marks {
            o +=
                "<line x1=\"\(Self.n(x(m.t)))\" y1=\"\(Self.n(top))\" x2=\"\(Self.n(x(m.t)))\" y2=\"\(Self.n(top + ph))\" stroke=\"#999\" stroke-dasharray=\"4 3\"/>"
            o += "<text x=\"\(Self.n(x(m.t) + 3))\" y=\"\(Self.n(top + 10))\" fill=\"#666\" font-size=\"10\">\(Self.escape(m.label))</text>\n"
        }
        // The lines.
        for (i, s) in series.enumerated() {
            let color = Self.palette[i % Self.palette.count]
            var d = ""
            var last: (t: Double, v: Double)?
            for p in s.points {
                if let l = last, s.steps { d += " L\(Self.n(x(p.t))),\(Self.n(y(l.v)))" }
                d += (last == nil ? "M" : " L") + "\(Self.n(x(p.t))),\(Self.n(y(p.v)))"
                last = p
            }
            if let l = last, s.steps, l.t < span { d += " L\(Self.n(x(span))),\(Self.n(y(l.v)))" }
            if !d.isEmpty {
                o += "<path d=\"\(d)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.8\"><title>\(Self.escape(s.name))</title></path>\n"
            }
            let ly = top + 6 + Double(i) * 16
            if ly < top + ph {
                o += "<rect x=\"\(Self.n(left + pw + 12))\" y=\"\(Self.n(ly - 8))\" width=\"12\" height=\"3\" fill=\"\(color)\"/>"
                o += "<text x=\"\(Self.n(left + pw + 30))\" y=\"\(Self.n(ly - 3))\">\(Self.escape(s.name))</text>\n"
            }
        }
        if series.allSatisfy({ $0.points.isEmpty }) {
            o += "<text x=\"\(Self.n(left + pw / 2))\" y=\"\(Self.n(top + ph / 2))\" text-anchor=\"middle\" fill=\"#888\">nothing happened</text>\n"
        }
        return o + "</svg>\n"
    }

    /// A step for time ticks that people read easily (seconds, minutes, hours, days), about 8 ticks across.
    static func niceTimeStep(_ span: Double) -> Double {
        for s in [1.0, 5, 10, 30, 60, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172_800, 604_800] where span / s <= 10 { return s }
        return 604_800 * (span / 604_800 / 10).rounded(.up)
    }
}
