import Foundation
import HTTPTypes
import Hummingbird
public import HummingbirdCore
import LakebedCore
public import NIOCore
import NIOHTTP1
import NIOHTTPTypes

/// The limits Lakebed's HTTP listeners put on what a client may send.
public enum HTTPLimits {
    /// Largest request body on the Rucio API and the control API (413 `RequestEntityTooLarge` beyond it).
    public static let maxBody = 32 << 20
    /// A request body larger than this is read and handled one at a time (`LakebedResponder.largeBodies`): parsing JSON
    /// costs several times the body's size, and that must not multiply with the number of clients.
    public static let largeBody = 1 << 20
    /// Largest request body on the IAM's endpoints.
    public static let maxIAMBody = 1 << 20
    /// Largest request line plus header lines of one request (and largest single header line).
    public static let maxHeaderBytes = 64 << 10
    /// Most header fields in one request.
    public static let maxHeaderCount = 256
    /// A connection that sends nothing for this long, between requests or in the middle of one, is closed.
    public static let idleTimeout: TimeAmount = .seconds(300)

    /// The HTTP/1 channel configuration with these limits and the `ConnectionGuard`.
    public static var http1: HTTP1Channel.Configuration {
        .init(
            additionalChannelHandlers: [ConnectionGuard()], idleTimeout: idleTimeout,
            httpDecoderConfiguration: .init(
                maxHeaderFieldSize: maxHeaderBytes, maxHeaderListSize: maxHeaderBytes, maxHeaderFieldCount: maxHeaderCount))
    }
}

/// Guards each HTTP/1 connection against what NIO's decoder leaves to the server:
/// - a request whose headers are over the limits is answered `431 Request Header Fields Too Large` in Rucio's error
///   format, then the connection is closed (Hummingbird alone would answer a bare 400);
/// - a request asking for a protocol upgrade is answered as usual, then the connection is closed: Lakebed upgrades
///   nothing, and the decoder parses nothing more after such a request, so a keep-alive client would wait forever.
/// - a request with `Expect: 100-continue` (gfal2, davix and curl send it before a large PUT) gets `100 Continue` at
///   once, so the client sends its body instead of waiting (RFC 9110 §10.1.1; Hummingbird does not answer it).
/// Other protocol errors, and an overflow while an earlier response is still being written, go on to Hummingbird.
final class ConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private var inFlight = 0
    private var closeAfterResponse = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(var head) = unwrapInboundIn(data) else { return context.fireChannelRead(data) }
        inFlight += 1
        if head.headerFields[.expect]?.lowercased() == "100-continue" {
            head.headerFields[.expect] = nil
            context.writeAndFlush(wrapOutboundOut(.head(HTTPResponse(status: .continue))), promise: nil)
        }
        if head.headerFields[.upgrade] != nil, head.headerFields[.connection]?.lowercased().contains("upgrade") == true {
            head.headerFields[.connection] = "close"
            closeAfterResponse = true
        }
        context.fireChannelRead(wrapInboundOut(.head(head)))
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(var head) where closeAfterResponse:
            head.headerFields[.connection] = "close"
            context.write(wrapOutboundOut(.head(head)), promise: promise)
        case .end:
            inFlight = max(0, inFlight - 1)
            context.write(data, promise: promise)
        default:
            context.write(data, promise: promise)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parse = error as? HTTPParserError, parse == .headerOverflow, inFlight == 0 else {
            context.fireErrorCaught(error)
            return
        }
        let message = "Request line and headers larger than \(HTTPLimits.maxHeaderBytes) bytes or more than \(HTTPLimits.maxHeaderCount) fields"
        let body: JSON = ["ExceptionClass": "RequestHeaderFieldsTooLarge", "ExceptionMessage": .string(message)]
        let bytes = ByteBuffer(string: body.serialized())
        let head = HTTPResponse(
            status: .requestHeaderFieldsTooLarge,
            headerFields: [
                .contentType: "application/octet-stream", .contentLength: String(bytes.readableBytes), .connection: "close",
                HTTPField.Name("ExceptionClass")!: "RequestHeaderFieldsTooLarge", HTTPField.Name("ExceptionMessage")!: message,
            ])
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(bytes)), promise: nil)
        // The close runs on the channel's event loop once the answer is flushed.
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in bound.value.close(promise: nil) }
    }
}
