import Crypto
import _CryptoExtras
public import Foundation
import SwiftASN1
public import X509

/// User certificates and proxies from the lake's CA (`lakebed cert --user`), for X.509 logins.
extension LocalCertificates {
    /// The CA certificate, parsed (what client certificates are verified against).
    public func caCertificate() throws -> Certificate { try Certificate(pemEncoded: try caPEM()) }

    /// The kinds of proxy grid tools make: RFC 3820 (`voms-proxy-init -rfc`, the default of today's tools: a ProxyCertInfo
    /// extension and a numeric CN) or the legacy Globus Toolkit 2 kind (`CN=proxy`, no extension).
    public enum ProxyStyle: String, Sendable, CaseIterable {
        case rfc3820, legacy
    }

    /// A user name `issueUser` cannot put in a DN.
    public struct UserNameRefused: Error, CustomStringConvertible {
        /// Why.
        public var description: String
    }

    /// What `issueUser` wrote.
    public struct UserCredentials: Sendable {
        /// The user certificate (PEM).
        public var certPath: String
        /// Its private key (PEM, mode 600, as the Rucio client insists).
        public var keyPath: String
        /// The proxy file (proxy certificate, its key, the user certificate), when one was asked for.
        public var proxyPath: String?
        /// The DN to register as the account's X509 identity (`/DC=org/DC=lakebed/OU=Users/CN=<name>`).
        public var dn: String
    }

    /// Issues a certificate for user `name` signed by the lake's CA (valid a year from now, wall clock) and, when
    /// `proxyHours` is given, a proxy of it valid that many hours; writes `usercert.pem`, `userkey.pem` and `x509up`
    /// into `folder`.
    public func issueUser(_ name: String, folder: String, proxyHours: Double? = nil, proxyStyle: ProxyStyle = .rfc3820) throws -> UserCredentials {
        guard !name.isEmpty, name.utf8.count <= 64, !name.contains("/") else {
            throw UserNameRefused(description: "a user name is 1 to 64 characters, without '/': \(name)")
        }
        let caKey = try P256.Signing.PrivateKey(pemRepresentation: try String(contentsOfFile: caKeyPath, encoding: .utf8))
        let ca = try caCertificate()
        let now = Date()
        // RSA, as grid tools expect (the fts3 client and M2Crypto load nothing else); the CA signs with its P-256 key.
        let userPrivate = Certificate.PrivateKey(try _RSA.Signing.PrivateKey(keySize: .bits2048))
        let subject = try DistinguishedName {
            DomainComponent("org")
            DomainComponent("lakebed")
            OrganizationalUnitName("Users")
            CommonName(name)
        }
        let user = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: userPrivate.publicKey,
            notValidBefore: now.addingTimeInterval(-300), notValidAfter: now.addingTimeInterval(365 * 86400), issuer: ca.subject,
            subject: subject,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true, keyEncipherment: true))
                try ExtendedKeyUsage([.clientAuth])
                SubjectKeyIdentifier(hash: userPrivate.publicKey)
            },
            issuerPrivateKey: Certificate.PrivateKey(caKey))
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let certPath = (folder as NSString).appendingPathComponent("usercert.pem")
        let keyPath = (folder as NSString).appendingPathComponent("userkey.pem")
        let userPEM = try user.serializeAsPEM().pemString + "\n"
        try Self.write(userPEM, to: certPath, mode: 0o644)
        try Self.write(try userPrivate.serializeAsPEM().pemString + "\n", to: keyPath, mode: 0o600)
        var proxyPath: String? = nil
        if let proxyHours {
            let (proxy, proxyKey) = try Self.proxy(of: user, key: userPrivate, hours: proxyHours, style: proxyStyle, now: now)
            let path = (folder as NSString).appendingPathComponent("x509up")
            try Self.write(try proxy.serializeAsPEM().pemString + "\n" + proxyKey.serializeAsPEM().pemString + "\n" + userPEM, to: path, mode: 0o600)
            proxyPath = path
        }
        return UserCredentials(certPath: certPath, keyPath: keyPath, proxyPath: proxyPath, dn: ProxyChain.legacyDN(subject))
    }

    /// A proxy of `issuer` (a user certificate or another proxy) signed with its key, valid `hours` from `now`.
    public static func proxy(
        of issuer: Certificate, key: Certificate.PrivateKey, hours: Double, style: ProxyStyle, now: Date
    ) throws
        -> (Certificate, Certificate.PrivateKey)
    {
        let proxyKey = Certificate.PrivateKey(try _RSA.Signing.PrivateKey(keySize: .bits2048))
        return (try proxy(of: issuer, key: key, for: proxyKey.publicKey, hours: hours, style: style, now: now), proxyKey)
    }

    /// A proxy of `issuer` for `publicKey` (what a delegation signs: the key of the server's request), signed with
    /// the issuer's key, valid `hours` from `now`.
    public static func proxy(
        of issuer: Certificate, key: Certificate.PrivateKey, for publicKey: Certificate.PublicKey, hours: Double, style: ProxyStyle,
        now: Date
    ) throws -> Certificate {
        let serial = Certificate.SerialNumber()
        var rdns = Array(issuer.subject)
        let cn: String
        switch style {
        case .rfc3820:
            // Grid tools name an RFC 3820 proxy after its serial number, in decimal digits.
            cn = String(serial.bytes.prefix(7).reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
        case .legacy:
            cn = "proxy"
        }
        rdns.append(RelativeDistinguishedName(.init(type: .RDNAttributeType.commonName, utf8String: cn)))
        var extensions = try Certificate.Extensions {
            Critical(KeyUsage(digitalSignature: true, keyEncipherment: true))
        }
        if style == .rfc3820 {
            try extensions.append(Certificate.Extension(oid: ProxyChain.proxyCertInfo, critical: true, value: ArraySlice(proxyCertInfoInheritAll)))
        }
        return try Certificate(
            version: .v3, serialNumber: serial, publicKey: publicKey,
            notValidBefore: now.addingTimeInterval(-300), notValidAfter: now.addingTimeInterval(hours * 3600), issuer: issuer.subject,
            subject: DistinguishedName(rdns), extensions: extensions, issuerPrivateKey: key)
    }

    /// ProxyCertInfo ::= SEQUENCE { proxyPolicy SEQUENCE { policyLanguage id-ppl-inheritAll } }, in DER.
    static let proxyCertInfoInheritAll: [UInt8] = [0x30, 0x0C, 0x30, 0x0A, 0x06, 0x08, 0x2B, 0x06, 0x01, 0x05, 0x05, 0x07, 0x15, 0x01]
}
