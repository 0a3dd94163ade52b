public import Foundation
public import SwiftASN1
public import X509

/// Verifies a client's certificate chain as grid servers do (BoringSSL accepts no proxy certificates by itself):
/// an end-entity certificate signed by the lake's CA, under it any number of proxies (RFC 3820 ones with a
/// ProxyCertInfo extension, or the legacy Globus Toolkit 2 ones named `CN=proxy` / `CN=limited proxy`), each signed by
/// the certificate above it and named after it plus one `CN`. Every certificate must be within its validity period.
public enum ProxyChain {
    /// RFC 3820's ProxyCertInfo extension (`id-pe-proxyCertInfo`).
    public static let proxyCertInfo: ASN1ObjectIdentifier = [1, 3, 6, 1, 5, 5, 7, 1, 14]
    /// The pre-RFC (GT3 draft) ProxyCertInfo extension some tools still write.
    public static let draftProxyCertInfo: ASN1ObjectIdentifier = [1, 3, 6, 1, 4, 1, 3536, 1, 222]
    /// The policy "inherit all" of RFC 3820 (`id-ppl-inheritAll`), what ordinary proxies carry.
    public static let inheritAll: ASN1ObjectIdentifier = [1, 3, 6, 1, 5, 5, 7, 21, 1]

    /// Why a chain was refused (the message of the 401 `CannotAuthenticate`).
    public struct Refusal: Error, Equatable, CustomStringConvertible {
        /// What is wrong, in words a user can act on.
        public var description: String
        public init(_ description: String) { self.description = description }
    }

    /// A verified chain: the certificates as presented (leaf first) and the end-entity certificate's position in it.
    public struct Verified: Sendable {
        /// The presented chain, leaf (the newest proxy, or the end-entity certificate) first.
        public var chain: [Certificate]
        /// Index of the end-entity (user) certificate in `chain`; the certificates before it are proxies.
        public var endEntity: Int
        /// The leaf's subject in Apache's legacy form: what mod_ssl puts in `SSL_CLIENT_S_DN`.
        public var subjectDN: String { ProxyChain.legacyDN(chain[0].subject) }
        /// The DN Rucio maps to an identity: the leaf's, with the proxies' `CN`s stripped (`strip_x509_proxy_attributes`).
        public var identityDN: String { ProxyChain.stripProxyAttributes(subjectDN) }
        /// The earliest end of validity along the chain.
        public var notValidAfter: Date { chain[...endEntity].map(\.notValidAfter).min()! }
    }

    /// Whether a certificate is a proxy: RFC 3820 or draft ProxyCertInfo, or a legacy `CN=proxy` one (named after its
    /// issuer plus that CN).
    public static func isProxy(_ c: Certificate) -> Bool {
        if c.extensions[oid: proxyCertInfo] != nil || c.extensions[oid: draftProxyCertInfo] != nil { return true }
        guard let last = lastCN(c.subject), last == "proxy" || last == "limited proxy" else { return false }
        return Array(c.subject.dropLast()) == Array(c.issuer)
    }

