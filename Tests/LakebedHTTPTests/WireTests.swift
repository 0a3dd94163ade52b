import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LakebedCore
import LakebedTesting
import Testing
@testable import LakebedHTTP

@Suite("Rucio wire format")
struct WireTests {
    @Test func pythonLiteralFilters() throws {
        let v = try PythonLiteral.parse("[{'name': 'ds*', 'length.gt': '1', 'x': True, 'y': None}]")
        #expect(v.arrayValue?.first?["name"] == .string("ds*"))
        #expect(v.arrayValue?.first?["x"] == .bool(true))
        #expect(throws: RucioError.self) { try PythonLiteral.parse("[{'name': }]") }
    }

    @Test func errorStatusesMatchRucio() {
        #expect(ErrorStatus.status(for: "DataIdentifierNotFound").code == 404)
        #expect(ErrorStatus.status(for: "Duplicate").code == 409)
        #expect(ErrorStatus.status(for: "AccessDenied").code == 401)
        #expect(ErrorStatus.status(for: "CannotAuthenticate").code == 401)
        #expect(ErrorStatus.status(for: "InvalidObject").code == 400)
        #expect(ErrorStatus.status(for: "FileConsistencyMismatch").code == 412)
    }

    @Test func routesDecodeSegmentsAndIgnoreTrailingSlashes() {
        var t = RouteTable()
        t.add(.get, "/dids/:scope/:name/meta") { _ in Reply.ok() }
        guard case .found(_, let p) = t.match(method: .get, segments: RouteTable.segments("/dids/user.jdoe/f%2E1/meta/")) else { Issue.record("no match"); return }
        #expect(p["scope"] == "user.jdoe" && p["name"] == "f.1")
        if case .wrongMethod = t.match(method: .post, segments: ["dids", "a", "b", "meta"]) {} else { Issue.record("expected wrong method") }
    }

    @Test func endToEndInProcess() async throws {
        let catalog = try TemporaryLake.catalog("http")
        try await DefaultLake.seedIfEmpty(catalog)
        let app = Application(responder: LakebedResponder(catalog: catalog))
        try await app.test(.router) { client in
            // No token: 400 ValueError; bad token: 401 CannotAuthenticate.
            try await client.execute(uri: "/scopes/", method: .get) { r in
                #expect(r.status.code == 400)
                #expect(r.headers[HTTPField.Name("ExceptionClass")!] == "ValueError")
            }
            try await client.execute(uri: "/scopes/", method: .get, headers: [HTTPField.Name("X-Rucio-Auth-Token")!: "bogus"]) { r in
                #expect(r.status.code == 401)
                #expect(r.headers[HTTPField.Name("ExceptionClass")!] == "CannotAuthenticate")
            }
            let token = try await client.execute(uri: "/auth/userpass", method: .get, headers: [
                HTTPField.Name("X-Rucio-Username")!: "ddmlab", HTTPField.Name("X-Rucio-Password")!: "secret", HTTPField.Name("X-Rucio-Account")!: "root",
            ]) { r in r.headers[HTTPField.Name("X-Rucio-Auth-Token")!] ?? "" }
            #expect(token.hasPrefix("root-"))
            let auth: HTTPFields = [HTTPField.Name("X-Rucio-Auth-Token")!: token]
            try await client.execute(uri: "/rses/?expression=tier%3D2", method: .get, headers: auth) { r in
                #expect(r.headers[.contentType] == "application/x-json-stream")
                #expect(String(buffer: r.body) == "{\"rse\": \"SITE-B\"}\n{\"rse\": \"SITE-C\"}\n")
            }
            try await client.execute(uri: "/dids/test/missing", method: .get, headers: auth) { r in
                #expect(r.status.code == 404)
                #expect(String(buffer: r.body).contains("DataIdentifierNotFound"))
            }
            try await client.execute(uri: "/dids/test/..%2F..%2Fetc", method: .post, headers: auth, body: ByteBuffer(string: "{\"type\": \"DATASET\"}")) { r in
                #expect(r.status.code == 400)
                #expect(r.headers[HTTPField.Name("ExceptionClass")!] == "InvalidObject")
            }
        }
    }
}
