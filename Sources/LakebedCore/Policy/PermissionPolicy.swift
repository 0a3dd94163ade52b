import Foundation
import GRDB

/// A policy's permissions (Rucio's `core/permission/<policy>.py`). Every policy lets admins (root, or accounts with
/// `admin=true`) do anything and other accounts act on their own scopes, rules and data; the experiments differ in
/// who may register replicas and which collections a user scope may hold.
public struct PermissionPolicy: Sendable {
    /// The policy these permissions belong to.
    public let policy: Policy.Name

    /// Throws AccessDenied unless `issuer` is an admin.
    public func requireAdmin(_ issuer: Issuer, _ action: String) throws {
        guard issuer.isAdmin else {
            throw RucioError.accessDenied("Account \(issuer.account) can not \(action.replacingOccurrences(of: "_", with: " "))")
        }
    }

    /// Whether `issuer` may write in a scope owned by `owner`.
    public func canWrite(scopeOwner owner: String, scope: String, _ issuer: Issuer) -> Bool {
        issuer.isAdmin || owner == issuer.account || scope == "user.\(issuer.account)"
    }

    /// Throws AccessDenied unless `issuer` may write in the scope.
    public func requireScopeWrite(scope: String, owner: String, _ issuer: Issuer, _ action: String) throws {
        guard canWrite(scopeOwner: owner, scope: scope, issuer) else {
            throw RucioError.accessDenied("Account \(issuer.account) can not \(action) in scope \(scope)")
        }
    }

    /// Rucio's `add_did` on a collection. CMS: outside the `cms` scope a container's name ends in `/USER` and a
    /// dataset's holds `/USER#` — for every account, root included, as CMS's policy checks that first.
    public func requireAddCollection(scope: String, name: String, type: DIDType, owner: String, _ issuer: Issuer) throws {
        guard collectionNameAllowed(scope: scope, name: name, type: type) else {
            throw RucioError.accessDenied("Account \(issuer.account) can not add did")
        }
        try requireScopeWrite(scope: scope, owner: owner, issuer, "add did")
    }

    /// Whether the policy lets any account add a collection so named in `scope` (CMS: see `requireAddCollection`).
    public func collectionNameAllowed(scope: String, name: String, type: DIDType) -> Bool {
        guard policy == .cms, scope != "cms" else { return true }
        return type == .dataset ? name.contains("/USER#") : name.hasSuffix("/USER")
    }

    /// Rucio's `add_replicas` on `rse` for a file in `scope` (in a transaction, for the RSE's and account's attributes).
    /// Generic (Lakebed's reading): the scope's owner or an admin. ATLAS: admins, anyone on an RSE of `type`
    /// SCRATCHDISK, MOCK or TEST, members of the RSE's `physgroup` on a GROUPDISK or of its `country` on a
    /// LOCALGROUPDISK (account attributes `group-X` / `country-X` = admin or user). CMS: admins, anyone on a `_Temp` RSE.
    func requireAddReplicas(_ db: Database, rse: RSE, scope: String, _ issuer: Issuer) throws {
        let allowed: Bool
        switch policy {
        case .generic, .escape, .belleii:
            try ScopeStore.requireScopeWrite(db, policy: self, scope: scope, issuer: issuer, action: "add replicas")
            return
        case .cms:
            allowed = issuer.isAdmin || rse.rse.hasSuffix("_Temp")
        case .atlas:
            allowed = try issuer.isAdmin || Self.atlasMayAddReplicas(db, rse: rse, account: issuer.account)
        }
        guard allowed else { throw RucioError.accessDenied("Account \(issuer.account) can not add replicas on \(rse.rse)") }
    }

    static func atlasMayAddReplicas(_ db: Database, rse: RSE, account: String) throws -> Bool {
        let attrs = Dictionary(try RSEStore.attributes(db, rseID: rse.id), uniquingKeysWith: { a, _ in a })
        func text(_ key: String) -> String? { attrs[key].flatMap { $0.stringValue ?? $0.serialized() } }
        let type = text("type") ?? ""
        if ["SCRATCHDISK", "MOCK", "TEST"].contains(type) { return true }
        let rows = try Row.fetchAll(db, sql: "SELECT key, value FROM account_attributes WHERE account = ?", arguments: [account])
        var groups = Set<String>()
        for r in rows {
            let key: String = r["key"]
            let raw: String = r["value"]
            let value = (try? JSONParser.parse(raw))?.stringValue ?? raw
            guard ["admin", "user"].contains(value), let dash = key.firstIndex(of: "-") else { continue }
            let kind = key[..<dash]
            if kind == "group" || kind == "country" { groups.insert(String(key[key.index(after: dash)...])) }
        }
        if type == "GROUPDISK", let g = text("physgroup"), groups.contains(g) { return true }
        if type == "LOCALGROUPDISK", let c = text("country"), groups.contains(c) { return true }
        return false
    }
}
