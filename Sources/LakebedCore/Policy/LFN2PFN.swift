import Foundation

/// Rucio's deterministic logical-to-physical name translations (`RSEDeterministicTranslation`): the algorithms Rucio
/// registers itself and those of the experiments' policy packages, by the name an RSE's `lfn2pfn_algorithm` gives.
public enum LFN2PFN: String, Sendable, CaseIterable {
    /// `scope/md5[0:2]/md5[2:4]/name` (Rucio's default).
    case hash
    /// `scope/name`.
    case identity
    /// Belle II: the name (an absolute path such as `/belle/MC/...`) is the path.
    case belleii
    /// CMS's `cmstfc` without a trivial file catalogue on the protocol: the LFN (`/store/...`) is the path, runs of
    /// slashes folded into one.
    case cmstfc
    /// Rubin-LSST in ESCAPE: the name with its `__` delimiters turned into `/`.
    case lsst

    /// The algorithms' names, for messages.
    public static var namesText: String { allCases.map(\.rawValue).joined(separator: ", ") }

    /// Scope as a path: user and group scopes turn their dots into directories.
    static func scopePath(_ scope: String) -> String {
        (scope.hasPrefix("user") || scope.hasPrefix("group")) ? scope.replacingOccurrences(of: ".", with: "/") : scope
    }

    /// The path of `scope:name` relative to an RSE prefix, as the algorithm returns it (it may start with `/`).
    public func path(scope: String, name: String) -> String {
        switch self {
        case .hash:
            let h = md5Hex("\(scope):\(name)")
            let a = h.prefix(2)
            let b = h.dropFirst(2).prefix(2)
            return "\(Self.scopePath(scope))/\(a)/\(b)/\(name)"
        case .identity:
            return "\(Self.scopePath(scope))/\(name)"
        case .belleii:
            return name
        case .cmstfc:
            var out = "/"
            for c in name where !(c == "/" && out.hasSuffix("/")) { out.append(c) }
            return out
        case .lsst:
            return name.replacingOccurrences(of: "__", with: "/")
        }
    }
}

/// Joins an RSE root and a relative path, refusing anything that would land outside the root. `onDisk` false: the
/// path names no file (virtual storage), so only its text is checked; standardizing a path reads the disk.
public func containedPath(root: String, relative: String, onDisk: Bool = true) throws -> String {
    if relative.contains("\0") { throw RucioError.invalidPath("Path contains a NUL byte") }
    let parts = relative.split(separator: "/", omittingEmptySubsequences: true)
    for p in parts where p == ".." || p == "." {
        throw RucioError.invalidPath("Path '\(Validation.printable(relative))' leaves the RSE root")
    }
    let base = root.hasSuffix("/") ? String(root.dropLast()) : root
    let full = base + "/" + parts.joined(separator: "/")
    guard onDisk else { return full }
    let standard = (full as NSString).standardizingPath
    guard standard == full || standard.hasPrefix(base + "/") else {
        throw RucioError.invalidPath("Path '\(Validation.printable(relative))' leaves the RSE root")
    }
    return full
}

/// Rucio's default naming convention for new replicas on non-deterministic RSEs (the DQ2 one, `def`): the path
/// is built from the dataset name's dot-separated fields.
public enum NonDeterministicPFN {
    /// The relative PFN (starting with `/`) of file `name` in dataset `dsn` (`other` when it is in none).
    public static func path(dsn: String, scope: String?, name: String) -> String {
        let fields = dsn.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        let stripped = stripDataset(fields)
        switch fields.count {
        case 0: return "/other/other/\(name)"
        case 1: return "/other/\(stripped)/\(name)"
        case 2: return "/\(fields[0])/\(stripped)/\(name)"
        // Rucio matches `user*|group*` as regular expressions, that is fields starting with `use` or `grou`.
        case _ where fields.count < 5 || fields[0].hasPrefix("use") || fields[0].hasPrefix("grou"):
            return "/\(fields[0])/\(fields[1])/\(fields[2])/\(stripped)/\(name)"
        default:
            let tag = fields.count == 5 ? "other" : strip(fields[fields.count - 1], suffixes: ["_sub", "_dis", "_tid"])
            return "/\(fields[0])/\(fields[4])/\(tag)/\(stripped)/\(name)"
        }
    }

    /// The dataset name without PanDA's `_dis`, `_sub` and `_frag` suffixes on its last field.
    static func stripDataset(_ fields: [String]) -> String {
        guard let last = fields.last else { return "" }
        return (fields.dropLast() + [strip(last, suffixes: ["_dis", "_sub", "_frag"])]).joined(separator: ".")
    }

    /// `field` cut at the first of `suffixes` found, tried in order (each cut applies to what the previous left).
    static func strip(_ field: String, suffixes: [String]) -> String {
        var f = field
        for s in suffixes { if let r = f.range(of: s) { f = String(f[..<r.lowerBound]) } }
        return f
    }
}
