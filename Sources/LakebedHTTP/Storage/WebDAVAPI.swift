import Foundation
import HTTPTypes
public import Hummingbird
public import LakebedCore
public import LakebedIAM
import NIOCore

/// Why a storage request was refused: 401 (no or bad token) or 403 (the token's scopes do not cover it).
public struct StorageRefusal: Error, Sendable {
    /// HTTP status to answer: 401 (no or bad token) or 403 (scopes do not cover the request).
    public var status: Int
    /// Why, sent as the response body.
    public var message: String
    public init(status: Int, message: String) {
        self.status = status
        self.message = message
    }
}

/// Decides whether a storage request may go ahead. `path` is relative to the RSE root and starts with `/`.
public typealias StorageAuthorizer =
    @Sendable (_ token: String?, _ rse: String, _ path: String, _ operation: StorageOperation) async -> StorageRefusal?
/// The Rucio account (and whether it is an admin) behind a bearer token, nil when it names none.
public typealias StorageIdentifier = @Sendable (_ token: String) async -> Issuer?

/// RSE directories served over HTTP(S) as the WebDAV subset that Rucio's `webdav` protocol and gfal-style tools use,
/// under `/storage/<RSE>/<path>`: `OPTIONS`, `HEAD`, `GET` (with one byte range), `PUT`, `MKCOL`, `PROPFIND` (depth 0
/// or 1), `MOVE`, `DELETE`, and `COPY` as WLCG HTTP third-party copy (`WebDAVAPI+Copy.swift`). Bodies are streamed to
/// and from disk, so file size is not bounded by memory.
public struct WebDAVAPI: Sendable {
    let catalog: Catalog
    let authorize: StorageAuthorizer?
    let identify: StorageIdentifier?
    /// Runs `COPY`'s third-party copies; nil: `COPY` is not offered.
    let thirdPartyCopy: ThirdPartyCopyService?

    /// The URL path prefix.
    public static let prefix = "/storage"

    /// `authorize` is the storage element's own check (WLCG scopes on `oidc_support` RSEs); `identify` names the
    /// Rucio account of a bearer token, for overwriting or deleting the bytes of replicas the catalog holds;
    /// `thirdPartyCopy` runs `COPY` between the lake's RSEs.
    public init(
        catalog: Catalog, authorize: StorageAuthorizer?, identify: StorageIdentifier? = nil, thirdPartyCopy: ThirdPartyCopyService? = nil
    ) {
        self.catalog = catalog
        self.authorize = authorize
        self.identify = identify
        self.thirdPartyCopy = thirdPartyCopy
    }

    /// The methods answered, for `Allow`.
    var allowed: String { "OPTIONS, HEAD, GET, PUT, MKCOL, PROPFIND, MOVE, DELETE" + (thirdPartyCopy == nil ? "" : ", COPY") }

    public var mount: Mount { Mount(prefix: Self.prefix, raw: { request, segments in await handle(request, segments) }) }

    /// A failed request: status, message and extra headers.
    struct Failure: Error {
        var status: HTTPResponse.Status
        var message: String
        var headers: [(String, String)] = []
    }

    /// A request under `/storage/`: `segments` follow that prefix.
    func handle(_ request: Request, _ segments: [String]) async -> Response {
        guard let rseName = segments.first else { return Self.reply(.notFound, "Name an RSE: \(Self.prefix)/<RSE>/<path>\n") }
        let location: StorageLocation?
        do { location = try await catalog.rses.locate(segments: ["storage"] + segments) } catch {
            return Self.reply(.internalServerError, "Internal error: \(error)\n")
        }
        guard let location else {
            let why: String
            if let rse = try? await catalog.rses.rse(rseName), let site = try? await catalog.rses.storageSite(rse) {
                why =
                    site == .virtual
                    ? "RSE \(rseName) keeps no bytes here: its protocols point at endpoints Lakebed does not serve (virtual storage)"
                    : "RSE \(rseName) has no protocol, so no storage (add one: rucio-admin rse add-protocol)"
            } else {
                why = "No RSE named \(rseName)"
            }
            return Self.reply(.notFound, why + "\n")
        }
        return await handle(request, at: location)
    }

    /// A request on Lakebed's own endpoint outside its services, under the prefix of an RSE protocol that Lakebed
    /// serves (a client's `https` protocol at Lakebed's host and port, e.g. prefix `/rucio/`); nil when it is not one.
    public func handleServedPrefix(_ request: Request, segments: [String]) async -> Response? {
        guard let location = try? await catalog.rses.locate(segments: segments) else { return nil }
        return await handle(request, at: location)
    }

