import Foundation
import LakebedCore
import LakebedTesting
import Testing

@Suite("Export and import")
struct ImporterTests {
    let root = Issuer(account: "root", identity: "ddmlab", isAdmin: true)

    @Test func exportImportedIntoAnotherCatalogGivesTheSameRSEs() async throws {
        let a = try TemporaryLake.catalog("export-a")
        try await a.accounts.addAccount("root", type: "SERVICE", email: nil, by: nil)
        try await a.rses.addRSE("X-1", settings: RSESettings(JSONObject([("city", "Bern"), ("rse_type", "TAPE")])), by: root)
        try await a.rses.addRSE("X-2", by: root)
        try await a.rses.addProtocol(
            "X-1", RSEProtocol(scheme: "root", hostname: "xrd.example.org", port: 1094, prefix: "/x/", impl: "rucio.rse.protocols.xrootd.Default",
                domains: RSEProtocol.allDomains), by: root)
        try await a.rses.addRSEAttribute("X-1", key: "tier", value: "1", by: root)
        try await a.rses.setDistance(from: "X-1", to: "X-2", distance: 3, create: true, by: root)
        let export = try await a.exporter.exportData(by: root)
        let b = try TemporaryLake.catalog("export-b")
        try await b.accounts.addAccount("root", type: "SERVICE", email: nil, by: nil)
        let summary = try await b.importer.importData(export.objectValue!, by: root)
        #expect(summary.rsesAdded == 2 && summary.protocolsAdded == 1 && summary.distances == 1)
        let again = try await b.exporter.exportData(by: root)
        for name in ["X-1", "X-2"] {
            let x = export["rses"]![name]!.objectValue!, y = again["rses"]![name]!.objectValue!
            for key in ["rse_type", "city", "protocols", "deterministic", "availability", "lfn2pfn_algorithm", "verify_checksum"] {
                #expect(x[key] == y[key], "\(name) \(key)")
            }
            // As Rucio's importer does, the export's lfn2pfn_algorithm and verify_checksum become explicit attributes.
            var attributes = x["attributes"]!.objectValue!
            attributes["lfn2pfn_algorithm"] = "hash"
            attributes["verify_checksum"] = true
            func dict(_ o: JSONObject) -> [String: JSON] { Dictionary(o.map { ($0.0, $0.1) }, uniquingKeysWith: { a, _ in a }) }
            #expect(dict(attributes) == dict(y["attributes"]!.objectValue!))
        }
        #expect(again["distances"]?["X-1"]?["X-2"]?["distance"] == 3)
        await #expect(throws: RucioError.self) {
            try await b.exporter.exportData(by: Issuer(account: "jdoe", identity: "jdoe", isAdmin: true))
        }
    }

    @Test func mistakesAreRefusedBeforeAnythingChanges() async throws {
        let c = try TemporaryLake.catalog("import-errors")
        try await c.accounts.addAccount("root", type: "SERVICE", email: nil, by: nil)
        let bad: [JSON] = [
            ["rses": ["NEW-1": [:]], "distances": ["NEW-1": ["NOWHERE": ["distance": 1]]]],
            ["rses": ["NEW-1": ["protocols": [["scheme": "https", "hostname": "h", "port": 443]]]]],
            ["rses": ["NEW-1": ["protocols": [["scheme": "https"]]]]],
            ["rses": ["new-lower": [:]]],
            ["rses": []],
            ["accounts": [["account": "x"]]],
        ]
        for doc in bad {
            await #expect(throws: RucioError.self) { try await c.importer.importData(doc.objectValue!, by: root) }
        }
        #expect(try await c.rses.listRSEs().isEmpty)
    }
}
