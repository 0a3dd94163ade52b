import Foundation
import GRDB

extension AuthStore {
    /// Rucio's X.509 login (`GET /auth/x509`, the REST layer's account choice, then `get_auth_token_x509`): the DN
    /// (proxy CNs already stripped) names an X509 identity; without `account` it logs in to the identity's only
    /// account or its default one (several without a default: `chooseAccount` when `allowMultiple`, else refused);
    /// the identity must be mapped to the account.
    public func loginX509(dn: String, account: String?, appID: String?, allowMultiple: Bool) async throws -> LoginResult {
        var chosen = account.flatMap { $0.isEmpty ? nil : $0 }
        if chosen == nil {
            let accounts = try await accounts(forIdentity: dn, type: "X509")
            if accounts.isEmpty {
                let known = try await db.read { db in
                    try Row.fetchOne(db, sql: "SELECT 1 FROM identities WHERE identity = ? AND id_type = 'X509'", arguments: [dn]) != nil
                }
                throw known
                    ? RucioError.cannotAuthenticate("No account found for identity")
                    : RucioError(.identityError, "Identity '\(dn)' of type 'X509' does not exist!")
            }
            if accounts.count == 1 {
                chosen = accounts[0]
            } else if let d = try await defaultAccount(identity: dn, type: "X509") {
                chosen = d
            } else if allowMultiple {
                return .chooseAccount(accounts)
            } else {
                throw RucioError.cannotAuthenticate("Multiple accounts associated with the provided identity")
            }
        }
        let name = chosen!
        guard try await self.accounts(forIdentity: dn, type: "X509").contains(name) else {
            throw RucioError.cannotAuthenticate("Cannot authenticate to account \(name) with given credentials")
        }
        return .token(try await issueToken(account: name, identity: dn, appID: appID))
    }

    /// The account a certificate's DN acts as where no login names one (FTS, storage): the X509 identity's default
    /// account, or its only one; nil when the DN maps to none.
    public func x509Issuer(dn: String) async throws -> Issuer? {
        let accounts = try await accounts(forIdentity: dn, type: "X509")
        guard let account = try await defaultAccount(identity: dn, type: "X509") ?? (accounts.count == 1 ? accounts.first : nil) else { return nil }
        let admin = try await db.read { db in try AccountStore.isAdmin(db, account) }
        return Issuer(account: account, identity: dn, isAdmin: admin)
    }
}
