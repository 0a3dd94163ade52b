import Foundation
import GRDB

extension Schema {
    /// The lake's policy, one row (a catalog from before policies has none and is generic).
    static func registerPolicy(_ m: inout DatabaseMigrator) {
        m.registerMigration("v9-policy") { db in
            try db.execute(sql: "CREATE TABLE lake_policy (id INTEGER PRIMARY KEY CHECK (id = 1), name TEXT NOT NULL)")
        }
    }
}

extension Catalog {
    /// The policy the catalog records, recording `requested` (or generic) in a catalog that has none yet.
    static func recordPolicy(_ pool: DatabasePool, requested: Policy.Name?, dataDir: String) throws -> Policy.Name {
        try pool.write { db in
            let stored = try String.fetchOne(db, sql: "SELECT name FROM lake_policy WHERE id = 1")
            guard let stored else {
                // A catalog from before policies that already holds a lake was made with the generic schema.
                let used = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM accounts") ?? 0 > 0
                let name = used ? Policy.Name.generic : (requested ?? .generic)
                if used, let requested, requested != .generic {
                    throw PolicyMismatch(recorded: .generic, requested: requested, dataDir: dataDir)
                }
                try db.execute(sql: "INSERT INTO lake_policy (id, name) VALUES (1, ?)", arguments: [name.rawValue])
                return name
            }
            guard let recorded = Policy.Name(rawValue: stored) else {
                throw LakeCatalogError(description: "\(dataDir)'s catalog records an unknown policy '\(stored)'")
            }
            if let requested, requested != recorded { throw PolicyMismatch(recorded: recorded, requested: requested, dataDir: dataDir) }
            return recorded
        }
    }
}

/// A catalog Lakebed cannot open as it is.
public struct LakeCatalogError: Error, CustomStringConvertible, Sendable {
    /// What is wrong, in a sentence.
    public let description: String
}
