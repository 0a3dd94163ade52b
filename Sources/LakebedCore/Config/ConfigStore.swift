import Foundation
import GRDB

/// Rucio's configuration table (`rucio-admin config`): options by section, values kept as text. Only admins read or
/// change it, as Rucio's generic policy says.
public struct ConfigStore: CatalogStore {
    /// The catalog this works on.
    public let catalog: Catalog
    /// Works on `catalog`.
    public init(catalog: Catalog) { self.catalog = catalog }

    static func requireAdmin(_ issuer: Issuer) throws {
        guard issuer.isAdmin else { throw RucioError.accessDenied("Account \(issuer.account) cannot access the configuration") }
    }

    /// Every section with its options, in name order.
    public func all(issuer: Issuer) async throws -> [(section: String, options: [(String, String)])] {
        try Self.requireAdmin(issuer)
        return try await db.read { db in
            var out: [(section: String, options: [(String, String)])] = []
            for row in try db.all(sql: "SELECT section, opt, value FROM configs ORDER BY section, opt") {
                let section: String = row["section"]
                if out.last?.section != section { out.append((section, [])) }
                out[out.count - 1].options.append((row["opt"], row["value"]))
            }
            return out
        }
    }

    /// The options of a section (`ConfigNotFound` when it has none).
    public func section(_ section: String, issuer: Issuer) async throws -> [(String, String)] {
        try Self.requireAdmin(issuer)
        let rows = try await db.read { db in
            try db.all(sql: "SELECT opt, value FROM configs WHERE section = ? ORDER BY opt", arguments: [section]).map {
                ($0["opt"] as String, $0["value"] as String)
            }
        }
        guard !rows.isEmpty else { throw RucioError(.configNotFound, "No configuration found for section '\(Validation.printable(section))'") }
        return rows
    }

    /// One option's value (`ConfigNotFound` when unset).
    public func value(_ section: String, _ option: String, issuer: Issuer) async throws -> String {
        try Self.requireAdmin(issuer)
        guard let v = try await value(section, option) else {
            throw RucioError(
                .configNotFound, "No configuration found for section '\(Validation.printable(section))' option '\(Validation.printable(option))'")
        }
        return v
    }

    /// One option's value for the lake's own use (nil when unset).
    public func value(_ section: String, _ option: String) async throws -> String? {
        try await db.read { db in
            try String.fetchOne(db, sql: "SELECT value FROM configs WHERE section = ? AND opt = ?", arguments: [section, option])
        }
    }

    /// Sets options (`{section: {option: value}}`).
    public func set(_ values: [(section: String, option: String, value: String)], issuer: Issuer) async throws {
        try Self.requireAdmin(issuer)
        let now = nowStamp
        try await db.write { db in
            for v in values {
                try db.exec(
                    sql: """
                        INSERT INTO configs (section, opt, value, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
                        ON CONFLICT(section, opt) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
                        """, arguments: [v.section, v.option, v.value, now, now])
            }
        }
    }

    /// Removes one option, or a whole section when `option` is nil (`ConfigNotFound` when there is nothing to remove).
    public func remove(_ section: String, option: String?, issuer: Issuer) async throws {
        try Self.requireAdmin(issuer)
        let removed = try await db.write { db -> Int in
            if let option {
                try db.exec(sql: "DELETE FROM configs WHERE section = ? AND opt = ?", arguments: [section, option])
            } else {
                try db.exec(sql: "DELETE FROM configs WHERE section = ?", arguments: [section])
            }
            return db.changesCount
        }
        guard removed > 0 else {
            let what =
                option.map { "section '\(Validation.printable(section))' option '\(Validation.printable($0))'" }
                ?? "section '\(Validation.printable(section))'"
            throw RucioError(.configNotFound, "No configuration found for \(what)")
        }
    }
}
