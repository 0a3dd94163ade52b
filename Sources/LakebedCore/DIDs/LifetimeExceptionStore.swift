public import Foundation
import GRDB

/// One DID of a lifetime exception (a request to keep DIDs past their end of life).
public struct LifetimeException: Sendable {
    /// The exception's id (shared by its DIDs).
    public var id: String
    /// Scope of the DID.
    public var scope: String
    /// Name of the DID.
    public var name: String
    /// DATASET or CONTAINER (FILE when a file was named).
    public var didType: DIDType
    /// Who asked.
    public var account: String
    /// The pattern given with the request; nil = none.
    public var pattern: String?
    /// Why the exception is asked for; nil = no reason given.
    public var comments: String?
    /// WAITING, APPROVED or REJECTED.
    public var state: String
    /// When it was asked for.
    public var createdAt: Date
    /// When the exception ends; nil = not said.
    public var expiresAt: Date?
}

/// What adding lifetime exceptions did: new exceptions by id, DIDs the catalog does not know, DIDs whose end of life
/// does not fall before the lifetime model's cutoff date.
public struct LifetimeExceptionResult: Sendable {
    /// The new exceptions, each id with its DIDs.
    public var exceptions: [(String, [(DIDRef, DIDType)])] = []
    /// DIDs the catalog does not know.
    public var unknown: [DIDRef] = []
    /// DIDs whose end of life is not before the cutoff (or who have none).
    public var notAffected: [(DIDRef, DIDType)] = []
}

/// Exceptions to the lifetime model (Rucio's `core/lifetime_exception.py`): asked for by anyone, approved or
/// rejected by an admin. The cutoff date is the config option `lifetime_model/cutoff_date` (none: no cutoff).
public struct LifetimeExceptionStore: CatalogStore {
    /// The catalog this works on.
    public let catalog: Catalog
    /// Works on `catalog`.
    public init(catalog: Catalog) { self.catalog = catalog }

    /// Asks for exceptions for DIDs; one exception per scope and datatype of the DIDs the lifetime model affects.
    public func add(dids: [DIDRef], pattern: String?, comments: String?, expiresAt: Date?, issuer: Issuer) async throws -> LifetimeExceptionResult {
        let cutoff: Date
        if let text = try await catalog.config.value("lifetime_model", "cutoff_date") {
            guard let d = RucioDate.parse(text) else { throw RucioError(.unsupportedOperation, "Cannot submit exception at that date.") }
            cutoff = d
        } else {
            cutoff = .distantFuture
        }
        guard cutoff > clock.now() else { throw RucioError(.unsupportedOperation, "Cannot submit exception at that date.") }
        let now = nowStamp
        return try await db.write { db in
            var result = LifetimeExceptionResult()
            var groups: [(key: String, dids: [(DIDRef, DIDType)])] = []
            for ref in dids {
                guard
                    let row = try db.one(
                        sql: "SELECT did_type, datatype, eol_at FROM dids WHERE scope = ? AND name = ?", arguments: [ref.scope, ref.name])
                else {
                    result.unknown.append(ref)
                    continue
                }
                let type = DIDType(loose: row["did_type"]) ?? .dataset
                if let eol: Double = row["eol_at"], eol < cutoff.timeIntervalSince1970 {
                    let key = ref.scope + "\u{0}" + ((row["datatype"] as String?) ?? "")
                    if let i = groups.firstIndex(where: { $0.key == key }) {
                        groups[i].dids.append((ref, type))
                    } else {
                        groups.append((key, [(ref, type)]))
                    }
                } else {
                    result.notAffected.append((ref, type))
                }
            }
            for g in groups {
                let id = newID()
                for (ref, type) in g.dids {
                    do {
                        try db.exec(
                            sql: """
                                INSERT INTO lifetime_exceptions (id, scope, name, did_type, account, pattern, comments, state, created_at, updated_at, expires_at)
                                VALUES (?, ?, ?, ?, ?, ?, ?, 'W', ?, ?, ?)  -- W: WAITING for an admin
                                """,
                            arguments: [
                                id, ref.scope, ref.name, type.rawValue, issuer.account, pattern, comments, now, now, expiresAt?.timeIntervalSince1970,
                            ])
                    } catch let e as DatabaseError where e.resultCode == .SQLITE_CONSTRAINT {
                        throw RucioError(.lifetimeExceptionDuplicate, "An exception already exists.")
                    }
                }
                result.exceptions.append((id, g.dids))
            }
            return result
        }
    }

    /// Exceptions, or the rows of one (none when there is no such exception, as Rucio answers).
    public func list(id: String? = nil) async throws -> [LifetimeException] {
        try await db.read { db in
            let rows =
                id == nil
                ? try db.all(sql: "SELECT * FROM lifetime_exceptions ORDER BY created_at, id, scope, name")
                : try db.all(sql: "SELECT * FROM lifetime_exceptions WHERE id = ? ORDER BY scope, name", arguments: [id])
            return rows.map {
                LifetimeException(
                    id: $0["id"], scope: $0["scope"], name: $0["name"], didType: DIDType(loose: $0["did_type"]) ?? .dataset, account: $0["account"],
                    pattern: $0["pattern"], comments: $0["comments"], state: Self.stateName($0["state"]),
                    createdAt: Date(timeIntervalSince1970: $0["created_at"]), expiresAt: Date(stamp: $0["expires_at"]))
            }
        }
    }

    /// Approves (`A`) or rejects (`R`) an exception; admins only.
    public func update(id: String, state: String?, issuer: Issuer) async throws {
        guard issuer.isAdmin else { throw RucioError.accessDenied("Account \(issuer.account) can not update lifetime exceptions") }
        let code: String
        switch state?.uppercased() {
        case "A", "APPROVED": code = "A"
        case "R", "REJECTED": code = "R"
        default: throw RucioError(.unsupportedOperation, "The state for the exception is not valid")
        }
        let now = nowStamp
        let changed = try await db.write { db -> Int in
            try db.exec(sql: "UPDATE lifetime_exceptions SET state = ?, updated_at = ? WHERE id = ?", arguments: [code, now, id])
            return db.changesCount
        }
        guard changed > 0 else { throw RucioError(.lifetimeExceptionNotFound, "Lifetime exception \(Validation.printable(id)) not found") }
    }

    static func stateName(_ code: String) -> String {
        switch code {
        case "A": return "APPROVED"
        case "R": return "REJECTED"
        default: return "WAITING"
        }
    }
}
