import Foundation
public import HTTPTypes
public import Hummingbird
public import LakebedCore
public import LakebedFTS

/// Who sent an FTS request: the name jobs are filed under (`user_dn`), and whether it may see and cancel every job
/// and overwrite replicas' bytes (root or an admin account, as FTS's `is_root` and Rucio's `perm_delete_replicas`).
public struct FTSCaller: Sendable, Equatable {
    public var name: String
    public var privileged: Bool
    /// How the caller authenticated, as FTS's whoami says it: `oauth2` (a bearer token) or `certificate` (X.509).
    public var method: String
    public init(name: String, privileged: Bool, method: String = "oauth2") {
        self.name = name
        self.privileged = privileged
        self.method = method
    }
}

/// Who an FTS bearer token belongs to (nil = refused).
public typealias FTSAuthenticator = @Sendable (String) async -> FTSCaller?
/// Checks a per-file storage token (`source_tokens` / `destination_tokens`) for a path on an RSE; returns an error to refuse.
public typealias StorageTokenCheck = @Sendable (_ token: String?, _ rse: String, _ path: String, _ write: Bool) async -> String?

/// The FTS3 REST subset: `GET /`, `/whoami`, `POST /jobs`, `GET /jobs[/<ids>[/files]]`, `DELETE /jobs/<id>`, and
/// GridSite delegation (`/delegation/<id>[/request|/credential]`). URLs are tolerated with the double slash the fts3
/// client puts after the endpoint.
public struct FTSAPI: Sendable {
    let catalog: Catalog
    let engine: TransferEngine
    let authenticate: FTSAuthenticator
    let storageCheck: StorageTokenCheck?
    /// Delegated proxies of certificate users (nil: no delegation, and certificate submissions are refused).
    let delegations: DelegationStore?

    public init(
        catalog: Catalog, engine: TransferEngine, authenticate: @escaping FTSAuthenticator, storageCheck: StorageTokenCheck? = nil,
        delegations: DelegationStore? = nil
    ) {
        self.catalog = catalog
        self.engine = engine
        self.authenticate = authenticate
        self.storageCheck = storageCheck
        self.delegations = delegations
    }

    public var mount: Mount {
        var t = RouteTable()
        register(&t)
        return Mount(prefix: "/fts", table: t, errors: FTSError.self)
    }

    static func iso(_ d: Date?) -> JSON {
        guard let d else { return .null }
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyy-MM-dd'T'HH:mm:ss"
        return .string(f.string(from: d))
    }

    func caller(_ r: RucioRequest) async throws -> FTSCaller {
        guard let h = r.header("Authorization"), h.lowercased().hasPrefix("bearer ") else {
            if let who = try await certificateCaller() { return who }
            throw FTSError(.unauthorized, "Authentication required: send an OAuth2 bearer token")
        }
        let token = String(h.dropFirst(7)).trimmingCharacters(in: .whitespaces)
        guard let who = await authenticate(token) else { throw FTSError(.unauthorized, "Invalid or expired bearer token") }
        return who
    }

    /// A caller by client certificate (FTS's X.509 login): jobs are filed under the DN, with the rights of the account
    /// its X509 identity maps to; nil when no certificate was presented.
    func certificateCaller() async throws -> FTSCaller? {
        let verified: ProxyChain.Verified?
        do { verified = try await ClientCertificate.verified() } catch let refusal as ProxyChain.Refusal {
            throw FTSError(.unauthorized, "Client certificate refused: \(refusal.description)")
        }
        guard let verified else { return nil }
        guard let issuer = try await catalog.auth.x509Issuer(dn: verified.identityDN) else {
            throw FTSError(.unauthorized, "No account has the X509 identity \(verified.identityDN)")
        }
        return FTSCaller(name: verified.identityDN, privileged: issuer.isAdmin, method: "certificate")
    }

