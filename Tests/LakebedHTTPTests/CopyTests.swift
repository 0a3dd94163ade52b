import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LakebedCore
import LakebedDaemons
import LakebedFTS
import LakebedIAM
import LakebedTesting
import Testing

@testable import LakebedHTTP

/// WebDAV `COPY` as WLCG HTTP third-party copy, in process, on a manual lake clock.
@Suite("HTTP third-party copy over WebDAV")
struct CopyTests {
    static let copy = HTTPRequest.Method("COPY")!
    static func name(_ s: String) -> HTTPField.Name { HTTPField.Name(s)! }
    static let source = "https://localhost:8443/storage/SITE-A/tpc/in.bin"

    struct World {
        let catalog: Catalog
        let engine: TransferEngine
        let driver: LakeDriver
        let app: Application<LakebedResponder>

        /// Moves the lake clock a second at a time until the copy the engine took has ended.
        func runCopies() async throws {
            for _ in 0..<2_000 {
                if let job = await engine.listJobs().first, job.state.isTerminal { return }
                try await driver.advance(by: 1)
                await Task.yield()
            }
            Issue.record("the copy did not end")
        }
    }

    /// SITE-A and SITE-B open, SITE-C with storage scopes ("rw" may write, "ro" only read); Lakebed's HTTPS port is 8443.
    func world() async throws -> World {
        let clock = VirtualClock.manual()
        let catalog = try TemporaryLake.catalog("copy", clock: clock)
        try await DefaultLake.seedIfEmpty(catalog)
        catalog.rses.serveStorage(port: 8443)
        let engine = TransferEngine(catalog: catalog, topology: Topology(defaults: LinkSettings(bandwidth: 1000, latency: 1)))
        let driver = LakeDriver(catalog: catalog, clock: clock, engine: engine)
        let api = WebDAVAPI(
            catalog: catalog,
            authorize: { token, rse, _, op in
                guard rse == "SITE-C" else { return nil }
                switch (token, op) {
                case (nil, _): return StorageRefusal(status: 401, message: "token required")
                case ("rw", _), ("ro", .read): return nil
                default: return StorageRefusal(status: 403, message: "insufficient scope")
                }
            },
            thirdPartyCopy: ThirdPartyCopyService(engine: engine, poll: .milliseconds(1), markerInterval: .milliseconds(1)))
        let app = Application(responder: LakebedResponder(catalog: catalog, mounts: [api.mount]))
        let storage = RSEStorage(rse: try await catalog.rses.rse("SITE-A"))
        let w = try storage.beginWrite("tpc/in.bin")
        try w.append(Array(repeating: UInt8(7), count: 3000))
        try w.commit()
        return World(catalog: catalog, engine: engine, driver: driver, app: app)
    }

