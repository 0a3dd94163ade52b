import Foundation
import LakebedTesting
import Testing

@testable import LakebedCore
@testable import LakebedDaemons
@testable import LakebedFTS

/// WebDAV `COPY`'s part in the engine: one file between two RSEs' storage, on the link between them and the lake clock.
@Suite("HTTP third-party copy on the transfer engine")
struct ThirdPartyCopyTests {
    /// A file written straight to an RSE's storage (as a WebDAV PUT leaves it), and its location.
    func file(_ lake: TestLake, _ rse: String, _ path: String, _ bytes: [UInt8]) async throws -> StorageLocation {
        let storage = RSEStorage(rse: try await lake.catalog.rses.rse(rse))
        let w = try storage.beginWrite(path)
        try w.append(bytes)
        try w.commit()
        return try #require(try await lake.catalog.rses.locate(segments: ["storage", rse] + path.split(separator: "/").map(String.init)))
    }

    func location(_ lake: TestLake, _ rse: String, _ path: String) async throws -> StorageLocation {
        try #require(try await lake.catalog.rses.locate(segments: ["storage", rse] + path.split(separator: "/").map(String.init)))
    }

    func copy(_ from: StorageLocation, _ to: StorageLocation, mode: ThirdPartyCopy.Mode = .pull, overwrite: Bool = true) -> ThirdPartyCopy {
        ThirdPartyCopy(
            mode: mode, source: from, destination: to, sourceURL: "https://localhost/storage/\(from.rse.rse)/\(from.relative)",
            destinationURL: "https://localhost/storage/\(to.rse.rse)/\(to.relative)", overwrite: overwrite, submitter: "root")
    }

    func partials(under dir: String) -> [String] {
        (FileManager.default.enumerator(atPath: dir)?.allObjects as? [String] ?? []).filter { RSEStorage.isPartial(($0 as NSString).lastPathComponent) }
    }

    @Test func copyTimeFollowsTheLinkBandwidthAndLatency() async throws {
        // 5000 bytes at 1000 bytes/s after 2 s of latency: the last byte lands at t = 7 s of lake time.
        let lake = try await TestLake(topology: Topology(defaults: LinkSettings(bandwidth: 1000, latency: 2, concurrency: 1)))
        let bytes = (0..<5000).map { UInt8($0 % 253) }
        let from = try await file(lake, "SITE-A", "tpc/in.bin", bytes)
        let to = try await location(lake, "SITE-B", "tpc/out.bin")
        let done = try await copy(from, to).submit(to: lake.engine)
        try await lake.driver.advance(by: 4)
        var f = try #require(await lake.engine.file(done.fileID))
        #expect(f.state == .active && f.transferredBytes == 2000)
        #expect(!FileManager.default.fileExists(atPath: try to.absolute()))
        #expect(partials(under: to.rse.root).isEmpty)
        try await lake.driver.advance(by: 10)
        f = try #require(await lake.engine.file(done.fileID))
        #expect(f.state == .finished)
        #expect(f.finishTime.map { $0.timeIntervalSince(lake.start) } == 7)
        #expect(try Array(Data(contentsOf: URL(fileURLWithPath: try to.absolute()))) == bytes)
        let job = try #require(await lake.engine.job(done.jobID))
        #expect(job.state == .finished && job.submitter == "root" && job.metadata == #"{"http_tpc": "pull"}"#)
        #expect(f.spec.sourceSE == "SITE-A" && f.spec.destSE == "SITE-B" && f.spec.adler32 == Checksums.of(bytes).adler32)
    }

