import Foundation
public import LakebedCore
import LakebedFTS
import Yams

/// A mistake in a scenario file, with where it is.
public struct ScenarioError: Error, CustomStringConvertible, Sendable {
    /// The scenario file's path, or `<scenario>` / `<inject>` for text not read from a file.
    public var file: String
    /// 1-based line of the mistake in the file (0 = unknown).
    public var line: Int
    /// Column of the mistake on its line (0 = unknown).
    public var column: Int
    /// Where in the scenario the mistake is, as keys and indexes (e.g. `rules[2].copies`); empty = the whole file.
    public var path: String
    /// What is wrong, with a hint at the fix.
    public var message: String
    public var description: String { "\(file):\(line):\(column): \(path.isEmpty ? "" : path + ": ")\(message)" }
}

/// Reads scenario YAML into a `Scenario`, reporting every mistake with its line and a hint.
public struct ScenarioParser {
    let file: String
    var errors: [ScenarioError] = []
    /// The policy names are checked against: the scenario's `policy:`, else the one the caller gives, else generic.
    var policy = Policy.generic
    /// The policy the caller asks for (`serve --policy`), nil: none.
    var requestedPolicy: Policy.Name?

    public init(file: String) { self.file = file }

    /// Parses a scenario file. `policy`: the policy of a scenario that names none (`serve --policy`).
    public static func load(path: String, policy: Policy.Name? = nil) throws -> Scenario {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ScenarioErrors(errors: [
                ScenarioError(file: path, line: 0, column: 0, path: "", message: "cannot read the file: \(error.localizedDescription)")
            ])
        }
        return try parse(text, file: path, policy: policy)
    }

    /// Parses scenario text; throws `ScenarioErrors` listing every problem found. `policy`: the policy of a scenario
    /// that names none; one that names another is a mistake.
    public static func parse(_ text: String, file: String = "<scenario>", policy: Policy.Name? = nil) throws -> Scenario {
        var p = ScenarioParser(file: file)
        p.requestedPolicy = policy
        let node: Node?
        do { node = try Yams.compose(yaml: text) } catch let e as YamlError {
            throw ScenarioErrors(errors: [p.yamlError(e)])
        }
        guard let root = node, let map = root.mapping else {
            throw ScenarioErrors(errors: [
                ScenarioError(file: file, line: 1, column: 1, path: "", message: "a scenario is a YAML mapping with at least `name:`")
            ])
        }
        let s = p.scenario(map, root)
        if !p.errors.isEmpty { throw ScenarioErrors(errors: p.errors) }
        return s!
    }

    /// Parses one timeline event without a time (the control API's inject).
    public static func parseEvent(_ text: String) throws -> TimelineEvent.Action {
        var p = ScenarioParser(file: "<inject>")
        let node: Node?
        do { node = try Yams.compose(yaml: text) } catch let e as YamlError { throw ScenarioErrors(errors: [p.yamlError(e)]) }
        guard let n = node, let e = p.event(n, "event", needsTime: false), p.errors.isEmpty else {
            throw ScenarioErrors(
                errors: p.errors.isEmpty
                    ? [ScenarioError(file: "<inject>", line: 0, column: 0, path: "", message: "expected an event object")] : p.errors)
        }
        return e.action
    }

    func yamlError(_ e: YamlError) -> ScenarioError {
        switch e {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _):
            return ScenarioError(file: file, line: mark.line, column: mark.column, path: "", message: "YAML syntax: \(problem)")
        default:
            return ScenarioError(file: file, line: 0, column: 0, path: "", message: "YAML: \(e)")
        }
    }

    mutating func fail(_ node: Node?, _ path: String, _ message: String) {
        errors.append(ScenarioError(file: file, line: node?.mark?.line ?? 0, column: node?.mark?.column ?? 0, path: path, message: message))
    }

    // MARK: typed readers

    /// Keys of a mapping, checking for unknown ones.
    mutating func fields(_ node: Node, _ path: String, allowed: [String]) -> [String: Node]? {
        guard let m = node.mapping else {
            fail(node, path, "expected a mapping (key: value lines)")
            return nil
        }
        var out: [String: Node] = [:]
        for (k, v) in m {
            guard let key = k.string else {
                fail(k, path, "keys must be plain words")
                continue
            }
            if !allowed.contains(key) {
                let hint = allowed.min { Self.distance($0, key) < Self.distance($1, key) }.map { " (did you mean `\($0)`?)" } ?? ""
                fail(k, path, "unknown key `\(key)`\(hint); allowed: \(allowed.joined(separator: ", "))")
                continue
            }
            if out[key] != nil { fail(k, path, "`\(key)` appears twice") }
            out[key] = v
        }
        return out
    }

    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a)
        let b = Array(b)
        var prev = Array(0...b.count)
        for i in 1...max(1, a.count) where !a.isEmpty {
            var cur = [i] + Array(repeating: 0, count: b.count)
            for j in 1...max(1, b.count) where !b.isEmpty {
                cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            prev = cur
        }
        return prev[b.count]
    }

    mutating func string(_ n: Node?, _ path: String, required: Bool = false) -> String? {
        guard let n else {
            if required { fail(nil, path, "is required") }
            return nil
        }
        guard let s = n.scalar?.string else {
            fail(n, path, "expected a single value, not a list or mapping")
            return nil
        }
        return s
    }

    mutating func requiredString(_ f: [String: Node], _ key: String, _ path: String, parent: Node) -> String? {
        guard let n = f[key] else {
            fail(parent, path, "`\(key)` is required")
            return nil
        }
        return string(n, "\(path).\(key)")
    }

    mutating func int(_ n: Node?, _ path: String) -> Int? {
        guard let s = string(n, path) else { return nil }
        guard let v = Int(s) else {
            fail(n, path, "`\(s)` is not a whole number")
            return nil
        }
        return v
    }

    mutating func double(_ n: Node?, _ path: String) -> Double? {
        guard let s = string(n, path) else { return nil }
        guard let v = Double(s) else {
            fail(n, path, "`\(s)` is not a number")
            return nil
        }
        return v
    }

    mutating func bool(_ n: Node?, _ path: String) -> Bool? {
        guard let s = string(n, path) else { return nil }
        switch s.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default:
            fail(n, path, "`\(s)` is not true or false")
            return nil
        }
    }

    mutating func duration(_ n: Node?, _ path: String) -> TimeInterval? {
        guard let s = string(n, path) else { return nil }
        guard let v = Durations.parse(s) else {
            fail(n, path, "`\(s)` is not a duration (write e.g. 90s, 10m, 2h, 1h30m, 1d)")
            return nil
        }
        return v
    }

    mutating func size(_ n: Node?, _ path: String) -> Int64? {
        guard let s = string(n, path) else { return nil }
        guard let v = Sizes.parse(s) else {
            fail(n, path, "`\(s)` is not a size (write e.g. 1024, 10kB, 5MB, 2GiB)")
            return nil
        }
        return v
    }

    mutating func rate(_ n: Node?, _ path: String) -> Double? {
        guard let s = string(n, path) else { return nil }
        guard let v = Sizes.parseRate(s) else {
            fail(n, path, "`\(s)` is not a bandwidth (write e.g. 100MB/s, 1Gb/s, or bytes per second)")
            return nil
        }
        return v
    }

    mutating func did(_ n: Node?, _ path: String) -> DIDRef? {
        guard let s = string(n, path) else { return nil }
        let parts = s.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
            fail(n, path, "`\(s)` is not a DID (write scope:name)")
            return nil
        }
        return DIDRef(parts[0], parts[1])
    }

    mutating func list(_ n: Node?, _ path: String) -> [Node] {
        guard let n else { return [] }
        if let seq = n.sequence { return Array(seq) }
        fail(n, path, "expected a list (lines starting with `- `)")
        return []
    }

    mutating func stringList(_ n: Node?, _ path: String) -> [String] {
        guard let n else { return [] }
        if n.scalar != nil { return string(n, path).map { [$0] } ?? [] }
        return list(n, path).enumerated().compactMap { string($0.element, "\(path)[\($0.offset)]") }
    }

    /// A mapping of scalar values as JSON (numbers and booleans typed).
    mutating func jsonMap(_ n: Node?, _ path: String) -> [(String, JSON)] {
        guard let n else { return [] }
        guard let m = n.mapping else {
            fail(n, path, "expected a mapping")
            return []
        }
        var out: [(String, JSON)] = []
        for (k, v) in m {
            guard let key = k.string else { continue }
            guard let sc = v.scalar else {
                fail(v, "\(path).\(key)", "values must be single values")
                continue
            }
            out.append((key, Self.scalarJSON(sc)))
        }
        return out
    }

    static func scalarJSON(_ sc: Node.Scalar) -> JSON {
        let s = sc.string
        if sc.style == .doubleQuoted || sc.style == .singleQuoted { return .string(s) }
        if let i = Int64(s) { return .int(i) }
        if let d = Double(s), s.contains(".") { return .double(d) }
        switch s.lowercased() {
        case "true": return .bool(true)
        case "false": return .bool(false)
        default: return .string(s)
        }
    }

    // MARK: sections

    mutating func scenario(_ map: Node.Mapping, _ root: Node) -> Scenario? {
        let top = [
            "name", "description", "seed", "start", "time_scale", "duration", "keep_default_lake", "root_scopes", "accounts", "scopes", "rses",
            "distances", "topology", "retries", "files", "datasets", "containers", "rules", "iam_users", "basket", "timeline",
            "faults", "expectations", "policy",
        ]
        guard let f = fields(root, "", allowed: top) else { return nil }
        var s = Scenario(name: requiredString(f, "name", "", parent: root) ?? "unnamed")
        scenarioPolicy(f["policy"], &s)
        s.description = string(f["description"], "description") ?? ""
        if let n = f["seed"] {
            if let v = UInt64(string(n, "seed") ?? "") { s.seed = v } else { fail(n, "seed", "must be a non-negative whole number") }
        }
        if let n = f["start"], let t = string(n, "start") {
            if t == "now" {
                s.start = Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down))
                s.startsNow = true
            } else if let d = ISO8601DateFormatter().date(from: t) ?? RucioDate.parse(t) {
                s.start = d
            } else {
                fail(n, "start", "`\(t)` is not a date (write 2026-01-01T00:00:00Z)")
            }
        }
        if let v = double(f["time_scale"], "time_scale") {
            if v < 0 { fail(f["time_scale"], "time_scale", "must be >= 0 (0 = manual)") } else { s.timeScale = v }
        }
        s.duration = duration(f["duration"], "duration")
        s.keepDefaultLake = bool(f["keep_default_lake"], "keep_default_lake") ?? false
        s.rootScopes = bool(f["root_scopes"], "root_scopes") ?? true
        for (i, n) in list(f["accounts"], "accounts").enumerated() { if let a = account(n, "accounts[\(i)]") { s.accounts.append(a) } }
        for (i, n) in list(f["scopes"], "scopes").enumerated() {
            let p = "scopes[\(i)]"
            guard let g = fields(n, p, allowed: ["name", "account"]) else { continue }
            if let name = requiredString(g, "name", p, parent: n), let acc = requiredString(g, "account", p, parent: n) {
                checkName(g["name"], "\(p).name", name, "scope") { try $0.checkScope(name) }
                s.scopes.append(ScopeSeed(name: name, account: acc))
            }
        }
        for (i, n) in list(f["rses"], "rses").enumerated() { if let r = rse(n, "rses[\(i)]") { s.rses.append(r) } }
        for (i, n) in list(f["distances"], "distances").enumerated() {
            let p = "distances[\(i)]"
            guard let g = fields(n, p, allowed: ["from", "to", "distance", "symmetric"]) else { continue }
            if let a = requiredString(g, "from", p, parent: n), let b = requiredString(g, "to", p, parent: n),
                let d = int(g["distance"] ?? nil, "\(p).distance")
            {
                s.distances.append(DistanceSeed(from: a, to: b, distance: d, symmetric: bool(g["symmetric"], "\(p).symmetric") ?? true))
            } else if g["distance"] == nil {
                fail(n, p, "`distance` is required")
            }
        }
        if let n = f["topology"] { topology(n, "topology", &s) }
        if let n = f["retries"], let g = fields(n, "retries", allowed: ["max_attempts", "base_delay", "repair_delay", "no_source_delay"]) {
            if let v = int(g["max_attempts"], "retries.max_attempts") { s.retry.maxAttempts = max(1, v) }
            if let v = duration(g["base_delay"], "retries.base_delay") { s.retry.baseDelay = v }
            if let v = duration(g["repair_delay"], "retries.repair_delay") { s.retry.repairDelay = v }
            if let v = duration(g["no_source_delay"], "retries.no_source_delay") { s.retry.noSourceDelay = v }
        }
        for (i, n) in list(f["files"], "files").enumerated() { if let x = fileSeed(n, "files[\(i)]") { s.files.append(x) } }
        for (key, type) in [("datasets", DIDType.dataset), ("containers", DIDType.container)] {
            for (i, n) in list(f[key], key).enumerated() {
                let p = "\(key)[\(i)]"
                guard let g = fields(n, p, allowed: ["did", "contents", "metadata", "account"]) else { continue }
                guard let d = did(g["did"], "\(p).did") else {
                    if g["did"] == nil { fail(n, p, "`did` is required") }
                    continue
                }
                checkCollection(g["did"], "\(p).did", d, type)
                let contents = list(g["contents"], "\(p).contents").enumerated().compactMap { did($0.element, "\(p).contents[\($0.offset)]") }
                s.collections.append(
                    CollectionSeed(
                        did: d, type: type, contents: contents, metadata: jsonMap(g["metadata"], "\(p).metadata"),
                        account: string(g["account"], "\(p).account")))
            }
        }
        for (i, n) in list(f["rules"], "rules").enumerated() { if let r = rule(n, "rules[\(i)]") { s.rules.append(r) } }
        for (i, n) in list(f["iam_users"], "iam_users").enumerated() {
            let p = "iam_users[\(i)]"
            guard let g = fields(n, p, allowed: ["username", "password", "groups", "account"]) else { continue }
            if let u = requiredString(g, "username", p, parent: n) {
                s.iamUsers.append(
                    IAMUserSeed(
                        username: u, password: string(g["password"], "\(p).password") ?? "\(u)-password",
                        groups: stringList(g["groups"], "\(p).groups"), account: string(g["account"], "\(p).account")))
            }
        }
        for (i, n) in list(f["basket"], "basket").enumerated() {
            let p = "basket[\(i)]"
            guard let g = fields(n, p, allowed: ["user", "dids"]) else { continue }
            if let u = requiredString(g, "user", p, parent: n) {
                s.basket.append(
                    BasketSeed(user: u, dids: list(g["dids"], "\(p).dids").enumerated().compactMap { did($0.element, "\(p).dids[\($0.offset)]") }))
            }
        }
        for (i, n) in list(f["timeline"], "timeline").enumerated() { if let e = event(n, "timeline[\(i)]", needsTime: true) { s.timeline.append(e) } }
        for (i, n) in list(f["faults"], "faults").enumerated() {
            let p = "faults[\(i)]"
            guard let g = fields(n, p, allowed: ["id", "label", "events"]) else { continue }
            guard let id = requiredString(g, "id", p, parent: n) else { continue }
            let actions = list(g["events"], "\(p).events").enumerated().compactMap {
                event($0.element, "\(p).events[\($0.offset)]", needsTime: false)?.action
            }
            if actions.isEmpty { fail(n, p, "a fault needs at least one entry under `events`") }
            s.faults.append(FaultPreset(id: id, label: string(g["label"], "\(p).label") ?? id, actions: actions))
        }
        for (i, n) in list(f["expectations"], "expectations").enumerated() {
            if let e = expectation(n, "expectations[\(i)]") { s.expectations.append(e) }
        }
        crossCheck(&s, root)
        s.timeline.sort { $0.at < $1.at }  // stable: same-time events keep file order
        return s
    }

    mutating func account(_ n: Node, _ p: String) -> AccountSeed? {
        guard let g = fields(n, p, allowed: ["name", "type", "email", "username", "password", "oidc_users", "limits"]) else { return nil }
        guard let name = requiredString(g, "name", p, parent: n) else { return nil }
        if name != "root" { checkName(g["name"], "\(p).name", name, "account") { try $0.checkAccount(name) } }
        var a = AccountSeed(name: name)
        if let t = string(g["type"], "\(p).type") {
            if ["USER", "GROUP", "SERVICE"].contains(t.uppercased()) {
                a.type = t.uppercased()
            } else {
                fail(g["type"], "\(p).type", "must be USER, GROUP or SERVICE")
            }
        }
        a.email = string(g["email"], "\(p).email")
        a.username = string(g["username"], "\(p).username")
        a.password = string(g["password"], "\(p).password")
        if a.username != nil && a.password == nil { fail(n, p, "a `username` needs a `password`") }
        a.oidcUsers = stringList(g["oidc_users"], "\(p).oidc_users")
        if let l = g["limits"], let m = l.mapping {
            for (k, v) in m { if let rse = k.string, let b = size(v, "\(p).limits.\(rse)") { a.limits.append((rse, b)) } }
        } else if let l = g["limits"] {
            fail(l, "\(p).limits", "expected a mapping of RSE: size")
        }
        return a
    }

    mutating func rse(_ n: Node, _ p: String) -> RSESeed? {
        guard let g = fields(n, p, allowed: ["name", "type", "attributes", "settings", "directory", "oidc_support", "protocols"]) else {
            return nil
        }
        guard let name = requiredString(g, "name", p, parent: n) else { return nil }
        if !policy.schema.isValidRSE(name) {
            fail(
                g["name"], "\(p).name",
                policy.name == .generic
                    ? "`\(name)` is not a valid RSE name (upper-case letters, digits, - and _)" : refusal(name, "RSE", { try $0.checkRSE(name) }))
        }
        var r = RSESeed(name: name)
        if let t = string(g["type"], "\(p).type") {
            if ["DISK", "TAPE"].contains(t.uppercased()) { r.type = t.uppercased() } else { fail(g["type"], "\(p).type", "must be DISK or TAPE") }
        }
        r.attributes = jsonMap(g["attributes"], "\(p).attributes")
        if let algorithm = r.attributes.last(where: { $0.0 == "lfn2pfn_algorithm" })?.1, (try? policy.lfn2pfn(algorithm.stringValue ?? "?")) == nil {
            fail(
                g["attributes"], "\(p).attributes.lfn2pfn_algorithm",
                "`\(algorithm.stringValue ?? algorithm.serialized())` is not an lfn2pfn algorithm (one of default, \(LFN2PFN.namesText))")
        }
        r.settings = jsonMap(g["settings"], "\(p).settings")
        r.directory = string(g["directory"], "\(p).directory")
        r.oidcSupport = bool(g["oidc_support"], "\(p).oidc_support") ?? false
        if let list = g["protocols"] {
            if g["directory"] != nil { fail(list, "\(p).protocols", "give `directory` or `protocols`, not both (a file protocol's prefix is its directory)") }
            r.protocols = self.list(list, "\(p).protocols").enumerated().compactMap { rseProtocol($0.element, "\(p).protocols[\($0.offset)]") }
        }
        return r
    }

    /// One protocol as Rucio's `add_protocol` takes it; domains default to every operation at priority 1.
    mutating func rseProtocol(_ n: Node, _ p: String) -> RSEProtocol? {
        guard let g = fields(n, p, allowed: ["scheme", "hostname", "port", "prefix", "impl", "domains"]) else { return nil }
        guard let scheme = requiredString(g, "scheme", p, parent: n) else { return nil }
        let posix = scheme == "file"
        var domains = RSEProtocol.allDomains
        if let d = g["domains"] {
            var o = JSONObject()
            for (k, v) in d.mapping ?? [:] {
                guard let domain = k.string else { continue }
                o[domain] = .object(JSONObject(jsonMap(v, "\(p).domains.\(domain)")))
            }
            if d.mapping == nil { fail(d, "\(p).domains", "expected a mapping such as {wan: {read: 1, write: 1}}") }
            domains = .object(o)
        }
        return RSEProtocol(
            scheme: scheme, hostname: string(g["hostname"], "\(p).hostname") ?? "localhost", port: int(g["port"], "\(p).port") ?? 0,
            prefix: string(g["prefix"], "\(p).prefix") ?? "/",
            impl: string(g["impl"], "\(p).impl") ?? (posix ? "rucio.rse.protocols.posix.Default" : "rucio.rse.protocols.gfal.Default"),
            domains: domains)
    }

    /// The link settings a mapping gives, checked.
    mutating func linkChange(_ g: [String: Node], _ p: String) -> LinkChange {
        var c = LinkChange()
        c.bandwidth = rate(g["bandwidth"], "\(p).bandwidth")
        c.latency = duration(g["latency"], "\(p).latency")
        if let v = int(g["concurrency"], "\(p).concurrency") {
            if v < 1 { fail(g["concurrency"], "\(p).concurrency", "must be at least 1") } else { c.concurrency = v }
        }
        if let v = double(g["failure_rate"], "\(p).failure_rate") {
            if (0...1).contains(v) { c.failureRate = v } else { fail(g["failure_rate"], "\(p).failure_rate", "must be between 0 and 1") }
        }
        c.down = bool(g["down"], "\(p).down")
        if let v = string(g["failure_reason"], "\(p).failure_reason") { c.failureReason = .some(v) }
        return c
    }

    static let linkKeys = LinkChange.keys

    mutating func topology(_ n: Node, _ p: String, _ s: inout Scenario) {
        guard let g = fields(n, p, allowed: ["defaults", "links", "staging_delays"]) else { return }
        if let d = g["defaults"], let dg = fields(d, "\(p).defaults", allowed: Self.linkKeys) {
            linkChange(dg, "\(p).defaults").apply(to: &s.topology.defaults)
        }
        for (i, l) in list(g["links"], "\(p).links").enumerated() {
            let lp = "\(p).links[\(i)]"
            guard let lg = fields(l, lp, allowed: ["from", "to", "both_ways"] + Self.linkKeys) else { continue }
            guard let from = requiredString(lg, "from", lp, parent: l), let to = requiredString(lg, "to", lp, parent: l) else { continue }
            var settings = s.topology.settings(from, to)
            linkChange(lg, lp).apply(to: &settings)
            s.topology.links[LinkKey(from, to)] = settings
            if bool(lg["both_ways"], "\(lp).both_ways") ?? true { s.topology.links[LinkKey(to, from)] = settings }
        }
        if let sd = g["staging_delays"], let m = sd.mapping {
            for (k, v) in m { if let rse = k.string, let d = duration(v, "\(p).staging_delays.\(rse)") { s.stagingDelays[rse] = d } }
        }
    }

    mutating func fileSeed(_ n: Node, _ p: String) -> FileSeed? {
        guard let g = fields(n, p, allowed: ["scope", "name", "count", "size", "virtual", "rse", "rses", "dataset", "metadata"]) else { return nil }
        guard let scope = requiredString(g, "scope", p, parent: n), let name = requiredString(g, "name", p, parent: n) else { return nil }
        var rses = stringList(g["rses"], "\(p).rses")
        if let r = string(g["rse"], "\(p).rse") { rses.insert(r, at: 0) }
        if rses.isEmpty { fail(n, p, "give the RSE(s) holding the files with `rse:` or `rses:`") }
        // The name seeding will register, with a file number where `{i}` stands.
        let sample = name.replacingOccurrences(of: "{i}", with: "1")
        checkName(g["name"], "\(p).name", sample, "FILE name") { try $0.checkDID(scope: scope, name: sample, type: .file) }
        var f = FileSeed(scope: scope, name: name, rses: rses)
        if let c = int(g["count"], "\(p).count") {
            if c < 1 || c > 10_000_000 { fail(g["count"], "\(p).count", "must be between 1 and 10,000,000") } else { f.count = c }
        }
        if f.count > 1 && !name.contains("{i}") { fail(g["name"], "\(p).name", "with `count` > 1 the name needs `{i}` where the file number goes") }
        if let sz = size(g["size"], "\(p).size") { f.size = sz }
        f.isVirtual = bool(g["virtual"], "\(p).virtual") ?? false
        if !f.isVirtual && f.size * Int64(f.count) > 2_000_000_000 {
            fail(n, p, "more than 2 GB of real bytes: set `virtual: true` for large simulations")
        }
        f.dataset = g["dataset"].flatMap { did($0, "\(p).dataset") }
        f.metadata = jsonMap(g["metadata"], "\(p).metadata")
        f.line = n.mark?.line ?? 0
        return f
    }

    mutating func rule(_ n: Node, _ p: String) -> RuleSeed? {
        guard
            let g = fields(
                n, p,
                allowed: [
                    "id", "rule_id", "did", "rse_expression", "copies", "lifetime", "account", "grouping",
                    "source_replica_expression", "activity", "purge_replicas",
                ])
        else { return nil }
        guard let d = did(g["did"], "\(p).did"), let expr = requiredString(g, "rse_expression", p, parent: n) else {
            if g["did"] == nil { fail(n, p, "`did` is required") }
            return nil
        }
        if (try? RSEExpression.parse(expr)) == nil { fail(g["rse_expression"], "\(p).rse_expression", "`\(expr)` is not a valid RSE expression") }
        var r = RuleSeed(did: d, rseExpression: expr)
        r.id = string(g["id"], "\(p).id")
        if let rid = string(g["rule_id"], "\(p).rule_id") {
            if rid.count == 32, rid.allSatisfy(\.isHexDigit), rid == rid.lowercased() {
                r.spec.id = rid
            } else {
                fail(g["rule_id"], "\(p).rule_id", "must be a Rucio rule id: 32 lower-case hex digits, like 0123456789abcdef0123456789abcdef")
            }
        }
        if let c = int(g["copies"], "\(p).copies") { if c < 1 { fail(g["copies"], "\(p).copies", "must be at least 1") } else { r.spec.copies = c } }
        r.spec.lifetime = duration(g["lifetime"], "\(p).lifetime")
        r.spec.account = string(g["account"], "\(p).account") ?? "root"
        if let gr = string(g["grouping"], "\(p).grouping") {
            if ["ALL", "DATASET", "NONE"].contains(gr.uppercased()) {
                r.spec.grouping = gr.uppercased()
            } else {
                fail(g["grouping"], "\(p).grouping", "must be ALL, DATASET or NONE")
            }
        }
        r.spec.sourceReplicaExpression = string(g["source_replica_expression"], "\(p).source_replica_expression")
        r.spec.activity = string(g["activity"], "\(p).activity") ?? r.spec.activity
        if !policy.schema.activities.contains(r.spec.activity) {
            let known = policy.schema.activitiesText
            fail(g["activity"] ?? n, "\(p).activity", "`\(r.spec.activity)` is not an activity of the \(policy.name.rawValue) policy: \(known)")
        }
        r.spec.purgeReplicas = bool(g["purge_replicas"], "\(p).purge_replicas") ?? false
        return r
    }

    static let eventKinds = [
        "rse_down", "rse_up", "link", "staging_delay", "tokens_expire", "iam_down", "iam_up", "api_fault", "api_recover",
        "lose_file", "corrupt_file", "add_rule", "delete_rule", "clock_scale", "fault",
    ]

    mutating func event(_ n: Node, _ p: String, needsTime: Bool) -> TimelineEvent? {
        guard let g0 = n.mapping else {
            fail(n, p, "expected a mapping with `at:` and `event:`")
            return nil
        }
        let kind = g0["event"]?.string
        guard let kind else {
            fail(n, p, "`event` is required (one of \(Self.eventKinds.joined(separator: ", ")))")
            return nil
        }
        guard Self.eventKinds.contains(kind) else {
            let hint = Self.eventKinds.min { Self.distance($0, kind) < Self.distance($1, kind) }!
            fail(g0["event"], "\(p).event", "unknown event `\(kind)` (did you mean `\(hint)`?); known: \(Self.eventKinds.joined(separator: ", "))")
            return nil
        }
        var allowed = ["at", "event", "note"]
        switch kind {
        case "rse_down", "rse_up": allowed += ["rse", "operations"]
        case "link": allowed += ["from", "to", "both_ways"] + Self.linkKeys
        case "staging_delay": allowed += ["rse", "delay"]
        case "iam_down": allowed += ["duration"]
        case "api_fault": allowed += ["path", "method", "status", "delay", "duration"]
        case "lose_file", "corrupt_file": allowed += ["did", "rse"]
        case "add_rule":
            allowed += [
                "id", "rule_id", "did", "rse_expression", "copies", "lifetime", "account", "grouping", "source_replica_expression", "activity",
                "purge_replicas",
            ]
        case "delete_rule": allowed += ["rule"]
        case "clock_scale": allowed += ["scale"]
        case "fault": allowed += ["id"]
        default: break
        }
        guard let g = fields(n, p, allowed: allowed) else { return nil }
        var at: TimeInterval = 0
        if needsTime {
            guard let t = duration(g["at"], "\(p).at") else {
                if g["at"] == nil { fail(n, p, "`at` is required (time from the start, e.g. 10m)") }
                return nil
            }
            at = t
        }
        let action: TimelineEvent.Action
        switch kind {
        case "rse_down", "rse_up":
            guard let rse = requiredString(g, "rse", p, parent: n) else { return nil }
            let ops = Set(stringList(g["operations"], "\(p).operations").map { $0.lowercased() })
            let bad = ops.subtracting(["read", "write", "delete"])
            if !bad.isEmpty {
                fail(g["operations"], "\(p).operations", "unknown operation(s) \(bad.sorted().joined(separator: ", ")); use read, write, delete")
            }
            let all = ops.isEmpty
            let v = kind == "rse_up"
            action = .rseAvailability(
                rse: rse, read: all || ops.contains("read") ? v : nil, write: all || ops.contains("write") ? v : nil,
                delete: all || ops.contains("delete") ? v : nil)
        case "link":
            guard let from = requiredString(g, "from", p, parent: n), let to = requiredString(g, "to", p, parent: n) else { return nil }
            let change = linkChange(g, p)
            if change.isEmpty { fail(n, p, "say what changes on the link: \(LinkChange.keys.joined(separator: ", "))") }
            action = .link(from: from, to: to, change: change, bothWays: bool(g["both_ways"], "\(p).both_ways") ?? false)
        case "staging_delay":
            guard let rse = requiredString(g, "rse", p, parent: n), let d = duration(g["delay"], "\(p).delay") else {
                if g["delay"] == nil { fail(n, p, "`delay` is required") }
                return nil
            }
            action = .stagingDelay(rse: rse, seconds: d)
        case "tokens_expire": action = .tokensExpire
        case "iam_down": action = .iamDown(duration: duration(g["duration"], "\(p).duration"))
        case "iam_up": action = .iamUp
        case "api_fault":
            guard let path = requiredString(g, "path", p, parent: n) else { return nil }
            if !path.hasPrefix("/") { fail(g["path"], "\(p).path", "must start with / (e.g. /replicas)") }
            let status = int(g["status"], "\(p).status")
            if let st = status, !(400...599).contains(st) { fail(g["status"], "\(p).status", "must be an HTTP error status (400-599)") }
            let delay = duration(g["delay"], "\(p).delay") ?? 0
            if status == nil && delay == 0 { fail(n, p, "an api_fault needs a `status` (e.g. 503) and/or a `delay` (e.g. 2s)") }
            action = .apiFault(
                path: path, method: string(g["method"], "\(p).method")?.uppercased(), status: status, delay: delay,
                duration: duration(g["duration"], "\(p).duration"))
        case "api_recover": action = .apiRecover
        case "lose_file", "corrupt_file":
            guard let d = did(g["did"], "\(p).did"), let rse = requiredString(g, "rse", p, parent: n) else {
                if g["did"] == nil { fail(n, p, "`did` is required") }
                return nil
            }
            action = kind == "lose_file" ? .loseFile(d, rse: rse) : .corruptFile(d, rse: rse)
        case "add_rule":
            guard
                let r = rule(
                    n.mapping.map { m in
                        Node.mapping(Node.Mapping(m.filter { !["at", "event", "note"].contains($0.key.string ?? "") }, m.tag, m.style, m.mark))
                    } ?? n, p)
            else { return nil }
            action = .addRule(r)
        case "delete_rule":
            guard let r = requiredString(g, "rule", p, parent: n) else { return nil }
            action = .deleteRule(id: r)
        case "clock_scale":
            guard let v = double(g["scale"], "\(p).scale") else {
                if g["scale"] == nil { fail(n, p, "`scale` is required") }
                return nil
            }
            action = .clockScale(max(0, v))
        default:
            guard let id = requiredString(g, "id", p, parent: n) else { return nil }
            action = .fault(id)
        }
        return TimelineEvent(at: at, action: action, line: n.mark?.line ?? 0)
    }

    mutating func expectation(_ n: Node, _ p: String) -> Expectation? {
        guard
            let g = fields(
                n, p,
                allowed: [
                    "at", "by", "rule", "state", "rse", "files", "at_least", "at_most", "no_lost_replicas",
                    "max_failed_transfers", "min_finished_transfers",
                ])
        else { return nil }
        var at: TimeInterval? = nil
        if let t = g["at"] ?? g["by"], string(t, "\(p).at") != "end" { at = duration(t, "\(p).at") }
        let check: Expectation.Check
        if let r = g["rule"] {
            guard let rule = string(r, "\(p).rule"), let st = requiredString(g, "state", p, parent: n) else { return nil }
            guard ["OK", "REPLICATING", "STUCK", "SUSPENDED", "GONE"].contains(st.uppercased()) else {
                fail(g["state"], "\(p).state", "must be OK, REPLICATING, STUCK, SUSPENDED or GONE")
                return nil
            }
            check = .ruleState(rule: rule, state: st.uppercased())
        } else if let r = g["rse"] {
            guard let rse = string(r, "\(p).rse") else { return nil }
            if let v = int(g["files"], "\(p).files") {
                check = .rseFiles(rse: rse, op: "==", count: v)
            } else if let v = int(g["at_least"], "\(p).at_least") {
                check = .rseFiles(rse: rse, op: ">=", count: v)
            } else if let v = int(g["at_most"], "\(p).at_most") {
                check = .rseFiles(rse: rse, op: "<=", count: v)
            } else {
                fail(n, p, "an RSE expectation needs `files`, `at_least` or `at_most`")
                return nil
            }
        } else if g["no_lost_replicas"] != nil {
            check = .noLostReplicas
        } else if let v = int(g["max_failed_transfers"], "\(p).max_failed_transfers") {
            check = .maxFailedTransfers(v)
        } else if let v = int(g["min_finished_transfers"], "\(p).min_finished_transfers") {
            check = .minFinishedTransfers(v)
        } else {
            fail(
                n, p, "say what to expect: `rule` + `state`, `rse` + `files`, `no_lost_replicas`, `max_failed_transfers` or `min_finished_transfers`")
            return nil
        }
        return Expectation(at: at, check: check, line: n.mark?.line ?? 0)
    }

    /// References between sections: RSEs, accounts, scopes, rule labels and fault ids must exist.
    mutating func crossCheck(_ s: inout Scenario, _ root: Node) {
        var rses = Set(s.rses.map(\.name))
        var accounts = Set(s.accounts.map(\.name)).union(["root"])
        var scopes = Set(s.scopes.map(\.name))
        if s.keepDefaultLake { rses.formUnion(["SITE-A", "SITE-B", "SITE-C"]) }
        if s.rootScopes { scopes.formUnion(DefaultLake.rootScopes(policy.schema)) }
        if s.keepDefaultLake && !policy.schema.isValidRSE("SITE-A") {
            fail(root, "keep_default_lake", "SITE-A, SITE-B and SITE-C (the default lake's RSEs) are not RSE names of the \(policy.name.rawValue) policy")
        }
        accounts.insert("root")
        for sc in s.scopes where !accounts.contains(sc.account) {
            fail(root, "scopes", "scope \(sc.name) belongs to unknown account `\(sc.account)`")
        }
        for f in s.files {
            for r in f.rses where !rses.contains(r) {
                errors.append(
                    ScenarioError(file: file, line: f.line, column: 1, path: "files", message: "unknown RSE `\(r)` (declare it under `rses:`)"))
            }
            if !scopes.contains(f.scope) {
                errors.append(
                    ScenarioError(
                        file: file, line: f.line, column: 1, path: "files", message: "unknown scope `\(f.scope)` (declare it under `scopes:`)"))
            }
        }
        for d in s.distances where !rses.contains(d.from) || !rses.contains(d.to) {
            fail(root, "distances", "distance \(d.from) → \(d.to) names an unknown RSE")
        }
        let labels = Set(s.rules.compactMap(\.id) + s.timeline.compactMap { if case .addRule(let r) = $0.action { return r.id } else { return nil } })
        for e in s.expectations {
            if case .ruleState(let r, _) = e.check, !labels.contains(r) {
                errors.append(
                    ScenarioError(
                        file: file, line: e.line, column: 1, path: "expectations", message: "no rule has the id `\(r)` (give a rule `id: \(r)`)"))
            }
            if case .rseFiles(let rse, _, _) = e.check, !rses.contains(rse) {
                errors.append(ScenarioError(file: file, line: e.line, column: 1, path: "expectations", message: "unknown RSE `\(rse)`"))
            }
        }
        let faultIDs = Set(s.faults.map(\.id))
        for e in s.timeline {
            switch e.action {
            case .rseAvailability(let r, _, _, _), .stagingDelay(let r, _), .loseFile(_, let r), .corruptFile(_, let r):
                if !rses.contains(r) {
                    errors.append(ScenarioError(file: file, line: e.line, column: 1, path: "timeline", message: "unknown RSE `\(r)`"))
                }
            case .fault(let id):
                if !faultIDs.contains(id) {
                    errors.append(ScenarioError(file: file, line: e.line, column: 1, path: "timeline", message: "no fault has the id `\(id)`"))
                }
            case .deleteRule(let id):
                if !labels.contains(id) {
                    errors.append(ScenarioError(file: file, line: e.line, column: 1, path: "timeline", message: "no rule has the id `\(id)`"))
                }
            default: break
            }
        }
        _ = accounts
    }
}

/// Every mistake found in a scenario file.
public struct ScenarioErrors: Error, CustomStringConvertible, Sendable {
    /// Every problem found, in the order the parser met them.
    public var errors: [ScenarioError]
    public var description: String { errors.map(\.description).joined(separator: "\n") }
}
