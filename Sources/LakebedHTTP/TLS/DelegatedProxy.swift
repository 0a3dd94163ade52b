public import Foundation
import SwiftASN1
public import X509

/// Checks the proxy a client puts for a GridSite delegation (FTS's `PUT /delegation/<id>/credential`): the chain it
/// sends (the new proxy first, then the certificates above it) must be a proxy for the key of the server's request,
/// issued by the caller's own certificate or a proxy of it, chaining to the lake's CA, and valid now. What FTS
/// checks (the request's key, the issuer's signature, the subject named after the issuer), plus the chain to the CA
/// and the owner, which FTS leaves to the transfer's storage.
public enum DelegatedProxy {
    /// Why a delegated proxy was refused (FTS answers `400 Could not process the proxy: <reason>`).
    public struct Refusal: Error, Equatable, CustomStringConvertible {
        /// What is wrong.
        public var description: String
        public init(_ description: String) { self.description = description }
    }

    /// The certificates of a PEM text, in order; other PEM blocks (a private key) are skipped.
    public static func certificates(pem: String) throws -> [Certificate] {
        let documents: [PEMDocument]
        do { documents = try PEMDocument.parseMultiple(pemString: pem) } catch { throw Refusal("Malformed proxy") }
        var out: [Certificate] = []
        for d in documents where d.discriminator == "CERTIFICATE" {
            do { out.append(try Certificate(pemDocument: d)) } catch { throw Refusal("Malformed proxy: a certificate does not parse") }
        }
        return out
    }

    /// Verifies the delegated chain `pem` for the request whose key is `requestKey`, put by the holder of `owner` (the
    /// end-entity certificate the caller authenticated with), against the lake's CA at `now` (wall clock). Returns
    /// the verified chain; its `notValidAfter` is the delegation's termination time.
    public static func verify(_ pem: String, requestKey: Certificate.PublicKey, owner: Certificate, ca: Certificate, now: Date) throws
        -> ProxyChain.Verified
    {
        let chain = try certificates(pem: pem)
        guard chain.count >= 2 else { throw Refusal("Malformed proxy") }
        let proxy = chain[0]
        guard ProxyChain.isProxy(proxy) else {
            throw Refusal("\(ProxyChain.legacyDN(proxy.subject)) is not a proxy certificate (RFC 3820 or legacy)")
        }
        guard proxy.publicKey == requestKey else { throw Refusal("The proxy does not match the stored associated private key") }
        let verified: ProxyChain.Verified
        do { verified = try ProxyChain.verify(chain, ca: ca, now: now) } catch let r as ProxyChain.Refusal { throw Refusal(r.description) }
        guard verified.chain[verified.endEntity] == owner else {
            throw Refusal(
                "the proxy was issued by \(verified.identityDN), not by the certificate this request came with (\(ProxyChain.legacyDN(owner.subject)))")
        }
        return verified
    }
}
