import Foundation
public import Hummingbird
import HTTPTypes
public import LakebedCore
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

    public init(catalog: Catalog, version: String = LakebedInfo.rucioVersion, maxBody: Int = HTTPLimits.maxBody,
                externalTokens: ExternalTokenValidator? = nil, mounts: [Mount] = [], metrics: RequestMetrics? = nil,
                siteGuard: SiteGuard = SiteGuard(enabled: true), logger: Logger = Logger(label: "lakebed.http")) {
        self.catalog = catalog
        self.siteGuard = siteGuard
        self.metrics = metrics
        self.maxBody = maxBody
        self.externalTokens = externalTokens
        self.logger = logger
        var t = RouteTable()
        RucioAPI(catalog: catalog, version: version).register(&t)
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
        logger.debug("request", metadata: ["method": "\(request.method.rawValue)", "path": "\(request.uri.path)", "endpoint": "\(endpoint)",
                                           "status": "\(response.status.code)", "ms": "\(String(format: "%.2f", seconds * 1000))"])
        return response
    }

    static let metricMethods: Set<HTTPRequest.Method> = [.get, .head, .post, .put, .delete, .options, .patch, .init("PROPFIND")!, .init("MKCOL")!, .init("MOVE")!, .init("COPY")!]

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
                let cls = status == 503 ? "ResourceTemporaryUnavailable" : "RucioException"
                return (Reply.error(RucioError(cls, "Injected fault: \(request.uri.path) answers \(status) (scenario)"), status: .init(code: status)), "fault")
            }
        }
        if segments.first == "iam", catalog.faults.iamDown {
            return (Reply.make(.serviceUnavailable, "application/json", #"{"error": "temporarily_unavailable", "error_description": "IAM is unreachable (scenario)"}"#), "fault")
        }
        for mount in mounts where segments.starts(with: mount.prefix) {
            let rest = Array(segments.dropFirst(mount.prefix.count))
            if let raw = mount.raw { return (await raw(request, rest), "/" + mount.prefix.joined(separator: "/")) }
            return await serve(mount, rest, request)
        }
        var endpoint = "-"
        do {
            switch rucio.match(method: request.method, segments: segments) {
            case .none:
                throw RucioError("NotFound", "No endpoint at \(Validation.printable(request.uri.path))")
            case .wrongMethod:
                throw RucioError("MethodNotAllowed", "Method \(request.method.rawValue) not allowed on \(Validation.printable(request.uri.path))")
            case .found(let route, let params):
                endpoint = route.pattern
                var req = request
                let buffer = try await Self.readBody(&req, upTo: maxBody)
                var rr = RucioRequest(request: req, params: params, query: QueryString.parse(request.uri.query), body: Array(buffer.readableBytesView), issuer: nil)
                if route.auth { rr.issuer = try await authenticate(request) }
                return (try await route.handler(rr), endpoint)
            }
        } catch let e as RucioError {
            return (Reply.error(e), endpoint)
        } catch {
            if let e = RucioError.translating(error) { return (Reply.error(e), endpoint) }
            logger.error("internal error on \(request.method) \(request.uri.path): \(error)")
            return (Reply.error(RucioError("RucioException", "Internal error: \(error)"), status: .internalServerError), endpoint)
        }
    }

    /// A request for one of Lakebed's own services (IAM, FTS, control API): no Rucio auth, the service's own errors.
    func serve(_ mount: Mount, _ segments: [String], _ request: Request) async -> (response: Response, endpoint: String) {
        var endpoint = "/" + mount.prefix.joined(separator: "/") + " -"
        do {
            switch mount.table.match(method: request.method, segments: segments) {
            case .none: throw RucioError("NotFound", "No endpoint at \(Validation.printable(request.uri.path))")
            case .wrongMethod: throw RucioError("MethodNotAllowed", "Method \(request.method.rawValue) not allowed on \(Validation.printable(request.uri.path))")
            case .found(let route, let params):
                endpoint = "/" + mount.prefix.joined(separator: "/") + (route.pattern == "/" ? "" : route.pattern)
                var req = request
                let buffer = try await Self.readBody(&req, upTo: mount.maxBody ?? maxBody)
                let rr = RucioRequest(request: req, params: params, query: QueryString.parse(request.uri.query), body: Array(buffer.readableBytesView), issuer: nil)
                try mount.admit?(rr)
                return (try await route.handler(rr), endpoint)
            }
        } catch let e as RucioError {
            return (mount.renderError(e), endpoint)
        } catch {
            if let e = RucioError.translating(error) { return (mount.renderError(e), endpoint) }
            logger.error("internal error on \(request.method) \(request.uri.path): \(error)")
            return (mount.renderError(RucioError("InternalError", "Internal error: \(error)")), endpoint)
        }
    }

    /// Reads a request body of at most `limit` bytes: 413 `RequestEntityTooLarge` beyond it (at once when
    /// Content-Length says so), 400 when the body cannot be read (a broken chunked encoding).
    static func readBody(_ request: inout Request, upTo limit: Int) async throws -> ByteBuffer {
        if let declared = request.headers[.contentLength].flatMap({ Int($0) }), declared > limit {
            throw RucioError("RequestEntityTooLarge", "Request body larger than \(limit) bytes")
        }
        do { return try await request.collectBody(upTo: limit) } catch is NIOTooManyBytesError {
            throw RucioError("RequestEntityTooLarge", "Request body larger than \(limit) bytes")
        } catch {
            throw RucioError("InputValidationError", "Cannot read the request body")
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
        if TokenInfo.looksLikeJWT(token), let ext = externalTokens { info = await ext(token) } else { info = try await catalog.auth.validateNativeToken(token) }
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
/// Its routes do their own authentication; errors are rendered the service's way.
public struct Mount: Sendable {
    /// A service that takes the request as it comes (body unread, so it can stream), with the path segments after the prefix.
    public typealias RawHandler = @Sendable (_ request: Request, _ segments: [String]) async -> Response

    public var prefix: [String]
    public var table: RouteTable
    public var maxBody: Int?
    public var renderError: @Sendable (RucioError) -> Response
    /// When set, the mount answers every request under its prefix itself (the storage's WebDAV does, to stream bytes).
    public var raw: RawHandler?
    /// Checks every request before its route runs (the control API's token and content types); throws to refuse.
    public var admit: (@Sendable (RucioRequest) throws -> Void)?

    /// A service that handles its requests itself, bodies included.
    public init(prefix: String, raw: @escaping RawHandler) {
        self.prefix = RouteTable.segments(prefix)
        self.table = RouteTable()
        self.maxBody = nil
        self.renderError = { e in Reply.text(e.message + "\n", status: ErrorStatus.status(for: e.exceptionClass)) }
        self.raw = raw
    }

    public init(prefix: String, table: RouteTable, maxBody: Int? = nil, renderError: @escaping @Sendable (RucioError) -> Response,
                admit: (@Sendable (RucioRequest) throws -> Void)? = nil) {
        self.prefix = RouteTable.segments(prefix)
        self.table = table
        self.maxBody = maxBody
        self.renderError = renderError
        self.admit = admit
    }
}
