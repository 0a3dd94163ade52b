public import Foundation
public import LakebedCore
public import LakebedFTS

/// A scenario: a seed for the lake, a topology, a timeline of events and optional expectations.
public struct Scenario: Sendable {
    public var name: String
    public var description: String = ""
    public var seed: UInt64 = 1
    /// Lake time at t = 0.
    public var start = Date(timeIntervalSince1970: 1_767_225_600)
    /// `start: now`: the lake follows the wall clock, and a reset does not move it back.
    public var startsNow = false
    /// Time scale `serve` uses unless told otherwise.
    public var timeScale: Double = 1
    /// How long `simulate` runs (default: last timeline event or expectation + 1 h).
    public var duration: TimeInterval?
    /// Whether to keep the default lake (SITE-A/B/C) and add to it, or start from an empty one.
    public var keepDefaultLake = false

    public var accounts: [AccountSeed] = []
    public var scopes: [ScopeSeed] = []
    public var rses: [RSESeed] = []
    public var distances: [DistanceSeed] = []
    public var topology = Topology()
    public var stagingDelays: [String: TimeInterval] = [:]
    public var retry = RetryPolicy()
    public var files: [FileSeed] = []
    public var collections: [CollectionSeed] = []
    public var rules: [RuleSeed] = []
    public var iamUsers: [IAMUserSeed] = []
    public var basket: [BasketSeed] = []
    public var timeline: [TimelineEvent] = []
    /// Named faults a presenter can inject (dashboard menu, `POST /lakebed/inject {"fault": id}`).
    public var faults: [FaultPreset] = []
    public var expectations: [Expectation] = []

    public init(name: String) { self.name = name }

    /// When simulate stops.
    public var end: TimeInterval {
        if let duration { return duration }
        let last = (timeline.map(\.at) + expectations.compactMap(\.at)).max() ?? 0
        return last + 3600
    }
}

public struct AccountSeed: Sendable {
    public var name: String
    public var type = "USER"
    public var email: String?
    public var username: String?
    public var password: String?
    /// IAM users whose OIDC identity maps to this account.
    public var oidcUsers: [String] = []
    /// Local account limits: RSE → bytes.
    public var limits: [(String, Int64)] = []
}

public struct ScopeSeed: Sendable { public var name: String; public var account: String }

public struct RSESeed: Sendable {
    public var name: String
    public var type = "DISK"
    public var attributes: [(String, JSON)] = []
    public var settings: [(String, JSON)] = []
    public var directory: String?
    public var oidcSupport = false
}

public struct DistanceSeed: Sendable { public var from: String; public var to: String; public var distance: Int; public var symmetric = true }

/// Files to create: one, or `count` of them with `{i}` in the name.
public struct FileSeed: Sendable {
    public var scope: String
    public var name: String
    public var count = 1
    public var size: Int64 = 1024
    /// No bytes on disk (large simulations); sizes are still accounted.
    public var isVirtual = false
    public var rses: [String]
    public var dataset: DIDRef?
    public var metadata: [(String, JSON)] = []
    public var line = 0
}

public struct CollectionSeed: Sendable {
    public var did: DIDRef
    public var type: DIDType
    public var contents: [DIDRef] = []
    public var metadata: [(String, JSON)] = []
    public var account: String?
}

public struct RuleSeed: Sendable {
    /// A label expectations and events refer to.
    public var id: String?
    /// The rule as the lake's admin adds it (for `account`, root unless the scenario says otherwise).
    public var spec: RuleSpec

    public init(id: String? = nil, did: DIDRef, rseExpression: String) {
        self.id = id
        self.spec = RuleSpec(dids: [did], rseExpression: rseExpression, account: "root")
    }

    /// The rule's DID.
    public var did: DIDRef { spec.dids[0] }
    public var rseExpression: String { spec.rseExpression }
    public var copies: Int { spec.copies }
}

public struct IAMUserSeed: Sendable {
    public var username: String
    public var password: String
    public var groups: [String] = []
    public var account: String?
}

public struct BasketSeed: Sendable { public var user: String; public var dids: [DIDRef] }

/// Something that happens on the timeline.
public struct TimelineEvent: Sendable {
    public var at: TimeInterval
    public var action: Action
    public var line = 0

    public enum Action: Sendable {
        case rseAvailability(rse: String, read: Bool?, write: Bool?, delete: Bool?)
        case link(from: String, to: String, change: LinkChange, bothWays: Bool)
        case stagingDelay(rse: String, seconds: TimeInterval)
        case tokensExpire
        case iamDown(duration: TimeInterval?)
        case iamUp
        case apiFault(path: String, method: String?, status: Int?, delay: TimeInterval, duration: TimeInterval?)
        case apiRecover
        case loseFile(DIDRef, rse: String)
        case corruptFile(DIDRef, rse: String)
        case addRule(RuleSeed)
        case deleteRule(id: String)
        case clockScale(Double)
        case fault(String)
    }

