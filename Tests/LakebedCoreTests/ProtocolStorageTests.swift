import Foundation
import LakebedTesting
import Testing

@testable import LakebedCore

@Suite("Protocols decide where bytes live")
struct ProtocolStorageTests {
    let root = Issuer(account: "root", identity: "ddmlab", isAdmin: true)

    func lake() async throws -> Catalog {
        let c = try TemporaryLake.catalog("protocols")
        try await DefaultLake.seedRoot(c)
        return c
    }

    func posix(_ prefix: String, host: String = "localhost") -> RSEProtocol {
        RSEProtocol(scheme: "file", hostname: host, port: 0, prefix: prefix, impl: "rucio.rse.protocols.posix.Default", domains: RSEProtocol.allDomains)
    }

    func web(_ scheme: String, _ host: String, _ port: Int, _ prefix: String, tpc: Int = 1) -> RSEProtocol {
        RSEProtocol(
            scheme: scheme, hostname: host, port: port, prefix: prefix, impl: "rucio.rse.protocols.gfal.Default",
            domains: [
                "lan": ["read": 1, "write": 1, "delete": 1],
                "wan": ["read": 1, "write": 1, "delete": 1, "third_party_copy_read": .int(Int64(tpc)), "third_party_copy_write": .int(Int64(tpc))],
            ])
    }

    @Test func anRSEAddedThroughTheAPIHasNoProtocolUntilOneIsAdded() async throws {
        let c = try await lake()
        try await c.rses.addRSE("XRD1", by: root)
        #expect(try await c.rses.protocols("XRD1").isEmpty)
        #expect(try await c.rses.storageSite(try await c.rses.rse("XRD1")) == .unreachable)
        // The client's own file protocol on localhost:0 is not a duplicate of anything.
        let folder = TemporaryLake.folder("xrd1-prefix")
        try await c.rses.addProtocol("XRD1", posix(folder + "/"), by: root)
        let rse = try await c.rses.rse("XRD1")
        #expect(rse.root == folder)
        #expect(try await c.rses.storageSite(rse) == .directory(folder))
        #expect(FileManager.default.fileExists(atPath: folder))
        // A replica registered as the client says lands where lfn2pfn puts it under the prefix.
        let rel = LFN2PFN.hash.path(scope: "test", name: "f")
        #expect(try c.replicas.absolutePath(rse: rse, relative: rel) == folder + "/" + rel)
        // Removing the protocol leaves the RSE without storage again.
        try await c.rses.deleteProtocols("XRD1", scheme: "file", hostname: nil, port: nil, by: root)
        #expect(try await c.rses.rse("XRD1").root == c.rses.defaultRoot(for: "XRD1"))
        #expect(try await c.rses.storageSite(try await c.rses.rse("XRD1")) == .unreachable)
    }

