import Foundation
public import Hummingbird
public import LakebedCore

/// A failure of the HTTP plumbing around a route's handler (no route, wrong method, a body too large or unreadable, a
/// bug). Each service answers it in its own format.
public enum HTTPFailure: Error, Sendable, Equatable {
    case noEndpoint(path: String)
    case methodNotAllowed(method: String, path: String)
    case bodyTooLarge(limit: Int)
    case unreadableBody
    case internalError(String)

    /// The sentence every service shows for it.
    public var message: String {
        switch self {
        case .noEndpoint(let path): "No endpoint at \(Validation.printable(path))"
        case .methodNotAllowed(let method, let path): "Method \(method) not allowed on \(Validation.printable(path))"
        case .bodyTooLarge(let limit): "Request body larger than \(limit) bytes"
        case .unreadableBody: "Cannot read the request body"
        case .internalError(let detail): "Internal error: \(detail)"
        }
    }
}

/// The error type of one of Lakebed's services beside the Rucio API (FTS, IAM, ESAP, the control API): how it answers
/// its own errors, the plumbing's and the domain's, each in the format the service's real clients parse.
public protocol ServiceError: Error, Sendable {
    init(_ failure: HTTPFailure)
    /// A catalog error reaching this service.
    init(_ error: RucioError)
    /// A lake error (an unknown snapshot or fault) reaching this service.
    init(_ error: LakeError)
    var response: Response { get }
}

extension ServiceError {
    /// Answers any error thrown while serving a request: the service's own, the plumbing's, the domain's; anything
    /// else is an internal error.
    static func render(_ error: any Error) -> Response {
        switch error {
        case let e as Self: return e.response
        case let f as HTTPFailure: return Self(f).response
        case let l as LakeError: return Self(l).response
        default:
            if let r = RucioError.translating(error) { return Self(r).response }
            return Self(.internalError("\(error)")).response
        }
    }

    /// True for an error no service expects: a bug, worth a line in the log.
    static func isUnexpected(_ error: any Error) -> Bool {
        !(error is Self || error is HTTPFailure || error is LakeError || RucioError.translating(error) != nil)
    }
}

extension RucioError {
    /// The plumbing's failures in Rucio's format (werkzeug's class names for a missing route or method).
    init(_ failure: HTTPFailure) {
        switch failure {
        case .noEndpoint: self.init(.notFound, failure.message)
        case .methodNotAllowed: self.init(.methodNotAllowed, failure.message)
        case .bodyTooLarge: self.init(.requestEntityTooLarge, failure.message)
        case .unreadableBody: self.init(.inputValidationError, failure.message)
        case .internalError: self.init(.rucioException, failure.message)
        }
    }
}
