import CryptoExtras
import Foundation
import JWTKit
public import LakebedCore

typealias RSAPrivateKey = JWTKit.Insecure.RSA.PrivateKey

/// One RS256 signing key and its key id.
public struct SigningKey: Sendable {
    /// Key id written in each token's header (`rsa1`, `rsa2`, … as IAM names its default key).
    public let kid: String
    let key: RSAPrivateKey

    /// The JWK of the public half.
    public var jwk: JSON {
        let (n, e) = try! key.publicKey.getKeyPrimitives()
        let fields: [(String, JSON)] = [
            ("kty", .string("RSA")), ("use", .string("sig")), ("alg", .string("RS256")), ("kid", .string(kid)),
            ("n", .string(Base64URL.encode(n))), ("e", .string(Base64URL.encode(e))),
        ]
        return .object(JSONObject(fields))
    }
}

/// The IAM's signing keys, kept as PEM files under `<dataDir>/iam/keys/`; the newest signs, all published ones verify.
public struct KeyStore: Sendable {
    /// Folder holding `<kid>.pem` files.
    public let directory: String
    /// Keys, oldest first.
    public private(set) var keys: [SigningKey]

    /// Opens the key folder, generating the first key if there is none.
    public static func open(directory: String) throws -> KeyStore {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var store = KeyStore(directory: directory, keys: try load(directory))
        if store.keys.isEmpty { try store.rotate() }
        return store
    }

    /// The key that signs new tokens.
    public var current: SigningKey { keys[keys.count - 1] }

    /// Adds a new signing key and retires all but the previous one, which keeps verifying tokens it signed.
    @discardableResult
    public mutating func rotate(keep: Int = 2) throws -> String {
        let next = (keys.compactMap { Self.number($0.kid) }.max() ?? 0) + 1
        let kid = "rsa\(next)"
        let key = try RSAPrivateKey(backing: _RSA.Signing.PrivateKey(keySize: .bits2048))
        let path = directory + "/\(kid).pem"
        guard FileManager.default.createFile(atPath: path, contents: Data(key.pemRepresentation.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
        keys.append(SigningKey(kid: kid, key: key))
        while keys.count > max(1, keep) {
            let old = keys.removeFirst()
            try? FileManager.default.removeItem(atPath: directory + "/\(old.kid).pem")
        }
        return kid
    }

    /// `{"keys": [...]}`, the JWKS document.
    public var jwks: JSON { ["keys": .array(keys.reversed().map(\.jwk))] }

    /// A JWTKit key collection holding every key, the newest as default.
    func collection() async -> JWTKeyCollection {
        let c = JWTKeyCollection()
        for k in keys { await c.add(rsa: k.key, digestAlgorithm: .sha256, kid: JWKIdentifier(string: k.kid)) }
        return c
    }

    /// The key files in a folder, sorted (what `refreshKeys` compares).
    static func fileNames(_ directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".pem") }.sorted()
    }

    static func number(_ kid: String) -> Int? { kid.hasPrefix("rsa") ? Int(kid.dropFirst(3)) : nil }

    static func load(_ directory: String) throws -> [SigningKey] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return try names.filter { $0.hasSuffix(".pem") }
            .map { String($0.dropLast(4)) }
            .filter { number($0) != nil }
            .sorted { number($0)! < number($1)! }
            .map { kid in
                let pem = try String(contentsOfFile: directory + "/\(kid).pem", encoding: .utf8)
                return SigningKey(kid: kid, key: try RSAPrivateKey(pem: pem))
            }
    }
}

/// base64url without padding, as JOSE writes binary values.
enum Base64URL {
    static func encode(_ d: Data) -> String {
        d.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(
            of: "=", with: "")
    }
    static func decode(_ s: some StringProtocol) -> Data? {
        var t = s.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while t.count % 4 != 0 { t += "=" }
        return Data(base64Encoded: t)
    }
}
