import Foundation
import GRDB

/// A transfer request as Rucio's conveyor sees it.
public struct TransferRequest: Sendable, Equatable {
    public var id: String
    public var scope: String
    public var name: String
    public var destRSEID: String
    public var destRSE: String
    public var sourceRSEID: String?
    public var sourceRSE: String?
    public var state: String
    public var retryCount: Int
    public var errMsg: String?
    public var ruleID: String?
    public var activity: String?
    public var bytes: Int64
    public var md5: String?
    public var adler32: String?
    public var account: String?
    public var priority: Int
    public var externalID: String?
    public var externalHost: String?
    public var requestedAt: Date?
    public var submittedAt: Date?
    public var startedAt: Date?
    public var transferredAt: Date?
    public var notBefore: Date?
    public var createdAt: Date
    public var updatedAt: Date

    init(row: Row) {
        id = row["id"]; scope = row["scope"]; name = row["name"]; destRSEID = row["dest_rse_id"]; destRSE = row["dest_rse"] ?? ""
        sourceRSEID = row["source_rse_id"]; sourceRSE = row["source_rse"]; state = row["state"]; retryCount = row["retry_count"]
        errMsg = row["err_msg"]; ruleID = row["rule_id"]; activity = row["activity"]; bytes = row["bytes"] ?? 0; md5 = row["md5"]
        adler32 = row["adler32"]; account = row["account"]; priority = row["priority"]; externalID = row["external_id"]
        externalHost = row["external_host"]; requestedAt = Date(stamp: row["requested_at"]); submittedAt = Date(stamp: row["submitted_at"])
        startedAt = Date(stamp: row["started_at"]); transferredAt = Date(stamp: row["transferred_at"]); notBefore = Date(stamp: row["not_before"])
        createdAt = Date(timeIntervalSince1970: row["created_at"]); updatedAt = Date(timeIntervalSince1970: row["updated_at"])
    }
}

/// A request handed to the transfer service: where the bytes come from and where they go.
public struct TransferAssignment: Sendable, Equatable {
    public var requestID: String
    public var scope: String
    public var name: String
    public var sourceRSE: String
    public var destRSE: String
    /// Absolute paths (inside the RSE roots).
    public var sourcePath: String
    public var destPath: String
    public var bytes: Int64
    public var adler32: String?
    public var md5: String?
    /// The source has no bytes on disk (large simulations): the transfer moves nothing but time.
    public var isVirtual: Bool
    public var priority: Int
    public var activity: String
    public var retryCount: Int
}

/// How retries back off and when a lock is given up as STUCK.
public struct RetryPolicy: Sendable, Equatable {
    /// Attempts per request before its locks go STUCK.
    public var maxAttempts: Int = 3
    /// Delay before the n-th retry: `baseDelay * 2^(n-1)` seconds of lake time.
    public var baseDelay: TimeInterval = 60
    /// How long a request with no usable source waits before it is looked at again.
    public var noSourceDelay: TimeInterval = 60
    /// How long a STUCK rule waits before the repairer tries its stuck locks again.
    public var repairDelay: TimeInterval = 600
    public init() {}
}

extension Catalog {
    static let requestSelect = """
        SELECT q.*, d.rse AS dest_rse, s.rse AS source_rse FROM requests q
        JOIN rses d ON d.id = q.dest_rse_id LEFT JOIN rses s ON s.id = q.source_rse_id
        """

    /// Requests for a file towards an RSE (newest first), `RequestNotFound` if none.
    public func requests(scope: String, name: String, rse: String) async throws -> [TransferRequest] {
        try await db.read { db in
            let dest = try Self.rse(db, name: rse)
            let rows = try db.all(sql: Self.requestSelect + " WHERE q.scope = ? AND q.name = ? AND q.dest_rse_id = ? ORDER BY q.created_at DESC, q.id",
                                        arguments: [scope, name, dest.id]).map(TransferRequest.init(row:))
            if rows.isEmpty { throw RucioError("RequestNotFound", "Could not find request for \(scope):\(name) at \(rse)") }
            return rows
        }
    }

    /// Requests filtered by source and destination RSE names and states (Rucio's `/requests/list`).
    public func listRequests(sources: [String], destinations: [String], states: [String], limit: Int = 10_000) async throws -> [TransferRequest] {
        try await db.read { db in
            var clauses: [String] = [], args: [any DatabaseValueConvertible] = []
            if !sources.isEmpty { clauses.append("s.rse IN (\(sources.map { _ in "?" }.joined(separator: ",")))"); args += sources }
            if !destinations.isEmpty { clauses.append("d.rse IN (\(destinations.map { _ in "?" }.joined(separator: ",")))"); args += destinations }
            if !states.isEmpty { clauses.append("q.state IN (\(states.map { _ in "?" }.joined(separator: ",")))"); args += states }
            let whereSQL = clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND ")
            args.append(limit)
            return try db.all(sql: Self.requestSelect + whereSQL + " ORDER BY q.requested_at, q.id LIMIT ?", arguments: StatementArguments(args)).map(TransferRequest.init(row:))
        }
    }

