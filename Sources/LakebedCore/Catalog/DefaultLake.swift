import Foundation
import GRDB

/// The lake Lakebed starts with on an empty data folder: Rucio's development identity and three sites.
public enum DefaultLake {
    /// Root's userpass login, as in Rucio's own development environment.
    public static let rootUsername = "ddmlab"
    public static let rootPassword = "secret"

    /// Seeds `catalog` unless it already holds accounts. Returns whether it seeded.
    @discardableResult
    public static func seedIfEmpty(_ catalog: Catalog) async throws -> Bool {
        let empty = try await catalog.db.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM accounts") ?? 0 } == 0
        guard empty else { return false }
        try await seedRoot(catalog)
        try await seedSites(catalog)
        return true
    }

    /// The scopes root gets: `user.root` and `test`, those of them the policy's schema takes (CMS has no `test`).
    public static func rootScopes(_ schema: NamingSchema) -> [String] { ["user.root", "test"].filter(schema.isValidScope) }

    /// The root account with its userpass login and (unless `scopes` is false) the scopes `user.root` and `test`.
    public static func seedRoot(_ catalog: Catalog, scopes: Bool = true) async throws {
        try await catalog.accounts.addAccount("root", type: "SERVICE", email: "root@lakebed.local", by: nil)
        try await catalog.auth.addIdentity(
            account: "root", identity: rootUsername, type: "USERPASS", email: "root@lakebed.local", password: rootPassword, isDefault: true, by: nil)
        guard scopes else { return }
        for scope in rootScopes(catalog.policy.schema) { try await catalog.scopes.addScope(scope, account: "root", by: nil) }
    }

    /// SITE-A (tier 1, CH), SITE-B (tier 2, NL), SITE-C (tier 2, US) and their distances.
    public static func seedSites(_ catalog: Catalog) async throws {
        let sites: [(String, String, String, Double, Double, String)] = [
            ("SITE-A", "1", "CH", 6.05, 46.23, "Geneva"), ("SITE-B", "2", "NL", 4.90, 52.37, "Amsterdam"),
            ("SITE-C", "2", "US", -88.26, 41.84, "Batavia"),
        ]
        for (name, tier, country, lon, lat, city) in sites {
            try await catalog.rses.addRSE(
                name,
                settings: RSESettings(
                    JSONObject([
                        ("country_name", .string(country)), ("city", .string(city)),
                        ("longitude", .double(lon)), ("latitude", .double(lat)),
                    ])), readyMade: true, by: nil)
            try await catalog.rses.addRSEAttribute(name, key: "tier", value: .int(Int64(tier)!), by: nil)
            try await catalog.rses.addRSEAttribute(name, key: "country", value: .string(country), by: nil)
            try await catalog.rses.addRSEAttribute(name, key: "site", value: .string(name), by: nil)
        }
        let distances = [("SITE-A", "SITE-B", 1), ("SITE-A", "SITE-C", 3), ("SITE-B", "SITE-C", 2)]
        for (a, b, d) in distances {
            try await catalog.rses.setDistance(from: a, to: b, distance: d, create: true, by: nil)
            try await catalog.rses.setDistance(from: b, to: a, distance: d, create: true, by: nil)
        }
    }
}