    func handle(_ request: Request, at location: StorageLocation) async -> Response {
        do {
            let storage = RSEStorage(rse: location.rse)
            let rel = location.relative
            let target = Target(storage: storage, rel: rel, base: location.base)
            switch request.method.rawValue {
            case "OPTIONS":
                return Self.reply(.ok, "", headers: [("DAV", "1"), ("Allow", allowed)])
            case "HEAD", "GET":
                try await check(request, target, .read)
                return try get(request, target)
            case "PUT":
                let exists = try storage.stat(rel) != nil
                try await check(request, target, exists ? .modify : .create)
                if exists { try await guardReplicas(request, target) }
                return try await put(request, target)
            case "MKCOL":
                try await check(request, target, .create)
                try storage.makeCollection(rel)
                return Self.reply(.created, "Created\n")
            case "DELETE":
                try await check(request, target, .modify)
                try await guardReplicas(request, target)
                try storage.delete(rel)
                return Self.reply(.noContent, "")
            case "MOVE":
                return try await move(request, target)
            case "PROPFIND":
                try await check(request, target, .read)
                return try propfind(request, target)
            case "COPY" where thirdPartyCopy != nil:
                return try await copy(request, at: location, target)
            default:
                throw Failure(
                    status: .methodNotAllowed, message: "\(request.method.rawValue) is not supported here", headers: [("Allow", allowed)])
            }
        } catch let f as Failure {
            return Self.reply(f.status, f.message + "\n", headers: f.headers)
        } catch let fault as StorageFault {
            return Self.reply(fault)
        } catch {
            return Self.reply(.internalServerError, "Internal error: \(error)\n")
        }
    }

    /// One path on one RSE.
    struct Target {
        var storage: RSEStorage
        var rel: String
        /// The URL path of the RSE's storage folder as the client named it (`/storage/<RSE>/` or a protocol prefix).
        var base: String
        /// The path the token's scopes are checked against (relative to the RSE root).
        var scopePath: String { "/" + rel }
        /// The URL path clients see (`<base><rel>`), with a trailing slash for collections.
        func href(collection: Bool) -> String {
            var segs = base.split(separator: "/").map { Self.encode(String($0)) }
            segs += rel.split(separator: "/").map { Self.encode(String($0)) }
            return "/" + segs.joined(separator: "/") + (collection ? "/" : "")
        }
        static let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~!$&'()*+,;=:@"))
        static func encode(_ s: String) -> String { s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s }
    }

    func bearer(_ request: Request) -> String? { request.headers[.authorization].flatMap(Self.bearerValue) }

    func check(_ request: Request, _ target: Target, _ op: StorageOperation) async throws {
        guard let authorize, let refusal = await authorize(bearer(request), target.storage.rse, target.scopePath, op) else { return }
        // Without a token, a client certificate whose DN maps to an account is let in, as grid storage takes X.509.
        var message = refusal.message
        if bearer(request) == nil {
            let (issuer, problem) = await certificateIssuer()
            if issuer != nil { return }
            if let problem { message += " (\(problem))" }
        }
        let challenge = refusal.status == 403 ? "Bearer realm=\"lakebed\", error=\"insufficient_scope\"" : "Bearer realm=\"lakebed\""
        throw Failure(status: .init(code: refusal.status), message: message, headers: [("WWW-Authenticate", challenge)])
    }

    /// Refuses to overwrite, move or delete the bytes of replicas the catalog holds at or under `target`, unless the
    /// bearer token's account may delete replicas: on an RSE without `oidc_support` anyone may write new files, but
    /// not destroy data Rucio counts on.
    func guardReplicas(_ request: Request, _ target: Target) async throws {
        let token = bearer(request)
        var problem: String? = nil
        var certified: Issuer? = nil
        if token == nil { (certified, problem) = await certificateIssuer() }
        guard let refusal = await replicaRefusal(token: token, target, certified: certified) else { return }
        if token == nil && certified == nil {
            throw Failure(
                status: .unauthorized, message: refusal.message + (problem.map { " (\($0))" } ?? ""),
                headers: [("WWW-Authenticate", "Bearer realm=\"lakebed\"")])
        }
        throw Failure(status: .forbidden, message: refusal.message)
    }

    /// Why the bearer token's account (or, without a token, the client certificate's) may not overwrite, move or delete
    /// what is at `target` (replicas the catalog holds there), or nil.
    func replicaRefusal(token: String?, _ target: Target, certified: Issuer? = nil) async -> RucioError? {
        var issuer: Issuer? = certified
        if let token, let identify { issuer = await identify(token) }
        do {
            return try await catalog.replicas.storageChangeRefusal(rse: target.storage.rse, path: target.rel, subtree: true, issuer: issuer)
        } catch {
            return RucioError.accessDenied("Cannot tell which replicas lie under \(target.rel): \(error)")
        }
    }

