import Foundation
import GRDB
import LakebedTesting
import Testing

@testable import LakebedCore

/// The config table and lifetime exceptions, as Rucio's `rucio-admin config` and `lifetime_exception` keep them.
@Suite("Config and lifetime exceptions")
struct BookkeepingTests {
    let root = Issuer(account: "root", identity: "ddmlab", isAdmin: true)
    let jdoe = Issuer(account: "jdoe", identity: "jdoe", isAdmin: false)

    func lake() async throws -> Catalog {
        let c = try TemporaryLake.catalog("bookkeeping")
        try await DefaultLake.seedIfEmpty(c)
        try await c.accounts.addAccount("jdoe", type: "USER", email: nil, by: root)
        return c
    }

    @Test func configIsForAdmins() async throws {
        let c = try await lake()
        try await c.config.set([("lifetime_model", "cutoff_date", "2100-01-01"), ("x", "y", "1")], issuer: root)
        #expect(try await c.config.value("lifetime_model", "cutoff_date", issuer: root) == "2100-01-01")
        #expect(try await c.config.all(issuer: root).map(\.section) == ["lifetime_model", "x"])
        try await c.config.remove("x", option: nil, issuer: root)
        do {
            _ = try await c.config.section("x", issuer: root)
            Issue.record("removed section")
        } catch let e as RucioError { #expect(e.exceptionClass == .configNotFound) }
        do {
            _ = try await c.config.all(issuer: jdoe)
            Issue.record("user read the config")
        } catch let e as RucioError { #expect(e.exceptionClass == .accessDenied) }
    }

    @Test func lifetimeExceptionsCoverDIDsPastTheirEndOfLife() async throws {
        let c = try await lake()
        try await c.config.set([("lifetime_model", "cutoff_date", "2100-01-01")], issuer: root)
        try await c.dids.addCollection(scope: "test", name: "old-ds", type: .dataset, issuer: root)
        try await c.dids.addCollection(scope: "test", name: "fresh-ds", type: .dataset, issuer: root)
        // Lakebed has no lifetime model setting end-of-life dates: set one by hand, as Rucio's model would.
        try await c.db.write { db in try db.execute(sql: "UPDATE dids SET eol_at = 0 WHERE scope = 'test' AND name = 'old-ds'") }
        let res = try await c.lifetimeExceptions.add(
            dids: [DIDRef("test", "old-ds"), DIDRef("test", "fresh-ds"), DIDRef("test", "nosuch")],
            pattern: nil, comments: "keep", expiresAt: nil, issuer: jdoe)
        #expect(res.exceptions.count == 1 && res.exceptions[0].1.map(\.0) == [DIDRef("test", "old-ds")])
        #expect(res.notAffected.map(\.0) == [DIDRef("test", "fresh-ds")])
        #expect(res.unknown == [DIDRef("test", "nosuch")])
        let id = res.exceptions[0].0
        #expect(try await c.lifetimeExceptions.list(id: id).map(\.state) == ["WAITING"])
        do {
            try await c.lifetimeExceptions.update(id: id, state: "A", issuer: jdoe)
            Issue.record("user approved")
        } catch let e as RucioError { #expect(e.exceptionClass == .accessDenied) }
        try await c.lifetimeExceptions.update(id: id, state: "A", issuer: root)
        #expect(try await c.lifetimeExceptions.list().map(\.state) == ["APPROVED"])
        do {
            try await c.lifetimeExceptions.update(id: "nosuch", state: "R", issuer: root)
            Issue.record("unknown id")
        } catch let e as RucioError { #expect(e.exceptionClass == .lifetimeExceptionNotFound) }
    }
}
