import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LakebedApp
import LakebedCore
import LakebedDaemons
import LakebedHTTP
import LakebedTesting
import Logging
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The lake `lakebed serve` runs, opened in-process through the one composition root and driven over HTTP.
@Suite("The served lake, in process")
struct LakeTests {
    static let logger = Logger(label: "test")

    static func token(_ client: some TestClientProtocol) async throws -> String {
        try await client.execute(
            uri: "/auth/userpass", method: .get,
            headers: [
                HTTPField.Name("X-Rucio-Username")!: "ddmlab", HTTPField.Name("X-Rucio-Password")!: "secret",
                HTTPField.Name("X-Rucio-Account")!: "root",
            ]
        ) { r in r.headers[HTTPField.Name("X-Rucio-Auth-Token")!] ?? "" }
    }

    @Test func defaultLakeAnswersAndReplicates() async throws {
        let lake = try await TemporaryLake.served("app")
        #expect(lake.seeded)
        let app = Application(responder: try lake.responder(logger: Self.logger))
        try await app.test(.router) { client in
            let token = try await Self.token(client)
            #expect(token.hasPrefix("root-"))
            let auth: HTTPFields = [HTTPField.Name("X-Rucio-Auth-Token")!: token]
            // The default lake's demo dataset and its rule, as seeded by the embedded default scenario.
            try await client.execute(uri: "/rses/?expression=tier%3D2", method: .get, headers: auth) { r in
                #expect(String(buffer: r.body) == "{\"rse\": \"SITE-B\"}\n{\"rse\": \"SITE-C\"}\n")
            }
            try await client.execute(uri: "/dids/demo/lofar.L630262/files", method: .get, headers: auth) { r in
                #expect(r.status.code == 200)
                #expect(String(buffer: r.body).split(separator: "\n").count == 4)
            }
            // A rule added over the API is evaluated, handed to FTS and finished by the daemons on the lake clock.
            let body =
                "{\"dids\": [{\"scope\": \"demo\", \"name\": \"lofar.L630262\"}], \"copies\": 1, \"rse_expression\": \"SITE-B\", \"account\": \"root\"}"
            let id = try await client.execute(uri: "/rules/", method: .post, headers: auth, body: ByteBuffer(string: body)) { r in
                #expect(r.status.code == 201)
                return String(buffer: r.body).trimmingCharacters(in: CharacterSet(charactersIn: "[]\"\n"))
            }
            #expect(try await lake.catalog.rules.rule(id).state == .replicating)
            try await lake.driver.advance(by: 3600)
            #expect(try await lake.catalog.rules.rule(id).state == .ok)
            try await client.execute(uri: "/lakebed/check", method: .get) { r in
                #expect(r.status.code == 200)
                #expect(String(buffer: r.body).contains("\"consistent\": true") || String(buffer: r.body).contains("\"consistent\":true"))
            }
        }
    }
}

