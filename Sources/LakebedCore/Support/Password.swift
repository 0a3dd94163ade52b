import Crypto
import Foundation

/// Salted, iterated SHA-256 password hashes (`sha256i$<iterations>$<salt hex>$<hash hex>`).
public enum PasswordHash {
    static let iterations = 2000

    public static func make(_ password: String) -> String {
        var salt = [UInt8](repeating: 0, count: 16)
        for i in 0..<16 { salt[i] = UInt8.random(in: 0...255) }
        let saltHex = hex(salt)
        return "sha256i$\(iterations)$\(saltHex)$\(hex(derive(password, salt: salt, iterations: iterations)))"
    }

    public static func verify(_ password: String, against stored: String) -> Bool {
        let parts = stored.split(separator: "$")
        guard parts.count == 4, parts[0] == "sha256i", let iters = Int(parts[1]), iters > 0, iters < 1_000_000,
            let salt = unhex(String(parts[2]))
        else { return false }
        let candidate = hex(derive(password, salt: salt, iterations: iters))
        // constant-time comparison
        let a = Array(candidate.utf8)
        let b = Array(String(parts[3]).utf8)
        guard a.count == b.count else { return false }
        var diff: UInt8 = 0
        for i in 0..<a.count { diff |= a[i] ^ b[i] }
        return diff == 0
    }

    static func derive(_ password: String, salt: [UInt8], iterations: Int) -> [UInt8] {
        var digest = Array(SHA256.hash(data: salt + Array(password.utf8)))
        for _ in 1..<iterations { digest = Array(SHA256.hash(data: digest + salt)) }
        return digest
    }

    static func hex(_ b: [UInt8]) -> String { b.lowerHex }
    static func unhex(_ s: String) -> [UInt8]? {
        let u = Array(s.utf8)
        guard u.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        var i = 0
        while i < u.count {
            guard let v = UInt8(String(decoding: u[i..<i + 2], as: UTF8.self), radix: 16) else { return nil }
            out.append(v)
            i += 2
        }
        return out
    }
}
