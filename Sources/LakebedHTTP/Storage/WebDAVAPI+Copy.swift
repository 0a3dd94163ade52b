import Foundation
import HTTPTypes
import Hummingbird
import LakebedCore
public import LakebedFTS
import LakebedIAM
import NIOCore

/// How WebDAV's `COPY` runs HTTP third-party copies: on the lake's transfer engine, so on the link between the two
/// RSEs and on the lake clock. The response looks at the copy every `poll` and sends a performance marker every
/// `markerInterval`, both in wall time: the lake clock may be manual, and a client waiting needs to hear something.
public struct ThirdPartyCopyService: Sendable {
    /// The engine that moves the bytes (the one the conveyor and FTS's REST API use).
    public let engine: TransferEngine
    /// How often the response looks at the copy's progress.
    public var poll: Duration
    /// How often a performance marker is sent while the copy runs (the WLCG specification asks for less than 30 s).
    public var markerInterval: Duration

    public init(engine: TransferEngine, poll: Duration = .milliseconds(100), markerInterval: Duration = .seconds(1)) {
        self.engine = engine
        self.poll = poll
        self.markerInterval = markerInterval
    }
}

/// What a WLCG HTTP-TPC `COPY` asks for, parsed once from its headers.
struct CopyRequest {
    /// `pull` (`Source:`, this end is the destination) or `push` (`Destination:`, this end is the source).
    var mode: ThirdPartyCopy.Mode
    /// The other end's URL.
    var remoteURL: String
    /// `Overwrite` (T by default, as RFC 4918 says).
    var overwrite: Bool
    /// `Credential`: how the active end authenticates to the passive one (`none`, `gridsite`, `oidc`).
    var credential: String
    /// `TransferHeader<Name>` headers, as `(Name, value)`: what the active end adds to its request to the passive one.
    var transferHeaders: [(String, String)]
    /// The bearer token the passive end sees: `TransferHeaderAuthorization`, or with `Credential: oidc` the client's own.
    var passiveToken: String?

    static let credentials: Set<String> = ["none", "gridsite", "oidc"]

    static func header(_ request: Request, _ name: String) -> String? {
        request.headers[HTTPField.Name(name)!].map { $0.trimmingCharacters(in: .whitespaces) }
    }

    static func parse(_ request: Request, bearer: String?) throws(WebDAVAPI.Failure) -> CopyRequest {
        let source = header(request, "Source")
        let destination = header(request, "Destination")
        let mode: ThirdPartyCopy.Mode
        let remote: String
        switch (source, destination) {
        case (let s?, nil):
            mode = .pull
            remote = s
        case (nil, let d?):
            mode = .push
            remote = d
        case (.some, .some):
            throw .init(status: .badRequest, message: "COPY takes a Source header (pull) or a Destination header (push), not both")
        case (nil, nil):
            throw .init(status: .badRequest, message: "COPY needs a Source header (pull) or a Destination header (push)")
        }
        guard let u = URLComponents(string: remote), let scheme = u.scheme?.lowercased(), u.host != nil else {
            throw .init(status: .badRequest, message: "Invalid \(mode == .pull ? "Source" : "Destination") header: \(Validation.printable(remote)) is not a URL")
        }
        guard RSEProtocol.webSchemes.contains(scheme) else {
            throw .init(
                status: .badRequest,
                message: "Unsupported \(mode == .pull ? "Source" : "Destination") scheme \(scheme): HTTP third-party copy takes http(s) or dav(s) URLs")
        }
        let overwrite: Bool
        switch header(request, "Overwrite")?.uppercased() {
        case nil, "T": overwrite = true
        case "F": overwrite = false
        case let other?: throw .init(status: .badRequest, message: "Invalid Overwrite header \(Validation.printable(other)): T or F")
        }
        // The source always has a checksum here, so the copy is verified either way; the value is still checked.
        if let v = header(request, "RequireChecksumVerification"), !["true", "false"].contains(v.lowercased()) {
            throw .init(status: .badRequest, message: "Invalid RequireChecksumVerification header \(Validation.printable(v)): true or false")
        }
        // As dCache: without the header, a client that authenticated with a token delegates it (oidc), others nothing.
        let credential = header(request, "Credential")?.lowercased() ?? (bearer == nil ? "none" : "oidc")
        guard credentials.contains(credential) else {
            throw .init(status: .badRequest, message: "Unsupported Credential header \(Validation.printable(credential)): none, gridsite or oidc")
        }
        var transfer: [(String, String)] = []
        for field in request.headers where field.name.canonicalName.hasPrefix("transferheader") {
            let name = String(field.name.rawName.dropFirst("TransferHeader".count))
            if !name.isEmpty { transfer.append((name, field.value)) }
        }
        var passive = transfer.first { $0.0.lowercased() == "authorization" }.flatMap { WebDAVAPI.bearerValue($0.1) }
        if passive == nil, credential == "oidc" { passive = bearer }
        return CopyRequest(
            mode: mode, remoteURL: remote, overwrite: overwrite, credential: credential, transferHeaders: transfer, passiveToken: passive)
    }
}

