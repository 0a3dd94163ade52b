import Foundation

/// An OAuth 2.0 error (RFC 6749 §5.2): the `error` code and its description; the HTTP layer picks the status.
public struct OAuthError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `invalid_request`, `invalid_client`, `invalid_grant`, `unauthorized_client`, `unsupported_grant_type`,
    /// `invalid_scope`, `invalid_token`, `insufficient_scope`, `unsupported_response_type`.
    public var code: String
    /// Human-readable text for the body's `error_description`.
    public var message: String

    public init(_ code: String, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }

    public static func invalidRequest(_ m: String) -> OAuthError { .init("invalid_request", m) }
    public static func invalidClient(_ m: String = "Bad client credentials") -> OAuthError { .init("invalid_client", m) }
    public static func invalidGrant(_ m: String) -> OAuthError { .init("invalid_grant", m) }
    public static func invalidScope(_ m: String) -> OAuthError { .init("invalid_scope", m) }
    public static func invalidToken(_ m: String) -> OAuthError { .init("invalid_token", m) }
}

/// Why a token was refused.
public struct InvalidToken: Error, Sendable, Equatable, CustomStringConvertible {
    /// Why the token was refused (bad signature, expired, revoked, wrong issuer…), shown to the caller.
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}
