public import Foundation
import GRDB

/// A Rucio Storage Element: here, a directory on the local disk.
public struct RSE: Sendable, Equatable {
    /// Rucio's RSE id: 32 lower-case hex digits (seeded in scenarios); what replicas, locks and requests refer to.
    public var id: String
    /// The RSE name (upper-case letters, digits, - and _), unique among RSEs not deleted.
    public var rse: String
    /// Rucio `rse_type`: DISK or TAPE.
    public var rseType: String
    /// Rucio `deterministic`: paths come from lfn2pfn; reported and matched by RSE expressions, paths do not depend on it here.
    public var deterministic: Bool
    /// Rucio `volatile` (a cache whose replicas may vanish); reported and matched by RSE expressions only.
    public var volatile: Bool
    /// Rucio `staging_area`; reported and matched by RSE expressions only.
    public var stagingArea: Bool
    /// Rucio `city`, free text; nil = not set.
    public var city: String?
    /// Rucio `region_code`; nil = not set.
    public var regionCode: String?
    /// Rucio `country_name`; nil = not set.
    public var countryName: String?
    /// Rucio `continent` (e.g. `EU`); nil = not set.
    public var continent: String?
    /// Rucio `time_zone`; nil = not set.
    public var timeZone: String?
    /// Rucio `ISP`, the network provider; nil = not set.
    public var isp: String?
    /// Rucio `ASN`, the network's autonomous system number, as text; nil = not set.
    public var asn: String?
    /// Rucio `longitude` in degrees; nil = not set.
    public var longitude: Double?
    /// Rucio `latitude` in degrees; nil = not set.
    public var latitude: Double?
    /// Rucio `availability_read`: false = its replicas are no transfer source, and listings with ignore_availability=false skip it.
    public var availabilityRead: Bool
    /// Rucio `availability_write`: false = rules do not pick the RSE (unless ignore_availability) and transfers to it wait.
    public var availabilityWrite: Bool
    /// Rucio `availability_delete`: false = the reaper leaves the RSE's replicas alone.
    public var availabilityDelete: Bool
    /// Rucio `qos_class` (e.g. `CHEAP-ANALYSIS`); nil = not set.
    public var qosClass: String?
    /// Absolute directory holding the RSE's files.
    public var root: String
    /// When the RSE was added.
    public var createdAt: Date
    /// When the RSE's settings or availability were last updated.
    public var updatedAt: Date

    init(row: Row) {
        id = row["id"]
        rse = row["rse"]
        rseType = row["rse_type"]
        deterministic = row["deterministic"]
        volatile = row["volatile"]
        stagingArea = row["staging_area"]
        city = row["city"]
        regionCode = row["region_code"]
        countryName = row["country_name"]
        continent = row["continent"]
        timeZone = row["time_zone"]
        isp = row["isp"]
        asn = row["asn"]
        longitude = row["longitude"]
        latitude = row["latitude"]
        availabilityRead = row["availability_read"]
        availabilityWrite = row["availability_write"]
        availabilityDelete = row["availability_delete"]
        qosClass = row["qos_class"]
        root = row["root"]
        createdAt = Date(timeIntervalSince1970: row["created_at"])
        updatedAt = Date(timeIntervalSince1970: row["updated_at"])
    }

    /// Rucio's integer availability: read=4, write=2, delete=1.
    public var availability: Int { (availabilityRead ? 4 : 0) + (availabilityWrite ? 2 : 0) + (availabilityDelete ? 1 : 0) }
    public var isTape: Bool { rseType == "TAPE" }
}

/// How an RSE is reached: one access protocol.
public struct RSEProtocol: Sendable, Equatable {
    /// URL scheme, e.g. `file`, `https`, `davs`, `root`.
    public var scheme: String
    /// Host name in the URLs the protocol builds (`localhost` for `file`).
    public var hostname: String
    /// TCP port; left out of PFNs for `file` and posix protocols.
    public var port: Int
    /// Path prefix on the storage, between host and the file's relative path (normalised to `/…/`).
    public var prefix: String
    /// Rucio protocol implementation class, e.g. `rucio.rse.protocols.posix.Default`; `posix` means no port in PFNs.
    public var impl: String
    /// `{"lan": {"read": 1, ...}, "wan": {...}}`, priorities or null.
    public var domains: JSON
    /// Rucio `extended_attributes` of the protocol, passed through as given; `.null` = none.
    public var extendedAttributes: JSON

