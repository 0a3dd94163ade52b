import Foundation
public import HTTPTypes
public import Hummingbird
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
        for v in values {
            v.write(to: &out)
            out += "\n"
        }
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

    /// An error the way Rucio's `generate_http_error_flask` writes it, with its class's status unless the route says otherwise.
    public static func error(_ e: RucioError, status override: HTTPResponse.Status? = nil) -> Response {
        let status = override ?? HTTPResponse.Status(code: e.exceptionClass.status)
        var headerMessage = e.message.replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "\r", with: " ")
        headerMessage = String(headerMessage.unicodeScalars.filter { $0.value >= 0x20 && $0.value < 0x7f }.map(Character.init))
        if headerMessage.count > 125 { headerMessage = String(headerMessage.prefix(125)) + "..." }
        let name = e.exceptionClass.rawValue
        let body: JSON = ["ExceptionClass": .string(name), "ExceptionMessage": .string(e.message)]
        return make(status, "application/octet-stream", body.serialized(), extra: [("ExceptionClass", name), ("ExceptionMessage", headerMessage)])
    }
}
