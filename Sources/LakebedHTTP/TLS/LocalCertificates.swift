import Crypto
import Foundation
public import NIOSSL
import SwiftASN1
import X509

/// The TLS identity Lakebed serves HTTPS with: a private CA made on first use and a server certificate it signs for
/// `localhost`, `127.0.0.1` and `::1`, kept under `<dataDir>/tls/`. Clients trust it with `ca_cert = <dataDir>/tls/ca.pem`
/// (`lakebed cert` prints the path or the PEM).
///
/// Validity is wall-clock time (clients check it against their own clock, not the lake's): ten years from creation.
public struct LocalCertificates: Sendable {
    /// `<dataDir>/tls`.
    public let folder: String
    /// The CA certificate clients should trust (PEM).
    public var caPath: String { folder + "/ca.pem" }
    /// The server certificate followed by the CA (PEM chain).
    public var chainPath: String { folder + "/server.pem" }
    /// The server's private key (PEM, mode 600).
    public var keyPath: String { folder + "/server-key.pem" }
    var caKeyPath: String { folder + "/ca-key.pem" }

    /// The names the server certificate is valid for.
    public static let dnsNames = ["localhost"]
    static let ipAddresses: [[UInt8]] = [[127, 0, 0, 1], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]]

    /// Opens the data folder's TLS identity, creating the CA and the server certificate if they are missing.
    public static func ensure(dataDir: String) throws -> LocalCertificates {
        let certs = LocalCertificates(folder: (dataDir as NSString).standardizingPath + "/tls")
        let fm = FileManager.default
        if ![certs.caPath, certs.chainPath, certs.keyPath].allSatisfy(fm.fileExists(atPath:)) {
            try fm.createDirectory(atPath: certs.folder, withIntermediateDirectories: true)
            try certs.generate()
        }
        return certs
    }

    func generate() throws {
        let now = Date()
        let notBefore = now.addingTimeInterval(-3600)
        let notAfter = now.addingTimeInterval(10 * 365 * 86400)
        let caKey = P256.Signing.PrivateKey()
        let caPrivate = Certificate.PrivateKey(caKey)
        let caName = try DistinguishedName {
            OrganizationName("Lakebed")
            CommonName("Lakebed local CA")
        }
        let caSKI = SubjectKeyIdentifier(hash: caPrivate.publicKey)
        let ca = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: caPrivate.publicKey,
            notValidBefore: notBefore, notValidAfter: notAfter, issuer: caName, subject: caName,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                caSKI
            },
            issuerPrivateKey: caPrivate)

        let serverKey = P256.Signing.PrivateKey()
        let serverPrivate = Certificate.PrivateKey(serverKey)
        let serverName = try DistinguishedName {
            OrganizationName("Lakebed")
            CommonName("localhost")
        }
        let server = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: serverPrivate.publicKey,
            notValidBefore: notBefore, notValidAfter: notAfter, issuer: caName, subject: serverName,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth])
                Certificate.Extension(oid: .X509ExtensionID.subjectAlternativeName, critical: false, value: ArraySlice(Self.subjectAltNamesDER()))
                SubjectKeyIdentifier(hash: serverPrivate.publicKey)
                AuthorityKeyIdentifier(keyIdentifier: caSKI.keyIdentifier)
            },
            issuerPrivateKey: caPrivate)

        let caPEM = try ca.serializeAsPEM().pemString + "\n"
        try Self.write(caPEM, to: caPath, mode: 0o644)
        try Self.write(try server.serializeAsPEM().pemString + "\n" + caPEM, to: chainPath, mode: 0o644)
        try Self.write(serverKey.pemRepresentation + "\n", to: keyPath, mode: 0o600)
        try Self.write(caKey.pemRepresentation + "\n", to: caKeyPath, mode: 0o600)
    }

    /// The subjectAltName value, DER by hand: SEQUENCE of dNSName [2] and iPAddress [7] (swift-certificates' IP form
    /// needs SwiftASN1, which is not a direct dependency).
    static func subjectAltNamesDER() -> [UInt8] {
        var body: [UInt8] = []
        for name in dnsNames { body += [0x82] + derLength(name.utf8.count) + Array(name.utf8) }
        for ip in ipAddresses { body += [0x87] + derLength(ip.count) + ip }
        return [0x30] + derLength(body.count) + body
    }

    static func derLength(_ n: Int) -> [UInt8] {
        if n < 0x80 { return [UInt8(n)] }
        if n < 0x100 { return [0x81, UInt8(n)] }
        return [0x82, UInt8(n >> 8), UInt8(n & 0xff)]
    }

    static func write(_ text: String, to path: String, mode: Int) throws {
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: mode]) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
    }

    /// The CA certificate in PEM form.
    public func caPEM() throws -> String { try String(contentsOfFile: caPath, encoding: .utf8) }

    /// A server-side TLS configuration presenting the certificate chain.
    public func serverConfiguration() throws -> TLSConfiguration {
        let chain = try NIOSSLCertificate.fromPEMFile(chainPath).map { NIOSSLCertificateSource.certificate($0) }
        let key = try NIOSSLPrivateKey(file: keyPath, format: .pem)
        return TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
    }
}
