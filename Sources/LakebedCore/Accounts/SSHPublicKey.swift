import Crypto
import CryptoExtras
import Foundation

/// An RSA public key as an SSH identity holds it (`ssh-rsa AAAA… comment`), and the check Rucio makes with paramiko:
/// a signature in SSH's wire form (`string algorithm, string blob`) over a challenge, `rsa-sha2-256` or `rsa-sha2-512`
/// (paramiko 5, Rucio 41's, no longer accepts SHA-1 `ssh-rsa` signatures).
public struct SSHPublicKey: Sendable {
    let key: _RSA.Signing.PublicKey

    /// Parses the identity string Rucio stores (its second word is the base64 key blob); nil if it is not an RSA key.
    public init?(identity: String) {
        let words = identity.split(whereSeparator: \.isWhitespace)
        guard words.count >= 2, let blob = Data(base64Encoded: Self.padded(String(words[1]))) else { return nil }
        var reader = SSHWireReader([UInt8](blob))
        guard let type = reader.string(), String(decoding: type, as: UTF8.self) == "ssh-rsa", let e = reader.string(), let n = reader.string(),
            let key = try? _RSA.Signing.PublicKey(n: Self.unsigned(n), e: Self.unsigned(e))
        else { return nil }
        self.key = key
    }

    /// Whether `signature` (SSH wire form, as the client's base64 decodes to) signs `message` with this key.
    public func verifies(_ signature: [UInt8], of message: [UInt8]) -> Bool {
        var reader = SSHWireReader(signature)
        guard let algorithm = reader.string(), var blob = reader.string() else { return false }
        // Like paramiko: a signature shorter than the key (PuTTY does not pad) gets its leading zeros back.
        let size = key.keySizeInBits / 8
        if blob.count < size { blob = [UInt8](repeating: 0, count: size - blob.count) + blob }
        let sig = _RSA.Signing.RSASignature(rawRepresentation: blob)
        switch String(decoding: algorithm, as: UTF8.self) {
        case "rsa-sha2-256": return key.isValidSignature(sig, for: SHA256.hash(data: message), padding: .insecurePKCS1v1_5)
        case "rsa-sha2-512": return key.isValidSignature(sig, for: SHA512.hash(data: message), padding: .insecurePKCS1v1_5)
        default: return false
        }
    }

    /// Base64 with the padding Rucio adds before decoding.
    static func padded(_ s: String) -> String { s + String(repeating: "=", count: (4 - s.count % 4) % 4) }

    /// An SSH mpint without the sign byte.
    static func unsigned(_ bytes: [UInt8]) -> [UInt8] { Array(bytes.drop { $0 == 0 }) }
}

/// Reads SSH's length-prefixed strings (RFC 4251 §5).
struct SSHWireReader {
    private let bytes: [UInt8]
    private var offset = 0
    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func string() -> [UInt8]? {
        guard offset + 4 <= bytes.count else { return nil }
        let length = bytes[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
        offset += 4
        guard length >= 0, offset + length <= bytes.count else { return nil }
        defer { offset += length }
        return Array(bytes[offset..<offset + length])
    }
}
