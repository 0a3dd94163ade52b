import Crypto
import _CryptoExtras
public import Foundation
import LakebedCore
public import LakebedFTS
import SwiftASN1
public import X509

/// FTS's delegated credentials (GridSite delegation): per delegation id, the key pair and certificate request the
/// server made, and the proxy the user signed for it, with its termination time. Kept in `<dataDir>/tls/delegation/`,
/// one file per delegation (mode 600: it holds private keys), written atomically, so a restart keeps them. Validity
/// is wall-clock time, as certificates are checked by clients on their clocks.
///
/// As FTS does, a request and its key are kept once made (asking again gives the same request, and a later
/// delegation reuses it); deleting a delegation deletes its credential only.
public actor DelegationStore: DelegatedCredentials {
    /// One delegation id's state, as stored.
    struct Entry: Codable, Sendable {
        /// The owner's DN (proxies stripped), what the id was derived from.
        var dn: String
        /// The certificate request handed to the client (PEM).
        var request: String
        /// The request's private key (PEM).
        var key: String
        /// The delegated proxy as FTS keeps it (proxy, private key, the chain above it), once delegated.
        var proxy: String?
        /// When the delegated proxy (or a certificate above it) expires.
        var terminationTime: Date?
    }

    /// What `credential` says of a delegation (FTS's `GET /delegation/<id>`).
    public struct Credential: Sendable, Equatable {
        /// When the delegated proxy (or a certificate above it) expires.
        public var terminationTime: Date
    }

    /// The folder the delegations are kept in.
    public let folder: String
    private let now: @Sendable () -> Date
    private var entries: [String: Entry] = [:]

    /// Opens (or creates) the store in `folder`; `now` is the wall clock credentials expire on.
    public init(folder: String, now: @escaping @Sendable () -> Date = { Date() }) throws {
        self.folder = folder
        self.now = now
        let fm = FileManager.default
        try fm.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let decoder = JSONDecoder()
        for name in try fm.contentsOfDirectory(atPath: folder) where name.hasSuffix(".json") {
            let path = (folder as NSString).appendingPathComponent(name)
            guard let data = fm.contents(atPath: path), let entry = try? decoder.decode(Entry.self, from: data) else { continue }
            entries[String(name.dropLast(5))] = entry
        }
    }

    /// FTS's delegation id for a DN: the first 16 hex digits of its SHA-1 (no VOMS attributes here), what `whoami` says.
    public static func delegationID(dn: String) -> String {
        String(Insecure.SHA1.hash(data: Data(dn.utf8)).map { String(format: "%02x", $0) }.joined().prefix(16))
    }

    /// The delegated credential of `dn` under `id`, or nil when none was delegated (or it was deleted).
    public func credential(id: String, dn: String) -> Credential? {
        guard let e = entries[id], e.dn == dn, e.proxy != nil, let end = e.terminationTime else { return nil }
        return Credential(terminationTime: end)
    }

    /// The certificate request (PEM) the client is to sign a proxy for: the one made earlier, or a new RSA key pair's.
    public func request(id: String, dn: String) throws -> String {
        if let e = entries[id], e.dn == dn { return e.request }
        let key = Certificate.PrivateKey(try _RSA.Signing.PrivateKey(keySize: .bits2048))
        // FTS names its requests O=Dummy: the client takes only the key from them.
        let subject = try DistinguishedName { OrganizationName("Dummy") }
        let csr = try CertificateSigningRequest(
            version: .v1, subject: subject, privateKey: key, attributes: CertificateSigningRequest.Attributes(),
            signatureAlgorithm: .sha256WithRSAEncryption)
        let entry = Entry(dn: dn, request: try csr.serializeAsPEM().pemString + "\n", key: try key.serializeAsPEM().pemString + "\n")
        try save(entry, id: id)
        return entry.request
    }

    /// Takes the proxy chain `pem` the client signed for `id`'s request, after `DelegatedProxy.verify` (the request's
    /// key, the caller's certificate `owner`, the lake's `ca`, validity); returns its termination time.
    public func accept(id: String, dn: String, proxy pem: String, owner: Certificate, ca: Certificate) throws -> Date {
        guard var e = entries[id], e.dn == dn else { throw DelegatedProxy.Refusal("No credential cache found") }
        let csr = try CertificateSigningRequest(pemEncoded: e.request)
        let verified = try DelegatedProxy.verify(pem, requestKey: csr.publicKey, owner: owner, ca: ca, now: now())
        // As FTS keeps it: the proxy, its private key, then the certificates above it.
        let rest = try verified.chain.dropFirst().map { try $0.serializeAsPEM().pemString + "\n" }.joined()
        e.proxy = try verified.chain[0].serializeAsPEM().pemString + "\n" + e.key + rest
        e.terminationTime = verified.notValidAfter
        try save(e, id: id)
        return verified.notValidAfter
    }

    /// Deletes the delegated credential of `dn` under `id` (the request stays); false when there was none.
    public func delete(id: String, dn: String) throws -> Bool {
        guard var e = entries[id], e.dn == dn, e.proxy != nil else { return false }
        e.proxy = nil
        e.terminationTime = nil
        try save(e, id: id)
        return true
    }

    /// Why transfers on `id`'s credential may not run now: none delegated (deleted), or expired on the wall clock.
    public func refusal(delegationID id: String, dn: String) -> String? {
        guard let c = credential(id: id, dn: dn) else {
            return "no delegated credential of \(dn) (delegation id \(id)): it was deleted"
        }
        if now() >= c.terminationTime {
            return "the delegated credential of \(dn) (delegation id \(id)) expired at \(RucioDateFormat.string(c.terminationTime))"
        }
        return nil
    }

    /// How long the credential has left (negative once expired), on the store's wall clock.
    public func remaining(_ c: Credential) -> TimeInterval { c.terminationTime.timeIntervalSince(now()) }

    /// Writes one delegation's file atomically (a temporary file, synced, renamed over the old one), mode 600.
    private func save(_ entry: Entry, id: String) throws {
        guard id.allSatisfy({ $0.isHexDigit }), !id.isEmpty else { throw DelegatedProxy.Refusal("Invalid delegation id \(id)") }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try PrivateFile.writeAtomically(try encoder.encode(entry), to: (folder as NSString).appendingPathComponent(id + ".json"))
        entries[id] = entry
    }
}
