public import Foundation
import GRDB

/// The conveyor's submitter: picks eligible transfer requests, chooses a source for each and hands them to FTS.
public struct ConveyorSubmitter: CatalogStore {
    /// The catalog this works on.
    public let catalog: Catalog
    /// Works on `catalog`.
    public init(catalog: Catalog) { self.catalog = catalog }

    /// When a queued request becomes eligible: never before it was requested, nor before its back-off ends. Indexed
    /// (`requests_wakeup`), so the earliest one and "is any eligible now" are index lookups, not scans of the queue.
    static let wakeupSQL = "MAX(requested_at, COALESCE(not_before, requested_at))"

    /// The earliest time a queued request becomes eligible, for a simulator deciding how far to jump.
    public func nextRequestWakeup() async throws -> Date? {
        try await db.read { db in
            try Double.fetchOne(
                db, sql: "SELECT MIN(\(Self.wakeupSQL)) FROM requests WHERE state = \(RequestState.queued.sql)"
            ).map { Date(timeIntervalSince1970: $0) }
        }
    }

    /// Whether any request is eligible now.
    public func hasEligibleRequests(at now: Date) async throws -> Bool {
        try await db.read { db in
            try db.one(
                sql: "SELECT 1 FROM requests WHERE state = \(RequestState.queued.sql) AND \(Self.wakeupSQL) <= ? LIMIT 1",
                arguments: [now.timeIntervalSince1970]) != nil
        }
    }

