import Foundation
import HTTPTypes
public import Hummingbird
public import LakebedCore
public import LakebedOIDC
public import Logging
import NIOCore

/// Validates tokens that are not native Rucio tokens (the IAM's JWTs); returns nil to refuse.
public typealias ExternalTokenValidator = @Sendable (String) async -> TokenInfo?

/// The one HTTP front of the lake: Rucio's REST API plus Lakebed's own services, translated to the domain.
public struct LakebedResponder: HTTPResponder {
    public typealias Context = BasicRequestContext

    let catalog: Catalog
    let rucio: RouteTable
    let mounts: [Mount]
    let maxBody: Int
    let externalTokens: ExternalTokenValidator?
    let metrics: RequestMetrics?
    let logger: Logger
    let siteGuard: SiteGuard
    /// Storage served under the prefixes of RSE protocols on Lakebed's own endpoint, for paths no route takes.
    let servedStorage: WebDAVAPI?
    /// Large request bodies are read and handled one at a time (see `HTTPLimits.largeBody`).
    let largeBodies = FairGate(slots: 1)

    public init(
        catalog: Catalog, version: String = LakebedInfo.rucioVersion, maxBody: Int = HTTPLimits.maxBody,
        externalTokens: ExternalTokenValidator? = nil, mounts: [Mount] = [], metrics: RequestMetrics? = nil,
        siteGuard: SiteGuard = SiteGuard(enabled: true), servedStorage: WebDAVAPI? = nil, logger: Logger = Logger(label: "lakebed.http"),
        oidc: OIDCLogin? = nil
    ) {
        self.catalog = catalog
        self.servedStorage = servedStorage
        self.siteGuard = siteGuard
        self.metrics = metrics
        self.maxBody = maxBody
        self.externalTokens = externalTokens
        self.logger = logger
        var t = RouteTable()
        RucioAPI(catalog: catalog, version: version, oidc: oidc).register(&t)
        self.rucio = t
        self.mounts = [OpenAPI(t, version: version).mount] + mounts
    }

    public func respond(to request: Request, context: Context) async throws -> Response {
        guard metrics != nil || logger.logLevel <= .debug else { return await dispatch(request).response }
        let started = ContinuousClock.now
        let (response, endpoint) = await dispatch(request)
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        let method = Self.metricMethods.contains(request.method) ? request.method.rawValue : "OTHER"  // bounded labels
        metrics?.record(endpoint: endpoint, method: method, status: response.status.code, seconds: seconds)
        logger.debug(
            "request",
            metadata: [
                "method": "\(request.method.rawValue)", "path": "\(request.uri.path)", "endpoint": "\(endpoint)",
                "status": "\(response.status.code)", "ms": "\(String(format: "%.2f", seconds * 1000))",
            ])
        return response
    }

    static let metricMethods: Set<HTTPRequest.Method> = [
        .get, .head, .post, .put, .delete, .options, .patch, .init("PROPFIND")!, .init("MKCOL")!, .init("MOVE")!, .init("COPY")!,
    ]

