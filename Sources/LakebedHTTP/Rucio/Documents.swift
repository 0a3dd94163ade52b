import Foundation
import LakebedCore

/// How the lake's models look on Rucio's wire.
enum Doc {
    static func account(_ a: Account) -> JSON {
        [
            "account": .string(a.account), "account_type": .string(a.accountType), "status": .string(a.status), "email": .str(a.email),
            "suspended_at": a.suspendedAt.map { .string(RucioDate.iso($0)) } ?? .null,
            "deleted_at": a.deletedAt.map { .string(RucioDate.iso($0)) } ?? .null,
            "created_at": .string(RucioDate.iso(a.createdAt)), "updated_at": .string(RucioDate.iso(a.updatedAt)),
        ]
    }

    static func rse(_ r: RSE) -> JSON {
        [
            "id": .string(r.id), "rse": .string(r.rse), "vo": "def", "rse_type": .string(r.rseType), "deterministic": .bool(r.deterministic),
            "volatile": .bool(r.volatile), "staging_area": .bool(r.stagingArea), "city": .str(r.city), "region_code": .str(r.regionCode),
            "country_name": .str(r.countryName), "continent": .str(r.continent), "time_zone": .str(r.timeZone), "ISP": .str(r.isp),
            "ASN": .str(r.asn),
            "longitude": r.longitude.map { .double($0) } ?? .null, "latitude": r.latitude.map { .double($0) } ?? .null,
            "availability": .int(Int64(r.availability)), "availability_read": .bool(r.availabilityRead),
            "availability_write": .bool(r.availabilityWrite),
            "availability_delete": .bool(r.availabilityDelete), "qos_class": .str(r.qosClass),
            "created_at": .date(r.createdAt), "updated_at": .date(r.updatedAt), "deleted": false, "deleted_at": .null,
        ]
    }

    static func proto(_ p: RSEProtocol) -> JSON {
        [
            "hostname": .string(p.hostname), "scheme": .string(p.scheme), "port": .int(Int64(p.port)), "prefix": .string(p.prefix),
            "impl": .string(p.impl), "domains": p.domains, "extended_attributes": p.extendedAttributes,
        ]
    }

    /// The settings document the client's rsemanager reads (`GET /rses/<rse>`); an RSE without an `lfn2pfn_algorithm`
    /// attribute reports the policy's default (`policyDefault`), as Rucio's `[policy] lfn2pfn_algorithm_default` makes it.
    static func rseSettings(_ r: RSE, protocols: [RSEProtocol], attributes: [(String, JSON)], policyDefault: LFN2PFN) -> JSON {
        let attrs = Dictionary(attributes, uniquingKeysWith: { a, _ in a })
        let lfn2pfn = attrs["lfn2pfn_algorithm"].map { $0.stringValue ?? $0.serialized() } ?? policyDefault.rawValue
        var domains: [JSON] = []
        if protocols.contains(where: { $0.domains["lan"] != nil }) { domains.append("lan") }
        if protocols.contains(where: { $0.domains["wan"] != nil }) { domains.append("wan") }
        return [
            "availability_delete": .bool(r.availabilityDelete), "availability_read": .bool(r.availabilityRead),
            "availability_write": .bool(r.availabilityWrite), "availability": .int(Int64(r.availability)), "credentials": .null,
            "deterministic": .bool(r.deterministic), "domain": domains.isEmpty ? ["lan", "wan"] : .array(domains), "id": .string(r.id),
            "lfn2pfn_algorithm": .string(lfn2pfn), "qos_class": .str(r.qosClass), "rse": .string(r.rse), "rse_type": .string(r.rseType),
            "sign_url": attrs["sign_url"] ?? .null, "staging_area": .bool(r.stagingArea),
            "verify_checksum": attrs["verify_checksum"].flatMap { $0.boolValue.map(JSON.bool) } ?? true, "volatile": .bool(r.volatile),
            "protocols": .array(protocols.map(proto)),
        ]
    }

