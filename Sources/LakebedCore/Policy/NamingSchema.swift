import Foundation

/// One JSON-schema check of Rucio's: a string and the pattern it must match (searched, as jsonschema's `pattern` is,
/// so an unanchored alternative matches anywhere — the schema's own quirks included).
struct SchemaCheck: Sendable {
    /// What Rucio calls the value in its message (`name`, `scope`, `rse`, `account`, `did`).
    let what: String
    /// The pattern as Rucio's schema writes it, for messages.
    let pattern: String
    /// Whether a value passes.
    let matches: @Sendable (String) -> Bool

    /// A check made by hand (the generic schema's, kept as fast as before).
    init(_ what: String, _ pattern: String, _ matches: @escaping @Sendable (String) -> Bool) {
        self.what = what
        self.pattern = pattern
        self.matches = matches
    }

    /// A check by regular expression. `matcher` is an equivalent expression to run instead of `pattern` when Rucio's
    /// would backtrack exponentially on long input.
    init(_ what: String, regex pattern: String, matcher: String? = nil) {
        // The patterns are constants of this file; one that does not compile is a bug the unit tests catch.
        let re = try! NSRegularExpression(pattern: matcher ?? pattern)
        self.init(what, pattern) { s in re.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) != nil }
    }

    /// Throws Rucio's InvalidObject when `s` does not pass.
    func check(_ s: String) throws {
        guard matches(s) else {
            throw RucioError.invalidObject("Problem validating \(what) : '\(Validation.printable(s))' does not match '\(pattern)'")
        }
    }
}

/// A policy's naming schema (Rucio's `common/schema/<policy>.py`): the names of scopes, DIDs, RSEs and accounts it
/// takes, and its activities. Generic is Lakebed's long-standing check; the others are the schemas as Rucio shipped
/// them (ATLAS, Belle II, ESCAPE: Rucio 34, the last release carrying them; CMS: CMS's policy package, dmwm/CMSRucio).
public struct NamingSchema: Sendable {
    /// The policy this schema belongs to.
    public let policy: Policy.Name
    let scope: SchemaCheck
    let name: SchemaCheck
    let rse: SchemaCheck
    let account: SchemaCheck
    /// DID names by type, where the schema's `did` checks the name against the type (CMS); nil: `name` for all.
    let typedNames: [DIDType: SchemaCheck]?
    /// The activities a rule or subscription may name (`ACTIVITY`).
    public let activities: [String]

    init(_ policy: Policy.Name) {
        self.policy = policy
        switch policy {
        case .generic, .atlas, .escape:
            scope = SchemaCheck("scope", "^[a-zA-Z_\\-.0-9]{1,25}$", Validation.isValidScope)
            name = SchemaCheck("name", "^[A-Za-z0-9][A-Za-z0-9\\.\\-\\_]{1,250}$", Validation.isValidName)
            rse = SchemaCheck("rse", "^([A-Z0-9]+([_-][A-Z0-9]+)*)$", Validation.isValidRSE)
            account =
                policy == .escape
                ? SchemaCheck("account", regex: "^[a-zA-Z0-9-_]{1,25}$")
                : SchemaCheck("account", "^[a-z0-9-_]{1,25}$", Validation.isValidAccount)
            typedNames = nil
        case .belleii:
            scope = SchemaCheck("scope", "^[a-zA-Z_\\-.0-9]{1,25}$", Validation.isValidScope)
            name = SchemaCheck("name", regex: "^/[A-Za-z0-9\\.\\-\\_\\+\\/]{1,250}$")
            // Rucio's nested quantifiers backtrack exponentially on a long name that fails; they take exactly the
            // strings of the simpler expression.
            rse = SchemaCheck("rse", regex: "^([A-Z])+((([A-Za-z0-9]+))*(-)?)*$", matcher: "^[A-Z][A-Za-z0-9-]*$")
            account = SchemaCheck("account", "^[a-z0-9-_]{1,25}$", Validation.isValidAccount)
            typedNames = nil
        case .cms:
            scope = SchemaCheck("scope", regex: "^(cms)|(logs)|(user\\.[a-z0-9-_]{1,20})$|(group\\.[a-z0-9-_]{1,19})$")
            let core = "/[a-zA-Z0-9\\-_]{1,99}/[a-zA-Z0-9\\.\\-_]{1,199}/[A-Z0-9\\-]{1,99}"
            let dataset = "^\(core)$"
            let block = "^\(core)#[a-zA-Z0-9\\.\\-_]{1,100}$"
            let lfn = "^\\/store\\/[A-Za-z0-9][A-Za-z0-9\\.\\-\\_\\/]{1,493}$"
            name = SchemaCheck("name", regex: "\(dataset)|\(block)|\(lfn)")
            rse = SchemaCheck("rse", regex: "^T[0-3]_[A-Z]{2}((_[A-Za-z0-9]+)+)$")
            account = SchemaCheck("account", "^[a-z0-9-_]{1,25}$", Validation.isValidAccount)
            typedNames = [
                .container: SchemaCheck("did", regex: dataset), .dataset: SchemaCheck("did", regex: block), .file: SchemaCheck("did", regex: lfn),
            ]
        }
        activities = Self.activities(policy)
    }

