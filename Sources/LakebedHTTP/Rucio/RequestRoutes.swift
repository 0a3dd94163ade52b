import Foundation
import Hummingbird
import LakebedCore

extension Doc {
    /// A transfer request as Rucio's request API renders it.
    static func request(_ q: TransferRequest) -> JSON {
        var o = JSONObject()
        o["id"] = .string(q.id)
        o["request_type"] = .string("TRANSFER")
        o["scope"] = .string(q.scope)
        o["name"] = .string(q.name)
        o["did_type"] = .string("FILE")
        o["dest_rse_id"] = .string(q.destRSEID)
        o["source_rse_id"] = q.sourceRSEID.map(JSON.string) ?? .null
        o["dest_rse"] = .string(q.destRSE)
        o["source_rse"] = q.sourceRSE.map(JSON.string) ?? .null
        o["attributes"] = .null
        o["state"] = .string(q.state.rawValue)
        o["external_id"] = q.externalID.map(JSON.string) ?? .null
        o["external_host"] = q.externalHost.map(JSON.string) ?? .null
        o["retry_count"] = .int(Int64(q.retryCount))
        o["err_msg"] = q.errMsg.map(JSON.string) ?? .null
        o["previous_attempt_id"] = .null
        o["rule_id"] = q.ruleID.map(JSON.string) ?? .null
        o["activity"] = q.activity.map(JSON.string) ?? .null
        o["bytes"] = .int(q.bytes)
        o["md5"] = q.md5.map(JSON.string) ?? .null
        o["adler32"] = q.adler32.map(JSON.string) ?? .null
        o["account"] = q.account.map(JSON.string) ?? .null
        o["priority"] = .int(Int64(q.priority))
        o["transfertool"] = .string("fts3")
        o["requested_at"] = JSON.date(q.requestedAt)
        o["submitted_at"] = JSON.date(q.submittedAt)
        o["started_at"] = JSON.date(q.startedAt)
        o["transferred_at"] = JSON.date(q.transferredAt)
        o["created_at"] = JSON.date(q.createdAt)
        o["updated_at"] = JSON.date(q.updatedAt)
        // Columns of Rucio's request row Lakebed does not track.
        for k in [
            "dest_url", "estimated_at", "estimated_started_at", "estimated_transferred_at", "last_processed_at", "last_processed_by",
            "staging_started_at", "staging_finished_at", "submitter_id",
        ] { o[k] = .null }
        return .object(o)
    }
}

extension RucioAPI {
    /// Rucio's request states, by name and by letter.
    static let requestStates: [String: String] = [
        "Q": "QUEUED", "S": "SUBMITTED", "D": "DONE", "F": "FAILED", "W": "WAITING", "G": "SUBMITTING", "L": "LOST",
        "N": "NO_SOURCES", "U": "SUBMISSION_FAILED", "A": "SUSPEND", "P": "PREPARING",
    ]

    /// The states and RSEs of a request listing, checked as Rucio's `/requests/list` checks them.
    static func requestListing(_ r: RucioRequest) throws -> (src: [String], dst: [String], states: [String]) {
        // The client sends `request_states` as the repr of a Python list; accept that, commas, letters or names.
        let raw = r.qAll("request_states").joined(separator: ",")
        let states = raw.split(whereSeparator: { ",[]' \"".contains($0) }).map { s -> String in
            let u = s.uppercased()
            return Self.requestStates[u] ?? u
        }
        let src = r.q("src_rse").flatMap { $0.isEmpty || $0 == "None" ? nil : $0 }
        let dst = r.q("dst_rse").flatMap { $0.isEmpty || $0 == "None" ? nil : $0 }
        guard !states.isEmpty else { throw RucioError(.missingParameter, "Request state is missing") }
        if src != nil && dst == nil { throw RucioError(.missingParameter, "Destination RSE is missing") }
        if dst != nil && src == nil { throw RucioError(.missingParameter, "Source RSE is missing") }
        guard let src, let dst else { throw RucioError.valueError("Source or destination RSE must be given") }
        return ([src], [dst], states)
    }

