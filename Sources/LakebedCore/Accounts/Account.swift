public import Foundation
import GRDB

/// A Rucio account.
public struct Account: Sendable, Equatable {
    /// The Rucio account name (lower-case letters, digits, - and _); `root` is the admin.
    public var account: String
    /// Rucio `account_type`: USER, GROUP or SERVICE.
    public var accountType: String
    /// Rucio account status: ACTIVE, SUSPENDED (tokens dropped, logins refused) or DELETED.
    public var status: String
    /// Contact email of the account; nil = none given.
    public var email: String?
    /// When the account was added.
    public var createdAt: Date
    /// When the account's row last changed (status, email).
    public var updatedAt: Date
    /// When the account was last suspended; nil = never, or reactivated since.
    public var suspendedAt: Date?
    /// When the account was deleted; nil = not deleted.
    public var deletedAt: Date?

    init(row: Row) {
        account = row["account"]
        accountType = row["account_type"]
        status = row["status"]
        email = row["email"]
        createdAt = Date(timeIntervalSince1970: row["created_at"])
        updatedAt = Date(timeIntervalSince1970: row["updated_at"])
        suspendedAt = Date(stamp: row["suspended_at"])
        deletedAt = Date(stamp: row["deleted_at"])
    }
}

/// Who is calling: the account a token maps to, and how it was obtained.
public struct Issuer: Sendable, Equatable {
    /// The Rucio account the call acts as: the one its token was issued for (or `root` for the lake's own work).
    public var account: String
    /// The login identity behind the token: a username, DN, or `SUB=<sub>, ISS=<iss>` for OIDC; internal callers name themselves.
    public var identity: String
    /// Whether the account may do admin operations: `root`, or an account with the attribute `admin` = true.
    public var isAdmin: Bool
    public init(account: String, identity: String, isAdmin: Bool) {
        self.account = account
        self.identity = identity
        self.isAdmin = isAdmin
    }
}

/// A login credential tied to accounts.
public struct Identity: Sendable, Equatable {
    /// The identity string: a username (USERPASS), a DN (X509), or `SUB=<sub>, ISS=<iss>` (OIDC).
    public var identity: String
    /// Rucio identity type: USERPASS, X509, GSS, SSH, OIDC or SAML.
    public var type: String
    /// The account the identity logs in to.
    public var account: String
    /// Email recorded with the identity; nil = none.
    public var email: String?
    /// Whether this account is the one the identity logs in to when it names none (Rucio `is_default`).
    public var isDefault: Bool
}

/// A valid token's meaning.
public struct TokenInfo: Sendable, Equatable {
    /// The token text as the client sends it in `X-Rucio-Auth-Token` (the catalog stores only its SHA-256).
    public var token: String
    /// The account the token acts for.
    public var account: String
    /// The identity that logged in for it (see `Issuer.identity`).
    public var identity: String
    /// When the token stops being accepted.
    public var expiresAt: Date
    /// The JWT's `aud` claim, space-separated, for IAM tokens; nil for the lake's own tokens.
    public var audience: String?
    /// The JWT's `scope` claim for IAM tokens; nil for the lake's own tokens.
    public var scope: String?
}
