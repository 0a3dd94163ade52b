import Crypto
import Foundation
import LakebedTesting
import SwiftASN1
import Testing
import X509

@testable import LakebedHTTP

@Suite("X.509 chains and proxies")
struct ProxyChainTests {
    func lake() throws -> (LocalCertificates, Certificate) {
        let certs = try LocalCertificates.ensure(dataDir: TemporaryLake.folder("x509"))
        return (certs, try certs.caCertificate())
    }

    func user(_ certs: LocalCertificates, _ style: LocalCertificates.ProxyStyle = .rfc3820) throws -> (Certificate, Certificate, P256.Signing.PrivateKey) {
        let made = try certs.issueUser("jane", folder: certs.folder + "/jane", proxyHours: 1, proxyStyle: style)
        let user = try Certificate(pemEncoded: try String(contentsOfFile: made.certPath, encoding: .utf8))
        let pems = try String(contentsOfFile: made.proxyPath!, encoding: .utf8)
        let proxy = try Certificate(pemEncoded: String(pems[..<pems.range(of: "-----END CERTIFICATE-----")!.upperBound]))
        let key = try P256.Signing.PrivateKey(pemRepresentation: try String(contentsOfFile: made.keyPath, encoding: .utf8))
        return (user, proxy, key)
    }

    @Test func userCertificateAndItsProxiesVerifyAndNameTheUser() throws {
        let (certs, ca) = try lake()
        for style in LocalCertificates.ProxyStyle.allCases {
            let (user, proxy, _) = try user(certs, style)
            #expect(try ProxyChain.verify([user], ca: ca, now: Date()).identityDN == "/DC=org/DC=lakebed/OU=Users/CN=jane")
            let v = try ProxyChain.verify([proxy, user], ca: ca, now: Date())
            #expect(v.endEntity == 1)
            #expect(v.subjectDN.hasPrefix("/DC=org/DC=lakebed/OU=Users/CN=jane/CN="))
            #expect(v.identityDN == "/DC=org/DC=lakebed/OU=Users/CN=jane")
        }
    }

    @Test func refusals() throws {
        let (certs, ca) = try lake()
        let (user, proxy, key) = try user(certs)
        #expect(throws: ProxyChain.Refusal.self) { try ProxyChain.verify([proxy], ca: ca, now: Date()) }
        #expect(throws: ProxyChain.Refusal.self) { try ProxyChain.verify([proxy, user], ca: ca, now: Date().addingTimeInterval(7200)) }
        // A chain from another lake's CA.
        let (_, otherCA) = try lake()
        #expect(throws: ProxyChain.Refusal.self) { try ProxyChain.verify([proxy, user], ca: otherCA, now: Date()) }
        // A proxy whose signature is not the user's.
        let (forged, _) = try LocalCertificates.proxy(
            of: user, key: Certificate.PrivateKey(P256.Signing.PrivateKey()), hours: 1, style: .rfc3820, now: Date())
        #expect(throws: ProxyChain.Refusal.self) { try ProxyChain.verify([forged, user], ca: ca, now: Date()) }
        let (good, _) = try LocalCertificates.proxy(of: user, key: Certificate.PrivateKey(key), hours: 1, style: .rfc3820, now: Date())
        #expect(try ProxyChain.verify([good, user], ca: ca, now: Date()).endEntity == 1)
        do {
            _ = try ProxyChain.verify([user], ca: ca, now: Date().addingTimeInterval(400 * 86400))
            Issue.record("an expired user certificate verified")
        } catch let r as ProxyChain.Refusal { #expect(r.description.contains("expired")) }
    }

    @Test func rucioStripsProxyCNsOnly() {
        #expect(ProxyChain.stripProxyAttributes("/DC=ch/CN=Jane/CN=123/CN=proxy/CN=limited proxy") == "/DC=ch/CN=Jane")
        #expect(ProxyChain.stripProxyAttributes("/DC=ch/CN=Jane/CN=robot") == "/DC=ch/CN=Jane/CN=robot")
        #expect(ProxyChain.stripProxyAttributes("/DC=ch/CN=Jane/CN=") == "/DC=ch/CN=Jane/CN=")
    }
}
