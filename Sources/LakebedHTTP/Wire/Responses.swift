import Foundation
public import Hummingbird
public import HTTPTypes
public import LakebedCore
import NIOCore

/// Building responses in Rucio's wire formats.
public enum Reply {
    static let jsonType = "application/json"
    static let streamType = "application/x-json-stream"

    public static func make(_ status: HTTPResponse.Status, _ contentType: String, _ text: String, extra: [(String, String)] = []) -> Response {
        var headers: HTTPFields = [.contentType: contentType]
        for (k, v) in extra { if let n = HTTPField.Name(k) { headers[n] = v } }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// One JSON document, `application/json`.
    public static func json(_ value: JSON, status: HTTPResponse.Status = .ok) -> Response {
        make(status, jsonType, value.serialized())
    }

    /// One JSON document per line, `application/x-json-stream` (empty = 200 with empty body).
    public static func stream(_ values: [JSON]) -> Response {
        var out = ""
        out.reserveCapacity(values.count * 96)
        for v in values { v.write(to: &out); out += "\n" }
        return make(.ok, streamType, out)
    }

    /// `201 Created`, as every Rucio create answers.
    public static func created(_ body: String = "Created") -> Response { make(.created, "text/html; charset=utf-8", body) }

    /// `200` with an empty body.
    public static func ok() -> Response { make(.ok, "text/html; charset=utf-8", "") }

    /// Plain text.
    public static func text(_ s: String, status: HTTPResponse.Status = .ok, contentType: String = "text/plain; charset=utf-8") -> Response {
        make(status, contentType, s)
    }

    /// An error the way Rucio's `generate_http_error_flask` writes it.
    public static func error(_ e: RucioError, status override: HTTPResponse.Status? = nil) -> Response {
        let status = override ?? ErrorStatus.status(for: e.exceptionClass)
        var headerMessage = e.message.replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "\r", with: " ")
        headerMessage = String(headerMessage.unicodeScalars.filter { $0.value >= 0x20 && $0.value < 0x7f }.map(Character.init))
        if headerMessage.count > 125 { headerMessage = String(headerMessage.prefix(125)) + "..." }
        let body: JSON = ["ExceptionClass": .string(e.exceptionClass), "ExceptionMessage": .string(e.message)]
        return make(status, "application/octet-stream", body.serialized(), extra: [("ExceptionClass", e.exceptionClass), ("ExceptionMessage", headerMessage)])
    }
}

/// The HTTP status Rucio's server uses for each exception class.
public enum ErrorStatus {
    static let table: [String: Int] = [
        "DataIdentifierNotFound": 404, "ScopeNotFound": 404, "RSENotFound": 404, "RuleNotFound": 404, "AccountNotFound": 404,
        "ReplicaNotFound": 404, "RequestNotFound": 404, "SubscriptionNotFound": 404, "KeyNotFound": 404, "RSEAttributeNotFound": 404,
        "RSEProtocolNotSupported": 404, "RSEOperationNotSupported": 404, "RSEProtocolDomainNotSupported": 404, "CounterNotFound": 404,
        "DistanceNotFound": 404, "IdentityNotFound": 404,
        "Duplicate": 409, "DataIdentifierAlreadyExists": 409, "DuplicateContent": 409, "FileAlreadyExists": 409, "UnsupportedStatus": 409,
        "RuleReplaceFailed": 409, "SubscriptionDuplicate": 409, "RSEProtocolPriorityError": 409, "DuplicateRule": 409,
        "InsufficientAccountLimit": 409, "InsufficientTargetRSEs": 409, "InvalidReplicationRule": 409, "InvalidRuleWeight": 409,
        "StagingAreaRuleRequiresLifetime": 409, "ScratchDiskLifetimeConflict": 409, "ManualRuleApprovalBlocked": 409,
        "ReplicationRuleCreationTemporaryFailed": 409, "UnsupportedOperation": 409,
        "AccessDenied": 401, "CannotAuthenticate": 401, "CannotAuthorize": 401,
        "InvalidObject": 400, "InvalidPath": 400, "InvalidMetadata": 400, "InvalidValueForKey": 400, "DIDFilterSyntaxError": 400,
        "UnsupportedMetadataPlugin": 400, "InvalidRSEExpression": 400, "InputValidationError": 400, "InvalidType": 400,
        "ValueError": 400, "KeyError": 400, "TypeError": 400, "IdentityError": 400, "MissingParameter": 400, "RucioException": 400,
        "FileConsistencyMismatch": 412, "ReplicaIsLocked": 423, "ResourceTemporaryUnavailable": 503,
        "UnsupportedRequestedContentType": 406, "RequestEntityTooLarge": 413, "MethodNotAllowed": 405, "NotFound": 404,
        "SourceNotFound": 404,
    ]

    public static func status(for exceptionClass: String) -> HTTPResponse.Status {
        .init(code: table[exceptionClass] ?? 500)
    }
}
