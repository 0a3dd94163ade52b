import Crypto
import CryptoExtras
import Foundation
import GRDB

/// Signed URLs for object stores (Rucio's `core/credential.py`): `gcs` (a V2 signature made with a Google service
/// account's RSA key), `s3` (an AWS SigV4 presigned URL, path- or host-style as the RSE's `s3_url_style` says) and `swift`
/// (a TempURL). The keys come from where Rucio's server takes them, in the lake's folder: `<data-dir>/etc/rse-accounts.cfg`
/// (JSON, one entry per RSE id — or, here, per RSE name — with `access_key`, `secret_key`, `signature_version`, `region`
/// for S3 and `tempurl_key` for Swift) and `<data-dir>/etc/google-cloud-storage.json` (a service account key file).
public struct CredentialStore: CatalogStore {
    /// The catalog this works on.
    public let catalog: Catalog
    /// Works on `catalog`.
    public init(catalog: Catalog) { self.catalog = catalog }

    /// The services Rucio signs for.
    public static let services = ["gcs", "s3", "swift"]
    /// The operations and the HTTP method each signs.
    public static let operations = ["read": "GET", "write": "PUT", "delete": "DELETE"]

    /// Where the RSE credentials are kept.
    public var rseAccountsPath: String { dataDir + "/etc/rse-accounts.cfg" }
    /// Where the Google service account key is kept.
    public var gcsKeyPath: String { dataDir + "/etc/google-cloud-storage.json" }

    /// A signed URL for `operation` on `url` at `rse`, valid `lifetime` seconds from now (Rucio's `get_signed_url`).
    public func signedURL(rse: String, service: String, operation: String, url: String, lifetime: Int, issuer: Issuer) async throws -> String {
        let (rseID, urlStyle) = try await db.read { db -> (String, String?) in
            if !issuer.isAdmin && issuer.account != "root" {
                let allowed =
                    try db.one(
                        sql: "SELECT 1 FROM account_attributes WHERE account = ? AND key = 'sign-url'", arguments: [issuer.account]) != nil
                guard allowed else {
                    throw RucioError.accessDenied(
                        "Account \(issuer.account) can not get signed URL for rse=\(rse), service=\(service), operation=\(operation), url=\(url), lifetime=\(lifetime)"
                    )
                }
            }
            let model = try RSEStore.rse(db, name: rse)
            let style = try String.fetchOne(
                db, sql: "SELECT value FROM rse_attributes WHERE rse_id = ? AND key = 's3_url_style'", arguments: [model.id])
            return (model.id, style.map(Self.unquoted))
        }
        guard Self.services.contains(service) else { throw RucioError.unsupportedOperation("Service must be \"gcs\", \"s3\" or \"swift\"") }
        guard let method = Self.operations[operation] else {
            throw RucioError.unsupportedOperation("Operation must be \"read\", \"write\", or \"delete\"")
        }
        guard !url.isEmpty, let parts = URLComponents(string: url) else { throw RucioError.unsupportedOperation("URL must not be empty") }
        let now = clock.now()
        let host = parts.host ?? ""
        let path = parts.percentEncodedPath
        switch service {
        case "s3":
            let style = urlStyle ?? "path"
            let pieces = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            let bucket: String
            let key: String
            let signedHost: String
            switch style {
            case "path":
                guard pieces.count >= 3 else { throw RucioError.unsupportedOperation("Not a valid Path-Style S3 URL") }
                bucket = pieces[1]
                key = pieces[2...].joined(separator: "/")
                signedHost = host
            case "host":
                guard pieces.count >= 2 else { throw RucioError.unsupportedOperation("Not a valid Host-Style S3 URL") }
                bucket = String(host.split(separator: ".").first ?? "")
                key = pieces[1...].joined(separator: "/")
                signedHost = host
            default:
                throw RucioError.unsupportedOperation("Not a valid RSE S3 URL style (allowed values: path|host)")
            }
            let cred = try credentials(rseID: rseID, rse: rse)
            guard let access = cred["access_key"]?.stringValue, let secret = cred["secret_key"]?.stringValue else {
                throw RucioError(.errorLoadingCredentials, "No access_key/secret_key for RSE \(rse) in \(rseAccountsPath)")
            }
            let version = cred["signature_version"]?.stringValue ?? "s3v4"
            guard ["s3v4", "v4"].contains(version) else {
                throw RucioError.unsupportedOperation("S3 signature version '\(version)' is not supported here (only s3v4)")
            }
            let signer = SigV4Presigner(accessKey: access, secretKey: secret, region: cred["region"]?.stringValue ?? "us-east-1")
            // As botocore: the key is percent-encoded again (Rucio hands it the URL's raw path), `/` kept.
            let encodedKey = SigV4Presigner.encode(key, keepSlash: true)
            let objectPath = style == "path" ? "/\(bucket)/\(encodedKey)" : "/\(encodedKey)"
            return signer.presign(method: method, host: signedHost, port: parts.port ?? 443, path: objectPath, date: now, expires: lifetime)
        case "swift":
            let cred = try credentials(rseID: rseID, rse: rse)
            guard let tempURLKey = cred["tempurl_key"]?.stringValue else {
                throw RucioError(.errorLoadingCredentials, "No tempurl_key for RSE \(rse) in \(rseAccountsPath)")
            }
            let expires = Int(now.timeIntervalSince1970) + lifetime
            let body = "\(method)\n\(expires)\n\(path)"
            let sig = HMAC<Insecure.SHA1>.authenticationCode(for: Data(body.utf8), using: SymmetricKey(data: Data(tempURLKey.utf8)))
            return "https://\(host)\(path)?temp_url_sig=\(SigV4Presigner.hex(sig))&temp_url_expires=\(expires)"
        default:
            let (email, key) = try gcsServiceAccount()
            let expires = Int(now.timeIntervalSince1970) + lifetime
            let toSign = "\(method)\n\n\n\(expires)\n\(path)"
            let signature = try key.signature(for: SHA256.hash(data: Data(toSign.utf8)), padding: .insecurePKCS1v1_5)
            let encoded = SigV4Presigner.encode(signature.rawRepresentation.base64EncodedString())
            return "https://\(host)\(path)?GoogleAccessId=\(email)&Expires=\(expires)&Signature=\(encoded)"
        }
    }

