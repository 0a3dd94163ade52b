import Foundation
public import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization

/// Lets one of Lakebed's services call the lake's other endpoints in-process, without knowing how they are
/// built (the dashboard asks `/lakebed/scenario` for the presenter's fault menu this way). Attached to the
/// responder once it exists, since the responder holds the services that use it.
public final class Loopback: Sendable {
    private let responder = Mutex<LakebedResponder?>(nil)
    /// Sent with every call, so the control API's token (when set) admits the lake's own services.
    let controlToken: String?

    public init(controlToken: String? = nil) { self.controlToken = controlToken }

    /// Connects the loopback to the lake's responder (call once, after building it).
    public func attach(_ r: LakebedResponder) { responder.withLock { $0 = r } }

    /// Answers `method path` as the server would (without request metrics); 503 before `attach`.
    public func call(_ method: HTTPRequest.Method, _ path: String, body: [UInt8] = []) async -> (status: Int, body: [UInt8]) {
        guard let r = responder.withLock({ $0 }) else { return (503, []) }
        var head = HTTPRequest(method: method, scheme: "http", authority: "localhost", path: path)
        if !body.isEmpty { head.headerFields[.contentType] = "application/json" }
        if let controlToken { head.headerFields[HTTPField.Name("X-Lakebed-Control-Token")!] = controlToken }
        let request = Request(head: head, body: RequestBody(buffer: ByteBuffer(bytes: body)))
        let response = await r.dispatch(request).response
        let sink = Sink()
        do { try await response.body.write(Collector(sink: sink)) } catch { return (500, []) }
        return (response.status.code, sink.bytes.withLock { $0 })
    }

    final class Sink: Sendable { let bytes = Mutex<[UInt8]>([]) }

    struct Collector: ResponseBodyWriter {
        let sink: Sink
        mutating func write(_ buffer: ByteBuffer) async throws { sink.bytes.withLock { $0 += buffer.readableBytesView } }
        consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
    }
}