    /// Counts of requests by state.
    public func requestCounts() async throws -> [String: Int] {
        try await db.read { db in
            var out: [String: Int] = [:]
            for r in try db.all(sql: "SELECT state, COUNT(*) AS n FROM requests GROUP BY state") { out[r["state"]] = r["n"] }
            return out
        }
    }

    /// The earliest time a queued request becomes eligible (never before it was requested, nor before its back-off
    /// ends), for a simulator deciding how far to jump.
    public func nextRequestWakeup() async throws -> Date? {
        try await db.read { db in
            try Double.fetchOne(db, sql: "SELECT MIN(MAX(requested_at, COALESCE(not_before, requested_at))) FROM requests WHERE state = 'QUEUED'").map { Date(timeIntervalSince1970: $0) }
        }
    }

    /// Whether any request is eligible now.
    public func hasEligibleRequests(at now: Date) async throws -> Bool {
        try await db.read { db in
            try db.one(sql: "SELECT 1 FROM requests WHERE state = 'QUEUED' AND (not_before IS NULL OR not_before <= ?) AND requested_at <= ? LIMIT 1",
                       arguments: [now.timeIntervalSince1970, now.timeIntervalSince1970]) != nil
        }
    }

    /// The conveyor's submitter: takes eligible QUEUED requests, chooses a source for each (nearest readable
    /// AVAILABLE replica, by distance then name, within the rule's `source_replica_expression`), and marks them
    /// SUBMITTED. Requests whose destination is not writable wait; requests with no source wait `noSourceDelay`.
    public func claimQueuedRequests(now: Date, limit: Int, policy: RetryPolicy, externalHost: String) async throws -> [TransferAssignment] {
        let t = now.timeIntervalSince1970
        return try await db.write { db in
            let rows = try db.all(sql: """
                SELECT q.*, r.source_replica_expression FROM requests q LEFT JOIN rules r ON r.id = q.rule_id
                WHERE q.state = 'QUEUED' AND (q.not_before IS NULL OR q.not_before <= ?) AND q.requested_at <= ?
                ORDER BY q.priority DESC, q.requested_at, q.id LIMIT ?
                """, arguments: [t, t, limit])
            var out: [TransferAssignment] = []
            var rseCache: [String: RSE] = [:]
            func rse(_ id: String) throws -> RSE {
                if let r = rseCache[id] { return r }
                let r = try Self.rse(db, id: id)
                rseCache[id] = r
                return r
            }
            var expressionCache: [String: Set<String>] = [:]
            for row in rows {
                let req = TransferRequest(row: row)
                let dest = try rse(req.destRSEID)
                guard dest.availabilityWrite else {
                    try db.exec(sql: "UPDATE requests SET err_msg = ?, not_before = ?, updated_at = ? WHERE id = ?",
                                   arguments: ["RSE \(dest.rse) is not available for writing", t + policy.noSourceDelay, t, req.id])
                    continue
                }
                var allowed: Set<String>? = nil
                if let expr: String = row["source_replica_expression"], !expr.isEmpty {
                    if expressionCache[expr] == nil { expressionCache[expr] = Set(((try? Self.resolve(db, expression: expr)) ?? []).map(\.id)) }
                    allowed = expressionCache[expr]
                }
                let candidates = try db.all(sql: """
                    SELECT p.rse_id, p.path, p.virtual, s.rse, s.root, COALESCE(dist.distance, 1000000) AS distance
                    FROM replicas p JOIN rses s ON s.id = p.rse_id
                    LEFT JOIN distances dist ON dist.src_rse_id = p.rse_id AND dist.dest_rse_id = ?
                    WHERE p.scope = ? AND p.name = ? AND p.state = 'A' AND p.rse_id != ? AND s.availability_read = 1 AND s.deleted = 0
                    ORDER BY distance, s.rse
                    """, arguments: [dest.id, req.scope, req.name, dest.id])
                guard let src = candidates.first(where: { allowed?.contains($0["rse_id"]) ?? true }) else {
                    try db.exec(sql: "UPDATE requests SET err_msg = ?, not_before = ?, updated_at = ? WHERE id = ?",
                                   arguments: ["RequestErrMsg.NO_SOURCES:NO_SOURCES: no available source replica for \(req.scope):\(req.name)", t + policy.noSourceDelay, t, req.id])
                    continue
                }
                guard let destReplica = try db.one(sql: "SELECT path FROM replicas WHERE rse_id = ? AND scope = ? AND name = ?", arguments: [dest.id, req.scope, req.name]) else {
                    // The replica went away (rule removed while queued): nothing to do.
                    try db.exec(sql: "DELETE FROM requests WHERE id = ?", arguments: [req.id])
                    continue
                }
                let srcPath = try containedPath(root: src["root"], relative: src["path"] ?? "")
                let dstPath = try containedPath(root: dest.root, relative: destReplica["path"] ?? "")
                try db.exec(sql: """
                    UPDATE requests SET state = 'SUBMITTED', source_rse_id = ?, submitted_at = ?, external_host = ?, dest_url = ?, err_msg = NULL, updated_at = ? WHERE id = ?
                    """, arguments: [src["rse_id"], t, externalHost, "file://" + dstPath, t, req.id])
                out.append(TransferAssignment(requestID: req.id, scope: req.scope, name: req.name, sourceRSE: src["rse"], destRSE: dest.rse,
                                              sourcePath: srcPath, destPath: dstPath, bytes: req.bytes, adler32: req.adler32, md5: req.md5,
                                              isVirtual: src["virtual"], priority: req.priority, activity: req.activity ?? "User Subscriptions",
                                              retryCount: req.retryCount))
            }
            return out
        }
    }