    /// The conveyor's submitter: takes eligible QUEUED requests, chooses a source for each (nearest readable
    /// AVAILABLE replica, by distance then name, within the rule's `source_replica_expression`, whose RSE has a
    /// protocol for `third_party_copy_read` compatible with one of the destination's for `third_party_copy_write`, as
    /// Rucio's `find_matching_scheme`), and marks them SUBMITTED with the PFNs of the chosen protocols. Requests whose
    /// destination is not writable wait; requests with no source (or no matching protocols) wait `noSourceDelay`.
    /// A destination whose storage is virtual (its protocols point at endpoints Lakebed does not serve) gets a virtual
    /// transfer: timed on the link, bytes not kept.
    public func claimQueuedRequests(now: Date, limit: Int, policy: RetryPolicy, externalHost: String) async throws -> [FTSFileSpec] {
        let t = now.timeIntervalSince1970
        return try await db.write { db in
            let rows = try db.all(
                sql: """
                    SELECT q.id, q.scope, q.name, q.dest_rse_id, q.bytes, q.adler32, q.activity, q.priority, r.source_replica_expression,
                      d.rse_id IS NOT NULL, d.path
                    FROM requests q INDEXED BY requests_queue LEFT JOIN rules r ON r.id = q.rule_id
                      LEFT JOIN replicas d ON d.rse_id = q.dest_rse_id AND d.scope = q.scope AND d.name = q.name
                    WHERE q.state = \(RequestState.queued.sql) AND (q.not_before IS NULL OR q.not_before <= ?) AND q.requested_at <= ?
                    ORDER BY q.priority DESC, q.requested_at, q.id LIMIT ?
                    """, arguments: [t, t, limit])
            var out: [FTSFileSpec] = []
            var rseCache: [String: RSE] = [:]
            func rse(_ id: String) throws -> RSE {
                if let r = rseCache[id] { return r }
                let r = try RSEStore.rse(db, id: id)
                rseCache[id] = r
                return r
            }
            let endpoints = catalog.rses.storageEndpoints
            var protocolCache: [String: [RSEProtocol]] = [:]
            func protocols(_ id: String) throws -> [RSEProtocol] {
                if let p = protocolCache[id] { return p }
                let p = try RSEStore.protocols(db, rseID: id)
                protocolCache[id] = p
                return p
            }
            var expressionCache: [String: Set<String>] = [:]
            // The protocols chosen between two RSEs depend on their protocols alone: worked out once per pair.
            var pairCache: [String: (destination: RSEProtocol, source: RSEProtocol)?] = [:]
            func transferPair(_ destID: String, _ destProtocols: [RSEProtocol], _ srcID: String) throws -> (destination: RSEProtocol, source: RSEProtocol)? {
                let key = destID + "\u{0}" + srcID
                if let p = pairCache[key] { return p }
                let p = ProtocolSelection.transferPair(destination: destProtocols, source: try protocols(srcID))
                pairCache[key] = p
                return p
            }
            var virtualCache: [String: Bool] = [:]
            func destIsVirtual(_ dest: RSE, _ protocols: [RSEProtocol]) throws -> Bool {
                if let v = virtualCache[dest.id] { return v }
                let v = RSEStore.storageSite(rse: dest, protocols: protocols, endpoints: endpoints) == .virtual
                virtualCache[dest.id] = v
                return v
            }
            // Every claimed request's candidate sources, read at once (the claim changes no replica, so reading them
            // before any request is handled reads what reading them one by one would). Columns: 0 the request's
            // place in the claim, 1 rse_id, 2 path, 3 virtual, 4 rse, 5 root; by place, then distance and name.
            let wanted = JSON.array(rows.map { JSON.array([.string($0[1]), .string($0[2]), .string($0[3])]) }).serialized()
            var candidatesOf: [Int: [Row]] = [:]
            for c in try db.all(
                sql: """
                    SELECT j.key, p.rse_id, p.path, p.virtual, s.rse, s.root, COALESCE(dist.distance, 1000000) AS distance
                    FROM json_each(?) j JOIN replicas p ON p.scope = j.value ->> 0 AND p.name = j.value ->> 1
                      JOIN rses s ON s.id = p.rse_id
                      LEFT JOIN distances dist ON dist.src_rse_id = p.rse_id AND dist.dest_rse_id = j.value ->> 2
                    WHERE p.state = \(ReplicaState.available.sql) AND p.rse_id != j.value ->> 2 AND s.availability_read = 1 AND s.deleted = 0
                    ORDER BY j.key, distance, s.rse
                    """, arguments: [wanted])
            {
                candidatesOf[c[0], default: []].append(c)
            }
            // Requests handed to FTS: [[id, source rse_id, destination URL], …], marked SUBMITTED together once the
            // loop is done; then the ones whose paths were refused fail (in the claim's order).
            var submitted: [JSON] = []
            var refused: [(requestID: String, reason: String)] = []
            // Columns by position, in the order selected: a claim reads thousands of rows, and a lookup by name
            // compares names case-insensitively, column by column.
            for (place, row) in rows.enumerated() {
                let req = (
                    id: row[0] as String, scope: row[1] as String, name: row[2] as String, destRSEID: row[3] as String,
                    bytes: (row[4] as Int64?) ?? 0, adler32: row[5] as String?, activity: row[6] as String?, priority: row[7] as Int
                )
                let dest = try rse(req.destRSEID)
                guard dest.availabilityWrite else {
                    try db.exec(
                        sql: "UPDATE requests SET err_msg = ?, not_before = ?, updated_at = ? WHERE id = ?",
                        arguments: ["RSE \(dest.rse) is not available for writing", t + policy.noSourceDelay, t, req.id])
                    continue
                }
                var allowed: Set<String>? = nil
                if let expr: String = row[8], !expr.isEmpty {
                    if expressionCache[expr] == nil { expressionCache[expr] = Set(((try? RSEStore.resolve(db, expression: expr)) ?? []).map(\.id)) }
                    allowed = expressionCache[expr]
                }
                let destProtocols = try protocols(dest.id)
                // Columns: 1 rse_id, 2 path, 3 virtual, 4 rse, 5 root.
                let eligible = (candidatesOf[place] ?? []).filter { allowed?.contains($0[1]) ?? true }
                var chosen: (row: Row, pair: (destination: RSEProtocol, source: RSEProtocol))?
                for c in eligible {
                    if let pair = try transferPair(dest.id, destProtocols, c[1]) {
                        chosen = (c, pair)
                        break
                    }
                }
                guard let (src, pair) = chosen else {
                    let why =
                        eligible.isEmpty
                        ? "RequestErrMsg.NO_SOURCES:NO_SOURCES: no available source replica for \(req.scope):\(req.name)"
                        : "RequestErrMsg.NO_SOURCES:NO_SOURCES: RSEProtocolNotSupported: no third_party_copy_read protocol of a source (\(eligible.map { $0[4] as String }.joined(separator: ", "))) matches a third_party_copy_write protocol of \(dest.rse)"
                    try db.exec(
                        sql: "UPDATE requests SET err_msg = ?, not_before = ?, updated_at = ? WHERE id = ?",
                        arguments: [why, t + policy.noSourceDelay, t, req.id])
                    continue
                }
                // The destination replica was read with the request (columns 9 and 10: nothing in this claim changes
                // replicas). Gone (its rule removed while the request was queued): nothing to do.
                guard row[9] as Bool else {
                    try db.exec(sql: "DELETE FROM requests WHERE id = ?", arguments: [req.id])
                    continue
                }
                let srcRel: String = src[2] ?? ""
                let dstRel: String = row[10] ?? ""
                let destVirtual = try destIsVirtual(dest, destProtocols)
                let isVirtual = (src[3] as Bool) || destVirtual
                let destURL = pair.destination.pfn(path: dstRel)
                submitted.append(.array([.string(req.id), .string(src[1]), .string(destURL)]))
                // The paths are checked on disk here, before any byte moves (a rule only checks them by their text): one
                // that leads out of its RSE's folder (a symbolic link planted inside it) fails the transfer, as the
                // storage would refuse it under FTS, and is retried and then STUCK like any other failure; the other
                // requests of the claim go on.
                let srcPath: String
                let dstPath: String
                do {
                    srcPath = try containedPath(root: src[5], relative: srcRel, onDisk: !isVirtual)
                } catch let e as RucioError {
                    refused.append((req.id, "SOURCE [13] \(e.message)"))
                    continue
                }
                do {
                    dstPath = try containedPath(root: dest.root, relative: dstRel, onDisk: !isVirtual)
                } catch let e as RucioError {
                    refused.append((req.id, "DESTINATION [13] \(e.message)"))
                    continue
                }
                out.append(
                    FTSFileSpec(
                        sourceURL: pair.source.pfn(path: srcRel), destURL: destURL, sourceSE: src[4], destSE: dest.rse,
                        sourcePath: srcPath, destPath: dstPath, bytes: req.bytes, adler32: req.adler32,
                        isVirtual: isVirtual,
                        activity: req.activity ?? "User Subscriptions", requestID: req.id, priority: req.priority,
                        scope: req.scope, name: req.name))
            }
            if !submitted.isEmpty {
                try db.exec(
                    sql: """
                        UPDATE requests SET state = \(RequestState.submitted.sql), source_rse_id = j.value ->> 1, submitted_at = ?, external_host = ?,
                          dest_url = j.value ->> 2, err_msg = NULL, updated_at = ?
                        FROM json_each(?) j WHERE requests.id = j.value ->> 0
                        """, arguments: [t, externalHost, t, JSON.array(submitted).serialized()])
            }
            for r in refused { _ = try ConveyorFinisher.fail(db, requestID: r.requestID, reason: r.reason, t: t, policy: policy) }
            return out
        }
    }

