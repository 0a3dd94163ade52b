import Foundation

/// An error as Rucio reports it: the Python exception class the client will raise, and a message.
///
/// The HTTP layer decides the status code from `exceptionClass`; the domain only says what went wrong.
public struct RucioError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Name of the exception class in `rucio.common.exception` (or a builtin such as `ValueError`).
    public var exceptionClass: String
    /// Human readable details.
    public var message: String

    public init(_ exceptionClass: String, _ message: String) {
        self.exceptionClass = exceptionClass
        self.message = message
    }

    public var description: String { "\(exceptionClass): \(message)" }

    public static func accessDenied(_ m: String) -> RucioError { .init("AccessDenied", m) }
    public static func cannotAuthenticate(_ m: String = "Cannot authenticate with given credentials") -> RucioError { .init("CannotAuthenticate", m) }
    public static func invalidObject(_ m: String) -> RucioError { .init("InvalidObject", "Provided object does not match schema. Details: \(m)") }
    public static func invalidPath(_ m: String) -> RucioError { .init("InvalidPath", m) }
    public static func didNotFound(_ scope: String, _ name: String) -> RucioError { .init("DataIdentifierNotFound", "Data identifier '\(scope):\(name)' not found") }
    public static func scopeNotFound(_ scope: String) -> RucioError { .init("ScopeNotFound", "Scope '\(scope)' does not exist") }
    public static func rseNotFound(_ rse: String) -> RucioError { .init("RSENotFound", "RSE '\(rse)' cannot be found") }
    public static func accountNotFound(_ a: String) -> RucioError { .init("AccountNotFound", "Account with ID '\(a)' cannot be found") }
    public static func duplicate(_ m: String) -> RucioError { .init("Duplicate", m) }
    public static func valueError(_ m: String) -> RucioError { .init("ValueError", m) }
    public static func keyError(_ key: String) -> RucioError { .init("KeyError", "'\(key)' not defined") }
    public static func typeError(_ m: String) -> RucioError { .init("TypeError", m) }
    public static func unsupportedOperation(_ m: String) -> RucioError { .init("UnsupportedOperation", m) }
}