extension WebDAVAPI {
    /// The token of an `Authorization: Bearer …` value.
    static func bearerValue(_ header: String) -> String? {
        guard header.lowercased().hasPrefix("bearer ") else { return nil }
        let t = header.dropFirst(7).trimmingCharacters(in: .whitespaces)
        return t.isEmpty ? nil : t
    }

    /// WLCG HTTP third-party copy. The end this request names is the active party: its own refusals are answered at
    /// once with a status, as for the PUT (pull) or GET (push) it stands for. Once accepted, the answer is
    /// `202 Accepted` with a `text/perf-marker-stream` body: performance markers while the engine moves the bytes on
    /// the link, then `success: Created` or `failure: <why>` (what the passive end refused included, as a real storage
    /// element learns it only from its request to the other end).
    func copy(_ request: Request, at location: StorageLocation, _ target: Target) async throws -> Response {
        guard let service = thirdPartyCopy else { throw Failure(status: .methodNotAllowed, message: "COPY is not supported here") }
        let ask = try CopyRequest.parse(request, bearer: bearer(request))
        let here = try target.storage.stat(target.rel)
        switch ask.mode {
        case .pull:
            if target.rel.isEmpty || here?.isCollection == true {
                throw Failure(status: .conflict, message: "\(target.rel.isEmpty ? "the RSE root" : target.rel) is a collection: COPY writes files")
            }
            try await check(request, target, here != nil ? .modify : .create)
            if here != nil && !ask.overwrite {
                throw Failure(status: .preconditionFailed, message: "\(target.rel) exists and Overwrite is F")
            }
            if here != nil { try await guardReplicas(request, target) }
        case .push:
            try await check(request, target, .read)
            switch here {
            case nil: throw StorageFault.notFound(target.rel)
            case .collection?: throw Failure(status: .conflict, message: "\(target.rel) is a collection: COPY sends files")
            case .file?: break
            }
        }
        let local = Self.url(of: request, like: ask.remoteURL)
        guard let remote = try await catalog.rses.locate(url: ask.remoteURL) else {
            return Self.accepted(failure: unreachable(ask))
        }
        let (source, destination) = ask.mode == .pull ? (remote, location) : (location, remote)
        if let from = try? source.absolute(), from == (try? destination.absolute()) {
            throw Failure(status: .forbidden, message: "Source and destination are the same file")
        }
        if let refusal = await passiveRefusal(ask, remote) { return Self.accepted(failure: refusal) }
        let submitter: String
        if let token = bearer(request), let who = await identify?(token) { submitter = who.account } else { submitter = "anonymous" }
        let copy = ThirdPartyCopy(
            mode: ask.mode, source: source, destination: destination, sourceURL: ask.mode == .pull ? ask.remoteURL : local,
            destinationURL: ask.mode == .pull ? local : ask.remoteURL, overwrite: ask.overwrite, submitter: submitter)
        let submitted: ThirdPartyCopy.Submitted
        do { submitted = try await copy.submit(to: service.engine) } catch {
            return Self.accepted(failure: "cannot start the transfer: \(error)")
        }
        return Response(status: .accepted, headers: Self.markerStreamFields, body: Self.progress(of: submitted, service: service, clock: catalog.clock))
    }

    /// Why the other end cannot be reached. Lakebed's storage makes no connection out of the lake: a URL that is not
    /// one of its own listeners fails as a storage element fails to reach a host, and one of its listeners that
    /// names no storage fails as the other end's 404 would.
    func unreachable(_ ask: CopyRequest) -> String {
        let u = URLComponents(string: ask.remoteURL)
        let what = ask.mode == .pull ? "source" : "destination"
        if !catalog.rses.storageEndpoints.serves(url: ask.remoteURL) {
            let endpoint = "\(u?.scheme ?? "?")://\(u?.host ?? "?")\(u?.port.map { ":\($0)" } ?? "")"
            return
                "cannot connect to the \(what) \(endpoint): it is not an endpoint of this lake, and Lakebed's storage makes no connections outside it"
        }
        return "rejected \(ask.mode == .pull ? "GET" : "PUT"): 404 Not Found (the \(what) \(ask.remoteURL) names no storage of this lake)"
    }

