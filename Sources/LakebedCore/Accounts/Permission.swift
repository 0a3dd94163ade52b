import Foundation

/// Rucio's generic permission policy: admins (root, or accounts with `admin=true`) may do anything;
/// other accounts act only on their own scopes, rules and data.
public enum Permission {
    public static func requireAdmin(_ issuer: Issuer, _ action: String) throws {
        guard issuer.isAdmin else {
            throw RucioError.accessDenied("Account \(issuer.account) can not \(action.replacingOccurrences(of: "_", with: " "))")
        }
    }

    /// Whether `issuer` may write in a scope owned by `owner`.
    public static func canWrite(scopeOwner owner: String, scope: String, _ issuer: Issuer) -> Bool {
        issuer.isAdmin || owner == issuer.account || scope == "user.\(issuer.account)"
    }

    public static func requireScopeWrite(scope: String, owner: String, _ issuer: Issuer, _ action: String) throws {
        guard canWrite(scopeOwner: owner, scope: scope, issuer) else {
            throw RucioError.accessDenied("Account \(issuer.account) can not \(action) in scope \(scope)")
        }
    }
}