    /// The RSE's entry in `rse-accounts.cfg`, by id as Rucio keys it, or by name.
    func credentials(rseID: String, rse: String) throws -> JSONObject {
        guard let data = FileManager.default.contents(atPath: rseAccountsPath) else {
            throw RucioError(.errorLoadingCredentials, "Unable to to load user credentials: no file \(rseAccountsPath)")
        }
        guard let all = (try? JSONParser.parse([UInt8](data)))?.objectValue else {
            throw RucioError(.errorLoadingCredentials, "Unable to to load user credentials: \(rseAccountsPath) is not a JSON object")
        }
        guard let entry = (all[rseID] ?? all[rse])?.objectValue else {
            throw RucioError(.errorLoadingCredentials, "No credentials for RSE \(rse) (id \(rseID)) in \(rseAccountsPath)")
        }
        return entry
    }

    func gcsServiceAccount() throws -> (String, _RSA.Signing.PrivateKey) {
        guard let data = FileManager.default.contents(atPath: gcsKeyPath), let o = (try? JSONParser.parse([UInt8](data)))?.objectValue,
            let email = o["client_email"]?.stringValue, let pem = o["private_key"]?.stringValue
        else {
            throw RucioError(.errorLoadingCredentials, "Unable to to load user credentials: no service account key at \(gcsKeyPath)")
        }
        do {
            return (email, try _RSA.Signing.PrivateKey(pemRepresentation: pem))
        } catch {
            throw RucioError(.errorLoadingCredentials, "The private key in \(gcsKeyPath) is not an RSA key: \(error)")
        }
    }

    static func unquoted(_ v: String) -> String { v.hasPrefix("\"") && v.hasSuffix("\"") && v.count >= 2 ? String(v.dropFirst().dropLast()) : v }
}

extension Catalog {
    /// Signed URLs for object stores.
    public var credentials: CredentialStore { CredentialStore(catalog: self) }
}