    func registerRequests(_ t: inout RouteTable) {
        t.add(.get, "/requests/list", doc: RouteDoc("Transfer requests between RSEs", query: "src_rse:string dst_rse:string request_states!:string"))
        { r in
            let q = try Self.requestListing(r)
            return Reply.stream(try await catalog.requests.listRequests(sources: q.src, destinations: q.dst, states: q.states).map(Doc.request))
        }
        t.add(
            .get, "/requests/metrics", doc: RouteDoc("Transfer metrics per link", query: "src_rse:string dst_rse:string activity:string format:panda")
        ) { r in
            let metrics = try await catalog.requests.metrics(source: r.q("src_rse"), destination: r.q("dst_rse"), activity: r.q("activity"))
            if r.q("format") == "panda" { return Reply.json(.object(JSONObject(metrics.map { ($0.0, JSON.object($0.1)) }))) }
            return Reply.stream(metrics.map { .object($0.1) })
        }
        t.add(
            .get, "/requests/history/list",
            doc: RouteDoc("Finished transfer requests between RSEs", query: "src_rse:string dst_rse:string request_states!:string")
        ) { r in
            let q = try Self.requestListing(r)
            return Reply.stream(try await catalog.requests.history(sources: q.src, destinations: q.dst, states: q.states).map(Doc.request))
        }
        t.add(.get, "/requests/history/:scope/:name/:rse", doc: RouteDoc("The finished transfer request of a file to an RSE")) { r in
            Reply.json(Doc.request(try await catalog.requests.historyRequest(scope: r.param("scope"), name: r.param("name"), rse: r.param("rse"))))
        }
        t.add(.get, "/requests/:scope/:name/:rse", doc: RouteDoc("The transfer request of a file to an RSE")) { r in
            let all = try await catalog.requests.requests(scope: r.param("scope"), name: r.param("name"), rse: r.param("rse"))
            return Reply.json(Doc.request(all[0]))
        }
        t.add(.get, "/rules/:id/analysis", doc: RouteDoc("Why a rule is stuck (rule show --examine)")) { r in
            let (error, transfers) = try await catalog.rules.examineRule(r.param("id"))
            let list: [JSON] = transfers.map { x in
                [
                    "scope": .string(x.scope), "name": .string(x.name), "rse_id": .string(x.rseID), "rse": .string(x.rse),
                    "attempts": .int(Int64(x.attempts)), "last_error": x.lastError.map(JSON.string) ?? .null,
                    "last_source": x.lastSource.map(JSON.string) ?? .null, "last_time": JSON.date(x.lastTime),
                    "sources": .array(x.sources.map { .array([.string($0.0), .bool($0.1)]) }),
                ]
            }
            return Reply.json(["rule_error": .string(error), "transfers": .array(list)])
        }
        t.add(.post, "/rules/:id/reduce", doc: RouteDoc("Reduce the copies of a rule", body: "copies!:int exclude_expression:string")) { r in
            let b = try r.jsonObject()
            guard let copies = try b.optionalInt("copies") else { throw RucioError.keyError("copies") }
            let id = try await catalog.rules.reduceRule(
                r.param("id"), copies: Int(copies), excludeExpression: try b.optionalString("exclude_expression"), issuer: r.caller)
            return Reply.json(.array([.string(id)]))
        }
        t.add(.post, "/rules/:id/move", doc: RouteDoc("Move a rule to other RSEs", body: "rse_expression!:string override:object")) { r in
            let b = try r.jsonObject()
            let id = try await catalog.rules.moveRule(
                r.param("id"), rseExpression: try b.requiredString("rse_expression"),
                override: try b.optionalObject("override") ?? JSONObject(), issuer: r.caller)
            return Reply.text(JSON.string(id).serialized(), status: .created, contentType: "application/json")
        }
    }
}
