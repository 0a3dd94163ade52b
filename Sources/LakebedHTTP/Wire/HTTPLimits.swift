import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import LakebedCore
import NIOCore
import NIOHTTP1
import NIOHTTPTypes

/// The limits Lakebed's HTTP listeners put on what a client may send.
public enum HTTPLimits {
    /// Largest request body on the Rucio API and the control API (413 `RequestEntityTooLarge` beyond it).
    public static let maxBody = 32 << 20
    /// Largest request body on the IAM's endpoints.
    public static let maxIAMBody = 1 << 20
    /// Largest single header line (name and value), and all header lines of a request together.
    public static let maxHeaderBytes = 64 << 10
    /// Most header fields in one request.
    public static let maxHeaderCount = 256
    /// A connection that sends nothing for this long, between requests or in the middle of one, is closed.
    public static let idleTimeout: TimeAmount = .seconds(300)

    /// The HTTP/1 channel configuration with these limits; headers over the limits get 431 in Rucio's error format.
    public static var http1: HTTP1Channel.Configuration {
        .init(additionalChannelHandlers: [HeaderLimitHandler()], idleTimeout: idleTimeout,
              httpDecoderConfiguration: .init(maxHeaderFieldSize: maxHeaderBytes, maxHeaderListSize: maxHeaderBytes, maxHeaderFieldCount: maxHeaderCount))
    }
}

/// Answers a request whose headers are over the limits with `431 Request Header Fields Too Large` in Rucio's error
/// format, then closes the connection (NIO's decoder stops there; Hummingbird alone would answer a bare 400).
/// Other protocol errors, and an overflow while an earlier response is still being written, go on to Hummingbird.
final class HeaderLimitHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private var inFlight = 0

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head = unwrapInboundIn(data) { inFlight += 1 }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { inFlight = max(0, inFlight - 1) }
        context.write(data, promise: promise)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parse = error as? HTTPParserError, parse == .headerOverflow, inFlight == 0 else {
            context.fireErrorCaught(error)
            return
        }
        let message = "Request headers larger than \(HTTPLimits.maxHeaderBytes) bytes or more than \(HTTPLimits.maxHeaderCount) fields"
        let body: JSON = ["ExceptionClass": "RequestHeaderFieldsTooLarge", "ExceptionMessage": .string(message)]
        let bytes = ByteBuffer(string: body.serialized())
        let head = HTTPResponse(status: .requestHeaderFieldsTooLarge, headerFields: [
            .contentType: "application/octet-stream", .contentLength: String(bytes.readableBytes), .connection: "close",
            HTTPField.Name("ExceptionClass")!: "RequestHeaderFieldsTooLarge", HTTPField.Name("ExceptionMessage")!: message,
        ])
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(bytes)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in context.close(promise: nil) }
    }
}
