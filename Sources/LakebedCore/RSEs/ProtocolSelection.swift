/// How Rucio picks an RSE's protocol for an operation, and a source/destination pair for a transfer
/// (`rsemanager.select_protocol`, `find_matching_scheme`). Where Rucio shuffles protocols of equal priority, Lakebed
/// orders them by scheme, host and port, so a seed replays the same choices.
public enum ProtocolSelection {
    /// Schemes a destination protocol can take from a source (Rucio's `SCHEME_MAP`); others only their own.
    static let compatible: [String: Set<String>] = [
        "https": ["https", "davs", "srm+https", "cs3s"], "davs": ["https", "davs", "srm+https", "cs3s"],
        "srm+https": ["https", "davs", "srm+https", "cs3s"], "cs3s": ["https", "davs", "srm+https", "cs3s"],
        "root": ["root"], "scp": ["scp"], "rsync": ["rsync"], "rclone": ["rclone"],
    ]

    /// Whether a transfer can go from a protocol of scheme `source` to one of scheme `destination`.
    public static func compatible(destination: String, source: String) -> Bool {
        destination == source || (compatible[destination]?.contains(source) ?? false)
    }

    /// The protocols supporting `operation` in `domain`, best (lowest priority number) first; `scheme` keeps only those.
    public static func ordered(_ protocols: [RSEProtocol], operation: String, domain: String, scheme: String? = nil) -> [RSEProtocol] {
        protocols.compactMap { p -> (Int64, RSEProtocol)? in
            if let scheme, p.scheme != scheme { return nil }
            return p.priority(domain: domain, operation: operation).map { ($0, p) }
        }
        .sorted { a, b in (a.0, a.1.scheme, a.1.hostname, a.1.port) < (b.0, b.1.scheme, b.1.hostname, b.1.port) }
        .map(\.1)
    }

    /// The protocol Rucio's clients and `lfns2pfns` use for `operation` in `domain` (nil: none supports it).
    public static func select(_ protocols: [RSEProtocol], operation: String, domain: String, scheme: String? = nil) -> RSEProtocol? {
        ordered(protocols, operation: operation, domain: domain, scheme: scheme).first
    }

    /// The destination and source protocols of a third-party copy: the best destination protocol for
    /// `third_party_copy_write` that some source protocol for `third_party_copy_read` is compatible with, over the WAN.
    public static func transferPair(destination: [RSEProtocol], source: [RSEProtocol], domain: String = "wan") -> (
        destination: RSEProtocol, source: RSEProtocol
    )? {
        let sources = ordered(source, operation: "third_party_copy_read", domain: domain)
        for d in ordered(destination, operation: "third_party_copy_write", domain: domain) {
            if let s = sources.first(where: { compatible(destination: d.scheme, source: $0.scheme) }) { return (d, s) }
        }
        return nil
    }
}
