public import Foundation
public import LakebedCore
public import LakebedFTS

/// A scenario: a seed for the lake, a topology, a timeline of events and optional expectations.
public struct Scenario: Sendable {
    /// The scenario's label (`name:` in the YAML), shown in reports, the control API and the event log.
    public var name: String
    /// Free text from `description:`; `simulate --list` shows its first line.
    public var description: String = ""
    /// Seeds file bytes and checksums, catalog ids and the FTS engine's random failures: same seed, same run.
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
    /// The experiment policy (`policy:`; Rucio's `[policy]`): the names the lake takes, its permissions, its lfn2pfn default.
    public var policy: Policy.Name = .generic
    /// Whether root gets the scopes `user.root` and `test` (every lake but `serve --empty`'s, which is as bare as a fresh Rucio).
    public var rootScopes = true

    /// Rucio accounts to create (`accounts:`); `root` always exists and is not re-created.
    public var accounts: [AccountSeed] = []
    /// Scopes to create (`scopes:`), each owned by an account.
    public var scopes: [ScopeSeed] = []
    /// RSEs to create (`rses:`), added to the default SITE-A/B/C only if `keepDefaultLake`.
    public var rses: [RSESeed] = []
    /// RSE distances to set (`distances:`), as Rucio's `distance` between a source and a destination RSE.
    public var distances: [DistanceSeed] = []
    /// FTS link settings (bandwidth, latency, concurrency, failure rate) from `topology:`; unlisted links use its defaults.
    public var topology = Topology()
    /// Extra wait before bytes leave a (tape) RSE, in seconds by RSE name (`topology.staging_delays:`).
    public var stagingDelays: [String: TimeInterval] = [:]
    /// Transfer retry and back-off settings from `retries:` (max attempts and delays).
    public var retry = RetryPolicy()
    /// Files to create with replicas on RSEs (`files:`); each entry may stand for many files.
    public var files: [FileSeed] = []
    /// Datasets and containers to create (`datasets:` and `containers:`), with their contents.
    public var collections: [CollectionSeed] = []
    /// Replication rules added at t = 0 by root (`rules:`).
    public var rules: [RuleSeed] = []
    /// IAM users to add to the token issuer's directory (`iam_users:`).
    public var iamUsers: [IAMUserSeed] = []
    /// ESAP shopping-basket items to seed per user (`basket:`).
    public var basket: [BasketSeed] = []
    /// Events to apply on the lake clock, sorted by `at` (file order kept for equal times).
    public var timeline: [TimelineEvent] = []
    /// Named faults a presenter can inject (dashboard menu, `POST /lakebed/inject {"fault": id}`).
    public var faults: [FaultPreset] = []
    /// Checks reported at the end of a run (`expectations:`), timed or at the end.
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
    /// Rucio account to create; `root` is not re-created but may still get identities and limits here.
    public var name: String
    /// Rucio account type: USER, GROUP or SERVICE.
    public var type = "USER"
    /// The account's email, also used for its USERPASS identity; nil = none.
    public var email: String?
    /// Login for a USERPASS identity on this account; nil = no such identity (needs `password`).
    public var username: String?
    /// Password of the USERPASS identity given by `username`; nil when there is none.
    public var password: String?
    /// IAM users whose OIDC identity maps to this account.
    public var oidcUsers: [String] = []
    /// Local account limits: RSE → bytes.
    public var limits: [(String, Int64)] = []
}

public struct ScopeSeed: Sendable {
    /// The Rucio scope name, e.g. `user.alice`.
    public var name: String
    /// The account that owns the scope; must be root or declared under `accounts:`.
    public var account: String
}

public struct RSESeed: Sendable {
    /// The RSE name (upper-case letters, digits, - and _).
    public var name: String
    /// Rucio `rse_type`: DISK or TAPE.
    public var type = "DISK"
    /// RSE attributes (Rucio key/value attributes, used by RSE expressions), with typed values.
    public var attributes: [(String, JSON)] = []
    /// RSE settings (Rucio's RSE table columns such as `deterministic`, `availability_read`), merged over `rse_type`.
    public var settings: [(String, JSON)] = []
    /// Where the RSE's bytes live on disk, relative to Lakebed's working directory; nil = `<data>/rses/<name>`.
    public var directory: String?
    /// Sets the RSE attribute `oidc_support` = true: its storage then wants a bearer token with storage scopes.
    public var oidcSupport = false
    /// The RSE's own protocols (`protocols:`), as a production topology has them; nil = Lakebed's ready-made ones (a
    /// `file` protocol at `directory` and an `https` one at its WebDAV). With protocols of endpoints Lakebed does not
    /// serve, the RSE's storage is virtual.
    public var protocols: [RSEProtocol]?
}

