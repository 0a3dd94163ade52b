import Foundation

/// Rucio's deterministic logical-to-physical name translation.
public enum LFN2PFN: String, Sendable, CaseIterable {
    /// `scope/md5[0:2]/md5[2:4]/name` (Rucio's default).
    case hash
    /// `scope/name`.
    case identity

    /// Scope as a path: user and group scopes turn their dots into directories.
    static func scopePath(_ scope: String) -> String {
        (scope.hasPrefix("user") || scope.hasPrefix("group")) ? scope.replacingOccurrences(of: ".", with: "/") : scope
    }

    /// The path of `scope:name` relative to an RSE prefix.
    public func path(scope: String, name: String) -> String {
        switch self {
        case .hash:
            let h = md5Hex("\(scope):\(name)")
            let a = h.prefix(2)
            let b = h.dropFirst(2).prefix(2)
            return "\(Self.scopePath(scope))/\(a)/\(b)/\(name)"
        case .identity:
            return "\(Self.scopePath(scope))/\(name)"
        }
    }
}

/// Joins an RSE root and a relative path, refusing anything that would land outside the root.
public func containedPath(root: String, relative: String) throws -> String {
    if relative.contains("\0") { throw RucioError.invalidPath("Path contains a NUL byte") }
    let parts = relative.split(separator: "/", omittingEmptySubsequences: true)
    for p in parts where p == ".." || p == "." {
        throw RucioError.invalidPath("Path '\(Validation.printable(relative))' leaves the RSE root")
    }
    let base = root.hasSuffix("/") ? String(root.dropLast()) : root
    let full = base + "/" + parts.joined(separator: "/")
    let standard = (full as NSString).standardizingPath
    guard standard == full || standard.hasPrefix(base + "/") else {
        throw RucioError.invalidPath("Path '\(Validation.printable(relative))' leaves the RSE root")
    }
    return full
}