/// Names that become paths, and a data folder that lost its catalog (reliability: nothing lost).
@Suite("The lake's folder is never lost")
struct LakeFolderTests {
    @Test func snapshotNamesCannotLeaveTheSnapshotFolder() async throws {
        let lake = try await TemporaryLake.served("names")
        let app = Application(responder: try lake.responder(logger: LakeTests.logger))
        try await app.test(.router) { client in
            for name in ["%2e%2e", "..", "%2E", ".", "a%2Fb", "..%2F..%2Fx"] {
                try await client.execute(uri: "/lakebed/snapshots/\(name)", method: .post) { r in
                    #expect(r.status.code == 400, "snapshot \(name)")
                    #expect(String(buffer: r.body).contains("\"error\": \"ValueError\""), "snapshot \(name)")
                }
                try await client.execute(uri: "/lakebed/snapshots/\(name)/restore", method: .post) { r in
                    #expect(r.status.code == 400 || r.status.code == 404, "restore \(name)")
                }
            }
            try await client.execute(uri: "/lakebed/snapshots/before-test", method: .post) { r in #expect(r.status.code == 200) }
        }
        let fm = FileManager.default
        #expect(fm.fileExists(atPath: lake.catalog.dataDir + "/catalog.sqlite"))
        #expect(fm.fileExists(atPath: lake.catalog.dataDir + "/snapshots/seed"))
        #expect(fm.fileExists(atPath: lake.catalog.dataDir + "/snapshots/before-test"))
        #expect(try fm.contentsOfDirectory(atPath: lake.catalog.dataDir + "/snapshots").allSatisfy { !$0.hasSuffix(".partial") })
        #expect(try await lake.catalog.checkConsistency().isConsistent)
    }

    @Test func aFolderThatLostItsCatalogIsNotSeededAgain() async throws {
        let dir = TemporaryLake.folder("lost")
        _ = try await Lake.open(LakeOptions(dataDir: dir, timeScale: 0, seed: 1))
        for f in ["catalog.sqlite", "catalog.sqlite-wal", "catalog.sqlite-shm"] { try? FileManager.default.removeItem(atPath: dir + "/" + f) }
        await #expect(throws: LakeOpenError.self) { _ = try await Lake.open(LakeOptions(dataDir: dir, timeScale: 0, seed: 1)) }
        #expect(!FileManager.default.fileExists(atPath: dir + "/catalog.sqlite"))
    }

    @Test func oneLakePerDataFolder() async throws {
        let dir = TemporaryLake.folder("locked")
        let first = try await Lake.open(LakeOptions(dataDir: dir, timeScale: 0, seed: 1))
        do {
            _ = try await Lake.open(LakeOptions(dataDir: dir, timeScale: 0, seed: 1))
            Issue.record("a second lake opened the same folder")
        } catch let e as LakeOpenError {
            #expect(e.description.contains("in use by another lakebed (pid \(getpid())"))
        }
        #expect(first.seeded)
    }
}

/// The necromancer on the lake's clock: a bad copy comes back from another RSE, a bad last copy is lost.
@Suite("Bad replicas and the necromancer")
struct NecromancerTests {
    static let root = Issuer(account: "root", identity: "ddmlab", isAdmin: true)

    @Test func badCopyIsRecoveredAndLastCopyIsLost() async throws {
        let lake = try await TemporaryLake.served("necromancer")
        let c = lake.catalog
        let id = try await c.rules.addRules(RuleSpec(dids: [DIDRef("demo", "lofar.L630262")], copies: 1, rseExpression: "SITE-C"), issuer: Self.root)[
            0]
        try await lake.driver.advance(by: 3600)
        #expect(try await c.rules.rule(id).state == .ok)
        let file = try await c.dids.listFiles("demo", "lofar.L630262")[0]

        let refused = try await c.badReplicas.declare(
            [BadReplicaTarget(scope: file.scope, name: file.name, rse: "SITE-C", rseID: nil)],
            reason: "test", state: .bad, issuer: Self.root)
        #expect(refused.isEmpty)
        #expect(try await Necromancer(catalog: c).hasWork())
        // Declared bad and not yet seen by the necromancer is a state the consistency check accepts.
        #expect(try await c.checkConsistency().isConsistent)
        try await lake.driver.advance(by: 600)
        #expect(try await !Necromancer(catalog: c).hasWork())
        let states = try await c.badReplicas.list(state: nil, rse: "SITE-C", youngerThan: nil, olderThan: nil, limit: nil).map(\.state)
        #expect(states == [.recovered])
        #expect(try await c.rules.rule(id).state == .ok)
        let listed = try await c.replicas.listReplicas([DIDRef(file.scope, file.name)], query: .init())
        #expect(listed.first?.replicas.contains { $0.rse.rse == "SITE-C" && $0.state == .available } == true)
        #expect(c.events.events(after: 0).contains { $0.kind == "necromancer.recovering" })
        #expect(try await c.checkConsistency().isConsistent)

        // Every copy bad: the necromancer has nothing to recover from, the file is lost and its locks go.
        let copies = listed.first?.replicas.map(\.rse.rse) ?? []
        _ = try await c.badReplicas.declare(
            copies.map { BadReplicaTarget(scope: file.scope, name: file.name, rse: $0, rseID: nil) },
            reason: "test", state: .bad, issuer: Self.root)
        try await lake.driver.advance(by: 600)
        let lost = try await c.badReplicas.list(state: .lost, rse: nil, youngerThan: nil, olderThan: nil, limit: nil)
        #expect(lost.count == copies.count)
        #expect(try await c.rules.locks(ofRule: id).allSatisfy { $0.name != file.name })
        #expect(try await c.checkConsistency().isConsistent)
    }
}