    /// The account behind the connection's client certificate, or why there is none (no certificate: both nil). A
    /// certificate that does not verify or maps to no account leaves the client anonymous, as on an open storage
    /// element; the reason is told when that matters.
    func certificateIssuer() async -> (issuer: Issuer?, problem: String?) {
        let verified: ProxyChain.Verified?
        do { verified = try await ClientCertificate.verified() } catch {
            return (nil, "client certificate refused: \((error as? ProxyChain.Refusal)?.description ?? "\(error)")")
        }
        guard let verified else { return (nil, nil) }
        guard let issuer = try? await catalog.auth.x509Issuer(dn: verified.identityDN) else {
            return (nil, "no account has the X509 identity \(verified.identityDN)")
        }
        return (issuer, nil)
    }

    // MARK: methods

    func get(_ request: Request, _ target: Target) throws -> Response {
        let isHead = request.method == .head
        switch try target.storage.stat(target.rel) {
        case nil:
            throw StorageFault.notFound(target.rel)
        case .collection(let modified)?:
            var listing = ""
            for (name, e) in try target.storage.list(target.rel) { listing += name + (e.isCollection ? "/" : "") + "\n" }
            return Self.reply(
                .ok, isHead ? "" : listing, contentType: "text/plain; charset=utf-8",
                headers: [("Last-Modified", Self.httpDate(modified))], contentLength: listing.utf8.count)
        case .file(let size, let modified)?:
            var headers: [(String, String)] = [
                ("Accept-Ranges", "bytes"), ("Last-Modified", Self.httpDate(modified)),
                ("ETag", "\"\(size)-\(Int64(modified.timeIntervalSince1970 * 1000))\""),
            ]
            var status = HTTPResponse.Status.ok
            var start: Int64 = 0
            var length = size
            if let range = request.headers[.range] {
                guard let r = ByteRange.parse(range, size: size) else {
                    throw Failure(
                        status: .rangeNotSatisfiable, message: "Range \(range) not satisfiable", headers: [("Content-Range", "bytes */\(size)")])
                }
                status = .partialContent
                start = r.lowerBound
                length = r.upperBound - r.lowerBound + 1
                headers.append(("Content-Range", "bytes \(r.lowerBound)-\(r.upperBound)/\(size)"))
            }
            if let wanted = request.headers[HTTPField.Name("Want-Digest")!], let digest = try Self.digest(wanted, of: target) {
                headers.append(("Digest", digest))
            }
            var fields = Self.fields(headers)
            fields[.contentType] = "application/octet-stream"
            fields[.contentLength] = String(length)
            if isHead { return Response(status: status, headers: fields, body: ResponseBody()) }
            let handle = try target.storage.openForReading(target.rel, offset: start)
            let total = length
            let body = ResponseBody(contentLength: Int(total)) { writer in
                defer { try? handle.close() }
                var left = total
                while left > 0 {
                    let chunk = try handle.read(upToCount: Int(min(left, 1 << 20))) ?? Data()
                    if chunk.isEmpty { break }
                    left -= Int64(chunk.count)
                    try await writer.write(ByteBuffer(bytes: chunk))
                }
                try await writer.finish(nil)
            }
            return Response(status: status, headers: fields, body: body)
        }
    }

    /// RFC 3230 instance digests for `Want-Digest` (what gfal2 and davix ask for `gfal-sum`): `adler32` as 8 hex
    /// digits, `md5` base64-encoded, in the order the client asked, the ones Lakebed knows. Nil when it asked for none of them.
    static func digest(_ wanted: String, of target: Target) throws -> String? {
        let asked = wanted.split(separator: ",").compactMap { $0.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased() }
        let known = asked.filter { $0 == "adler32" || $0 == "md5" }
        guard !known.isEmpty else { return nil }
        let sums = try Checksums.ofFile(at: try target.storage.absolute(target.rel))
        var seen = Set<String>()
        return known.filter { seen.insert($0).inserted }.map { $0 == "adler32" ? "adler32=\(sums.adler32)" : "md5=\(sums.md5Base64)" }
            .joined(separator: ",")
    }

    func put(_ request: Request, _ target: Target) async throws -> Response {
        let pending = try target.storage.beginWrite(target.rel)
        do {
            for try await buffer in request.body { try pending.append(buffer.readableBytesView) }
        } catch {
            pending.abort()
            throw Failure(status: .badRequest, message: "Upload interrupted: \(error)")
        }
        if let declared = request.headers[.contentLength].flatMap({ Int64($0) }), declared != pending.written {
            pending.abort()
            throw Failure(status: .badRequest, message: "Received \(pending.written) bytes, Content-Length said \(declared)")
        }
        let replaced = try pending.commit()
        return replaced ? Self.reply(.noContent, "") : Self.reply(.created, "Created\n")
    }