    /// What the passive end answers to the active end's GET (pull) or PUT (push) before any byte moves, or nil when it
    /// would accept: its token check with the token the active end presents (`TransferHeaderAuthorization`), the
    /// file being there (pull) or replaceable (push).
    func passiveRefusal(_ ask: CopyRequest, _ remote: StorageLocation) async -> String? {
        let target = Target(storage: RSEStorage(rse: remote.rse), rel: remote.relative, base: remote.base)
        let method = ask.mode == .pull ? "GET" : "PUT"
        let entry: RSEStorage.Entry?
        do { entry = try target.storage.stat(target.rel) } catch { return "rejected \(method): 403 Forbidden (the path leaves the RSE)" }
        let operation: StorageOperation = ask.mode == .pull ? .read : (entry == nil ? .create : .modify)
        if let authorize, let refusal = await authorize(ask.passiveToken, remote.rse.rse, target.scopePath, operation) {
            let known: [HTTPResponse.Status] = [.unauthorized, .forbidden, .notFound]
            let status = known.first { $0.code == refusal.status } ?? HTTPResponse.Status(code: refusal.status)
            var why = "rejected \(method): \(status.code) \(status.reasonPhrase) (\(refusal.message))"
            if ask.passiveToken == nil {
                why += "; pass a token for it in TransferHeaderAuthorization (Lakebed takes no GridSite delegation)"
            }
            return why
        }
        switch (ask.mode, entry) {
        case (.pull, nil): return "rejected GET: 404 Not Found (no such file: \(target.rel))"
        case (.pull, .collection?): return "rejected GET: the source \(target.rel) is a collection, not a file"
        case (.push, .collection?): return "rejected PUT: 409 Conflict (\(target.rel) is a collection)"
        case (.push, .file?):
            if !ask.overwrite { return "rejected PUT: 412 Precondition Failed (\(target.rel) exists and Overwrite is F)" }
            if let refusal = await replicaRefusal(token: ask.passiveToken, target) { return "rejected PUT: 403 Forbidden (\(refusal.message))" }
        default: break
        }
        return nil
    }

    /// This request's URL, with the scheme the client uses for the other end (the listener's own is not known here).
    static func url(of request: Request, like other: String) -> String {
        let scheme = URLComponents(string: other)?.scheme ?? "https"
        let host = request.head.authority ?? "localhost"
        return "\(scheme)://\(host)\(request.uri.path)"
    }

    static var markerStreamFields: HTTPFields {
        var f = HTTPFields()
        f[.contentType] = "text/perf-marker-stream"
        return f
    }

    /// Accepted, but failed before any byte moved: the final line only.
    static func accepted(failure: String) -> Response {
        Response(status: .accepted, headers: markerStreamFields, body: .init(byteBuffer: ByteBuffer(string: "failure: \(oneLine(failure))\n")))
    }

    static func oneLine(_ s: String) -> String { s.replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ") }

    /// One performance marker in the WLCG (GridFTP-derived) form: lake time, one stripe.
    static func marker(at time: Date, bytes: Int64, status: String) -> String {
        """
        Perf Marker
        \tTimestamp: \(Int64(time.timeIntervalSince1970))
        \tStripe Index: 0
        \tStripe Bytes Transferred: \(bytes)
        \tStripe Status: \(status)
        \tTotal Stripe Count: 1
        End

        """
    }

    /// The response body while the engine moves the copy: a marker at once and every `markerInterval`, a last one with
    /// every byte, then the outcome. A client that goes away cancels the copy, as a storage element aborts its transfer.
    static func progress(of copy: ThirdPartyCopy.Submitted, service: ThirdPartyCopyService, clock: any LakeClock) -> ResponseBody {
        ResponseBody { writer in
            let engine = service.engine
            var lastMarker: ContinuousClock.Instant? = nil
            do {
                while true {
                    guard let f = await engine.file(copy.fileID), f.jobID == copy.jobID else {
                        try await writer.write(ByteBuffer(string: "failure: the transfer is gone (the lake was reset or restored)\n"))
                        break
                    }
                    if f.state.isTerminal {
                        let end: String
                        switch f.state {
                        case .finished:
                            end = marker(at: f.finishTime ?? clock.now(), bytes: f.spec.bytes, status: "DONE") + "success: Created\n"
                        case .canceled: end = "aborted: \(oneLine(f.reason))\n"
                        default: end = "failure: \(oneLine(f.reason))\n"
                        }
                        try await writer.write(ByteBuffer(string: end))
                        break
                    }
                    let now = ContinuousClock.now
                    if lastMarker.map({ now - $0 >= service.markerInterval }) ?? true {
                        let status = f.state == .active ? "RUNNING" : "QUEUED"
                        try await writer.write(ByteBuffer(string: marker(at: clock.now(), bytes: f.transferredBytes, status: status)))
                        lastMarker = now
                    }
                    try await Task.sleep(for: service.poll)
                }
                try await writer.finish(nil)
            } catch {
                _ = try? await engine.cancel(job: copy.jobID)
                throw error
            }
        }
    }
}
