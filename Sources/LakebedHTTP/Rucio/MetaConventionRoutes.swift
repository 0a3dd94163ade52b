import Foundation
import Hummingbird
import LakebedCore

extension RucioAPI {
    /// `/meta_conventions`: agreed metadata keys and their values. As in Rucio, the trailing slash tells the key's
    /// values (`/<key>/`) from the key itself (`/<key>`).
    func registerMetaConventions(_ t: inout RouteTable) {
        t.add(.get, "/meta_conventions", doc: RouteDoc("Metadata keys")) { _ in
            Reply.json(.array(try await catalog.metaConventions.keys().map { .string($0) }))
        }
        t.add(.get, "/meta_conventions/:key", doc: RouteDoc("Allowed values of a key (path ends with '/')")) { r in
            Reply.json(.array(try await catalog.metaConventions.values(of: r.param("key")).map { .string($0) }))
        }
        t.add(
            .post, "/meta_conventions/:key",
            doc: RouteDoc(
                "Add a key, or with a trailing '/' a value of it", body: "key_type:string value_type:string value_regexp:string value:string")
        ) { r in
            let b = try r.jsonObject()
            if r.request.uri.path.hasSuffix("/") {
                guard let v = b["value"], !v.isNull else { throw RucioError.keyError("value") }
                try await catalog.metaConventions.addValue(v.stringValue ?? v.serialized(), to: r.param("key"), issuer: r.caller)
            } else {
                try await catalog.metaConventions.addKey(
                    r.param("key"), keyType: try b.optionalString("key_type"), valueType: try b.optionalString("value_type"),
                    valueRegexp: try b.optionalString("value_regexp"), issuer: r.caller)
            }
            return Reply.created()
        }
    }

    /// `/requests/transfer_limits`: kept and listed; Lakebed's conveyor has no throttler to apply them.
    func registerTransferLimits(_ t: inout RouteTable) {
        t.add(.get, "/requests/transfer_limits", doc: RouteDoc("Transfer limits (kept, not enforced)")) { _ in
            Reply.stream(
                try await catalog.transferLimits.list().map { l in
                    [
                        "id": .string(l.id), "rse_expression": .string(l.rseExpression), "activity": .str(l.activity),
                        "direction": .string(l.direction),
                        "max_transfers": .num(l.maxTransfers), "volume": .num(l.volume), "deadline": .num(l.deadline), "strategy": .str(l.strategy),
                        "transfers": .num(l.transfers), "waitings": .num(l.waitings), "created_at": .date(l.createdAt),
                        "updated_at": .date(l.updatedAt),
                    ]
                })
        }
        t.add(
            .put, "/requests/transfer_limits",
            doc: RouteDoc(
                "Set a transfer limit (kept, not enforced)",
                body:
                    "rse_expression!:string max_transfers!:int activity:string direction:DESTINATION|SOURCE volume:int deadline:int strategy:string transfers:int waitings:int"
            )
        ) { r in
            let b = try r.jsonObject()
            let limit = TransferLimit(
                id: catalog.transferLimits.newLimitID(), rseExpression: try b.requiredString("rse_expression"),
                activity: try b.optionalString("activity"),
                direction: (try b.optionalString("direction") ?? "DESTINATION").uppercased(),
                maxTransfers: try b.optionalInt("max_transfers") ?? { throw RucioError.keyError("max_transfers") }(),
                volume: try b.optionalInt("volume"), deadline: try b.optionalInt("deadline"), strategy: try b.optionalString("strategy"),
                transfers: try b.optionalInt("transfers"), waitings: try b.optionalInt("waitings"),
                createdAt: .distantPast, updatedAt: .distantPast)  // the store stamps both
            try await catalog.transferLimits.set(limit, issuer: r.caller)
            return Reply.text("", status: .created, contentType: "text/html; charset=utf-8")
        }
        t.add(
            .delete, "/requests/transfer_limits",
            doc: RouteDoc("Remove a transfer limit", body: "rse_expression!:string activity:string direction:DESTINATION|SOURCE")
        ) { r in
            let b = try r.jsonObject()
            try await catalog.transferLimits.delete(
                rseExpression: try b.requiredString("rse_expression"), activity: try b.optionalString("activity"),
                direction: (try b.optionalString("direction") ?? "DESTINATION").uppercased(), issuer: r.caller)
            return Reply.ok()
        }
    }
}