    /// Records the transfer service's job id for submitted requests.
    public func setExternalIDs(_ pairs: [(requestID: String, externalID: String)], startedAt: Date? = nil) async throws {
        try await db.write { db in
            for p in pairs {
                try db.exec(sql: "UPDATE requests SET external_id = ? WHERE id = ?", arguments: [p.externalID, p.requestID])
            }
        }
    }

    /// A transfer started moving bytes.
    public func requestsStarted(_ ids: [String], at time: Date) async throws {
        try await db.write { db in
            for id in ids { try db.exec(sql: "UPDATE requests SET started_at = ? WHERE id = ? AND started_at IS NULL", arguments: [time.timeIntervalSince1970, id]) }
        }
    }

    /// Outcome of finishing one request, for the caller's event log.
    public enum FinishOutcome: Sendable, Equatable {
        /// The replica is AVAILABLE.
        case done
        /// The request will be tried again at the given time.
        case retry(at: Date)
        /// Attempts are exhausted: locks are STUCK.
        case stuck
        /// Nobody wants the bytes any more (rule removed meanwhile): they were dropped.
        case orphaned
    }

    /// The conveyor's finisher for a successful transfer: the destination replica becomes AVAILABLE (its bytes
    /// are already in place and verified), locks turn OK and rules are recounted — all in one transaction.
    public func transferSucceeded(requestID: String, at time: Date, virtual: Bool) async throws -> FinishOutcome {
        let t = time.timeIntervalSince1970
        return try await db.write { db in try self.succeed(db, requestID: requestID, t: t, virtual: virtual) }
    }

    /// The end of many transfers at one instant, in one transaction (`failure` nil = success).
    public func finishTransfers(_ items: [(requestID: String, failure: String?, virtual: Bool)], at time: Date, policy: RetryPolicy) async throws -> [FinishOutcome] {
        let t = time.timeIntervalSince1970
        return try await db.write { db in
            try items.map { item in
                if let f = item.failure { return try Self.fail(db, requestID: item.requestID, reason: f, t: t, policy: policy) }
                return try self.succeed(db, requestID: item.requestID, t: t, virtual: item.virtual)
            }
        }
    }

    func succeed(_ db: Database, requestID: String, t: Double, virtual: Bool) throws -> FinishOutcome {
        do {
            guard let row = try db.one(sql: "SELECT * FROM requests WHERE id = ? AND state = 'SUBMITTED'", arguments: [requestID]) else { return .orphaned }
            let scope: String = row["scope"], name: String = row["name"], rseID: String = row["dest_rse_id"]
            guard try db.one(sql: "SELECT 1 FROM replicas WHERE rse_id = ? AND scope = ? AND name = ?", arguments: [rseID, scope, name]) != nil else {
                try db.exec(sql: "UPDATE requests SET state = 'DONE', transferred_at = ?, updated_at = ? WHERE id = ?", arguments: [t, t, requestID])
                return .orphaned
            }
            try db.exec(sql: "UPDATE requests SET state = 'DONE', transferred_at = ?, err_msg = NULL, updated_at = ? WHERE id = ?", arguments: [t, t, requestID])
            try db.exec(sql: "UPDATE replicas SET state = 'A', virtual = ?, updated_at = ?, accessed_at = NULL WHERE rse_id = ? AND scope = ? AND name = ?",
                           arguments: [virtual ? 1 : 0, t, rseID, scope, name])
            try self.replicaBecameAvailable(db, rseID: rseID, scope: scope, name: name, now: t)
            return .done
        }
    }

