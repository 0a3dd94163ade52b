import Crypto
import Foundation
import LakebedTesting
import SwiftASN1
import Synchronization
import Testing
import X509

@testable import LakebedHTTP

/// A wall clock a test sets.
final class WallClock: Sendable {
    let time = Mutex(Date())
    func now() -> Date { time.withLock { $0 } }
    func advance(_ seconds: TimeInterval) { time.withLock { $0 = $0.addingTimeInterval(seconds) } }
}

@Suite("GridSite delegation: requests, delegated proxies, the store")
struct DelegationTests {
    struct User {
        var certs: LocalCertificates
        var ca: Certificate
        var cert: Certificate
        var key: Certificate.PrivateKey
        var dn: String
    }

    func user(_ name: String = "jane") throws -> User {
        let certs = try LocalCertificates.ensure(dataDir: TemporaryLake.folder("deleg"))
        let made = try certs.issueUser(name, folder: certs.folder + "/" + name)
        let cert = try Certificate(pemEncoded: try String(contentsOfFile: made.certPath, encoding: .utf8))
        let key = try Certificate.PrivateKey(pemEncoded: try String(contentsOfFile: made.keyPath, encoding: .utf8))
        return User(certs: certs, ca: try certs.caCertificate(), cert: cert, key: key, dn: made.dn)
    }

    func pem(_ chain: [Certificate]) throws -> String { try chain.map { try $0.serializeAsPEM().pemString + "\n" }.joined() }

    /// A proxy of the user's certificate for `publicKey`, as the fts3 client signs one for the server's request.
    func delegated(_ u: User, for publicKey: Certificate.PublicKey, hours: Double = 7, now: Date = Date()) throws -> String {
        try pem([try LocalCertificates.proxy(of: u.cert, key: u.key, for: publicKey, hours: hours, style: .rfc3820, now: now), u.cert])
    }

    func store(_ clock: WallClock = WallClock()) throws -> DelegationStore {
        try DelegationStore(folder: TemporaryLake.folder("deleg-store") + "/delegation", now: { clock.now() })
    }

    @Test func aProxyForTheRequestsKeyVerifies() async throws {
        let u = try user()
        let s = try store()
        let id = DelegationStore.delegationID(dn: u.dn)
        let csr = try CertificateSigningRequest(pemEncoded: try await s.request(id: id, dn: u.dn))
        #expect(csr.publicKey.isValidSignature(csr.signature, for: csr))
        // Asking again gives the same request (FTS's credential cache).
        #expect(try await s.request(id: id, dn: u.dn) == (try csr.serializeAsPEM().pemString + "\n"))
        #expect(await s.credential(id: id, dn: u.dn) == nil)
        let end = try await s.accept(id: id, dn: u.dn, proxy: try delegated(u, for: csr.publicKey), owner: u.cert, ca: u.ca)
        #expect(abs(end.timeIntervalSinceNow - 7 * 3600) < 60)
        #expect(await s.credential(id: id, dn: u.dn)?.terminationTime == end)
        #expect(await s.refusal(delegationID: id, dn: u.dn) == nil)
        // A proxy of a proxy (the client run with an x509up file) delegates too.
        let (first, firstKey) = try LocalCertificates.proxy(of: u.cert, key: u.key, hours: 12, style: .rfc3820, now: Date())
        let second = try LocalCertificates.proxy(of: first, key: firstKey, for: csr.publicKey, hours: 7, style: .rfc3820, now: Date())
        _ = try await s.accept(id: id, dn: u.dn, proxy: try pem([second, first, u.cert]), owner: u.cert, ca: u.ca)
    }