    /// Routes a request and answers it; `endpoint` is the matched route's pattern (`-` when none matched).
    func dispatch(_ request: Request) async -> (response: Response, endpoint: String) {
        if let why = siteGuard.refusal(request) {
            return (Reply.error(RucioError.accessDenied(why), status: .forbidden), "refused")
        }
        let segments = RouteTable.segments(request.uri.path)
        if let fault = catalog.faults.apiFault(path: request.uri.path, method: request.method.rawValue) {
            // A scenario made this endpoint slow or failing.
            if fault.delay > 0 { try? await Task.sleep(for: .milliseconds(Int(fault.delay * 1000))) }
            if let status = fault.status {
                let cls: RucioExceptionClass = status == 503 ? .resourceTemporaryUnavailable : .rucioException
                return (
                    Reply.error(RucioError(cls, "Injected fault: \(request.uri.path) answers \(status) (scenario)"), status: .init(code: status)),
                    "fault"
                )
            }
        }
        if segments.first == "iam", catalog.faults.iamDown {
            return (
                Reply.make(
                    .serviceUnavailable, "application/json",
                    #"{"error": "temporarily_unavailable", "error_description": "IAM is unreachable (scenario)"}"#), "fault"
            )
        }
        for mount in mounts where segments.starts(with: mount.prefix) {
            let rest = Array(segments.dropFirst(mount.prefix.count))
            switch mount.service {
            case .raw(let raw): return (await raw(request, rest), "/" + mount.prefix.joined(separator: "/"))
            case .routes(let table, let errors): return await serve(mount, table, errors, rest, request)
            }
        }
        if FrontPage.wanted(request, segments: segments) { return (FrontPage.response, "/") }
        var endpoint = "-"
        var route: RouteTable.Route?
        let match = rucio.match(method: request.method, segments: segments)
        if case .none = match, let servedStorage, let answer = await servedStorage.handleServedPrefix(request, segments: segments) {
            return (answer, "/storage")
        }
        do {
            switch match {
            case .none:
                throw HTTPFailure.noEndpoint(path: request.uri.path)
            case .wrongMethod:
                throw HTTPFailure.methodNotAllowed(method: request.method.rawValue, path: request.uri.path)
            case .found(let found, let params):
                route = found
                endpoint = found.pattern
                let declared = request.headers[.contentLength].flatMap { Int($0) } ?? 0
                let handle: @Sendable () async throws -> Response = { [self] in
                    var req = request
                    let buffer = try await Self.readBody(&req, upTo: maxBody)
                    var rr = RucioRequest(
                        request: req, params: params, query: QueryString.parse(request.uri.query), body: Array(buffer.readableBytesView), issuer: nil)
                    if found.auth { rr.issuer = try await authenticate(request) }
                    return try Self.negotiated(try await found.handler(rr), request: request)
                }
                if declared > HTTPLimits.largeBody && declared <= maxBody { return (try await largeBodies.run(handle), endpoint) }
                return (try await handle(), endpoint)
            }
        } catch let f as HTTPFailure {
            return (Reply.error(RucioError(f)), endpoint)
        } catch {
            if let e = RucioError.translating(error) { return (Reply.error(e, status: route?.statusOverrides[e.exceptionClass]), endpoint) }
            logger.error("internal error on \(request.method) \(request.uri.path): \(error)")
            return (Reply.error(RucioError(.internalError("\(error)")), status: .internalServerError), endpoint)
        }
    }

    /// Rucio's `check_accept_header_wrapper_flask`: a read whose `Accept` header matches none of the types the route
    /// answers with is refused with 406 `UnsupportedRequestedContentType`. Reads have no effects, so the answer the
    /// route made can be checked instead of a list of types per route.
    static func negotiated(_ response: Response, request: Request) throws -> Response {
        guard request.method == .get || request.method == .head, response.status.code < 300,
            let accept = request.headers[.accept], !accept.isEmpty,
            let type = response.headers[.contentType]?.split(separator: ";").first.map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }),
            ["application/json", "application/x-json-stream", "application/metalink4+xml"].contains(type)
        else { return response }
        let ranges = accept.split(separator: ",").compactMap { $0.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased() }
        let major = type.split(separator: "/").first.map(String.init) ?? ""
        if ranges.contains(where: { $0 == type || $0 == "*/*" || $0 == major + "/*" }) { return response }
        throw RucioError(
            .unsupportedRequestedContentType, "The requested content type \(Validation.printable(accept)) is not supported. Use ['\(type)'].")
    }

    /// A request for one of Lakebed's own services (IAM, FTS, control API): no Rucio auth, the service's own errors.
    func serve(
        _ mount: Mount, _ table: RouteTable, _ errors: Mount.Errors, _ segments: [String], _ request: Request
    ) async -> (response: Response, endpoint: String) {
        var endpoint = "/" + mount.prefix.joined(separator: "/") + " -"
        do {
            switch table.match(method: request.method, segments: segments) {
            case .none: throw HTTPFailure.noEndpoint(path: request.uri.path)
            case .wrongMethod: throw HTTPFailure.methodNotAllowed(method: request.method.rawValue, path: request.uri.path)
            case .found(let route, let params):
                endpoint = "/" + mount.prefix.joined(separator: "/") + (route.pattern == "/" ? "" : route.pattern)
                var req = request
                let buffer = try await Self.readBody(&req, upTo: mount.maxBody ?? maxBody)
                let rr = RucioRequest(
                    request: req, params: params, query: QueryString.parse(request.uri.query), body: Array(buffer.readableBytesView), issuer: nil)
                try mount.admit?(rr)
                return (try await route.handler(rr), endpoint)
            }
        } catch {
            if errors.isUnexpected(error) { logger.error("internal error on \(request.method) \(request.uri.path): \(error)") }
            return (errors.render(error), endpoint)
        }
    }

    /// Reads a request body of at most `limit` bytes: 413 `RequestEntityTooLarge` beyond it (at once when
    /// Content-Length says so), 400 when the body cannot be read (a broken chunked encoding).
    static func readBody(_ request: inout Request, upTo limit: Int) async throws -> ByteBuffer {
        if let declared = request.headers[.contentLength].flatMap({ Int($0) }), declared > limit {
            throw HTTPFailure.bodyTooLarge(limit: limit)
        }
        do { return try await request.collectBody(upTo: limit) } catch is NIOTooManyBytesError {
            throw HTTPFailure.bodyTooLarge(limit: limit)
        } catch {
            throw HTTPFailure.unreadableBody
        }
    }

    /// Rucio's `request_auth_env`: a token is required, and must map to an active account.
    func authenticate(_ request: Request) async throws -> Issuer {
        guard let token = request.headers[HTTPField.Name("X-Rucio-Auth-Token")!], !token.isEmpty else {
            throw RucioError.valueError("Token must be set.")
        }
        // A JWT is checked by the IAM every time, never answered from the catalog's remembered tokens, so a revoked
        // token, a retired key or an early cutoff takes effect on the next request.
        let info: TokenInfo?
        if TokenInfo.looksLikeJWT(token), let ext = externalTokens {
            info = await ext(token)
        } else {
            info = try await catalog.auth.validateNativeToken(token)
        }
        guard let info else { throw RucioError.cannotAuthenticate() }
        return try await catalog.auth.issuer(for: info)
    }
}

