import Foundation
import Hummingbird
import LakebedCore

extension RucioAPI {
    /// `/config`: Rucio's configuration table.
    func registerConfig(_ t: inout RouteTable) {
        t.add(.get, "/config", doc: RouteDoc("Every configuration section and option")) { r in
            let all = try await catalog.config.all(issuer: r.caller)
            return Reply.json(.object(JSONObject(all.map { ($0.section, JSON.object(Self.optionsDoc($0.options))) })))
        }
        t.add(.post, "/config", doc: RouteDoc("Set options: {section: {option: value}}", body: "section:object")) { r in
            var values: [(section: String, option: String, value: String)] = []
            for (section, options) in try r.jsonObject() {
                guard let o = options.objectValue else { throw RucioError.valueError("") }
                for (option, value) in o { values.append((section, option, value.stringValue ?? value.serialized())) }
            }
            try await catalog.config.set(values, issuer: r.caller)
            return Reply.created()
        }
        t.add(.get, "/config/:section", doc: RouteDoc("The options of a section")) { r in
            Reply.json(.object(Self.optionsDoc(try await catalog.config.section(r.param("section"), issuer: r.caller))))
        }
        t.add(.delete, "/config/:section", doc: RouteDoc("Remove a section")) { r in
            try await catalog.config.remove(r.param("section"), option: nil, issuer: r.caller)
            return Reply.ok()
        }
        t.add(.get, "/config/:section/:option", doc: RouteDoc("One option's value")) { r in
            Reply.json(.string(try await catalog.config.value(r.param("section"), r.param("option"), issuer: r.caller)))
        }
        t.add(.delete, "/config/:section/:option", doc: RouteDoc("Remove an option")) { r in
            try await catalog.config.remove(r.param("section"), option: r.param("option"), issuer: r.caller)
            return Reply.ok()
        }
        t.add(.put, "/config/:section/:option/:value", doc: RouteDoc("Set one option")) { r in
            try await catalog.config.set([(r.param("section"), r.param("option"), r.param("value"))], issuer: r.caller)
            return Reply.created()
        }
    }

    /// `/heartbeats`: signs of life of daemons that report to the lake.
    func registerHeartbeats(_ t: inout RouteTable) {
        t.add(.get, "/heartbeats", doc: RouteDoc("Heartbeats of daemons")) { r in
            Reply.json(
                .array(
                    try await catalog.heartbeats.list(issuer: r.caller).map { h in
                        [
                            "readable": .string(h.executable), "hostname": .string(h.hostname), "pid": .int(h.pid),
                            "thread_name": .string(h.threadName),
                            "updated_at": .date(h.updatedAt), "created_at": .date(h.createdAt), "payload": .str(h.payload),
                        ]
                    }))
        }
        t.add(
            .post, "/heartbeats",
            doc: RouteDoc("Send a heartbeat", body: "executable!:string hostname!:string pid!:int older_than:int payload:string")
        ) { r in
            let b = try r.jsonObject()
            guard let pid = try b.optionalInt("pid") else { throw RucioError.keyError("pid") }
            // Rucio names the thread that served the request; a request has none here, so it is the main one.
            try await catalog.heartbeats.live(
                executable: try b.requiredString("executable"), hostname: try b.requiredString("hostname"), pid: pid,
                thread: "MainThread", olderThan: try b.optionalDouble("older_than"), payload: try b.optionalString("payload"),
                issuer: r.caller)
            return Reply.text("OK", contentType: "text/html; charset=utf-8")
        }
    }

    static func optionsDoc(_ options: [(String, String)]) -> JSONObject { JSONObject(options.map { ($0.0, JSON.string($0.1)) }) }

    /// `/lifetime_exceptions`: requests to keep DIDs past their end of life.
    func registerLifetimeExceptions(_ t: inout RouteTable) {
        t.add(.get, "/lifetime_exceptions", doc: RouteDoc("Lifetime exceptions")) { _ in
            Reply.stream(try await catalog.lifetimeExceptions.list().map(Doc.lifetimeException))
        }
        t.add(
            .post, "/lifetime_exceptions",
            doc: RouteDoc("Ask for lifetime exceptions", body: "dids!:[did] pattern:string comments:string expires_at:string")
        ) { r in
            let b = try r.jsonObject()
            let expires = try b.optionalString("expires_at")
            let expiresAt = try expires.map { s -> Date in
                guard let d = RucioDate.parse(s.hasSuffix("Z") ? String(s.dropLast()) : s) else {
                    throw RucioError(.invalidObject, "expires_at must be a date")
                }
                return d
            }
            let res = try await catalog.lifetimeExceptions.add(
                dids: try Self.didRefs(try b.optionalArray("dids") ?? []), pattern: try b.optionalString("pattern"),
                comments: try b.optionalString("comments"), expiresAt: expiresAt, issuer: r.caller)
            func did(_ ref: DIDRef, _ type: DIDType) -> JSON {
                ["scope": .string(ref.scope), "name": .string(ref.name), "did_type": .string(type.rawValue)]
            }
            let doc: JSON = [
                "exceptions": .object(JSONObject(res.exceptions.map { ($0.0, JSON.array($0.1.map(did))) })),
                "unknown": .array(res.unknown.map { did($0, .dataset) }), "not_affected": .array(res.notAffected.map(did)),
            ]
            return Reply.json(doc, status: .created)
        }
        t.add(.get, "/lifetime_exceptions/:id", doc: RouteDoc("One lifetime exception")) { r in
            Reply.stream(try await catalog.lifetimeExceptions.list(id: r.param("id")).map(Doc.lifetimeException))
        }
        t.add(
            .put, "/lifetime_exceptions/:id", doc: RouteDoc("Approve (A) or reject (R) a lifetime exception", body: "state!:A|R"),
            statuses: [.unsupportedOperation: .badRequest]
        ) { r in
            try await catalog.lifetimeExceptions.update(id: r.param("id"), state: try r.jsonObject().optionalString("state"), issuer: r.caller)
            return Reply.created()
        }
    }
}

extension Doc {
    /// One DID of a lifetime exception.
    static func lifetimeException(_ e: LifetimeException) -> JSON {
        [
            "id": .string(e.id), "scope": .string(e.scope), "name": .string(e.name), "did_type": .string(e.didType.rawValue),
            "account": .string(e.account),
            "pattern": .str(e.pattern), "comments": .str(e.comments), "state": .string(e.state), "created_at": .date(e.createdAt),
            "expires_at": .date(e.expiresAt),
        ]
    }
}