    static func jobDoc(_ j: FTSJob, files: [FTSFile]) -> JSON {
        var o = JSONObject()
        o["job_id"] = .string(j.jobID)
        o["job_state"] = .string(j.state.rawValue)
        o["job_type"] = .string("N")
        o["source_se"] = files.first.map { .string($0.spec.sourceSE) } ?? .null
        o["dest_se"] = files.first.map { .string($0.spec.destSE) } ?? .null
        o["submit_time"] = iso(j.submitTime)
        o["job_finished"] = iso(j.finishTime)
        o["reason"] = .string(j.reason)
        o["priority"] = .int(Int64(j.priority))
        o["user_dn"] = .string(j.submitter)
        o["cred_id"] = .string(j.credentialID ?? DelegationStore.delegationID(dn: j.submitter))
        o["vo_name"] = .string("lakebed")
        o["verify_checksum"] = .string(j.verifyChecksum)
        o["overwrite_flag"] = .bool(j.overwrite)
        o["job_metadata"] = j.metadata.map(JSON.string) ?? .null
        o["submit_host"] = .string("lakebed")
        o["cancel_job"] = .bool(j.state == .canceled)
        o["http_status"] = .string("200 Ok")
        return .object(o)
    }

    static func fileDoc(_ f: FTSFile) -> JSON {
        var o = JSONObject()
        o["file_id"] = .int(Int64(f.fileID))
        o["job_id"] = .string(f.jobID)
        o["file_state"] = .string(f.state.rawValue)
        o["source_surl"] = .string(f.spec.sourceURL)
        o["dest_surl"] = .string(f.spec.destURL)
        o["source_se"] = .string(f.spec.sourceSE)
        o["dest_se"] = .string(f.spec.destSE)
        o["filesize"] = .int(f.spec.bytes)
        o["transferred"] = .int(f.transferredBytes)
        o["checksum"] = f.spec.adler32.map { .string("ADLER32:" + $0) } ?? .null
        o["reason"] = .string(f.reason)
        o["start_time"] = iso(f.startTime)
        o["finish_time"] = iso(f.finishTime)
        let duration = (f.startTime != nil && f.finishTime != nil) ? f.finishTime!.timeIntervalSince(f.startTime!) : 0
        o["tx_duration"] = .double(duration)
        o["throughput"] = .double(duration > 0 ? Double(f.spec.bytes) / duration / 1_048_576 : 0)
        o["activity"] = .string(f.spec.activity)
        o["file_metadata"] = f.spec.metadata.map(JSON.string) ?? .null
        o["retry"] = .int(0)
        return .object(o)
    }

    /// Where a storage URL lands (the same resolution as WebDAV's third-party `COPY`): a `file://` path in an RSE's
    /// folder, or an `https`/`davs` URL of Lakebed's own WebDAV; never outside the RSE's folder.
    func resolve(_ url: String) async throws -> StorageLocation {
        guard let u = URL(string: url), u.scheme != nil else { throw FTSError(.badRequest, "Invalid URL \(url)") }
        guard let location = try await catalog.rses.locate(url: url) else {
            throw FTSError(.badRequest, "\(url) is not storage of this lake (a file:// path in an RSE's folder, or a URL of Lakebed's WebDAV)")
        }
        guard (try? location.absolute()) != nil else { throw FTSError(.badRequest, "\(url) leaves the RSE's storage") }
        return location
    }