    /// The conveyor's finisher for a failed transfer: retry with back-off, or, when attempts are exhausted, mark
    /// the request FAILED, its locks STUCK and its rules STUCK with the error.
    public func transferFailed(requestID: String, reason: String, at time: Date, policy: RetryPolicy) async throws -> FinishOutcome {
        let t = time.timeIntervalSince1970
        return try await db.write { db in try Self.fail(db, requestID: requestID, reason: reason, t: t, policy: policy) }
    }

    static func fail(_ db: Database, requestID: String, reason: String, t: Double, policy: RetryPolicy) throws -> FinishOutcome {
        do {
            guard let row = try db.one(sql: "SELECT * FROM requests WHERE id = ? AND state = 'SUBMITTED'", arguments: [requestID]) else { return .orphaned }
            let attempts = (row["retry_count"] as Int) + 1
            if attempts < policy.maxAttempts {
                let wake = t + policy.baseDelay * pow(2, Double(attempts - 1))
                try db.exec(sql: """
                    UPDATE requests SET state = 'QUEUED', retry_count = ?, err_msg = ?, not_before = ?, source_rse_id = NULL, external_id = NULL,
                      submitted_at = NULL, started_at = NULL, updated_at = ? WHERE id = ?
                    """, arguments: [attempts, reason, wake, t, requestID])
                return .retry(at: Date(timeIntervalSince1970: wake))
            }
            try db.exec(sql: "UPDATE requests SET state = 'FAILED', retry_count = ?, err_msg = ?, updated_at = ? WHERE id = ?", arguments: [attempts, reason, t, requestID])
            let scope: String = row["scope"], name: String = row["name"], rseID: String = row["dest_rse_id"]
            let ruleIDs = try String.fetchAll(db, sql: "SELECT rule_id FROM locks WHERE scope = ? AND name = ? AND rse_id = ? AND state = 'R'", arguments: [scope, name, rseID])
            try db.exec(sql: "UPDATE locks SET state = 'S', updated_at = ? WHERE scope = ? AND name = ? AND rse_id = ? AND state = 'R'", arguments: [t, scope, name, rseID])
            for id in ruleIDs {
                try Self.bumpRuleCounters(db, id: id, ok: 0, replicating: -1, stuck: 1, now: t, error: String(reason.prefix(255)))
            }
            return .stuck
        }
    }

    /// The judge-repairer: rules STUCK for longer than `repairDelay` get their stuck locks retried.
    public func repairStuckRules(at time: Date, policy: RetryPolicy) async throws -> Int {
        let t = time.timeIntervalSince1970
        return try await db.write { db in
            let ids = try String.fetchAll(db, sql: "SELECT id FROM rules WHERE state = 'S' AND stuck_at IS NOT NULL AND stuck_at <= ? ORDER BY id", arguments: [t - policy.repairDelay])
            for id in ids {
                try db.exec(sql: "DELETE FROM requests WHERE state = 'FAILED' AND rule_id = ?", arguments: [id])
                try self.retryStuckLocks(db, ruleID: id, now: t)
                try Self.recountRule(db, id: id, now: t)
            }
            return ids.count
        }
    }

    /// The earliest time the repairer will act on a stuck rule.
    public func nextRepairTime(policy: RetryPolicy) async throws -> Date? {
        try await db.read { db in
            try Double.fetchOne(db, sql: "SELECT MIN(stuck_at) FROM rules WHERE state = 'S' AND stuck_at IS NOT NULL").map { Date(timeIntervalSince1970: $0 + policy.repairDelay) }
        }
    }

    /// The earliest expiry of an unlocked rule.
    public func nextRuleExpiry() async throws -> Date? {
        try await db.read { db in
            try Double.fetchOne(db, sql: "SELECT MIN(expires_at) FROM rules WHERE expires_at IS NOT NULL AND locked = 0").map { Date(timeIntervalSince1970: $0) }
        }
    }

    /// After a restart, transfers that were in flight are lost with the process: their requests go back to QUEUED.
    public func requeueInFlightRequests() async throws -> Int {
        let t = nowStamp
        return try await db.write { db in
            try db.exec(sql: "UPDATE requests SET state = 'QUEUED', source_rse_id = NULL, external_id = NULL, submitted_at = NULL, started_at = NULL, updated_at = ? WHERE state = 'SUBMITTED'", arguments: [t])
            return db.changesCount
        }
    }
}
