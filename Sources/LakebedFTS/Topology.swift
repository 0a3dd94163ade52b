public import Foundation

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

    public init(bandwidth: Double = 100_000_000, latency: TimeInterval = 1, concurrency: Int = 10,
                failureRate: Double = 0, down: Bool = false, failureReason: String? = nil) {
        self.bandwidth = bandwidth
        self.latency = latency
        self.concurrency = concurrency
        self.failureRate = failureRate
        self.down = down
        self.failureReason = failureReason
    }
}

/// A directed link between two endpoints (RSE names, or `*` for any).
public struct LinkKey: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var source: String
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
    public var defaults: LinkSettings
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
        for key in links.keys.sorted() where key != LinkKey(src, dst)
            && (src == "*" || key.source == src) && (dst == "*" || key.destination == dst) {
            change(&links[key]!)
        }
    }
}