/// Version facts shown to clients.
public enum LakebedInfo {
    /// The Rucio version Lakebed speaks (what `rucio ping` prints).
    public static let rucioVersion = "41.5.1"
    /// Lakebed's own version.
    public static let version = "0.1.0"
}

/// One of Lakebed's own services, served under a path prefix beside the Rucio API (`/iam/…`, `/fts/…`, `/lakebed/…`).
/// Its routes do their own authentication; errors are answered by the service's own error type.
public struct Mount: Sendable {
    /// A service that takes the request as it comes (body unread, so it can stream), with the path segments after the prefix.
    public typealias RawHandler = @Sendable (_ request: Request, _ segments: [String]) async -> Response

    /// How a service of routes answers an error thrown by one of them, in its format; and whether the error is one
    /// its error type does not know (a bug, logged).
    struct Errors: Sendable {
        let render: @Sendable (any Error) -> Response
        let isUnexpected: @Sendable (any Error) -> Bool
    }
    enum Service: Sendable {
        case routes(RouteTable, Errors)
        case raw(RawHandler)
    }
    /// Checks every request before its route runs (the control API's token and content types); throws to refuse.
    public typealias Admission = @Sendable (RucioRequest) throws -> Void

    /// Path segments the service is mounted under, e.g. `["fts"]` for `/fts`; empty = the root.
    public var prefix: [String]
    var service: Service
    /// Largest request body the service reads, in bytes; nil = the server's limit (raw services read their own bodies).
    public var maxBody: Int?
    /// Sees every request before its route (nil: all are admitted).
    public var admit: Admission?

    /// A service that handles its requests itself, bodies and errors included (the storage's WebDAV does, to stream bytes).
    public init(prefix: String, raw: @escaping RawHandler) {
        self.prefix = RouteTable.segments(prefix)
        self.service = .raw(raw)
        self.maxBody = nil
        self.admit = nil
    }

    /// A service of routes whose errors `errors` answers; `admit`, when given, sees every request first.
    public init<E: ServiceError>(prefix: String, table: RouteTable, maxBody: Int? = nil, errors: E.Type, admit: Admission? = nil) {
        self.prefix = RouteTable.segments(prefix)
        self.service = .routes(table, Errors(render: { E.render($0) }, isUnexpected: { E.isUnexpected($0) }))
        self.maxBody = maxBody
        self.admit = admit
    }
}