    @Test func pullMovesTheBytesAndStreamsMarkersThenSuccess() async throws {
        let w = try await world()
        try await w.app.test(.router) { client in
            async let answer = client.execute(uri: "/storage/SITE-B/tpc/out.bin", method: Self.copy, headers: [Self.name("Source"): Self.source]) {
                r in (r.status, r.headers[.contentType], String(buffer: r.body))
            }
            try await w.runCopies()
            let (status, type, body) = try await answer
            #expect(status == .accepted && type == "text/perf-marker-stream")
            let lines = body.split(separator: "\n").map(String.init)
            #expect(lines.first == "Perf Marker" && lines.last == "success: Created")
            #expect(lines.contains("\tStripe Bytes Transferred: 0") && lines.contains("\tStripe Bytes Transferred: 3000"))
            #expect(lines.filter { $0 == "End" }.count == lines.filter { $0 == "Perf Marker" }.count)
        }
        let b = RSEStorage(rse: try await w.catalog.rses.rse("SITE-B"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: try b.absolute("tpc/out.bin"))) == Data(repeating: 7, count: 3000))
        let job = try #require(await w.engine.listJobs().first)
        let file = try #require(await w.engine.files(ofJob: job.jobID).first)
        #expect(file.spec.sourceSE == "SITE-A" && file.spec.destSE == "SITE-B" && file.spec.sourceURL == Self.source)
    }

    @Test func pushFailsWithAFailureLineWhenTheLinkIsDown() async throws {
        let w = try await world()
        await w.engine.updateLink("SITE-A", "SITE-B") {
            $0.down = true
            $0.failureReason = "TRANSFER [113] No route to host"
        }
        try await w.app.test(.router) { client in
            async let answer = client.execute(
                uri: "/storage/SITE-A/tpc/in.bin", method: Self.copy,
                headers: [Self.name("Destination"): "davs://localhost:8443/storage/SITE-B/tpc/pushed.bin"]
            ) { r in (r.status, String(buffer: r.body)) }
            try await w.runCopies()
            let (status, body) = try await answer
            #expect(status == .accepted)
            #expect(body.hasSuffix("failure: TRANSFER [113] No route to host\n"))
        }
        let b = RSEStorage(rse: try await w.catalog.rses.rse("SITE-B"))
        #expect(try b.stat("tpc/pushed.bin") == nil && (try b.list("tpc")).isEmpty)
    }

    @Test func theActiveEndAnswersItsOwnRefusalsAtOnce() async throws {
        let w = try await world()
        try await w.app.test(.router) { client in
            func copy(_ path: String, _ headers: [String: String]) async throws -> (HTTPResponse.Status, String) {
                var fields = HTTPFields()
                for (k, v) in headers { fields[Self.name(k)] = v }
                return try await client.execute(uri: path, method: Self.copy, headers: fields) { r in (r.status, String(buffer: r.body)) }
            }
            let dest = "https://localhost:8443/storage/SITE-B/x"
            let cases: [(String, [String: String], HTTPResponse.Status)] = [
                ("/storage/SITE-B/x", [:], .badRequest),
                ("/storage/SITE-B/x", ["Source": Self.source, "Destination": dest], .badRequest),
                ("/storage/SITE-B/x", ["Source": Self.source, "Overwrite": "yes"], .badRequest),
                ("/storage/SITE-B/x", ["Source": Self.source, "RequireChecksumVerification": "maybe"], .badRequest),
                ("/storage/SITE-B/x", ["Source": Self.source, "Credential": "kerberos"], .badRequest),
                ("/storage/SITE-B/x", ["Source": "gsiftp://gridftp.example.org/f"], .badRequest),
                // Pull: this end is the destination, checked as for a PUT.
                ("/storage/SITE-A/tpc/in.bin", ["Source": Self.source, "Overwrite": "F"], .preconditionFailed),
                ("/storage/SITE-A/tpc", ["Source": Self.source], .conflict),
                ("/storage/SITE-A/tpc/in.bin", ["Source": Self.source], .forbidden),
                ("/storage/SITE-C/tpc/x", ["Source": Self.source], .unauthorized),
                ("/storage/SITE-C/tpc/x", ["Source": Self.source, "Authorization": "Bearer ro"], .forbidden),
                // Push: this end is the source, checked as for a GET.
                ("/storage/SITE-A/tpc/none.bin", ["Destination": dest], .notFound),
            ]
            for (path, headers, expected) in cases {
                let (status, body) = try await copy(path, headers)
                #expect(status == expected, "\(path) \(headers): \(body)")
            }
        }
        #expect(await w.engine.listJobs().isEmpty)
    }

    @Test func whatThePassiveEndOrTheNetworkRefusesIsTheFailureLine() async throws {
        let w = try await world()
        try await w.app.test(.router) { client in
            func copy(_ path: String, _ headers: [String: String]) async throws -> (HTTPResponse.Status, String) {
                var fields = HTTPFields()
                for (k, v) in headers { fields[Self.name(k)] = v }
                return try await client.execute(uri: path, method: Self.copy, headers: fields) { r in (r.status, String(buffer: r.body)) }
            }
            let site = "https://localhost:8443/storage"
            let cases: [(String, [String: String], String)] = [
                ("/storage/SITE-B/x", ["Source": "https://data.example.org/store/f"], "failure: cannot connect to the source https://data.example.org: it is not"),
                ("/storage/SITE-B/x", ["Source": "\(site)/NOPE/f"], "failure: rejected GET: 404 Not Found"),
                ("/storage/SITE-B/x", ["Source": "\(site)/SITE-A/tpc/gone"], "failure: rejected GET: 404 Not Found"),
                ("/storage/SITE-B/x", ["Source": "\(site)/SITE-A/../../etc/passwd"], "failure: rejected GET: 403 Forbidden"),
                // Push to SITE-C: the token passed on in TransferHeaderAuthorization is what SITE-C checks.
                ("/storage/SITE-A/tpc/in.bin", ["Destination": "\(site)/SITE-C/f"], "failure: rejected PUT: 401 Unauthorized"),
                ("/storage/SITE-A/tpc/in.bin", ["Destination": "\(site)/SITE-C/f", "TransferHeaderAuthorization": "Bearer ro"],
                 "failure: rejected PUT: 403 Forbidden"),
                // With Credential: oidc the client's own token is the one passed on.
                ("/storage/SITE-A/tpc/in.bin", ["Destination": "\(site)/SITE-C/f", "Authorization": "Bearer ro", "Credential": "oidc"],
                 "failure: rejected PUT: 403 Forbidden"),
            ]
            for (path, headers, expected) in cases {
                let (status, body) = try await copy(path, headers)
                #expect(status == .accepted && body.hasPrefix(expected) && body.hasSuffix("\n"), "\(headers): \(body)")
            }
            let (_, anonymous) = try await copy("/storage/SITE-A/tpc/in.bin", ["Destination": "\(site)/SITE-C/f"])
            #expect(anonymous.contains("TransferHeaderAuthorization"))
        }
        #expect(await w.engine.listJobs().isEmpty)
        let c = RSEStorage(rse: try await w.catalog.rses.rse("SITE-C"))
        #expect(try c.stat("f") == nil)
    }

    @Test func optionsOffersCopy() async throws {
        let w = try await world()
        try await w.app.test(.router) { client in
            try await client.execute(uri: "/storage/SITE-A/", method: .options) { r in
                #expect(r.headers[Self.name("Allow")]?.hasSuffix(", COPY") == true)
            }
        }
    }
}