    @Test func prefixesStayInsideTheStorageRootsAndApartFromOtherRSEs() async throws {
        let c = try await lake()
        try await c.rses.addRSE("A", by: root)
        try await c.rses.addRSE("B", by: root)
        for outside in ["/etc/lakebed-test/", "/usr/", "/"] {
            await #expect {
                try await c.rses.addProtocol("A", posix(outside), by: root)
            } throws: { ($0 as? RucioError)?.exceptionClass == .accessDenied }
        }
        await #expect {
            try await c.rses.addProtocol("A", posix("relative/dir/"), by: root)
        } throws: { ($0 as? RucioError)?.exceptionClass == .invalidObject }
        await #expect {
            try await c.rses.addProtocol("A", posix(NSTemporaryDirectory() + "x/../../etc/"), by: root)
        } throws: { ($0 as? RucioError)?.exceptionClass == .invalidObject }
        // A symbolic link inside a root that points outside it does not smuggle a prefix out.
        let link = TemporaryLake.folder("link")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "/etc")
        await #expect {
            try await c.rses.addProtocol("A", posix(link + "/lakebed/"), by: root)
        } throws: { ($0 as? RucioError)?.exceptionClass == .accessDenied }
        #expect(try await c.rses.protocols("A").isEmpty)
        // Two RSEs cannot share a folder, nor nest one in the other.
        let a = TemporaryLake.folder("a")
        try await c.rses.addProtocol("A", posix(a + "/"), by: root)
        for clash in [a + "/", a + "/inner/"] {
            await #expect {
                try await c.rses.addProtocol("B", posix(clash), by: root)
            } throws: { ($0 as? RucioError)?.exceptionClass == .duplicate }
        }
        // A folder named as a storage root is allowed.
        let extra = "/var/tmp/lakebed-extra-root-" + UUID().uuidString
        c.rses.allowStorageRoots([extra])
        try await c.rses.addProtocol("B", posix(extra + "/b/"), by: root)
        #expect(try await c.rses.rse("B").root == extra + "/b")
        try? FileManager.default.removeItem(atPath: extra)
        // Only admins add protocols.
        await #expect {
            try await c.rses.addProtocol("B", web("https", "localhost", 1, "/x/"), by: Issuer(account: "jdoe", identity: "jdoe", isAdmin: false))
        } throws: { ($0 as? RucioError)?.exceptionClass == .accessDenied }
    }

    @Test func webProtocolsOnLakebedsEndpointAreServedOthersAreVirtual() async throws {
        let c = try await lake()
        c.rses.serveStorage(port: 8443)
        try await c.rses.addRSE("WEB", by: root)
        try await c.rses.addProtocol("WEB", web("davs", "localhost", 8443, "/rucio/web/"), by: root)
        let webRSE = try await c.rses.rse("WEB")
        #expect(try await c.rses.storageSite(webRSE) == .directory(c.rses.defaultRoot(for: "WEB")))
        let found = try await c.rses.locate(segments: ["rucio", "web", "test", "ab", "f"])
        #expect(found?.rse.rse == "WEB")
        #expect(found?.relative == "test/ab/f")
        #expect(found?.base == "/rucio/web/")
        #expect(try await c.rses.locate(segments: ["rucio", "webx", "f"]) == nil)
        #expect(try await c.rses.locate(url: "davs://localhost:8443/rucio/web/a")?.relative == "a")
        #expect(try await c.rses.locate(url: "davs://localhost:9999/rucio/web/a") == nil)
        // A prefix that is a path of the API is refused on Lakebed's endpoint, allowed elsewhere.
        await #expect {
            try await c.rses.addProtocol("WEB", web("https", "localhost", 8443, "/rses/"), by: root)
        } throws: { ($0 as? RucioError)?.exceptionClass == .invalidObject }
        // A production topology copied in: root:// at a host Lakebed does not serve makes the storage virtual.
        try await c.rses.addRSE("XRD2", by: root)
        try await c.rses.addProtocol("XRD2", web("root", "xrd2", 1095, "//rucio"), by: root)
        #expect(try await c.rses.storageSite(try await c.rses.rse("XRD2")) == .virtual)
        #expect(try await c.rses.locate(segments: ["storage", "XRD2", "f"]) == nil)
    }

    @Test func transferPairsAndOperationsFollowRuciosPriorities() {
        let file = posix("/tmp/x/")
        let https = web("https", "a", 443, "/p/", tpc: 2)
        let davs = web("davs", "b", 443, "/p/", tpc: 1)
        let root = web("root", "c", 1094, "//p", tpc: 1)
        // The ready-made pair of Lakebed's RSEs: file (priority 1) before https (2).
        #expect(ProtocolSelection.transferPair(destination: [https, file], source: [file, https])?.destination.scheme == "file")
        // https and davs are compatible (Rucio's scheme map); root only with root; file only with file.
        let p = ProtocolSelection.transferPair(destination: [https], source: [davs])
        #expect((p?.destination.scheme, p?.source.scheme) == ("https", "davs"))
        #expect(ProtocolSelection.transferPair(destination: [root], source: [davs, https]) == nil)
        #expect(ProtocolSelection.transferPair(destination: [file], source: [https]) == nil)
        #expect(ProtocolSelection.transferPair(destination: [root, https], source: [https])?.destination.scheme == "https")
        // A protocol with priority 0 (or none) for an operation does not take part.
        var readOnly = https
        readOnly.domains = ["wan": ["read": 1, "write": 0]]
        #expect(ProtocolSelection.select([readOnly], operation: "write", domain: "wan") == nil)
        #expect(ProtocolSelection.select([readOnly, davs], operation: "read", domain: "wan")?.scheme == "davs")
        #expect(ProtocolSelection.select([readOnly, davs], operation: "read", domain: "wan", scheme: "https")?.hostname == "a")
    }

    @Test func nonDeterministicPathsAreRuciosDQ2Convention() {
        // Expected values computed with Rucio 41.5.1's construct_non_deterministic_pfn_default.
        let cases = [
            ("other", "/other/other/f.root"), ("ds1", "/other/ds1/f.root"), ("data18.ds_sub01", "/data18/data18.ds/f.root"),
            ("user.jdoe.test.x", "/user/jdoe/test/user.jdoe.test.x/f.root"),
            (
                "data18_13TeV.00348885.physics_Main.deriv.DAOD_PHYS.r1_p2_tid123_sub0",
                "/data18_13TeV/DAOD_PHYS/r1_p2/data18_13TeV.00348885.physics_Main.deriv.DAOD_PHYS.r1_p2_tid123/f.root"
            ),
            ("mc16.a.b.c.RAW", "/mc16/RAW/other/mc16.a.b.c.RAW/f.root"), ("useless.a.b.c.d.e", "/useless/a/b/useless.a.b.c.d.e/f.root"),
        ]
        for (dsn, want) in cases { #expect(NonDeterministicPFN.path(dsn: dsn, scope: "s", name: "f.root") == want) }
    }

    @Test func clientsRegisterWhatTheySayAndLostReplicasAreTheirs() async throws {
        let c = try await lake()
        try await DefaultLake.seedSites(c)
        try await c.replicas.addReplicas(
            rse: "SITE-A", files: [FileSpec(scope: "test", name: "ghost", bytes: 10, adler32: "00000001")], ignoreAvailability: false,
            issuer: root)
        #expect(try await c.dids.did("test", "ghost").bytes == 10)
        let report = try await c.checkConsistency()
        #expect(report.isConsistent)
        #expect(report.lost.map(\.kind) == ["lost-replica"])
        #expect(report.lost.first?.detail.contains("test:ghost at SITE-A") == true)
        // Non-deterministic RSEs need the client's PFNs.
        try await c.rses.addRSE("TAPE", settings: RSESettings(JSONObject([("deterministic", .bool(false))])), by: root)
        await #expect {
            try await c.replicas.addReplicas(
                rse: "TAPE", files: [FileSpec(scope: "test", name: "tape.file", bytes: 1, adler32: "00000001")], ignoreAvailability: false, issuer: root)
        } throws: { ($0 as? RucioError)?.exceptionClass == .unsupportedOperation }
        // On virtual storage the replica is virtual: nothing is lost.
        try await c.rses.addRSE("XRD3", by: root)
        try await c.rses.addProtocol("XRD3", web("root", "xrd3", 1096, "//rucio/"), by: root)
        try await c.replicas.addReplicas(
            rse: "XRD3", files: [FileSpec(scope: "test", name: "virtual.file", bytes: 5, adler32: "00000001")], ignoreAvailability: false, issuer: root)
        #expect(try await c.checkConsistency().lost.count == 1)
    }
}