    @Test func copiesShareTheLinkWithTheConveyor() async throws {
        // A copy and a rule's transfer on the same link share its 1000 bytes/s: both 1000-byte files end at t = 2 s.
        let lake = try await TestLake(topology: Topology(defaults: LinkSettings(bandwidth: 1000, latency: 0, concurrency: 2)))
        try await lake.put("SITE-A", "test", "r1", Array(repeating: 1, count: 1000))
        _ = try await lake.rule(DIDRef("test", "r1"), "SITE-B")
        let from = try await file(lake, "SITE-A", "tpc/shared.bin", Array(repeating: 2, count: 1000))
        let done = try await copy(from, try await location(lake, "SITE-B", "tpc/shared.bin")).submit(to: lake.engine)
        try await lake.driver.advance(by: 10)
        let f = try #require(await lake.engine.file(done.fileID))
        #expect(f.finishTime.map { $0.timeIntervalSince(lake.start) } == 2)
        #expect(lake.finishTimes()["test:r1"] == 2)
    }

    @Test func aLinkThatIsDownFailsTheCopyAndLeavesNothing() async throws {
        let lake = try await TestLake()
        await lake.engine.updateLink("SITE-A", "SITE-C") {
            $0.down = true
            $0.failureReason = "TRANSFER [113] No route to host (SITE-C unreachable)"
        }
        let from = try await file(lake, "SITE-A", "tpc/f.bin", Array("payload".utf8))
        let to = try await location(lake, "SITE-C", "tpc/f.bin")
        let done = try await copy(from, to, mode: .push).submit(to: lake.engine)
        try await lake.driver.advance(by: 10)
        let f = try #require(await lake.engine.file(done.fileID))
        #expect(f.state == .failed && f.reason == "TRANSFER [113] No route to host (SITE-C unreachable)")
        #expect(!FileManager.default.fileExists(atPath: try to.absolute()) && partials(under: to.rse.root).isEmpty)
    }

    @Test func bytesThatChangeBeforeTheCopyLandsFailItsChecksum() async throws {
        let lake = try await TestLake()
        let from = try await file(lake, "SITE-A", "tpc/c.bin", Array("good bytes".utf8))
        let to = try await location(lake, "SITE-B", "tpc/c.bin")
        let done = try await copy(from, to).submit(to: lake.engine)
        try Data("evil bytes".utf8).write(to: URL(fileURLWithPath: try from.absolute()))
        try await lake.driver.advance(by: 10)
        let f = try #require(await lake.engine.file(done.fileID))
        #expect(f.state == .failed && f.reason.contains("CHECKSUM MISMATCH"))
        #expect(!FileManager.default.fileExists(atPath: try to.absolute()) && partials(under: to.rse.root).isEmpty)
    }

    @Test func withoutOverwriteAnExistingFileStays() async throws {
        let lake = try await TestLake()
        let from = try await file(lake, "SITE-A", "tpc/new.bin", Array("new".utf8))
        let to = try await file(lake, "SITE-B", "tpc/old.bin", Array("old".utf8))
        let done = try await copy(from, to, overwrite: false).submit(to: lake.engine)
        try await lake.driver.advance(by: 10)
        let f = try #require(await lake.engine.file(done.fileID))
        #expect(f.state == .failed && f.reason.hasPrefix("DESTINATION [17]"))
        #expect(try String(contentsOfFile: try to.absolute(), encoding: .utf8) == "old")
    }

    @Test func aSymbolicLinkOutOfTheRSEIsNoSource() async throws {
        let lake = try await TestLake()
        let outside = TemporaryLake.folder("canary")
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        try Data("canary".utf8).write(to: URL(fileURLWithPath: outside + "/secret"))
        let a = try await lake.catalog.rses.rse("SITE-A")
        try FileManager.default.createDirectory(atPath: a.root + "/tpc", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: a.root + "/tpc/link", withDestinationPath: outside + "/secret")
        let from = try await location(lake, "SITE-A", "tpc/link")
        #expect(throws: RucioError.self) { try copy(from, StorageLocation(rse: a, relative: "tpc/x", base: "/storage/SITE-A/")).fileSpec() }
        // A relative path that climbs out is refused before anything is read.
        let climbing = StorageLocation(rse: a, relative: "../SITE-B/x", base: "/storage/SITE-A/")
        #expect(throws: (any Error).self) { try copy(climbing, from).fileSpec() }
    }

