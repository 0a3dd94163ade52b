import Foundation

/// Checks of values every policy shares (checksums, sizes, lifetimes, file names of Lakebed's own) and the generic
/// naming schema's hand-written tests, which keep every generic name inside the catalog's vocabulary (and every DID
/// name inside its RSE directory: no slashes, no `..`, no NUL can pass). A lake checks names through its policy's
/// `NamingSchema` (`catalog.policy.schema`).
public enum Validation {
    /// The activities of Rucio's generic schema (`ACTIVITY`): a rule's, a subscription rule's.
    public static let ruleActivities = [
        "Data Brokering", "Data Consolidation", "Data Rebalancing", "Debug", "Express", "Functional Test", "Group Subscriptions",
        "Production Input", "Production Output", "Analysis Input", "Analysis Output", "Staging", "T0 Export", "T0 Tape",
        "Upload/Download (Job)", "Upload/Download (User)", "User Subscriptions", "Data Challenge",
    ]

    static func allASCII(_ s: String, _ ok: (UInt8) -> Bool) -> Bool {
        for b in s.utf8 where !ok(b) { return false }
        return true
    }
    static func isAlnum(_ b: UInt8) -> Bool { (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) }

    /// `^[A-Za-z0-9][A-Za-z0-9.\-_]{1,250}$`
    public static func isValidName(_ s: String) -> Bool {
        let u = Array(s.utf8)
        guard u.count >= 2, u.count <= 251, isAlnum(u[0]) else { return false }
        return allASCII(s) { isAlnum($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") }
    }

    /// `^[a-zA-Z_\-.0-9]{1,25}$`
    public static func isValidScope(_ s: String) -> Bool {
        let n = s.utf8.count
        return n >= 1 && n <= 25 && s != "." && s != ".."
            && allASCII(s) { isAlnum($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") }
    }

    /// `^[a-z0-9-_]{1,25}$`
    public static func isValidAccount(_ s: String) -> Bool {
        let n = s.utf8.count
        return n >= 1 && n <= 25
            && allASCII(s) { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x7a) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") }
    }

    /// `^([A-Z0-9]+([_-][A-Z0-9]+)*)$`
    public static func isValidRSE(_ s: String) -> Bool {
        guard !s.isEmpty, s.utf8.count <= 64 else { return false }
        var prevSep = true
        for b in s.utf8 {
            let upperAlnum = (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a)
            if upperAlnum {
                prevSep = false
            } else if b == UInt8(ascii: "_") || b == UInt8(ascii: "-") {
                if prevSep { return false }
                prevSep = true
            } else {
                return false
            }
        }
        return !prevSep
    }

    /// A bare word of an RSE expression (`DEFAULT_RSE_ATTRIBUTE`: `^[A-Za-z0-9]+([_-][A-Za-z0-9]+)*$`), which names an
    /// RSE or an attribute set to True, under every policy.
    public static func isRSEExpressionWord(_ s: String) -> Bool {
        guard !s.isEmpty else { return false }
        var prevSep = true
        for b in s.utf8 {
            if isAlnum(b) {
                prevSep = false
            } else if b == UInt8(ascii: "_") || b == UInt8(ascii: "-") {
                if prevSep { return false }
                prevSep = true
            } else {
                return false
            }
        }
        return !prevSep
    }

    /// The one check for a name that becomes a file or folder name (a snapshot, an RSE's folder, …): 1–64 letters,
    /// digits, `.`, `_` or `-`, and never `.` or `..`, so it can name nothing but an entry of the folder it is put in.
    public static func pathComponent(_ s: String, what: String) throws -> String {
        let ok =
            (1...64).contains(s.utf8.count)
            && allASCII(s) { isAlnum($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
        guard ok, s != ".", s != ".." else {
            throw RucioError.valueError("\(what) names are 1-64 letters, digits, '.', '_' or '-', and not '.' or '..'")
        }
        return s
    }

    public static func checkAdler32(_ s: String) throws {
        guard s.utf8.count == 8, allASCII(s, { isHex($0) }) else {
            throw RucioError.invalidObject("Problem validating adler32 : '\(printable(s))' does not match '^[a-fA-F\\d]{8}$'")
        }
    }
    public static func checkMD5(_ s: String) throws {
        guard s.utf8.count == 32, allASCII(s, { isHex($0) }) else {
            throw RucioError.invalidObject("Problem validating md5 : '\(printable(s))' does not match '^[a-fA-F\\d]{32}$'")
        }
    }
    /// Largest byte (or file) count the catalog takes for a file's size or an RSE's usage: 2^53 - 1, exact in every
    /// JSON number, so sums over a catalog's files stay far from Int64's limit.
    public static let maxBytes: Int64 = (1 << 53) - 1
    public static func checkBytes(_ v: Int64, _ what: String = "bytes") throws {
        guard v >= 0, v <= maxBytes else { throw RucioError.invalidObject("Problem validating \(what) : \(v) is not between 0 and \(maxBytes)") }
    }
    /// Longest lifetime (or expiry offset) in seconds the catalog takes, either way: about 317 years.
    public static let maxLifetime: Double = 1e10
    /// Whether `seconds` is a usable lifetime: finite and within `maxLifetime`.
    public static func isValidLifetime(_ seconds: Double) -> Bool { seconds.isFinite && abs(seconds) <= maxLifetime }
    static func isHex(_ b: UInt8) -> Bool { (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66) }

    /// A string made safe to echo back in a header or message.
    public static func printable(_ s: String) -> String {
        var out = ""
        for u in s.unicodeScalars.prefix(300) {
            if u.value < 0x20 || u.value == 0x7f { out += "\\x" + String(format: "%02x", u.value) } else { out.unicodeScalars.append(u) }
        }
        return out
    }
}

extension Int64 {
    /// `self + other`, pinned to Int64's range instead of trapping.
    public func clampedAdding(_ other: Int64) -> Int64 {
        let (v, overflow) = addingReportingOverflow(other)
        return overflow ? (other > 0 ? .max : .min) : v
    }
    /// `self - other`, pinned to Int64's range instead of trapping.
    public func clampedSubtracting(_ other: Int64) -> Int64 {
        let (v, overflow) = subtractingReportingOverflow(other)
        return overflow ? (other < 0 ? .max : .min) : v
    }
}