    @Test func aProxyForAnotherKeyIsRefused() async throws {
        let u = try user()
        let s = try store()
        let id = DelegationStore.delegationID(dn: u.dn)
        _ = try await s.request(id: id, dn: u.dn)
        let other = Certificate.PrivateKey(P256.Signing.PrivateKey()).publicKey
        await #expect(throws: DelegatedProxy.Refusal("The proxy does not match the stored associated private key")) {
            try await s.accept(id: id, dn: u.dn, proxy: try delegated(u, for: other), owner: u.cert, ca: u.ca)
        }
        #expect(await s.credential(id: id, dn: u.dn) == nil)
    }

    @Test func chainsOfAnotherCAOrAnotherUserOrExpiredAreRefused() throws {
        let u = try user()
        let key = Certificate.PrivateKey(P256.Signing.PrivateKey()).publicKey
        #expect(try DelegatedProxy.verify(try delegated(u, for: key), requestKey: key, owner: u.cert, ca: u.ca, now: Date()).endEntity == 1)
        // The same user name from another lake's CA.
        let stranger = try user()
        do {
            _ = try DelegatedProxy.verify(try delegated(stranger, for: key), requestKey: key, owner: stranger.cert, ca: u.ca, now: Date())
            Issue.record("a chain of another CA verified")
        } catch let r as DelegatedProxy.Refusal { #expect(r.description.contains("is not signed by this lake's CA")) }
        // Another user of the same CA cannot put a proxy for the caller's delegation.
        let made = try u.certs.issueUser("mallory", folder: u.certs.folder + "/mallory")
        let mallory = User(
            certs: u.certs, ca: u.ca, cert: try Certificate(pemEncoded: try String(contentsOfFile: made.certPath, encoding: .utf8)),
            key: try Certificate.PrivateKey(pemEncoded: try String(contentsOfFile: made.keyPath, encoding: .utf8)), dn: made.dn)
        #expect(throws: DelegatedProxy.Refusal.self) {
            try DelegatedProxy.verify(try delegated(mallory, for: key), requestKey: key, owner: u.cert, ca: u.ca, now: Date())
        }
        // A proxy that has expired (or signed by a key that is not the user's).
        do {
            _ = try DelegatedProxy.verify(
                try delegated(u, for: key, hours: 1, now: Date().addingTimeInterval(-7200)), requestKey: key, owner: u.cert, ca: u.ca, now: Date())
            Issue.record("an expired proxy verified")
        } catch let r as DelegatedProxy.Refusal { #expect(r.description.contains("expired")) }
        let forged = try LocalCertificates.proxy(
            of: u.cert, key: Certificate.PrivateKey(P256.Signing.PrivateKey()), for: key, hours: 7, style: .rfc3820, now: Date())
        #expect(throws: DelegatedProxy.Refusal.self) {
            try DelegatedProxy.verify(try pem([forged, u.cert]), requestKey: key, owner: u.cert, ca: u.ca, now: Date())
        }
        // The user certificate alone is no delegation.
        #expect(throws: DelegatedProxy.Refusal("Malformed proxy")) {
            try DelegatedProxy.verify(try pem([u.cert]), requestKey: key, owner: u.cert, ca: u.ca, now: Date())
        }
    }

    @Test func theStoreSurvivesARestartKeepsKeysPrivateAndForgetsDeletedAndExpiredCredentials() async throws {
        let u = try user()
        let clock = WallClock()
        let folder = TemporaryLake.folder("deleg-restart") + "/delegation"
        let s = try DelegationStore(folder: folder, now: { clock.now() })
        let id = DelegationStore.delegationID(dn: u.dn)
        #expect(id.count == 16)
        #expect(await s.refusal(delegationID: id, dn: u.dn) != nil)
        let csr = try CertificateSigningRequest(pemEncoded: try await s.request(id: id, dn: u.dn))
        let end = try await s.accept(id: id, dn: u.dn, proxy: try delegated(u, for: csr.publicKey, hours: 2), owner: u.cert, ca: u.ca)
        let file = folder + "/\(id).json"
        let mode = try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? NSNumber
        #expect(mode?.intValue == 0o600)
        let again = try DelegationStore(folder: folder, now: { clock.now() })
        #expect(await again.credential(id: id, dn: u.dn)?.terminationTime == end)
        #expect(await again.credential(id: id, dn: "/CN=someone else") == nil)
        clock.advance(3 * 3600)
        #expect(await again.refusal(delegationID: id, dn: u.dn)?.contains("expired") == true)
        #expect(try await again.delete(id: id, dn: u.dn))
        #expect(try await !again.delete(id: id, dn: u.dn))
        #expect(await again.refusal(delegationID: id, dn: u.dn)?.contains("deleted") == true)
        #expect(await (try DelegationStore(folder: folder)).credential(id: id, dn: u.dn) == nil)
    }
}
