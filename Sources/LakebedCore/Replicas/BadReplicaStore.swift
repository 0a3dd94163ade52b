public import Foundation
import GRDB

/// States of a replica's entry in the bad-replica list, with Rucio's codes (`BadFilesStatus`).
public enum BadReplicaState: String, Sendable, CaseIterable {
    case bad = "B"
    case deleted = "D"
    case lost = "L"
    case recovered = "R"
    case suspicious = "S"
    case temporaryUnavailable = "T"

    public var name: String {
        switch self {
        case .bad: return "BAD"
        case .deleted: return "DELETED"
        case .lost: return "LOST"
        case .recovered: return "RECOVERED"
        case .suspicious: return "SUSPICIOUS"
        case .temporaryUnavailable: return "TEMPORARY_UNAVAILABLE"
        }
    }

    /// Accepts names or letters.
    public init?(loose: String) {
        if let s = BadReplicaState(rawValue: loose.uppercased()) {
            self = s
            return
        }
        guard let s = BadReplicaState.allCases.first(where: { $0.name == loose.uppercased() }) else { return nil }
        self = s
    }
}

extension BadReplicaState: CatalogState {}

/// One declaration of a replica as bad or suspicious (a row of Rucio's `bad_replicas`).
public struct BadReplica: Sendable {
    /// Scope of the file.
    public var scope: String
    /// Name of the file.
    public var name: String
    /// The RSE of the replica.
    public var rseID: String
    /// That RSE's name.
    public var rse: String
    /// BAD until the necromancer acts (then RECOVERED, LOST or DELETED), or SUSPICIOUS.
    public var state: BadReplicaState
    /// Why it was declared; nil = no reason given.
    public var reason: String?
    /// Who declared it.
    public var account: String
    /// When it was declared.
    public var createdAt: Date
    /// When its state last changed.
    public var updatedAt: Date
}

/// A replica declared suspicious more often than asked (`get_suspicious_files`).
public struct SuspiciousReplica: Sendable {
    /// Scope of the file.
    public var scope: String
    /// Name of the file.
    public var name: String
    /// The RSE of the replica.
    public var rseID: String
    /// That RSE's name.
    public var rse: String
    /// How often it was declared in the period.
    public var count: Int
    /// When the replica was created.
    public var createdAt: Date
}

/// One line of the bad-replica summary: declarations per RSE, day and reason, counted by state.
public struct BadReplicaSummary: Sendable {
    /// The RSE.
    public var rseID: String
    /// That RSE's name.
    public var rse: String
    /// The UTC day of the declarations, `YYYY-MM-DD`.
    public var day: String
    /// The reason given; nil = none.
    public var reason: String?
    /// Declarations by their state now.
    public var counts: [(BadReplicaState, Int)]
}

/// What a client names when it declares a replica bad: a DID on an RSE.
public struct BadReplicaTarget: Sendable {
    /// Scope of the file.
    public var scope: String
    /// Name of the file.
    public var name: String
    /// The RSE by name (or `rseID`).
    public var rse: String?
    /// The RSE by id (preferred when both are given).
    public var rseID: String?
    /// A replica of `scope:name` on an RSE given by name or id.
    public init(scope: String, name: String, rse: String?, rseID: String?) {
        self.scope = scope
        self.name = name
        self.rse = rse
        self.rseID = rseID
    }
}

/// Bad and suspicious replicas: declaring them, listing them (Rucio's `declare_bad_file_replicas`, `add_bad_dids`,
/// `declare_suspicious_file_replicas`, `list_bad_replicas_status`, `get_bad_replicas_summary`). The necromancer
/// (`Daemons/Necromancer.swift`) acts on what is declared BAD.
public struct BadReplicaStore: CatalogStore {
    /// The catalog this works on.
    public let catalog: Catalog
    /// Works on `catalog`.
    public init(catalog: Catalog) { self.catalog = catalog }

    /// Declares replicas BAD (the replica turns BAD, the necromancer recovers it) or SUSPICIOUS (only recorded).
    /// Returns what could not be declared, by RSE name, as Rucio words it.
    public func declare(
        _ targets: [BadReplicaTarget], reason: String?, state: BadReplicaState, force: Bool = false, issuer: Issuer
    ) async throws -> [String: [String]] {
        if state == .bad { try Self.requireDeclarer(issuer) }
        let now = nowStamp
        let (refused, declared) = try await db.write { db -> ([String: [String]], [(String, String, String)]) in
            var refused: [String: [String]] = [:]
            var declared: [(String, String, String)] = []
            for t in targets {
                let rse = try t.rseID.map { try RSEStore.rse(db, id: $0) } ?? RSEStore.rse(db, name: t.rse ?? "")
                if let why = try Self.declareOne(
                    db, scope: t.scope, name: t.name, rse: rse, reason: reason, state: state, force: force, account: issuer.account, now: now)
                {
                    refused[rse.rse, default: []].append("\(t.scope):\(t.name) \(why)")
                } else {
                    declared.append((t.scope, t.name, rse.rse))
                }
            }
            return (refused, declared)
        }
        logDeclared(declared, state: state, reason: reason, at: now)
        return refused
    }