    static func did(_ d: DID) -> JSON {
        if d.type == .file {
            return [
                "scope": .string(d.scope), "name": .string(d.name), "type": "FILE", "account": .string(d.account),
                "bytes": .num(d.bytes), "length": 1, "md5": .str(d.md5), "adler32": .str(d.adler32),
            ]
        }
        return [
            "scope": .string(d.scope), "name": .string(d.name), "type": .string(d.type.rawValue), "account": .string(d.account),
            "open": d.isOpen.map { .bool($0) } ?? .null, "monotonic": .bool(d.monotonic), "expired_at": .date(d.expiredAt),
            "length": .num(d.length), "bytes": .num(d.bytes),
        ]
    }

    /// A rule as Rucio returns it; `error` says, while STUCK, when the judge-repairer tries again (lake time `now`).
    static func rule(_ r: Rule, now: Date) -> JSON {
        [
            "id": .string(r.id), "subscription_id": .str(r.subscriptionID), "account": .string(r.account), "scope": .string(r.scope),
            "name": .string(r.name),
            "did_type": .string(r.didType.rawValue), "state": .string(r.state.name), "error": .str(r.shownError(now: now)),
            "rse_expression": .string(r.rseExpression),
            "copies": .int(Int64(r.copies)), "expires_at": .date(r.expiresAt), "weight": .str(r.weight), "locked": .bool(r.locked),
            "locks_ok_cnt": .int(Int64(r.locksOK)), "locks_replicating_cnt": .int(Int64(r.locksReplicating)),
            "locks_stuck_cnt": .int(Int64(r.locksStuck)),
            "source_replica_expression": .str(r.sourceReplicaExpression), "activity": .string(r.activity), "grouping": .string(r.grouping),
            "notification": .string(r.notification), "stuck_at": .date(r.stuckAt), "purge_replicas": .bool(r.purgeReplicas),
            "ignore_availability": .bool(r.ignoreAvailability), "ignore_account_limit": .bool(r.ignoreAccountLimit),
            "priority": .int(Int64(r.priority)),
            "comments": .str(r.comments), "child_rule_id": .str(r.childRuleID), "eol_at": .date(r.eolAt), "split_container": .bool(r.splitContainer),
            "meta": .str(r.meta), "bytes": .num(r.bytes), "created_at": .date(r.createdAt), "updated_at": .date(r.updatedAt), "deleted_at": .null,
        ]
    }

    /// A lock as `list_replica_locks` shows it.
    static func lock(_ l: ReplicaLock) -> JSON {
        [
            "scope": .string(l.scope), "name": .string(l.name), "rse_id": .string(l.rseID), "rse": .string(l.rse), "state": .string(l.state.name),
            "rule_id": .string(l.ruleID),
        ]
    }

    /// A dataset lock as `get_dataset_locks` shows it.
    static func datasetLock(_ l: DatasetLock) -> JSON {
        [
            "scope": .string(l.scope), "name": .string(l.name), "rule_id": .string(l.ruleID), "rse_id": .string(l.rseID), "rse": .string(l.rse),
            "account": .string(l.account), "state": .string(l.state.name), "length": .int(l.length), "bytes": .int(l.bytes), "accessed_at": .null,
        ]
    }

    /// A row of a rule's long-term history.
    static func ruleHistory(_ h: RuleHistoryEntry) -> JSON {
        [
            "rule_id": .string(h.ruleID), "created_at": .date(h.createdAt), "updated_at": .date(h.updatedAt),
            "rse_expression": .string(h.rseExpression),
            "state": .string(h.state.name), "account": .string(h.account), "locks_ok_cnt": .int(Int64(h.locksOK)),
            "locks_stuck_cnt": .int(Int64(h.locksStuck)), "locks_replicating_cnt": .int(Int64(h.locksReplicating)),
        ]
    }

    /// An account as `list_accounts` shows it (its row is `get_account`'s).
    static func accountListing(_ a: Account) -> JSON {
        ["account": .string(a.account), "type": .string(a.accountType), "email": .str(a.email)]
    }

    static func scopeOf(_ s: String) -> JSON { .string(s) }
}
