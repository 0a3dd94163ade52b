import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LakebedCore
import LakebedTesting
import Testing

@testable import LakebedHTTP

@Suite("OpenAPI description and request limits")
struct OpenAPITests {
    func responder() async throws -> LakebedResponder {
        let catalog = try TemporaryLake.catalog("openapi")
        try await DefaultLake.seedIfEmpty(catalog)
        return LakebedResponder(catalog: catalog, maxBody: 1024)
    }

    @Test func everyRouteIsDescribed() async throws {
        let responder = try await responder()
        let app = Application(responder: responder)
        try await app.test(.router) { client in
            try await client.execute(uri: "/lakebed/openapi.json", method: .get) { r in
                #expect(r.status == .ok)
                let doc = try JSONParser.parse(Array(buffer: r.body))
                #expect(doc["openapi"]?.stringValue == "3.0.3")
                let paths = try #require(doc["paths"]?.objectValue)
                var operations = 0
                for route in responder.rucio.routes {
                    let op = paths[OpenAPI.template(route.segments)]?[route.method.rawValue.lowercased()]
                    #expect(op != nil, "\(route.method) \(route.pattern) is not described")
                    #expect(route.doc != nil, "\(route.method) \(route.pattern) has no summary")
                    #expect(op?["x-lakebed-pattern"]?.stringValue == route.pattern)
                    #expect((op?["security"]?.arrayValue?.isEmpty ?? true) == !route.auth, "\(route.pattern): auth")
                    for case .param(let p) in route.segments {
                        #expect(op?["parameters"]?.arrayValue?.contains { $0["name"]?.stringValue == p && $0["in"]?.stringValue == "path" } == true)
                    }
                    operations += 1
                }
                #expect(operations == paths.reduce(0) { $0 + ($1.1.objectValue?.count ?? 0) })
                let rules = paths["/rules"]?["post"]?["requestBody"]?["content"]?["application/json"]?["schema"]
                #expect(rules?["required"]?.arrayValue?.contains("copies") == true)
                #expect(rules?["properties"]?["grouping"]?["enum"] == ["ALL", "DATASET", "NONE"])
                #expect(paths["/dids"]?["post"]?["requestBody"]?["content"]?["application/json"]?["schema"]?["type"] == "array")
            }
        }
    }

    @Test func oversizeAndBrokenBodiesGetRucioErrors() async throws {
        let app = Application(responder: try await responder())
        try await app.test(.router) { client in
            try await client.execute(uri: "/traces", method: .post, body: ByteBuffer(repeating: 0x41, count: 4096)) { r in
                #expect(r.status.code == 413)
                #expect(r.headers[HTTPField.Name("ExceptionClass")!] == "RequestEntityTooLarge")
                #expect(String(buffer: r.body).contains("\"ExceptionMessage\""))
            }
            // Header messages never carry CR/LF or non-ASCII from the request, whatever the path holds.
            try await client.execute(uri: "/nowhere/%0d%0aSet-Cookie:%20x%E2%80%A8", method: .get) { r in
                #expect(r.status.code == 404)
                let message = r.headers[HTTPField.Name("ExceptionMessage")!] ?? ""
                #expect(!message.isEmpty && message.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value < 0x7f })
            }
        }
    }
}
