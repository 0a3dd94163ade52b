public import Foundation
import GRDB

/// A Rucio account.
public struct Account: Sendable, Equatable {
    public var account: String
    public var accountType: String
    public var status: String
    public var email: String?
    public var createdAt: Date
    public var updatedAt: Date
    public var suspendedAt: Date?
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
    public var account: String
    public var identity: String
    public var isAdmin: Bool
    public init(account: String, identity: String, isAdmin: Bool) {
        self.account = account
        self.identity = identity
        self.isAdmin = isAdmin
    }
}

/// A login credential tied to accounts.
public struct Identity: Sendable, Equatable {
    public var identity: String
    public var type: String
    public var account: String
    public var email: String?
    public var isDefault: Bool
}

/// A valid token's meaning.
public struct TokenInfo: Sendable, Equatable {
    public var token: String
    public var account: String
    public var identity: String
    public var expiresAt: Date
    public var audience: String?
    public var scope: String?
}
