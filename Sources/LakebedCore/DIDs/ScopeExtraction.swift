import Foundation

/// How a DID string without an explicit scope is split into scope and name (Rucio's `extract_scope` algorithms, chosen
/// by the `extract_scope` option of the config's `common` or `policy` section).
public enum ScopeExtraction: String, Sendable {
    /// `scope:name`; without a colon, the part before the first dot (`user.<x>`/`group.<x>` keep two parts).
    case `default` = "def"
    /// DIRAC's LFNs, `/<vo>/<scope>/...`: the second path element (the first when there is only one); the name is the LFN.
    case dirac

    /// The algorithm the config names (unknown or unset names fall back to the default, as in Rucio).
    public init(configured: String?) { self = configured.flatMap(ScopeExtraction.init(rawValue:)) ?? .default }

    /// Splits `did` into scope and name.
    public func split(_ did: String) throws -> (scope: String, name: String) {
        switch self {
        case .dirac:
            let parts = did.trimmingSuffix("/").split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            guard parts.count > 1 else { throw RucioError(.rucioException, "Cannot extract scope from LFN \(did)") }
            return (parts.count > 2 ? parts[2] : parts[1], did)
        case .default:
            guard did.contains(":") else {
                var scope = String(did.split(separator: ".", omittingEmptySubsequences: false).first ?? "")
                if did.hasPrefix("user") || did.hasPrefix("group") {
                    scope = did.split(separator: ".", omittingEmptySubsequences: false).prefix(2).joined(separator: ".")
                }
                return (scope, did.hasSuffix("/") ? String(did.dropLast()) : did)
            }
            let parts = did.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 2 else {
                throw RucioError(
                    .rucioException,
                    "Cannot extract scope and name from DID \(did). The DID should have exactly one colon but found \(parts.count) colons.")
            }
            guard !parts[0].isEmpty, !parts[1].isEmpty else {
                throw RucioError(.rucioException, "Cannot extract scope and name from DID \(did). Found empty scope or name.")
            }
            return (parts[0], parts[1])
        }
    }
}

extension String {
    /// The string without trailing `suffix`es.
    func trimmingSuffix(_ suffix: Character) -> String {
        var s = self
        while s.last == suffix { s.removeLast() }
        return s
    }
}