    @Test func lakebedURLsAreItsOwnListenersOnly() async throws {
        let lake = try await TestLake()
        lake.catalog.rses.serveStorage(port: 8443)
        #expect(try await lake.catalog.rses.locate(url: "https://localhost:8443/storage/SITE-A/f")?.relative == "f")
        #expect(try await lake.catalog.rses.locate(url: "davs://127.0.0.1:8443/storage/SITE-A/d/f")?.relative == "d/f")
        // Another host on the same port, another port, the scheme's default port: not this lake's storage.
        #expect(try await lake.catalog.rses.locate(url: "https://data.example.org:8443/storage/SITE-A/f") == nil)
        #expect(try await lake.catalog.rses.locate(url: "https://localhost:9443/storage/SITE-A/f") == nil)
        #expect(try await lake.catalog.rses.locate(url: "https://localhost/storage/SITE-A/f") == nil)
        #expect(try await lake.catalog.rses.locate(url: "root://localhost:8443//storage/SITE-A/f") == nil)
    }
}

/// A store of delegated credentials a test revokes.
actor RevocableCredentials: DelegatedCredentials {
    var revoked: Set<String> = []
    func revoke(_ id: String) { revoked.insert(id) }
    func refusal(delegationID: String, dn: String) -> String? {
        revoked.contains(delegationID) ? "the delegated credential of \(dn) (delegation id \(delegationID)) was deleted" : nil
    }
}

@Suite("Certificate jobs run on their delegated credential")
struct DelegatedJobTests {
    @Test func aRevokedCredentialFailsQueuedAndMovingTransfersWithoutCopying() async throws {
        let lake = try await TestLake(topology: Topology(defaults: LinkSettings(bandwidth: 1000, latency: 1, concurrency: 1)))
        let credentials = RevocableCredentials()
        await lake.engine.setCredentials(credentials)
        let tpc = ThirdPartyCopyTests()
        let bytes = Array(repeating: UInt8(7), count: 1000)
        let from = try await tpc.file(lake, "SITE-A", "dlg/in.bin", bytes)
        var specs: [FTSFileSpec] = []
        for name in ["ok", "moving", "queued", "token"] {
            let to = try await tpc.location(lake, "SITE-B", "dlg/\(name).bin")
            specs.append(
                try FTSFileSpec(from: from, to: to, sourceURL: "file://" + (try from.absolute()), destURL: "file://" + (try to.absolute()), bytes: 1000, adler32: nil))
        }
        let dn = "/DC=org/DC=lakebed/OU=Users/CN=jane"
        let ok = await lake.engine.submit(files: [specs[0]], submitter: dn, credentialID: "0123456789abcdef")
        try await lake.driver.advance(by: 5)
        #expect(await lake.engine.job(ok.jobID)?.state == .finished)
        // One slot: "moving" starts, "queued" waits behind it; a token job (no credential) is not affected.
        let moving = await lake.engine.submit(files: [specs[1]], submitter: dn, credentialID: "0123456789abcdef")
        let queued = await lake.engine.submit(files: [specs[2]], submitter: dn, credentialID: "0123456789abcdef")
        let token = await lake.engine.submit(files: [specs[3]], submitter: "jane")
        try await lake.driver.advance(by: 1.5)
        #expect(await lake.engine.job(moving.jobID)?.state == .active)
        await credentials.revoke("0123456789abcdef")
        try await lake.driver.advance(by: 10)
        for job in [moving, queued] {
            let j = try #require(await lake.engine.job(job.jobID))
            #expect(j.state == .failed)
            #expect(j.reason == "TRANSFER [13] the delegated credential of \(dn) (delegation id 0123456789abcdef) was deleted")
        }
        #expect(await lake.engine.job(token.jobID)?.state == .finished)
        #expect(!FileManager.default.fileExists(atPath: specs[1].destPath))
        #expect(!FileManager.default.fileExists(atPath: specs[2].destPath))
        #expect(FileManager.default.fileExists(atPath: specs[3].destPath))
    }
}