public struct DistanceSeed: Sendable {
    /// Source RSE name.
    public var from: String
    /// Destination RSE name.
    public var to: String
    /// Rucio RSE distance (lower = closer, preferred as a transfer source).
    public var distance: Int
    /// Also set the same distance from `to` back to `from` (the default).
    public var symmetric = true
}

/// Files to create: one, or `count` of them with `{i}` in the name.
public struct FileSeed: Sendable {
    /// Scope of the file(s); must be declared under `scopes:` (or be a default-lake scope).
    public var scope: String
    /// File name; with `count` > 1 it holds `{i}`, replaced by the zero-padded file number.
    public var name: String
    /// How many files this entry makes (1 to 10,000,000).
    public var count = 1
    /// Bytes per file (1024 unless `size:` says otherwise).
    public var size: Int64 = 1024
    /// No bytes on disk (large simulations); sizes are still accounted.
    public var isVirtual = false
    /// RSEs that get an AVAILABLE replica of every file (`rse:` goes first, then `rses:`).
    public var rses: [String]
    /// Dataset the files are attached to (created from `datasets:`); nil = not attached.
    public var dataset: DIDRef?
    /// DID metadata for each file; string values may hold `{i}`, replaced by the file number.
    public var metadata: [(String, JSON)] = []
    /// Line of the entry in the scenario file, for error messages (0 = unknown).
    public var line = 0
}

public struct CollectionSeed: Sendable {
    /// The collection's DID.
    public var did: DIDRef
    /// DATASET or CONTAINER (from which YAML section it came).
    public var type: DIDType
    /// DIDs attached to it after all files and collections exist.
    public var contents: [DIDRef] = []
    /// DID metadata set on the collection.
    public var metadata: [(String, JSON)] = []
    /// Owning Rucio account; nil = root.
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
    /// IAM login name; also the user's display name and `<username>@lakebed.local` email.
    public var username: String
    /// IAM password for the password grant (defaults to `<username>-password` in the YAML).
    public var password: String
    /// IAM groups, as they appear in the token's `groups` claim.
    public var groups: [String] = []
    /// Rucio account the user's OIDC identity maps to; nil = none, unless an account lists the user in `oidc_users`.
    public var account: String?
}

public struct BasketSeed: Sendable {
    /// The ESAP user whose shopping basket gets the items.
    public var user: String
    /// DIDs put in the basket as `rucio` archive items; each must exist after seeding.
    public var dids: [DIDRef]
}

/// Something that happens on the timeline.
public struct TimelineEvent: Sendable {
    /// Seconds from the scenario start (0 for events injected through the control API).
    public var at: TimeInterval
    /// The change to apply: RSE availability, a link, staging delay, IAM or API faults, lost or corrupt files, rules, clock scale.
    public var action: Action
    /// Line of the event in the scenario file, for error messages (0 = unknown).
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
    /// Id that the timeline (`event: fault`) and `POST /lakebed/inject` use.
    public var id: String
    /// Text shown in the dashboard's fault menu and the event log; defaults to the id.
    public var label: String
    /// Actions applied together, at the moment of injection.
    public var actions: [TimelineEvent.Action]
}

/// Something that must hold at a time (or at the end).
public struct Expectation: Sendable {
    /// Seconds from the start; nil = at the end.
    public var at: TimeInterval?
    /// The condition: a rule's state, an RSE's file count, no lost replicas, or a bound on failed or finished transfers.
    public var check: Check
    /// Line of the expectation in the scenario file, reported with its result (0 = unknown).
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
            if c.isNumber || c == "." {
                number.append(c)
                i = t.index(after: i)
                continue
            }
            var unit = String(c)
            let next = t.index(after: i)
            if c == "m", next < t.endIndex, t[next] == "s" {
                unit = "ms"
                i = t.index(after: next)
            } else {
                i = next
            }
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
        if s >= 86400 {
            out += "\(s / 86400)d"
            s %= 86400
        }
        if s >= 3600 {
            out += "\(s / 3600)h"
            s %= 3600
        }
        if s >= 60 {
            out += "\(s / 60)m"
            s %= 60
        }
        if s > 0 || out.isEmpty { out += "\(s)s" }
        return out
    }
}

/// Sizes like `10MB`, `1.5GiB`, `512`, `200kB`.
public enum Sizes {
    public static func parse(_ s: String) -> Int64? {
        let t = s.trimmingCharacters(in: .whitespaces)
        if let v = Int64(t) { return v >= 0 ? v : nil }
        let units: [(String, Double)] = [
            ("TiB", 1_099_511_627_776), ("GiB", 1_073_741_824), ("MiB", 1_048_576), ("KiB", 1024),
            ("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3), ("KB", 1e3), ("B", 1),
        ]
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
