public import Foundation
import GRDB

/// A Rucio Storage Element: here, a directory on the local disk.
public struct RSE: Sendable, Equatable {
    public var id: String
    public var rse: String
    public var rseType: String
    public var deterministic: Bool
    public var volatile: Bool
    public var stagingArea: Bool
    public var city: String?
    public var regionCode: String?
    public var countryName: String?
    public var continent: String?
    public var timeZone: String?
    public var isp: String?
    public var asn: String?
    public var longitude: Double?
    public var latitude: Double?
    public var availabilityRead: Bool
    public var availabilityWrite: Bool
    public var availabilityDelete: Bool
    public var qosClass: String?
    /// Absolute directory holding the RSE's files.
    public var root: String
    public var createdAt: Date
    public var updatedAt: Date

    init(row: Row) {
        id = row["id"]; rse = row["rse"]; rseType = row["rse_type"]
        deterministic = row["deterministic"]; volatile = row["volatile"]; stagingArea = row["staging_area"]
        city = row["city"]; regionCode = row["region_code"]; countryName = row["country_name"]
        continent = row["continent"]; timeZone = row["time_zone"]; isp = row["isp"]; asn = row["asn"]
        longitude = row["longitude"]; latitude = row["latitude"]
        availabilityRead = row["availability_read"]; availabilityWrite = row["availability_write"]
        availabilityDelete = row["availability_delete"]; qosClass = row["qos_class"]; root = row["root"]
        createdAt = Date(timeIntervalSince1970: row["created_at"]); updatedAt = Date(timeIntervalSince1970: row["updated_at"])
    }

    /// Rucio's integer availability: read=4, write=2, delete=1.
    public var availability: Int { (availabilityRead ? 4 : 0) + (availabilityWrite ? 2 : 0) + (availabilityDelete ? 1 : 0) }
    public var isTape: Bool { rseType == "TAPE" }
}

/// How an RSE is reached: one access protocol.
public struct RSEProtocol: Sendable, Equatable {
    public var scheme: String
    public var hostname: String
    public var port: Int
    public var prefix: String
    public var impl: String
    /// `{"lan": {"read": 1, ...}, "wan": {...}}`, priorities or null.
    public var domains: JSON
    public var extendedAttributes: JSON

    public init(scheme: String, hostname: String, port: Int, prefix: String, impl: String, domains: JSON, extendedAttributes: JSON = .null) {
        self.scheme = scheme; self.hostname = hostname; self.port = port; self.prefix = prefix
        self.impl = impl; self.domains = domains; self.extendedAttributes = extendedAttributes
    }

    init(row: Row) {
        scheme = row["scheme"]; hostname = row["hostname"]; port = row["port"]; prefix = row["prefix"]; impl = row["impl"]
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