    public var kind: String {
        switch action {
        case .rseAvailability: return "rse_availability"
        case .link: return "link"
        case .stagingDelay: return "staging_delay"
        case .tokensExpire: return "tokens_expire"
        case .iamDown: return "iam_down"
        case .iamUp: return "iam_up"
        case .apiFault: return "api_fault"
        case .apiRecover: return "api_recover"
        case .loseFile: return "lose_file"
        case .corruptFile: return "corrupt_file"
        case .addRule: return "add_rule"
        case .deleteRule: return "delete_rule"
        case .clockScale: return "clock_scale"
        case .fault: return "fault"
        }
    }
}

public struct FaultPreset: Sendable {
    public var id: String
    public var label: String
    public var actions: [TimelineEvent.Action]
}

/// Something that must hold at a time (or at the end).
public struct Expectation: Sendable {
    /// Seconds from the start; nil = at the end.
    public var at: TimeInterval?
    public var check: Check
    public var line = 0

    public enum Check: Sendable {
        case ruleState(rule: String, state: String)
        case rseFiles(rse: String, op: String, count: Int)
        case noLostReplicas
        case maxFailedTransfers(Int)
        case minFinishedTransfers(Int)
    }

    public var summary: String {
        let when = at.map { "t=\(Durations.format($0))" } ?? "end"
        switch check {
        case .ruleState(let r, let s): return "rule \(r) is \(s) at \(when)"
        case .rseFiles(let rse, let op, let n): return "\(rse) holds \(op) \(n) files at \(when)"
        case .noLostReplicas: return "no replica lost at \(when)"
        case .maxFailedTransfers(let n): return "at most \(n) failed transfers at \(when)"
        case .minFinishedTransfers(let n): return "at least \(n) finished transfers at \(when)"
        }
    }
}

/// Durations like `90s`, `10m`, `1h30m`, `2d`, `250ms`, or plain seconds.
public enum Durations {
    public static func parse(_ s: String) -> TimeInterval? {
        let t = s.trimmingCharacters(in: .whitespaces).lowercased()
        if let v = Double(t) { return v >= 0 ? v : nil }
        var total: Double = 0
        var number = ""
        var i = t.startIndex
        var sawUnit = false
        while i < t.endIndex {
            let c = t[i]
            if c.isNumber || c == "." { number.append(c); i = t.index(after: i); continue }
            var unit = String(c)
            let next = t.index(after: i)
            if c == "m", next < t.endIndex, t[next] == "s" { unit = "ms"; i = t.index(after: next) } else { i = next }
            guard let v = Double(number) else { return nil }
            switch unit {
            case "ms": total += v / 1000
            case "s": total += v
            case "m": total += v * 60
            case "h": total += v * 3600
            case "d": total += v * 86400
            default: return nil
            }
            number = ""
            sawUnit = true
        }
        guard number.isEmpty, sawUnit else { return nil }
        return total
    }

    public static func format(_ t: TimeInterval) -> String {
        if t == 0 { return "0s" }
        var s = Int(t.rounded())
        var out = ""
        if s >= 86400 { out += "\(s / 86400)d"; s %= 86400 }
        if s >= 3600 { out += "\(s / 3600)h"; s %= 3600 }
        if s >= 60 { out += "\(s / 60)m"; s %= 60 }
        if s > 0 || out.isEmpty { out += "\(s)s" }
        return out
    }
}

/// Sizes like `10MB`, `1.5GiB`, `512`, `200kB`.
public enum Sizes {
    public static func parse(_ s: String) -> Int64? {
        let t = s.trimmingCharacters(in: .whitespaces)
        if let v = Int64(t) { return v >= 0 ? v : nil }
        let units: [(String, Double)] = [("TiB", 1_099_511_627_776), ("GiB", 1_073_741_824), ("MiB", 1_048_576), ("KiB", 1024),
                                         ("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3), ("KB", 1e3), ("B", 1)]
        for (u, f) in units where t.hasSuffix(u) {
            guard let v = Double(t.dropLast(u.count).trimmingCharacters(in: .whitespaces)), v >= 0 else { return nil }
            return Int64(v * f)
        }
        return nil
    }

    /// Bandwidths like `100MB/s`, `1Gb/s` (bits), or bytes per second.
    public static func parseRate(_ s: String) -> Double? {
        let t = s.trimmingCharacters(in: .whitespaces)
        if let v = Double(t) { return v >= 0 ? v : nil }
        guard t.hasSuffix("/s") else { return nil }
        let body = String(t.dropLast(2))
        for (u, f) in [("Gb", 1e9 / 8), ("Mb", 1e6 / 8), ("kb", 1e3 / 8)] where body.hasSuffix(u) {
            guard let v = Double(body.dropLast(u.count)) else { return nil }
            return v * f
        }
        return parse(body).map(Double.init)
    }
}
