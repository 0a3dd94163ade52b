public import Foundation
import LakebedCore

/// How one link between two storage endpoints behaves.
public struct LinkSettings: Sendable, Equatable {
    /// Bytes per second of lake time, shared equally by the transfers moving on the link.
    public var bandwidth: Double
    /// Seconds before the first byte moves (connection set-up, checksum negotiation…).
    public var latency: TimeInterval
    /// Transfers active at once on the link; the others wait in FTS's queue.
    public var concurrency: Int
    /// Probability (0…1) that a transfer on the link fails (drawn from the seeded generator).
    public var failureRate: Double
    /// A link that is down fails every transfer it starts.
    public var down: Bool
    /// The error a failure reports.
    public var failureReason: String?

    public init(
        bandwidth: Double = 100_000_000, latency: TimeInterval = 1, concurrency: Int = 10,
        failureRate: Double = 0, down: Bool = false, failureReason: String? = nil
    ) {
        self.bandwidth = bandwidth
        self.latency = latency
        self.concurrency = concurrency
        self.failureRate = failureRate
        self.down = down
        self.failureReason = failureReason
    }
}

/// A change to some of a link's settings: what a scenario's `link` event, `PUT /lakebed/links/<src>/<dst>` and a fault
/// say. Keys not given stay as they are.
public struct LinkChange: Sendable, Equatable {
    /// New bandwidth in bytes per second of lake time; nil = unchanged.
    public var bandwidth: Double?
    /// New latency before the first byte, in seconds; nil = unchanged.
    public var latency: TimeInterval?
    /// New number of transfers active at once (at least 1); nil = unchanged.
    public var concurrency: Int?
    /// New failure probability (0…1); nil = unchanged.
    public var failureRate: Double?
    /// Take the link down (true) or bring it back up (false); nil = unchanged.
    public var down: Bool?
    /// `.some(nil)` clears the reason.
    public var failureReason: String??

    /// No change; set the keys that change.
    public init() {}

    /// The settings' names as scenarios and the control API spell them, in the order events list them.
    public static let keys = ["bandwidth", "latency", "concurrency", "failure_rate", "down", "failure_reason"]

    public var isEmpty: Bool { self == LinkChange() }

    /// Why a value cannot be a link setting, or nil when the change is valid.
    public var problem: String? {
        if let v = bandwidth, v < 0 { return "bandwidth must be >= 0" }
        if let v = latency, v < 0 { return "latency must be >= 0" }
        if let v = concurrency, v < 1 { return "concurrency must be >= 1" }
        if let v = failureRate, !(0...1).contains(v) { return "failure_rate must be between 0 and 1" }
        return nil
    }

    public func apply(to s: inout LinkSettings) {
        if let v = bandwidth { s.bandwidth = v }
        if let v = latency { s.latency = v }
        if let v = concurrency { s.concurrency = v }
        if let v = failureRate { s.failureRate = v }
        if let v = down { s.down = v }
        if let v = failureReason { s.failureReason = v }
    }

    /// The changed keys with their values as text, in `keys` order (for the event log).
    public var fields: [(String, String)] {
        var out: [(String, String)] = []
        if let v = bandwidth { out.append(("bandwidth", v.logText)) }
        if let v = latency { out.append(("latency", v.logText)) }
        if let v = concurrency { out.append(("concurrency", String(v))) }
        if let v = failureRate { out.append(("failure_rate", v.logText)) }
        if let v = down { out.append(("down", v ? "true" : "false")) }
        if let v = failureReason { out.append(("failure_reason", v ?? "null")) }
        return out
    }
}

/// A directed link between two endpoints (RSE names, or `*` for any).
public struct LinkKey: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// Source endpoint: an RSE name, or `*` for any source.
    public var source: String
    /// Destination endpoint: an RSE name, or `*` for any destination.
    public var destination: String
    public init(_ source: String, _ destination: String) {
        self.source = source
        self.destination = destination
    }
    public static func < (a: LinkKey, b: LinkKey) -> Bool { (a.source, a.destination) < (b.source, b.destination) }
    public var description: String { "\(source)->\(destination)" }
}

/// Every link's settings: a default, overridden per source (`SITE-A -> *`), per destination (`* -> SITE-B`)
/// or per exact link.
public struct Topology: Sendable, Equatable {
    /// Settings of every link that no entry in `links` covers (`* -> *`).
    public var defaults: LinkSettings
    /// Overrides per exact link, per source (`SITE-A -> *`) or per destination (`* -> SITE-B`); the most specific wins.
    public var links: [LinkKey: LinkSettings]

    public init(defaults: LinkSettings = LinkSettings(), links: [LinkKey: LinkSettings] = [:]) {
        self.defaults = defaults
        self.links = links
    }

    /// The settings that apply to a link (most specific wins).
    public func settings(_ src: String, _ dst: String) -> LinkSettings {
        links[LinkKey(src, dst)] ?? links[LinkKey(src, "*")] ?? links[LinkKey("*", dst)] ?? defaults
    }

    /// Changes one link's settings, starting from what applies to it now. A change with `*` also applies to every
    /// more specific link it covers, so "links to SITE-C go down" holds even where a link was tuned before.
    public mutating func update(_ src: String, _ dst: String, _ change: (inout LinkSettings) -> Void) {
        var s = (src == "*" && dst == "*") ? defaults : settings(src, dst)
        change(&s)
        if src == "*" && dst == "*" { defaults = s } else { links[LinkKey(src, dst)] = s }
        guard src == "*" || dst == "*" else { return }
        for key in links.keys.sorted()
        where key != LinkKey(src, dst)
            && (src == "*" || key.source == src) && (dst == "*" || key.destination == dst)
        {
            change(&links[key]!)
        }
    }
}