    public init(scheme: String, hostname: String, port: Int, prefix: String, impl: String, domains: JSON, extendedAttributes: JSON = .null) {
        self.scheme = scheme
        self.hostname = hostname
        self.port = port
        self.prefix = prefix
        self.impl = impl
        self.domains = domains
        self.extendedAttributes = extendedAttributes
    }

    init(row: Row) {
        scheme = row["scheme"]
        hostname = row["hostname"]
        port = row["port"]
        prefix = row["prefix"]
        impl = row["impl"]
        domains = (try? JSONParser.parse(row["domains"] as String)) ?? .null
        extendedAttributes = (row["extended_attributes"] as String?).flatMap { try? JSONParser.parse($0) } ?? .null
    }

    /// Default domains: every operation allowed with priority 1 on LAN and WAN.
    public static let allDomains: JSON = [
        "lan": ["read": 1, "write": 1, "delete": 1],
        "wan": ["read": 1, "write": 1, "delete": 1, "third_party_copy_read": 1, "third_party_copy_write": 1],
    ]

    /// Priority for `operation` in `domain`, nil if not supported.
    public func priority(domain: String, operation: String) -> Int64? {
        domains[domain]?[operation]?.intValue.flatMap { $0 > 0 ? $0 : nil }
    }

    /// Prefix normalised to start and end with `/`, as the clients do.
    public var normalisedPrefix: String {
        var p = prefix
        if !p.hasPrefix("/") { p = "/" + p }
        if !p.hasSuffix("/") { p += "/" }
        return p
    }

    /// The PFN of a relative path, built the way the client's protocol implementation builds it.
    public func pfn(path: String) -> String {
        let rel = path.hasPrefix("/") ? String(path.dropFirst()) : path
        if impl.contains("posix") || scheme == "file" {
            return "\(scheme)://\(hostname)\(normalisedPrefix)\(rel)"
        }
        return "\(scheme)://\(hostname):\(port)\(normalisedPrefix)\(rel)"
    }
}

extension RSEProtocol {
    /// A protocol from Rucio's `add_protocol` parameters (`hostname`, `port`, `prefix`, `impl`, `domains`,
    /// `extended_attributes`), as `POST /rses/<rse>/protocols/<scheme>` and the importer take them: an implementation
    /// is required, an SRM protocol needs its web service path, and domains not given allow every operation.
    public init(scheme: String, parameters b: JSONObject) throws {
        func string(_ key: String) throws -> String? {
            guard let v = b[key], !v.isNull else { return nil }
            guard let s = v.stringValue else { throw RucioError.typeError("'\(key)' must be a string, not \(v.pythonTypeName)") }
            return s
        }
        guard let impl = try string("impl") else { throw RucioError(.invalidObject, "Missing values!") }
        if scheme == "srm", b["extended_attributes"]?["web_service_path"] == nil {
            throw RucioError(.invalidObject, "Missing values! For SRM, extended_attributes and web_service_path must be specified")
        }
        var port = 0
        if let v = b["port"], !v.isNull {
            guard let n = v.intValue ?? v.stringValue.flatMap({ Int64($0) }) else {
                throw RucioError.typeError("'port' must be an integer, not \(v.pythonTypeName)")
            }
            port = Int(n)
        }
        /// Given domains go over the defaults, operation by operation (anything but a dictionary replaces).
        func merge(_ a: JSON, _ b: JSON) -> JSON {
            guard case .object(var o) = a, case .object(let n) = b else { return b }
            for (k, v) in n { o[k] = o[k].map { merge($0, v) } ?? v }
            return .object(o)
        }
        let domains = b["domains"].map { merge(RSEProtocol.allDomains, $0) } ?? RSEProtocol.allDomains
        self.init(
            scheme: scheme, hostname: try string("hostname") ?? "localhost", port: port, prefix: try string("prefix") ?? "", impl: impl,
            domains: domains, extendedAttributes: b["extended_attributes"] ?? .null)
    }
}
