import Foundation
import Hummingbird
public import LakebedCore

/// An OpenAPI 3 description of Lakebed's Rucio API, generated from the route table itself so it cannot drift from
/// the routes; served at `GET /lakebed/openapi.json` (no token). Fuzzers and API explorers read it.
public struct OpenAPI: Sendable {
    /// Where the description is served.
    public static let path = "/lakebed/openapi.json"

    /// The document.
    public let document: JSON

    public init(_ table: RouteTable, version: String = LakebedInfo.rucioVersion) {
        var paths = JSONObject()
        for route in table.routes {
            let template = Self.template(route.segments)
            var item = paths[template]?.objectValue ?? JSONObject()
            item[route.method.rawValue.lowercased()] = Self.operation(route)
            paths[template] = .object(item)
        }
        let errorHeaders: JSON = [
            "ExceptionClass": ["description": "The Python exception class the client raises", "schema": ["type": "string"]],
            "ExceptionMessage": ["description": "The message (printable ASCII, at most 128 characters)", "schema": ["type": "string"]],
        ]
        document = [
            "openapi": "3.0.3",
            "info": [
                "title": "Lakebed: Rucio REST API", "version": .string(version),
                "description":
                    "Rucio's REST API as Lakebed serves it, generated from its route table. Errors carry ExceptionClass/ExceptionMessage headers and a JSON body with the same keys.",
            ],
            "paths": .object(paths),
            "components": [
                "securitySchemes": ["RucioToken": ["type": "apiKey", "in": "header", "name": "X-Rucio-Auth-Token"]],
                "responses": [
                    "RucioError": [
                        "description": "A Rucio error", "headers": errorHeaders,
                        "content": ["application/octet-stream": ["schema": ["$ref": "#/components/schemas/RucioError"]]],
                    ]
                ],
                "schemas": [
                    "RucioError": [
                        "type": "object", "required": ["ExceptionClass", "ExceptionMessage"],
                        "properties": ["ExceptionClass": ["type": "string"], "ExceptionMessage": ["type": "string"]],
                    ],
                    "DID": Self.objectSchema(RouteDoc.fields("scope!:string name!:string")),
                    "FileSpec": Self.objectSchema(
                        RouteDoc.fields(
                            "scope!:string name!:string bytes:int adler32:string md5:string guid:string events:int meta:object state:A|U|C|B|D|S|T pfn:string"
                        )),
                ],
            ],
        ]
    }

    /// `/dids/:scope/*path` → `/dids/{scope}/{path}`.
    static func template(_ segments: [RouteTable.Segment]) -> String {
        "/"
            + segments.map { s in
                switch s {
                case .literal(let l): return l
                case .param(let p), .rest(let p): return "{\(p)}"
                }
            }.joined(separator: "/")
    }

    static func operation(_ route: RouteTable.Route) -> JSON {
        var op = JSONObject()
        let doc = route.doc
        op["operationId"] = .string(
            route.method.rawValue.lowercased()
                + route.pattern.replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: ":", with: "").replacingOccurrences(
                    of: "*", with: ""))
        op["summary"] = .string(doc?.summary ?? "\(route.method.rawValue) \(route.pattern)")
        op["x-lakebed-pattern"] = .string(route.pattern)
        var parameters: [JSON] = []
        for s in route.segments {
            switch s {
            case .literal: break
            case .param(let p): parameters.append(["name": .string(p), "in": "path", "required": true, "schema": ["type": "string"]])
            case .rest(let p):
                parameters.append(["name": .string(p), "in": "path", "required": true, "schema": ["type": "string"], "x-lakebed-rest": true])
            }
        }
        for f in doc?.query ?? [] {
            parameters.append(["name": .string(f.name), "in": "query", "required": .bool(f.required), "schema": schema(f.type)])
        }
        for f in doc?.headers ?? [] {
            parameters.append(["name": .string(f.name), "in": "header", "required": .bool(f.required), "schema": schema(f.type)])
        }
        if !parameters.isEmpty { op["parameters"] = .array(parameters) }
        if let doc, !doc.body.isEmpty {
            let object = objectSchema(doc.body)
            op["requestBody"] = [
                "required": .bool(doc.body.contains { $0.required }),
                "content": ["application/json": ["schema": doc.bodyIsList ? ["type": "array", "items": object] : object]],
            ]
        }
        op["security"] = route.auth ? [["RucioToken": []]] : []
        op["responses"] = ["2XX": ["description": "Success"], "default": ["$ref": "#/components/responses/RucioError"]]
        return .object(op)
    }

    static func objectSchema(_ fields: [RouteDoc.Field]) -> JSON {
        var props = JSONObject()
        for f in fields { props[f.name] = schema(f.type) }
        var o: JSONObject = JSONObject([("type", "object"), ("properties", .object(props))])
        let required = fields.filter(\.required).map { JSON.string($0.name) }
        if !required.isEmpty { o["required"] = .array(required) }
        return .object(o)
    }

    /// The JSON schema of a `RouteDoc` type.
    static func schema(_ type: String) -> JSON {
        if type.hasPrefix("["), type.hasSuffix("]") { return ["type": "array", "items": schema(String(type.dropFirst().dropLast()))] }
        if type.contains("|") { return ["type": "string", "enum": .array(type.split(separator: "|").map { .string(String($0)) })] }
        switch type {
        case "string": return ["type": "string"]
        case "int": return ["type": "integer"]
        case "number": return ["type": "number"]
        case "bool": return ["type": "boolean"]
        case "object": return ["type": "object"]
        case "did": return ["$ref": "#/components/schemas/DID"]
        case "file": return ["$ref": "#/components/schemas/FileSpec"]
        default: return [:]
        }
    }

    /// The mount that serves the description.
    public var mount: Mount {
        var t = RouteTable()
        let text = document.serialized()
        t.add(.get, "/", auth: false) { _ in Reply.make(.ok, "application/json", text) }
        return Mount(prefix: Self.path, table: t, errors: ControlError.self)
    }
}