    func register(_ t: inout RouteTable) {
        t.add(.get, "/", auth: false) { _ in
            Reply.json([
                "api": ["major": 3, "minor": 12, "patch": 0],
                "schema": ["major": 8, "minor": 0, "patch": 1],
                "delegation": ["major": 1, "minor": 0, "patch": 0],
                "_links": ["curies": .array([]), "self": ["href": "/"]],
            ])
        }
        t.add(.get, "/whoami", auth: false) { r in
            let me = try await caller(r)
            let who = me.name
            return Reply.json([
                "dn": .array([.string(who)]), "user_dn": .string(who), "vos": .array([.string("lakebed")]), "vos_id": .array([]),
                "roles": .array([]), "delegation_id": .string(DelegationStore.delegationID(dn: who)), "method": .string(me.method),
                "is_root": .bool(me.privileged), "base_id": .string(md5Hex(who)),
                "level": ["config": .string(me.privileged ? "all" : "none"), "transfer": .string(me.privileged ? "all" : "private")],
            ])
        }
        registerDelegation(&t)
        t.add(.post, "/jobs", auth: false) { r in
            let who = try await caller(r)
            let body = try r.jsonObject()
            // A certificate submission runs on the user's delegated proxy: FTS wants one with an hour left.
            var credentialID: String? = nil
            if who.method == "certificate" { credentialID = try await requireDelegation(who) }
            let filesIn = try body.requiredArray("files")
            guard !filesIn.isEmpty else { throw FTSError(.badRequest, "No transfers or namespace operation specified") }
            let params = try body.optionalObject("params") ?? JSONObject()
            let verify = (params["verify_checksum"]?.stringValue ?? (params["verify_checksum"]?.boolValue == true ? "b" : "n")).lowercased()
            let overwrite = params["overwrite"]?.boolValue ?? false
            var specs: [FTSFileSpec] = []
            for item in filesIn {
                guard let f = item.objectValue else { throw FTSError(.badRequest, "Each file must be an object") }
                guard let src = try f.optionalArray("sources")?.first?.stringValue, let dst = try f.optionalArray("destinations")?.first?.stringValue
                else {
                    throw FTSError(.badRequest, "Each file needs sources and destinations")
                }
                let source = try await resolve(src)
                let destination = try await resolve(dst)
                let (srcRSE, srcPath, dstRSE, dstPath) = (source.rse.rse, try source.absolute(), destination.rse.rse, try destination.absolute())
                if overwrite { try await guardOverwrite(who, rse: dstRSE, absolutePath: dstPath) }
                if let check = storageCheck {
                    // A certificate user's delegated proxy stands for it at both ends (storage that takes tokens only
                    // admits a certificate whose DN maps to an account, as at WebDAV); a token sent along is still checked.
                    let sourceToken = try f.optionalArray("source_tokens")?.first?.stringValue
                    let destinationToken = try f.optionalArray("destination_tokens")?.first?.stringValue
                    if sourceToken != nil || credentialID == nil, let err = await check(sourceToken, srcRSE, srcPath, false) {
                        throw FTSError(.forbidden, err)
                    }
                    if destinationToken != nil || credentialID == nil, let err = await check(destinationToken, dstRSE, dstPath, true) {
                        throw FTSError(.forbidden, err)
                    }
                }
                let size: Int64 =
                    (f["filesize"]?.intValue).flatMap { $0 > 0 ? $0 : nil }
                    ?? ((try? FileManager.default.attributesOfItem(atPath: srcPath)[.size] as? NSNumber)?.int64Value ?? 0)
                var adler: String? = nil
                if verify != "n", let c = f["checksum"]?.stringValue, c.lowercased().hasPrefix("adler32:") { adler = String(c.dropFirst(8)) }
                let meta = f["metadata"].flatMap { $0.isNull ? nil : $0.serialized() }
                do {
                    specs.append(
                        try FTSFileSpec(
                            from: source, to: destination, sourceURL: src, destURL: dst, bytes: size, adler32: adler,
                            activity: f["activity"]?.stringValue ?? "default", metadata: meta))
                } catch let e as RucioError { throw FTSError(.badRequest, e.message) }
            }
            // Job ids are random, as FTS's are: knowing one job's id tells nothing of the next.
            let job = await engine.submit(
                files: specs, submitter: who.name, jobID: UUID().uuidString.lowercased(), priority: Int(params["priority"]?.intValue ?? 3),
                verifyChecksum: verify, metadata: params["job_metadata"].flatMap { $0.isNull ? nil : $0.serialized() },
                overwrite: overwrite, credentialID: credentialID)
            try await engine.step()
            return Reply.json(["job_id": .string(job.jobID)])
        }
        t.add(.get, "/jobs", auth: false) { r in
            let who = try await caller(r)
            let states = r.q("state_in").map { Set($0.split(separator: ",").compactMap { FTSJobState(rawValue: String($0).uppercased()) }) }
            let limit = Int(r.q("limit") ?? "") ?? 1000
            if let id = r.q("dlg_id"), id != DelegationStore.delegationID(dn: who.name) {
                throw FTSError(.forbidden, "The provided delegation id does not match your delegation id")
            }
            if let dn = r.q("user_dn"), dn != who.name, !who.privileged {
                throw FTSError(.badRequest, "The provided DN and delegation id do not correspond to the same user")
            }
            // A user sees only its own jobs (FTS's PRIVATE transfer level); root and admins see every job.
            let owner = who.privileged ? r.q("user_dn") : who.name
            var out: [JSON] = []
            for j in await engine.listJobs(states: states, submitter: owner, limit: limit) {
                out.append(Self.jobDoc(j, files: await engine.files(ofJob: j.jobID)))
            }
            return Reply.json(.array(out))
        }
        t.add(.get, "/jobs/:ids") { r in try await jobs(r) }
        t.add(.get, "/jobs/:id/files") { r in
            _ = try await ownedJob(r.param("id"), by: try await caller(r))
            return Reply.json(.array(await engine.files(ofJob: r.param("id")).map(Self.fileDoc)))
        }
        t.add(.get, "/jobs/:id/dm") { r in
            // Data-management operations (deletions, staging) of a job: Lakebed's FTS only transfers.
            _ = try await ownedJob(r.param("id"), by: try await caller(r))
            return Reply.json(.array([]))
        }
        t.add(.delete, "/jobs/:id") { r in
            _ = try await ownedJob(r.param("id"), by: try await caller(r))
            guard let j = try await engine.cancel(job: r.param("id")) else {
                throw FTSError(.notFound, "No job with the id \(r.param("id")) has been found")
            }
            return Reply.json(Self.jobDoc(j, files: await engine.files(ofJob: j.jobID)))
        }
    }