    /// Declares replicas given by PFN; a PFN no RSE protocol produces is refused under `unknown`.
    public func declare(
        pfns: [String], reason: String?, state: BadReplicaState, force: Bool = false, issuer: Issuer
    ) async throws -> [String: [String]] {
        if state == .bad { try Self.requireDeclarer(issuer) }
        let now = nowStamp
        let (refused, declared) = try await db.write { db -> ([String: [String]], [(String, String, String)]) in
            var refused: [String: [String]] = [:]
            var declared: [(String, String, String)] = []
            let rses = try RSEStore.allRSEs(db)
            for pfn in pfns {
                guard let (rse, path) = try Self.locate(db, pfn: pfn, rses: rses),
                    let row = try db.one(sql: "SELECT scope, name FROM replicas WHERE rse_id = ? AND path = ?", arguments: [rse.id, path])
                else {
                    refused["unknown", default: []].append("\(pfn) Unknown replica")
                    continue
                }
                let scope: String = row["scope"]
                let name: String = row["name"]
                if let why = try Self.declareOne(
                    db, scope: scope, name: name, rse: rse, reason: reason, state: state, force: force, account: issuer.account, now: now)
                {
                    refused[rse.rse, default: []].append("\(pfn) \(why)")
                } else {
                    declared.append((scope, name, rse.rse))
                }
            }
            return (refused, declared)
        }
        logDeclared(declared, state: state, reason: reason, at: now)
        return refused
    }

    /// Declares the replicas of files on one RSE BAD (`add_bad_dids`); returns what could not be declared.
    public func declareBad(dids: [DIDRef], rse: String, reason: String?, issuer: Issuer) async throws -> [String] {
        let refused = try await declare(
            dids.map { BadReplicaTarget(scope: $0.scope, name: $0.name, rse: rse, rseID: nil) }, reason: reason, state: .bad, issuer: issuer)
        return refused.values.flatMap { $0 }
    }

    /// Rucio's generic policy: only admins declare replicas bad.
    static func requireDeclarer(_ issuer: Issuer) throws {
        guard issuer.isAdmin else { throw RucioError.accessDenied("Account \(issuer.account) can not declare bad replicas") }
    }

