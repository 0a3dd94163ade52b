import Foundation

/// What Rucio's `[policy]` section selects for a lake: its naming schema (`schema`), its permission policy
/// (`permission`) and the lfn2pfn algorithm of RSEs that name none (`lfn2pfn_algorithm_default`).
///
/// One value, held by the catalog and recorded in it, so a lake restarted on its data folder keeps its policy.
public struct Policy: Sendable, Equatable {
    /// The policies Lakebed knows, named as Rucio's `[policy] schema` / `permission` options name them.
    public enum Name: String, Sendable, CaseIterable {
        /// Rucio's generic schema and permissions (the default, and what the conformance suite compares).
        case generic
        /// ATLAS: the generic names, ATLAS's activities, RSE-type based replica registration.
        case atlas
        /// CMS: `/store/...` LFNs, `/A/B/TIER` containers, `/A/B/TIER#uuid` blocks, `T1_US_FNAL_Disk`-style RSEs.
        case cms
        /// Belle II: absolute `/belle/...` names, `DESY-DE`-style RSEs, names used as paths.
        case belleii
        /// ESCAPE: the generic names with upper-case account names and ESCAPE's activities.
        case escape
    }

    /// Which policy this is.
    public let name: Name
    /// The names the lake takes (scopes, DIDs, RSEs, accounts, activities).
    public let schema: NamingSchema
    /// Who may do what.
    public let permission: PermissionPolicy
    /// The algorithm of an RSE without an `lfn2pfn_algorithm` attribute (or with `default`).
    public let lfn2pfnDefault: LFN2PFN

    /// The policy called `name`.
    public init(_ name: Name) {
        self.name = name
        self.schema = NamingSchema(name)
        self.permission = PermissionPolicy(policy: name)
        // As the policy packages' test configurations set `lfn2pfn_algorithm_default`: Belle II's names are paths;
        // the others keep Rucio's default, hash (CMS sets `cmstfc` on each real RSE instead).
        self.lfn2pfnDefault = name == .belleii ? .belleii : .hash
    }

    /// The policy spelled `text` (`generic`, `atlas`, `cms`, `belleii`, `escape`), or nil.
    public init?(named text: String) {
        guard let n = Name(rawValue: text.lowercased()) else { return nil }
        self.init(n)
    }

    /// Rucio's generic policy.
    public static let generic = Policy(.generic)

    /// The names accepted by `init(named:)`, for messages.
    public static var namesText: String { Name.allCases.map(\.rawValue).joined(separator: ", ") }

    public static func == (a: Policy, b: Policy) -> Bool { a.name == b.name }

    /// The path, relative to an RSE's prefix, of `scope:name` on a deterministic RSE whose `lfn2pfn_algorithm`
    /// attribute is `algorithm` (nil or `default`: this policy's default). The one lfn2pfn step: replica paths,
    /// `lfns2pfns`, transfers and uploads all come through here. The path is normalised (no leading slash, no empty
    /// segments), so it names the file the way storage requests do: a client that joins the prefix and an algorithm's
    /// `/store/...` into `prefix//store/...` reaches the same file.
    public func lfn2pfnPath(algorithm: String?, scope: String, name: String) throws -> String {
        try lfn2pfn(algorithm).path(scope: scope, name: name).split(separator: "/", omittingEmptySubsequences: true).joined(separator: "/")
    }

    /// The algorithm an RSE's `lfn2pfn_algorithm` attribute names (nil or `default`: this policy's default).
    public func lfn2pfn(_ algorithm: String?) throws -> LFN2PFN {
        guard let algorithm, algorithm != "default" else { return lfn2pfnDefault }
        guard let a = LFN2PFN(rawValue: algorithm) else {
            throw RucioError(
                .invalidObject,
                "Provided object does not match schema. Details: unknown lfn2pfn_algorithm '\(Validation.printable(algorithm))' (known: \(LFN2PFN.namesText))"
            )
        }
        return a
    }
}

/// A data folder recorded with one policy, opened with another.
public struct PolicyMismatch: Error, CustomStringConvertible, Sendable {
    /// The policy the catalog records.
    public let recorded: Policy.Name
    /// The policy asked for.
    public let requested: Policy.Name
    /// The folder.
    public let dataDir: String
    public var description: String {
        """
        \(dataDir) holds a lake with the \(recorded.rawValue) policy, not \(requested.rawValue): a lake keeps the policy it was \
        created with (its names were checked against it). Leave out --policy to open it as it is, add --fresh to start \
        it over with the \(requested.rawValue) policy (this wipes its catalog and RSE bytes), or give another --data-dir.
        """
    }
}
