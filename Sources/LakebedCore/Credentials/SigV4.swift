import Crypto
public import Foundation

/// AWS Signature Version 4 for query strings (a presigned URL), as botocore makes it for S3: `UNSIGNED-PAYLOAD`, only
/// `host` signed, the default port left out of the signed host but kept in the URL.
public struct SigV4Presigner: Sendable {
    /// The access key id.
    public var accessKey: String
    /// The secret key.
    public var secretKey: String
    /// The region, e.g. `us-east-1`.
    public var region: String
    /// The service, `s3`.
    public var service: String = "s3"

    public init(accessKey: String, secretKey: String, region: String) {
        self.accessKey = accessKey
        self.secretKey = secretKey
        self.region = region
    }

    /// The presigned URL for `method` on `https://<host>[:port]<path>` (path already percent-encoded), valid `expires` seconds from `date`.
    public func presign(method: String, host: String, port: Int?, path: String, date: Date, expires: Int) -> String {
        let stamp = Self.stamp(date)
        let day = String(stamp.prefix(8))
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let query: [(String, String)] = [
            ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"), ("X-Amz-Credential", "\(accessKey)/\(scope)"), ("X-Amz-Date", stamp),
            ("X-Amz-Expires", String(expires)), ("X-Amz-SignedHeaders", "host"),
        ]
        let canonicalQuery = query.sorted { $0.0 < $1.0 }.map { "\(Self.encode($0.0))=\(Self.encode($0.1))" }.joined(separator: "&")
        let signedHost = port == nil || port == 443 ? host : "\(host):\(port!)"
        let canonicalRequest = [method, path, canonicalQuery, "host:\(signedHost)\n", "host", "UNSIGNED-PAYLOAD"].joined(separator: "\n")
        let stringToSign = ["AWS4-HMAC-SHA256", stamp, scope, Self.hex(SHA256.hash(data: Data(canonicalRequest.utf8)))].joined(separator: "\n")
        var key = SymmetricKey(data: Data("AWS4\(secretKey)".utf8))
        for part in [day, region, service, "aws4_request"] {
            key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data(part.utf8), using: key)))
        }
        let signature = Self.hex(HMAC<SHA256>.authenticationCode(for: Data(stringToSign.utf8), using: key))
        let authority = port.map { "\(host):\($0)" } ?? host
        return "https://\(authority)\(path)?\(canonicalQuery)&X-Amz-Signature=\(signature)"
    }

    /// `yyyyMMdd'T'HHmmss'Z'` in UTC.
    static func stamp(_ date: Date) -> String {
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone(identifier: "UTC")!
        let c = cal.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return String(format: "%04d%02d%02dT%02d%02d%02dZ", c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!)
    }

    /// Percent-encoding as SigV4 wants it: everything but `A-Za-z0-9-_.~` (and `/` when `keepSlash`).
    public static func encode(_ s: String, keepSlash: Bool = false) -> String {
        var out = ""
        for b in s.utf8 {
            let c = Character(UnicodeScalar(b))
            if c.isASCII && (c.isLetter || c.isNumber || "-_.~".contains(c) || (keepSlash && c == "/")) {
                out.append(c)
            } else {
                out += String(format: "%%%02X", b)
            }
        }
        return out
    }

    static func hex<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 { bytes.map { String(format: "%02x", $0) }.joined() }
}