    /// Declares one replica; returns why not when it cannot be.
    static func declareOne(
        _ db: Database, scope: String, name: String, rse: RSE, reason: String?, state: BadReplicaState, force: Bool,
        account: String, now: Double
    ) throws -> String? {
        guard
            let replica = try db.one(sql: "SELECT bytes FROM replicas WHERE rse_id = ? AND scope = ? AND name = ?", arguments: [rse.id, scope, name])
        else {
            return "Unknown replica"
        }
        let already =
            try db.one(
                sql: "SELECT 1 FROM bad_replicas WHERE scope = ? AND name = ? AND rse_id = ? AND state = \(BadReplicaState.bad.sql)",
                arguments: [scope, name, rse.id]) != nil
        if state == .bad {
            if already && !force { return "Already declared" }
            try db.exec(
                sql: "UPDATE replicas SET state = ?, updated_at = ? WHERE rse_id = ? AND scope = ? AND name = ?",
                arguments: [ReplicaState.bad.rawValue, now, rse.id, scope, name])
            if already { return nil }
        }
        try db.exec(
            sql: """
                INSERT INTO bad_replicas (scope, name, rse_id, reason, state, account, bytes, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [scope, name, rse.id, reason, state.rawValue, account, replica["bytes"] as Int64?, now, now])
        return nil
    }

    /// The RSE and relative path a PFN names, from the RSEs' protocols.
    static func locate(_ db: Database, pfn: String, rses: [RSE]) throws -> (RSE, String)? {
        for rse in rses {
            for p in try RSEStore.protocols(db, rseID: rse.id) {
                let prefix = p.pfn(path: "")
                if pfn.hasPrefix(prefix) { return (rse, String(pfn.dropFirst(prefix.count))) }
            }
        }
        return nil
    }

    func logDeclared(_ declared: [(String, String, String)], state: BadReplicaState, reason: String?, at now: Double) {
        for (scope, name, rse) in declared {
            events.append(
                Date(timeIntervalSince1970: now), "replica.declared",
                [("did", "\(scope):\(name)"), ("rse", rse), ("state", state.name), ("reason", reason ?? "")])
        }
    }

    /// Declarations by state, RSE and age, oldest first (`list_bad_replicas_status`).
    public func list(state: BadReplicaState?, rse: String?, youngerThan: Date?, olderThan: Date?, limit: Int?) async throws -> [BadReplica] {
        try await db.read { db in
            var sql = "SELECT b.*, s.rse FROM bad_replicas b JOIN rses s ON s.id = b.rse_id WHERE 1"
            var args: [any DatabaseValueConvertible] = []
            if let state {
                sql += " AND b.state = ?"
                args.append(state.rawValue)
            }
            if let rse {
                sql += " AND b.rse_id = ?"
                args.append(try RSEStore.rse(db, name: rse).id)
            }
            if let youngerThan {
                sql += " AND b.created_at >= ?"
                args.append(youngerThan.timeIntervalSince1970)
            }
            if let olderThan {
                sql += " AND b.created_at <= ?"
                args.append(olderThan.timeIntervalSince1970)
            }
            sql += " ORDER BY b.seq"
            if let limit {
                sql += " LIMIT ?"
                args.append(limit)
            }
            return try db.all(sql: sql, arguments: StatementArguments(args)).map {
                BadReplica(
                    scope: $0["scope"], name: $0["name"], rseID: $0["rse_id"], rse: $0["rse"], state: BadReplicaState(rawValue: $0["state"]) ?? .bad,
                    reason: $0["reason"], account: $0["account"], createdAt: Date(timeIntervalSince1970: $0["created_at"]),
                    updatedAt: Date(timeIntervalSince1970: $0["updated_at"]))
            }
        }
    }

    /// Declarations counted by RSE, day, reason and state (`get_bad_replicas_summary`).
    public func summary(rseExpression: String?, from: Date?, to: Date?) async throws -> [BadReplicaSummary] {
        try await db.read { db in
            var sql = """
                SELECT b.rse_id, s.rse, strftime('%Y-%m-%d', b.created_at, 'unixepoch') AS day, b.reason, b.state, COUNT(*) AS n
                FROM bad_replicas b JOIN rses s ON s.id = b.rse_id WHERE 1
                """
            var args: [any DatabaseValueConvertible] = []
            if let e = rseExpression {
                let ids = try RSEStore.resolve(db, expression: e).map(\.id)
                sql += " AND b.rse_id IN (\(ids.map { _ in "?" }.joined(separator: ",")))"
                args += ids
                if ids.isEmpty { return [] }
            }
            if let from {
                sql += " AND b.created_at > ?"
                args.append(from.timeIntervalSince1970)
            }
            if let to {
                sql += " AND b.created_at < ?"
                args.append(to.timeIntervalSince1970)
            }
            sql += " GROUP BY b.rse_id, day, b.reason, b.state ORDER BY s.rse, day, b.reason, b.state"
            var out: [BadReplicaSummary] = []
            for row in try db.all(sql: sql, arguments: StatementArguments(args)) {
                let state = BadReplicaState(rawValue: row["state"]) ?? .bad
                let reason: String? = row["reason"]
                let day: String = row["day"]
                let rseID: String = row["rse_id"]
                if let last = out.last, last.rseID == rseID, last.day == day, last.reason == reason {
                    out[out.count - 1].counts.append((state, row["n"]))
                } else {
                    out.append(BadReplicaSummary(rseID: rseID, rse: row["rse"], day: day, reason: reason, counts: [(state, row["n"])]))
                }
            }
            return out
        }
    }

    /// Replicas declared (suspicious, lost or temporarily unavailable) more than `nattempts` times since `youngerThan`
    /// (ten days ago by default) that are still registered (`get_suspicious_files`).
    public func suspicious(rseExpression: String?, youngerThan: Date?, nattempts: Int) async throws -> [SuspiciousReplica] {
        let since = (youngerThan ?? clock.now().addingTimeInterval(-10 * 86400)).timeIntervalSince1970
        return try await db.read { db in
            var sql = """
                SELECT b.scope, b.name, b.rse_id, s.rse, COUNT(*) AS n, MIN(p.created_at) AS c FROM bad_replicas b
                JOIN replicas p ON p.rse_id = b.rse_id AND p.scope = b.scope AND p.name = b.name JOIN rses s ON s.id = b.rse_id
                WHERE b.created_at >= ? AND b.state NOT IN \([BadReplicaState.bad, .recovered, .deleted].sql)
                """
            var args: [any DatabaseValueConvertible] = [since]
            if let e = rseExpression {
                let ids = try RSEStore.resolve(db, expression: e).map(\.id)
                if ids.isEmpty { return [] }
                sql += " AND b.rse_id IN (\(ids.map { _ in "?" }.joined(separator: ",")))"
                args += ids
            }
            sql += " GROUP BY b.scope, b.name, b.rse_id HAVING COUNT(*) > ? ORDER BY b.scope, b.name, s.rse"
            args.append(nattempts)
            return try db.all(sql: sql, arguments: StatementArguments(args)).map {
                SuspiciousReplica(
                    scope: $0["scope"], name: $0["name"], rseID: $0["rse_id"], rse: $0["rse"], count: $0["n"],
                    createdAt: Date(timeIntervalSince1970: $0["c"]))
            }
        }
    }
}
