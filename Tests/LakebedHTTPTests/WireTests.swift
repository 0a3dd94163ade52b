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
        #expect(RucioExceptionClass.dataIdentifierNotFound.status == 404)
        #expect(RucioExceptionClass.duplicate.status == 409)
        #expect(RucioExceptionClass.accessDenied.status == 401)
        #expect(RucioExceptionClass.cannotAuthenticate.status == 401)
        #expect(RucioExceptionClass.invalidObject.status == 400)
        #expect(RucioExceptionClass.fileConsistencyMismatch.status == 412)
        #expect(RucioExceptionClass(rawValue: "DataIdentifierNotFound") == .dataIdentifierNotFound)
    }

    @Test func routeStatusOverridesApplyToTheirRouteOnly() async throws {
        // POST /rules/ answers InvalidRSEExpression with 409 where the class's own status is 400.
        var t = RouteTable()
        t.add(.post, "/rules", statuses: [.invalidRSEExpression: .conflict]) { _ in throw RucioError(.invalidRSEExpression, "bad") }
        guard case .found(let route, _) = t.match(method: .post, segments: ["rules"]) else {
            Issue.record("no route")
            return
        }
        #expect(route.statusOverrides[.invalidRSEExpression] == .conflict)
        #expect(route.statusOverrides[.invalidObject] == nil)
        #expect(RucioExceptionClass.invalidRSEExpression.status == 400)
    }

    @Test func routesDecodeSegmentsAndIgnoreTrailingSlashes() {
        var t = RouteTable()
        t.add(.get, "/dids/:scope/:name/meta") { _ in Reply.ok() }
        guard case .found(_, let p) = t.match(method: .get, segments: RouteTable.segments("/dids/user.jdoe/f%2E1/meta/")) else {
            Issue.record("no match")
            return
        }
        #expect(p["scope"] == "user.jdoe" && p["name"] == "f.1")
        if case .wrongMethod = t.match(method: .post, segments: ["dids", "a", "b", "meta"]) {} else { Issue.record("expected wrong method") }
    }

    @Test func theFirstRouteThatFitsWinsWhateverItsFirstSegment() {
        // Routes are looked up by their first segment; one starting with a parameter competes with the literal
        // ones in the order the table was written.
        var t = RouteTable()
        t.add(.get, "/rses/:rse") { _ in Reply.ok() }
        t.add(.get, "/:scope/:name") { _ in Reply.ok() }
        t.add(.get, "/dids/:scope") { _ in Reply.ok() }
        t.add(.put, "/rses/:rse") { _ in Reply.ok() }
        t.add(.get, "/") { _ in Reply.ok() }
        func pattern(_ method: HTTPRequest.Method, _ path: String) -> String? {
            if case .found(let r, _) = t.match(method: method, segments: RouteTable.segments(path)) { return r.pattern }
            return nil
        }
        #expect(pattern(.get, "/rses/SITE-A") == "/rses/:rse")
        #expect(pattern(.put, "/rses/SITE-A") == "/rses/:rse")
        #expect(pattern(.get, "/dids/user.jdoe") == "/:scope/:name")  // written before /dids/:scope
        #expect(pattern(.get, "/other/x") == "/:scope/:name")
        #expect(pattern(.get, "/") == "/")
        #expect(pattern(.get, "/nothing") == nil)
        if case .wrongMethod = t.match(method: .delete, segments: ["rses", "SITE-A"]) {} else { Issue.record("expected wrong method") }
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
            let token = try await client.execute(
                uri: "/auth/userpass", method: .get,
                headers: [
                    HTTPField.Name("X-Rucio-Username")!: "ddmlab", HTTPField.Name("X-Rucio-Password")!: "secret",
                    HTTPField.Name("X-Rucio-Account")!: "root",
                ]
            ) { r in r.headers[HTTPField.Name("X-Rucio-Auth-Token")!] ?? "" }
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
            try await client.execute(
                uri: "/dids/test/..%2F..%2Fetc", method: .post, headers: auth, body: ByteBuffer(string: "{\"type\": \"DATASET\"}")
            ) { r in
                #expect(r.status.code == 400)
                #expect(r.headers[HTTPField.Name("ExceptionClass")!] == "InvalidObject")
            }
        }
    }
}
