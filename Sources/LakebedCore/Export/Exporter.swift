import Foundation
import GRDB

/// Rucio's exporter (`core/exporter.py`, `GET /export`): every RSE with its settings, attributes, protocols and
/// `MinFreeSpace` limit, and the distances between them, keyed by RSE name. Accounts are not exported (nor are they
/// by Rucio); the importer takes them.
public struct Exporter: CatalogStore {
    /// The catalog this works on.
    public let catalog: Catalog
    /// Works on `catalog`.
    public init(catalog: Catalog) { self.catalog = catalog }

    /// The export document, read in one transaction. Only root may export (Rucio's `perm_export`).
    public func exportData(distance: Bool = true, by issuer: Issuer) async throws -> JSON {
        guard issuer.account == "root" else { throw RucioError.accessDenied("Account \(issuer.account) can not export data. ") }
        return try await db.read { db in
            let rses = try RSEStore.allRSEs(db)
            var out = JSONObject()
            var byName = JSONObject()
            for rse in rses { byName[rse.rse] = try Self.rseDocument(db, rse) }
            out["rses"] = .object(byName)
            if distance { out["distances"] = try Self.distances(db, names: Dictionary(uniqueKeysWithValues: rses.map { ($0.id, $0.rse) })) }
            return .object(out)
        }
    }

    /// Rucio's `export_rse`: the RSE's columns (less continent, ISP, ASN and the deletion marks), its attributes, what
    /// `get_rse_protocols` adds (lfn2pfn algorithm, checksum verification, credentials, availabilities, protocols)
    /// and its `MinFreeSpace` limit.
    static func rseDocument(_ db: Database, _ r: RSE) throws -> JSON {
        let attributes = try RSEStore.attributes(db, rseID: r.id)
        let attrs = Dictionary(attributes, uniquingKeysWith: { a, _ in a })
        var a = JSONObject()
        for (k, v) in attributes { a[k] = v }
        let minFree = try Int64.fetchOne(db, sql: "SELECT value FROM rse_limits WHERE rse_id = ? AND name = 'MinFreeSpace'", arguments: [r.id])
        let protocols = try RSEStore.protocols(db, rseID: r.id).map { p -> JSON in
            [
                "hostname": .string(p.hostname), "scheme": .string(p.scheme), "port": .int(Int64(p.port)), "prefix": .string(p.prefix),
                "impl": .string(p.impl), "domains": p.domains, "extended_attributes": p.extendedAttributes,
            ]
        }
        return [
            "id": .string(r.id), "rse": .string(r.rse), "vo": "def", "rse_type": .string(r.rseType), "deterministic": .bool(r.deterministic),
            "volatile": .bool(r.volatile), "staging_area": .bool(r.stagingArea), "city": .str(r.city), "region_code": .str(r.regionCode),
            "country_name": .str(r.countryName), "time_zone": .str(r.timeZone),
            "longitude": r.longitude.map { .double($0) } ?? .null, "latitude": r.latitude.map { .double($0) } ?? .null,
            "availability": .int(Int64(r.availability)), "availability_read": .bool(r.availabilityRead),
            "availability_write": .bool(r.availabilityWrite), "availability_delete": .bool(r.availabilityDelete), "qos_class": .str(r.qosClass),
            "created_at": .date(r.createdAt), "updated_at": .date(r.updatedAt), "attributes": .object(a),
            "lfn2pfn_algorithm": attrs["lfn2pfn_algorithm"] ?? "hash",
            "verify_checksum": attrs["verify_checksum"] ?? true, "credentials": .null, "protocols": .array(protocols),
            "MinFreeSpace": minFree.map { .int($0) } ?? .null,
        ]
    }

    /// Rucio's `export_distances`, keyed by RSE names (`distance` twice: also as the old clients' `ranking`).
    static func distances(_ db: Database, names: [String: String]) throws -> JSON {
        var out = JSONObject()
        for row in try db.all(sql: "SELECT * FROM distances ORDER BY src_rse_id, dest_rse_id") {
            let src: String = row["src_rse_id"]
            let dst: String = row["dest_rse_id"]
            guard let s = names[src], let d = names[dst] else { continue }
            let value: Int = row["distance"]
            var dests = out[s]?.objectValue ?? JSONObject()
            dests[d] = [
                "src_rse_id": .string(src), "dest_rse_id": .string(dst), "distance": .int(Int64(value)), "ranking": .int(Int64(value)),
                "created_at": .date(Date(timeIntervalSince1970: row["created_at"])),
                "updated_at": .date(Date(timeIntervalSince1970: row["updated_at"])),
            ]
            out[s] = .object(dests)
        }
        return .object(out)
    }
}

extension Catalog {
    /// The export of RSEs and distances (`GET /export`).
    public var exporter: Exporter { Exporter(catalog: self) }
    /// The import of RSEs, distances and accounts (`POST /import`, `serve --import`).
    public var importer: Importer { Importer(catalog: self) }
}
