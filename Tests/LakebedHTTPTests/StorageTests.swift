import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LakebedCore
import LakebedIAM
import LakebedTesting
import Testing

@testable import LakebedHTTP

@Suite("Storage over WebDAV, ESAP basket, TLS identity")
struct StorageTests {
    func lake() async throws -> Catalog {
        let catalog = try TemporaryLake.catalog("dav")
        try await DefaultLake.seedIfEmpty(catalog)
        return catalog
    }

    static func name(_ s: String) -> HTTPField.Name { HTTPField.Name(s)! }

    @Test func byteRanges() {
        #expect(ByteRange.parse("bytes=0-9", size: 100) == 0...9)
        #expect(ByteRange.parse("bytes=90-", size: 100) == 90...99)
        #expect(ByteRange.parse("bytes=-5", size: 100) == 95...99)
        #expect(ByteRange.parse("bytes=50-500", size: 100) == 50...99)
        #expect(ByteRange.parse("bytes=100-", size: 100) == nil)
        #expect(ByteRange.parse("bytes=9-3", size: 100) == nil)
        #expect(ByteRange.parse("items=0-1", size: 100) == nil)
    }

    @Test func storageRefusesEscapesAndHidesPartialWrites() async throws {
        let catalog = try await lake()
        let storage = RSEStorage(rse: try await catalog.rses.rse("SITE-A"))
        #expect(throws: StorageFault.self) { try storage.absolute("../SITE-B/x") }
        let w = try storage.beginWrite("a/b/f")
        try w.append(Data("abc".utf8))
        #expect(try storage.list("a/b").isEmpty)
        #expect(try w.commit() == false)
        guard case .file(let size, _)? = try storage.stat("a/b/f") else {
            Issue.record("no file")
            return
        }
        #expect(size == 3)
        try storage.beginWrite("a/b/g").commit()
        #expect(throws: StorageFault.exists("a/b/g")) { try storage.move("a/b/f", to: "a/b/g", overwrite: false) }
        #expect(throws: StorageFault.exists("a/b")) { try storage.makeCollection("a/b") }
        #expect(try storage.move("a/b/f", to: "a/b/g", overwrite: true) == true)
        #expect(throws: StorageFault.conflict("cannot delete the RSE root")) { try storage.delete("") }
    }

