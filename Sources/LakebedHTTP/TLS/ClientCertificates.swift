public import Foundation
public import Hummingbird
public import HummingbirdCore
import Logging
public import NIOCore
public import NIOSSL
import SwiftASN1
import Synchronization
public import X509

/// Client certificates on Lakebed's HTTPS listener, as grid servers take them (what `/auth/x509`, FTS and WebDAV
/// read): the listener asks every client for a certificate but requires none, so other HTTPS clients work as before.
/// BoringSSL refuses proxy certificates, so the handshake accepts whatever chain a client presents and keeps it; a
/// request that wants the caller's identity verifies the chain then (`ProxyChain`, against the lake's CA, on the wall
/// clock: certificates are made and checked by clients on their clocks, as Apache checks them for Rucio). A chain
/// that does not verify is a 401 `CannotAuthenticate` with the reason, never a failed handshake.
public enum ClientCertificate {
    /// The TLS connection the current request came on (nil over plain HTTP), set by `ClientCertificateResponder`.
    @TaskLocal public static var connection: TLSClient?

    /// The caller's chain, verified now; nil when no certificate was presented (or the request is not over HTTPS).
    public static func verified(now: Date = Date()) async throws -> ProxyChain.Verified? {
        guard let client = connection, let chain = await client.presented(), !chain.isEmpty else { return nil }
        return try ProxyChain.verify(chain, ca: client.ca, now: now)
    }
}

/// One HTTPS connection and the CA its client certificates must come from.
public struct TLSClient: Sendable {
    let channel: any Channel
    let ca: Certificate

    /// The certificates the client presented in the handshake (leaf first); nil when it presented none.
    func presented() async -> [Certificate]? {
        guard let holder = try? await channel.pipeline.handler(type: PresentedCertificates.self).get() else { return nil }
        return holder.chain
    }
}

/// Keeps, for one connection, the chain its client presented (a pass-through handler in the pipeline, so a request
/// can find it).
final class PresentedCertificates: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    typealias InboundIn = NIOAny
    private let stored = Mutex<[Certificate]?>(nil)

    var chain: [Certificate]? { stored.withLock { $0 } }

    func keep(_ certificates: [NIOSSLCertificate]) {
        // A certificate that does not parse is left out; the chain then fails verification, with its reason.
        let parsed = certificates.compactMap { c in (try? c.toDERBytes()).flatMap { try? Certificate(derEncoded: $0) } }
        stored.withLock { $0 = parsed }
    }
}

/// A TLS child channel that asks clients for a certificate (optional) and keeps what they present.
struct ClientCertificateTLSChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value
    let base: Base
    let context: NIOSSLContext

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            let holder = PresentedCertificates()
            let tls = NIOSSLServerHandler(
                context: context,
                customVerificationCallback: { certificates, promise in
                    holder.keep(certificates)
                    promise.succeed(.certificateVerified)
                }, configuration: .init())
            try channel.pipeline.syncOperations.addHandler(tls)
            try channel.pipeline.syncOperations.addHandler(holder)
        }.flatMap {
            base.setup(channel: channel, logger: logger)
        }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

extension HTTPServerBuilder {
    /// HTTP/1 over TLS with `tlsConfiguration`, asking each client for a certificate without requiring one.
    public static func tlsWithClientCertificates(configuration: HTTP1Channel.Configuration, tlsConfiguration: TLSConfiguration) throws
        -> HTTPServerBuilder
    {
        var tls = tlsConfiguration
        tls.certificateVerification = .optionalVerification
        let context = try NIOSSLContext(configuration: tls)
        return .init { responder in
            ClientCertificateTLSChannel(base: HTTP1Channel(responder: responder, configuration: configuration), context: context)
        }
    }
}

/// A request context that remembers its connection, so the client certificate can be found.
public struct ClientCertificateContext: RequestContext {
    /// Hummingbird's per-request storage.
    public var coreContext: CoreRequestContextStorage
    /// The connection the request came on.
    public let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}

/// Serves `inner` on the HTTPS listener with the connection's client certificate available to the routes
/// (`ClientCertificate.verified()`).
public struct ClientCertificateResponder<Inner: HTTPResponder>: HTTPResponder where Inner.Context == BasicRequestContext {
    public typealias Context = ClientCertificateContext
    let inner: Inner
    let ca: Certificate

    /// `ca`: the certificate user certificates must be signed by (the lake's own CA).
    public init(_ inner: Inner, ca: Certificate) {
        self.inner = inner
        self.ca = ca
    }

    public func respond(to request: Request, context: Context) async throws -> Response {
        let basic = BasicRequestContext(source: ApplicationRequestContextSource(channel: context.channel, logger: context.logger))
        return try await ClientCertificate.$connection.withValue(TLSClient(channel: context.channel, ca: ca)) {
            try await inner.respond(to: request, context: basic)
        }
    }
}
