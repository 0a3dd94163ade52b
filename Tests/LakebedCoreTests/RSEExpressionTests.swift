import Foundation
import LakebedTesting
import Testing

@testable import LakebedCore

@Suite("RSE expressions")
struct RSEExpressionTests {
    func lake() async throws -> Catalog {
        let dir = TemporaryLake.folder("test")
        let c = try Catalog(dataDir: dir, clock: VirtualClock.manual())
        for (name, tier, country, type) in [("A1", 1, "CH", "DISK"), ("B2", 2, "NL", "DISK"), ("C2", 2, "US", "DISK"), ("T1", 1, "CH", "TAPE")] {
            try await c.rses.addRSE(name, settings: RSESettings(JSONObject([("rse_type", .string(type))])), by: nil)
            try await c.rses.addRSEAttribute(name, key: "tier", value: .int(Int64(tier)), by: nil)
            try await c.rses.addRSEAttribute(name, key: "country", value: .string(country), by: nil)
        }
        return c
    }

    func names(_ c: Catalog, _ e: String) async throws -> [String] {
        try await c.rses.resolveRSEExpression(e).map(\.rse).sorted()
    }

    @Test func deepOrLongExpressionsAreRefusedNotRecursedInto() async throws {
        let c = try await lake()
        let deep = String(repeating: "(", count: 20_000) + "A1" + String(repeating: ")", count: 20_000)
        await #expect(throws: RucioError.self) { try await names(c, deep) }
        await #expect(throws: RucioError.self) { try await names(c, Array(repeating: "A1", count: 2_000).joined(separator: "|")) }
        let nested = String(repeating: "(", count: 64) + "A1" + String(repeating: ")", count: 64)
        #expect(try await names(c, nested) == ["A1"])
        #expect(try await names(c, Array(repeating: "B2", count: 900).joined(separator: "|")) == ["B2"])
    }

    @Test func primitivesAndOperators() async throws {
        let c = try await lake()
        #expect(try await names(c, "*") == ["A1", "B2", "C2", "T1"])
        #expect(try await names(c, "B2") == ["B2"])
        #expect(try await names(c, "tier=2") == ["B2", "C2"])
        #expect(try await names(c, "tier<2") == ["A1", "T1"])
        #expect(try await names(c, "tier>1") == ["B2", "C2"])
        #expect(try await names(c, "country=CH|country=NL") == ["A1", "B2", "T1"])
        #expect(try await names(c, "tier=2&country=US") == ["C2"])
        #expect(try await names(c, "*\\tier=2") == ["A1", "T1"])
        #expect(try await names(c, "type=TAPE") == ["T1"])
        #expect(try await names(c, "istape=true") == ["T1"])
    }

    @Test func operatorsAreLeftAssociativeWithEqualPrecedence() async throws {
        let c = try await lake()
        // (A1 | B2) & tier=2 = {B2}; with & binding tighter it would be {A1, B2}.
        #expect(try await names(c, "A1|B2&tier=2") == ["B2"])
        #expect(try await names(c, "A1|(B2&tier=2)") == ["A1", "B2"])
        #expect(try await names(c, "(tier=1|tier=2)\\(country=CH)") == ["B2", "C2"])
    }

    @Test func badExpressionsAreRefused() async throws {
        let c = try await lake()
        for bad in ["(A1", "A1)", "A1||B2", "tier=", "a1", "", "A1&", "NOPE"] {
            await #expect(throws: RucioError.self) { try await c.rses.resolveRSEExpression(bad) }
        }
        do {
            _ = try await c.rses.resolveRSEExpression("NOPE")
            Issue.record("should fail")
        } catch let e as RucioError {
            #expect(e.exceptionClass == .invalidRSEExpression)
        }
    }
}