    @Test func webdavRoundTripWithStorageScopes() async throws {
        let catalog = try await lake()
        try await catalog.rses.addRSEAttribute("SITE-B", key: "oidc_support", value: .bool(true), by: nil)
        // Tokens are stand-ins here: "rw" may write, "ro" may only read; IAM-signed tokens are covered by the e2e suite.
        let api = WebDAVAPI(
            catalog: catalog,
            authorize: { token, rse, _, op in
                guard rse == "SITE-B" else { return nil }
                switch (token, op) {
                case (nil, _): return StorageRefusal(status: 401, message: "token required")
                case ("rw", _), ("ro", .read): return nil
                default: return StorageRefusal(status: 403, message: "insufficient scope")
                }
            })
        let app = Application(responder: LakebedResponder(catalog: catalog, mounts: [api.mount]))
        try await app.test(.router) { client in
            try await client.execute(uri: "/storage/SITE-A/", method: .head) { r in #expect(r.status == .ok) }
            try await client.execute(uri: "/storage/NOPE/", method: .head) { r in #expect(r.status == .notFound) }
            try await client.execute(uri: "/storage/SITE-A/x/y.dat", method: .put, body: ByteBuffer(string: "0123456789")) { r in
                #expect(r.status == .created)
            }
            try await client.execute(uri: "/storage/SITE-A/x/y.dat", method: .get, headers: [.range: "bytes=2-4"]) { r in
                #expect(r.status == .partialContent)
                #expect(String(buffer: r.body) == "234")
            }
            try await client.execute(uri: "/storage/SITE-A/x", method: HTTPRequest.Method("PROPFIND")!, headers: [Self.name("Depth"): "1"]) { r in
                #expect(r.status.code == 207)
                let body = String(buffer: r.body)
                #expect(body.contains("<d:href>/storage/SITE-A/x/</d:href>") && body.contains("<d:href>/storage/SITE-A/x/y.dat</d:href>"))
                #expect(body.contains("<d:getcontentlength>10</d:getcontentlength>"))
            }
            try await client.execute(
                uri: "/storage/SITE-A/x/y.dat", method: HTTPRequest.Method("MOVE")!,
                headers: [Self.name("Destination"): "https://localhost:1/storage/SITE-A/x/z.dat"]
            ) { r in #expect(r.status == .created) }
            try await client.execute(
                uri: "/storage/SITE-A/x/z.dat", method: HTTPRequest.Method("MOVE")!,
                headers: [Self.name("Destination"): "/storage/SITE-B/z.dat"]
            ) { r in #expect(r.status == .badGateway) }
            try await client.execute(uri: "/storage/SITE-A/x/z.dat", method: .delete) { r in #expect(r.status == .noContent) }
            try await client.execute(uri: "/storage/SITE-A/x/z.dat", method: .delete) { r in #expect(r.status == .notFound) }
            try await client.execute(uri: "/storage/SITE-B/f", method: .put, body: ByteBuffer(string: "x")) { r in
                #expect(r.status == .unauthorized)
                #expect(r.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true)
            }
            try await client.execute(uri: "/storage/SITE-B/f", method: .put, headers: [.authorization: "Bearer ro"], body: ByteBuffer(string: "x")) {
                r in
                #expect(r.status == .forbidden)
            }
            try await client.execute(uri: "/storage/SITE-B/f", method: .put, headers: [.authorization: "Bearer rw"], body: ByteBuffer(string: "x")) {
                r in
                #expect(r.status == .created)
            }
            try await client.execute(uri: "/storage/SITE-B/f", method: .get, headers: [.authorization: "Bearer ro"]) { r in
                #expect(String(buffer: r.body) == "x")
            }
        }
    }

    @Test func publishedProtocolFollowsThePortAndNewRSEs() async throws {
        let catalog = try await lake()
        try await catalog.rses.publishWebDAV(WebDAVEndpoint(hostname: "localhost", port: 8443))
        try await catalog.rses.publishWebDAV(WebDAVEndpoint(hostname: "localhost", port: 9443))
        let protos = try await catalog.rses.protocols("SITE-A").filter { $0.scheme == "https" }
        #expect(protos.map(\.port) == [9443])
        #expect(protos.first?.pfn(path: "user/root/f") == "https://localhost:9443/storage/SITE-A/user/root/f")
        try await catalog.rses.addRSE("NOTEBOOK", readyMade: true, by: nil)
        #expect(try await catalog.rses.protocols("NOTEBOOK").map(\.scheme) == ["file", "https"])
        // An RSE a client adds has the protocols the client gives it, and publishing leaves it alone.
        try await catalog.rses.addRSE("CLIENTS", by: nil)
        try await catalog.rses.publishWebDAV(WebDAVEndpoint(hostname: "localhost", port: 9444))
        #expect(try await catalog.rses.protocols("CLIENTS").isEmpty)
    }

    @Test func esapBasketNeedsAnIAMToken() async throws {
        let catalog = try await lake()
        let iam = try await IAM(dataDir: catalog.dataDir, clock: catalog.clock)
        let token = try await iam.issueAccessToken(username: "jdoe", clientID: "lakebed-cli", scope: "openid profile", audience: ["rucio"])
        let app = Application(responder: LakebedResponder(catalog: catalog, mounts: [ESAPAPI(catalog: catalog, iam: iam).mount]))
        try await app.test(.router) { client in
            try await client.execute(uri: "/esap-api/accounts/user-profiles/", method: .get) { r in
                #expect(String(buffer: r.body).contains("\"results\": []"))
            }
            let auth: HTTPFields = [.authorization: "Bearer \(token)"]
            try await client.execute(
                uri: "/esap-api/accounts/user-profiles/jdoe/", method: .patch, headers: auth,
                body: ByteBuffer(string: #"{"shopping_cart": [{"archive": "rucio", "record": {"scope": "test", "name": "f"}}]}"#)
            ) { r in
                #expect(r.status == .ok)
            }
            try await client.execute(uri: "/esap-api/accounts/user-profiles/asmith/", method: .put, headers: auth, body: ByteBuffer(string: "{}")) {
                r in
                #expect(r.status == .notFound)
            }
        }
        let items = try await catalog.baskets.basket(user: "jdoe")
        #expect(items.count == 1)
        #expect(try JSONParser.parse(Array(items[0].itemData.utf8))["archive"] == .string("rucio"))
    }

    @Test func certificatesAreMadeOnceAndLoad() throws {
        let dir = TemporaryLake.folder("tls")
        let certs = try LocalCertificates.ensure(dataDir: dir)
        let pem = try certs.caPEM()
        #expect(pem.hasPrefix("-----BEGIN CERTIFICATE-----"))
        #expect(try LocalCertificates.ensure(dataDir: dir).caPEM() == pem)
        _ = try certs.serverConfiguration()
        let mode = try FileManager.default.attributesOfItem(atPath: certs.keyPath)[.posixPermissions] as? NSNumber
        #expect(mode?.intValue == 0o600)
    }
}