    /// The job, when `caller` submitted it or may see every job (FTS: 404 when unknown, 403 when someone else's).
    func ownedJob(_ id: String, by caller: FTSCaller) async throws -> FTSJob {
        guard let j = await engine.job(id) else { throw FTSError(.notFound, "No job with the id \"\(id)\" has been found") }
        guard caller.privileged || j.submitter == caller.name else {
            throw FTSError(.forbidden, "Not enough permissions to check the job \"\(id)\"")
        }
        return j
    }

    /// Overwriting a file the catalog holds as a replica needs the right to delete that replica.
    func guardOverwrite(_ caller: FTSCaller, rse: String, absolutePath: String) async throws {
        guard !caller.privileged, let model = try? await catalog.rses.rse(rse) else { return }
        let root = (model.root as NSString).standardizingPath
        let rel = absolutePath.hasPrefix(root + "/") ? String(absolutePath.dropFirst(root.count + 1)) : absolutePath
        if let held = try await catalog.replicas.heldReplicas(rse: rse, path: rel, subtree: false).first {
            throw FTSError(
                .forbidden,
                """
                \(caller.name) may not overwrite \(held.state.name) replica \(held.did) on \(rse): that needs the right to delete replicas \
                (root or an admin account)
                """)
        }
    }

    func jobs(_ r: RucioRequest) async throws -> Response {
        let who = try await caller(r)
        let ids = r.param("ids").split(separator: ",").map(String.init)
        var out: [JSON] = []
        for id in ids {
            let j: FTSJob
            do { j = try await ownedJob(id, by: who) } catch let e as FTSError {
                if ids.count == 1 { throw e }
                let status = "\(e.status.code) \(e.status.reasonPhrase)"
                out.append(["job_id": .string(id), "http_status": .string(status), "http_message": .string(e.message)])
                continue
            }
            var doc = Self.jobDoc(j, files: await engine.files(ofJob: id))
            if r.qBool("files"), case .object(var o) = doc {
                o["files"] = .array(await engine.files(ofJob: id).map(Self.fileDoc))
                doc = .object(o)
            }
            out.append(doc)
        }
        return Reply.json(ids.count == 1 ? out[0] : .array(out))
    }
}

/// An error as FTS3's REST server writes it: an HTTP status and `{"status": "404 Not Found", "message": "..."}`.
public struct FTSError: ServiceError {
    /// HTTP status of the reply, also written as `"<code> <reason>"` in the body's `status`.
    public var status: HTTPResponse.Status
    /// Error text for the body's `message`.
    public var message: String

    public init(_ status: HTTPResponse.Status, _ message: String) {
        self.status = status
        self.message = message
    }

    public init(_ failure: HTTPFailure) {
        switch failure {
        case .noEndpoint: self.init(.notFound, failure.message)
        case .methodNotAllowed: self.init(.methodNotAllowed, failure.message)
        case .bodyTooLarge, .unreadableBody: self.init(.badRequest, failure.message)
        case .internalError: self.init(.internalServerError, failure.message)
        }
    }

    /// The catalog's refusals of a caller are FTS's 401; anything else it rejects is the request's fault.
    public init(_ error: RucioError) {
        switch error.exceptionClass {
        case .cannotAuthenticate, .accessDenied: self.init(.unauthorized, error.message)
        default: self.init(.badRequest, error.message)
        }
    }

    public init(_ error: LakeError) { self.init(.notFound, error.message) }

    public var response: Response {
        let body: JSON = ["status": .string("\(status.code) \(status.reasonPhrase)"), "message": .string(message)]
        return Reply.make(status, "application/json", body.serialized())
    }
}