    func move(_ request: Request, _ target: Target) async throws -> Response {
        guard let dest = request.headers[HTTPField.Name("Destination")!] else {
            throw Failure(status: .badRequest, message: "MOVE needs a Destination header")
        }
        let path = URLComponents(string: dest).map { $0.percentEncodedPath } ?? dest
        guard let there = try await catalog.rses.locate(segments: RouteTable.segments(path)), !there.relative.isEmpty else {
            throw Failure(status: .badGateway, message: "Destination \(dest) is not a path on this storage")
        }
        guard there.rse.id == target.storage.rseID else {
            throw Failure(status: .badGateway, message: "MOVE between RSEs is not supported (destination on \(there.rse.rse))")
        }
        let destination = Target(storage: target.storage, rel: there.relative, base: there.base)
        let overwrite = (request.headers[HTTPField.Name("Overwrite")!] ?? "T").uppercased() != "F"
        try await check(request, target, .modify)
        let destExists = try target.storage.stat(destination.rel) != nil
        try await check(request, destination, destExists ? .modify : .create)
        if destExists && !overwrite { throw Failure(status: .preconditionFailed, message: "\(destination.rel) exists and Overwrite is F") }
        try await guardReplicas(request, target)
        if destExists { try await guardReplicas(request, destination) }
        let replaced = try target.storage.move(target.rel, to: destination.rel, overwrite: overwrite)
        return replaced ? Self.reply(.noContent, "") : Self.reply(.created, "Created\n")
    }

    func propfind(_ request: Request, _ target: Target) throws -> Response {
        // Depth infinity (the RFC default) is answered as depth 1, as many storages do.
        let depth = request.headers[HTTPField.Name("Depth")!]?.trimmingCharacters(in: .whitespaces) ?? "infinity"
        guard let entry = try target.storage.stat(target.rel) else { throw StorageFault.notFound(target.rel) }
        var doc = Multistatus()
        doc.add(
            href: target.href(collection: entry.isCollection), name: target.rel.split(separator: "/").last.map(String.init) ?? target.storage.rse,
            entry: entry)
        if depth != "0", entry.isCollection {
            for (name, e) in try target.storage.list(target.rel) {
                let child = Target(storage: target.storage, rel: target.rel.isEmpty ? name : target.rel + "/" + name, base: target.base)
                doc.add(href: child.href(collection: e.isCollection), name: name, entry: e)
            }
        }
        return Self.reply(.init(code: 207), doc.xml, contentType: "application/xml; charset=utf-8")
    }

    // MARK: wire helpers

    static func fields(_ extra: [(String, String)]) -> HTTPFields {
        var f = HTTPFields()
        for (k, v) in extra { if let n = HTTPField.Name(k) { f[n] = v } }
        return f
    }

    static func reply(
        _ status: HTTPResponse.Status, _ text: String, contentType: String = "text/plain; charset=utf-8",
        headers: [(String, String)] = [], contentLength: Int? = nil
    ) -> Response {
        var f = fields(headers)
        f[.contentType] = contentType
        if let contentLength { f[.contentLength] = String(contentLength) }
        return Response(status: status, headers: f, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func reply(_ fault: StorageFault) -> Response {
        switch fault {
        case .notFound(let p): return reply(.notFound, "No such file or collection: \(p)\n")
        case .exists(let p): return reply(.methodNotAllowed, "\(p) already exists\n")
        case .conflict(let m): return reply(.conflict, m + "\n")
        case .badPath(let p): return reply(.forbidden, "Path \(Validation.printable(p)) leaves the RSE\n")
        }
    }

    static func httpDate(_ d: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "GMT")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return f.string(from: d)
    }
}

/// One `Range: bytes=…` request (a single range; multipart ranges are answered with the first).
enum ByteRange {
    /// The inclusive byte range, or nil when it cannot be satisfied.
    static func parse(_ header: String, size: Int64) -> ClosedRange<Int64>? {
        let h = header.trimmingCharacters(in: .whitespaces)
        guard h.lowercased().hasPrefix("bytes="), size > 0 else { return nil }
        let first = h.dropFirst(6).split(separator: ",").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        let parts = first.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2 else { return nil }
        if parts[0].isEmpty {
            guard let n = Int64(parts[1]), n > 0 else { return nil }
            return max(0, size - n)...(size - 1)
        }
        guard let a = Int64(parts[0]), a < size else { return nil }
        if parts[1].isEmpty { return a...(size - 1) }
        guard let b = Int64(parts[1]), b >= a else { return nil }
        return a...min(b, size - 1)
    }
}