    static func activities(_ policy: Policy.Name) -> [String] {
        let transfers = ["Upload/Download (Job)", "Upload/Download (User)"]
        let analysis = ["Analysis Input", "Analysis Output", "Staging"]
        switch policy {
        case .generic: return Validation.ruleActivities
        case .atlas:
            return [
                "Data Brokering", "Data Consolidation", "Data Rebalancing", "Debug", "Express", "Functional Test", "Functional Test XrootD",
                "Functional Test WebDAV", "Group Subscriptions", "Production Input", "Production Output",
            ] + analysis + ["T0 Export", "T0 Tape"]
                + transfers + ["User Subscriptions", "Globus Online Test", "Data Challenge"]
        case .escape:
            return [
                "Data Brokering", "Data Consolidation", "Data rebalancing", "Debug", "Express", "Functional Test", "Group Subscriptions",
                "Production Input", "Production Output",
            ] + analysis + ["T0 Export", "T0 Tape"] + transfers
                + ["User Subscriptions", "Data Challenge", "DAC21"]
        case .belleii:
            return [
                "Data Consolidation", "Data Rebalancing", "Functional Test", "Functional Test WebDAV", "Recovery", "Production Input",
                "Production Output", "Production Merge",
            ] + analysis + ["Raw Export"] + transfers
                + ["User Merge", "User Transfers", "Calibration Transfers"]
        case .cms:
            return [
                "Data Brokering", "Data Consolidation", "Data rebalancing", "Debug", "Express", "Functional Test", "Group Subscriptions",
                "Production Input", "Production Output",
            ] + analysis + ["T0 Export", "T0 Tape"] + transfers
                + ["User AutoApprove", "User Subscriptions", "Data Challenge", "Analysis TapeRecall", "Manual Transfers"]
        }
    }

    /// The activities as Python prints the list, for messages.
    public var activitiesText: String { "[" + activities.map { "'\($0)'" }.joined(separator: ", ") + "]" }

    /// Throws InvalidObject unless `s` is a scope of this schema. Whatever the schema, Lakebed also refuses scopes
    /// that could name another folder (a `/`, `.` or `..`): a scope becomes a directory under an RSE.
    public func checkScope(_ s: String) throws {
        try scope.check(s)
        if s.contains("/") || s == "." || s == ".." || s.contains("\0") {
            throw RucioError.invalidObject("Problem validating scope : '\(Validation.printable(s))' would name another folder")
        }
    }
    /// Throws InvalidObject unless `s` is a DID name of this schema.
    public func checkName(_ s: String) throws { try name.check(s) }
    /// Throws InvalidObject unless `s` is an RSE name of this schema.
    public func checkRSE(_ s: String) throws { try rse.check(s) }
    /// Throws InvalidObject unless `s` is an account name of this schema.
    public func checkAccount(_ s: String) throws { try account.check(s) }
    /// Whether `s` is an RSE name of this schema.
    public func isValidRSE(_ s: String) -> Bool { rse.matches(s) }
    /// Whether `s` is an account name of this schema.
    public func isValidAccount(_ s: String) -> Bool { account.matches(s) }
    /// Whether `s` is a scope of this schema.
    public func isValidScope(_ s: String) -> Bool { (try? checkScope(s)) != nil }

    /// Rucio's `did` check of a DID being created: scope, name, and for CMS the name's form for the type (a container
    /// `/A/B/TIER`, a dataset a block `/A/B/TIER#x`, a file an LFN `/store/...` in its scope's namespace).
    public func checkDID(scope s: String, name n: String, type: DIDType) throws {
        try checkScope(s)
        try checkName(n)
        guard let typed = typedNames, let check = typed[type] else { return }
        try check.check(n)
        if type == .file { try Self.checkCMSNamespace(lfn: n, scope: s) }
    }

    /// CMS's `validate_cms_did`: user and group LFNs live under `/store/<kind>/rucio/<name>/`, only in their own
    /// scope; the `logs` scope's under `/store/logs/`.
    static func checkCMSNamespace(lfn: String, scope: String) throws {
        let shown = Validation.printable(lfn)
        for kind in ["user", "group"] {
            if lfn.hasPrefix("/store/\(kind)") && !lfn.hasPrefix("/store/\(kind)/rucio/") {
                throw RucioError.invalidObject("Problem with LFN \(shown) : Legacy \(kind) files are not managed with Rucio")
            }
            if lfn.hasPrefix("/store/\(kind)/rucio") && !scope.hasPrefix("\(kind).") {
                throw RucioError.invalidObject("Problem with LFN \(shown) : Only \(kind) scopes allowed in /store/\(kind)/rucio")
            }
            if scope.hasPrefix("\(kind).") {
                let owner = scope.dropFirst(kind.count + 1)
                if !lfn.hasPrefix("/store/\(kind)/rucio/\(owner)/") {
                    throw RucioError.invalidObject("Problem with LFN \(shown) : Not allowed for \(kind) \(Validation.printable(String(owner)))")
                }
            }
        }
        if scope == "logs" && !lfn.hasPrefix("/store/logs/") {
            throw RucioError.invalidObject("Problem with LFN \(shown) : Logs must start with /store/logs")
        }
    }
}