    /// Verifies `chain` (leaf first, as TLS presents it) against the trust anchor `ca` at `now`.
    public static func verify(_ chain: [Certificate], ca: Certificate, now: Date) throws -> Verified {
        guard !chain.isEmpty else { throw Refusal("no client certificate") }
        guard let eec = chain.firstIndex(where: { !isProxy($0) }) else {
            throw Refusal("the chain holds only proxy certificates: send the user certificate with the proxy")
        }
        for (i, c) in chain[...eec].enumerated() {
            try checkValidity(c, now: now, what: i < eec ? "proxy certificate \(legacyDN(c.subject))" : "certificate \(legacyDN(c.subject))")
        }
        for i in 0..<eec {
            let proxy = chain[i]
            let issuer = chain[i + 1]
            guard Array(proxy.issuer) == Array(issuer.subject) else {
                throw Refusal("proxy \(legacyDN(proxy.subject)) was not issued by \(legacyDN(issuer.subject))")
            }
            guard proxy.subject.count == issuer.subject.count + 1, Array(proxy.subject.dropLast()) == Array(issuer.subject),
                let cn = proxy.subject.last, cn.count == 1, cn.first?.type == .RDNAttributeType.commonName
            else {
                throw Refusal("proxy \(legacyDN(proxy.subject)) must be named after its issuer plus one CN (RFC 3820)")
            }
            guard issuer.publicKey.isValidSignature(proxy.signature, for: proxy) else {
                throw Refusal("the signature of proxy \(legacyDN(proxy.subject)) does not verify with its issuer's key")
            }
            if let bc = try? proxy.extensions.basicConstraints, case .isCertificateAuthority = bc {
                throw Refusal("proxy \(legacyDN(proxy.subject)) claims to be a CA")
            }
        }
        let user = chain[eec]
        if let bc = try? user.extensions.basicConstraints, case .isCertificateAuthority = bc {
            throw Refusal("\(legacyDN(user.subject)) is a CA certificate, not a user certificate")
        }
        guard Array(user.issuer) == Array(ca.subject), ca.publicKey.isValidSignature(user.signature, for: user) else {
            throw Refusal(
                "certificate \(legacyDN(user.subject)) (issued by \(legacyDN(user.issuer))) is not signed by this lake's CA \(legacyDN(ca.subject))")
        }
        try checkValidity(ca, now: now, what: "the lake's CA")
        return Verified(chain: chain, endEntity: eec)
    }

    static func checkValidity(_ c: Certificate, now: Date, what: String) throws {
        if now < c.notValidBefore { throw Refusal("\(what) is not valid before \(RucioDateFormat.string(c.notValidBefore))") }
        if now > c.notValidAfter { throw Refusal("\(what) expired at \(RucioDateFormat.string(c.notValidAfter))") }
    }

    static func lastCN(_ dn: DistinguishedName) -> String? {
        guard let rdn = dn.last, rdn.count == 1, let a = rdn.first, a.type == .RDNAttributeType.commonName else { return nil }
        return String(a.value)
    }

    /// Short names of attribute types as OpenSSL prints them (what mod_ssl's legacy DN string uses).
    static let shortNames: [ASN1ObjectIdentifier: String] = [
        .RDNAttributeType.commonName: "CN", .RDNAttributeType.countryName: "C", .RDNAttributeType.localityName: "L",
        .RDNAttributeType.stateOrProvinceName: "ST", .RDNAttributeType.organizationName: "O",
        .RDNAttributeType.organizationalUnitName: "OU", .RDNAttributeType.streetAddress: "street",
        .RDNAttributeType.domainComponent: "DC", [1, 2, 840, 113_549, 1, 9, 1]: "emailAddress", [0, 9, 2342, 19_200_300, 100, 1, 1]: "UID",
        [2, 5, 4, 5]: "serialNumber", [2, 5, 4, 4]: "SN", [2, 5, 4, 42]: "GN", [2, 5, 4, 12]: "title",
    ]

    /// A DN in Apache's legacy form (`SSLOptions +LegacyDNStringFormat`, what Rucio's servers use): `/DC=ch/DC=cern/CN=Jane`,
    /// most significant first, values as they are, attributes of one RDN joined with `+`.
    public static func legacyDN(_ dn: DistinguishedName) -> String {
        dn.map { rdn in
            "/"
                + rdn.map { a in
                    let name = shortNames[a.type] ?? a.type.description
                    return "\(name)=\(String(a.value) ?? a.value.description)"
                }.joined(separator: "+")
        }.joined()
    }

    /// Rucio's `strip_x509_proxy_attributes`: trailing `/CN=proxy`, `/CN=limited proxy` and `/CN=<digits>` go.
    public static func stripProxyAttributes(_ dn: String) -> String {
        var s = dn
        while true {
            guard let r = s.range(of: "/CN=", options: .backwards) else { return s }
            let value = s[r.upperBound...]
            guard value == "proxy" || value == "limited proxy" || (!value.isEmpty && value.allSatisfy(\.isASCIIDigit)) else { return s }
            s = String(s[..<r.lowerBound])
        }
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}

/// Dates in refusals, as Rucio writes them.
enum RucioDateFormat {
    static func string(_ d: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyy-MM-dd HH:mm:ss 'UTC'"
        return f.string(from: d)
    }
}
