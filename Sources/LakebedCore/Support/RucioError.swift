import Foundation

/// An error as Rucio reports it: the Python exception class the client will raise, and a message.
///
/// The HTTP layer decides the status code from `exceptionClass` (and the route); the domain only says what went wrong.
public struct RucioError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The exception class in `rucio.common.exception` (or a builtin such as `ValueError`).
    public var exceptionClass: RucioExceptionClass
    /// Human readable details.
    public var message: String

    public init(_ exceptionClass: RucioExceptionClass, _ message: String) {
        self.exceptionClass = exceptionClass
        self.message = message
    }

    public var description: String { "\(exceptionClass.rawValue): \(message)" }

    public static func accessDenied(_ m: String) -> RucioError { .init(.accessDenied, m) }
    public static func cannotAuthenticate(_ m: String = "Cannot authenticate with given credentials") -> RucioError { .init(.cannotAuthenticate, m) }
    public static func invalidObject(_ m: String) -> RucioError { .init(.invalidObject, "Provided object does not match schema. Details: \(m)") }
    public static func invalidPath(_ m: String) -> RucioError { .init(.invalidPath, m) }
    public static func didNotFound(_ scope: String, _ name: String) -> RucioError {
        .init(.dataIdentifierNotFound, "Data identifier '\(scope):\(name)' not found")
    }
    public static func scopeNotFound(_ scope: String) -> RucioError { .init(.scopeNotFound, "Scope '\(scope)' does not exist") }
    public static func rseNotFound(_ rse: String) -> RucioError { .init(.rseNotFound, "RSE '\(rse)' cannot be found") }
    public static func accountNotFound(_ a: String) -> RucioError { .init(.accountNotFound, "Account with ID '\(a)' cannot be found") }
    public static func duplicate(_ m: String) -> RucioError { .init(.duplicate, m) }
    public static func valueError(_ m: String) -> RucioError { .init(.valueError, m) }
    public static func keyError(_ key: String) -> RucioError { .init(.keyError, "'\(key)' not defined") }
    public static func typeError(_ m: String) -> RucioError { .init(.typeError, m) }
    public static func unsupportedOperation(_ m: String) -> RucioError { .init(.unsupportedOperation, m) }
}

/// An error of the lake itself rather than of Rucio's catalog: a snapshot, scenario fault or other Lakebed object that
/// does not exist. Lakebed's own services (the control API) answer it; Rucio's API never sees one.
public struct LakeError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// No such snapshot, fault or scenario.
        case notFound = "NotFound"
        /// The disk is full (a snapshot that could not be written; nothing of it is left behind).
        case insufficientStorage = "InsufficientStorage"
    }
    /// What went wrong.
    public var kind: Kind
    /// Human readable details.
    public var message: String

    public static func notFound(_ m: String) -> LakeError { .init(kind: .notFound, message: m) }
    public static func insufficientStorage(_ m: String) -> LakeError { .init(kind: .insufficientStorage, message: m) }

    public var description: String { "\(kind.rawValue): \(message)" }
}