    /// Records the transfer service's job id for submitted requests.
    public func setExternalIDs(_ pairs: [(requestID: String, externalID: String)], startedAt: Date? = nil) async throws {
        // One statement per job (its requests share the id), not one per request.
        var groups: [(externalID: String, requestIDs: [JSON])] = []
        for p in pairs {
            if groups.last?.externalID == p.externalID { groups[groups.count - 1].requestIDs.append(.string(p.requestID)) }
            else { groups.append((p.externalID, [.string(p.requestID)])) }
        }
        let jobs = groups
        try await db.write { db in
            for g in jobs {
                try db.exec(
                    sql: "UPDATE requests SET external_id = ? WHERE id IN (SELECT value FROM json_each(?))",
                    arguments: [g.externalID, JSON.array(g.requestIDs).serialized()])
            }
        }
    }

    /// After a restart, transfers that were in flight are lost with the process: their requests go back to QUEUED.
    public func requeueInFlightRequests() async throws -> Int {
        let t = nowStamp
        return try await db.write { db in
            try db.exec(
                sql:
                    "UPDATE requests SET state = \(RequestState.queued.sql), source_rse_id = NULL, external_id = NULL, submitted_at = NULL, started_at = NULL, updated_at = ? WHERE state = \(RequestState.submitted.sql)",
                arguments: [t])
            return db.changesCount
        }
    }
}
