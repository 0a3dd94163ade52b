import Crypto
import Foundation

/// Rucio's two file checksums, computed in one streaming pass.
public struct Checksums: Sendable, Equatable {
    /// Adler32 as 8 lower-case hex digits, zero-padded (Rucio's format).
    public var adler32: String
    /// MD5 as 32 lower-case hex digits.
    public var md5: String
    /// Number of bytes the checksums cover.
    public var bytes: Int64

    public init(adler32: String, md5: String, bytes: Int64) {
        self.adler32 = adler32
        self.md5 = md5
        self.bytes = bytes
    }

    /// Incremental computation over chunks.
    public struct Accumulator {
        var a: UInt32 = 1
        var b: UInt32 = 0
        var md5 = Insecure.MD5()
        var count: Int64 = 0
        public init() {}

        public mutating func update<C: Collection>(_ chunk: C) where C.Element == UInt8 {
            var a = self.a
            var b = self.b
            var n = 0
            for byte in chunk {
                a &+= UInt32(byte)
                b &+= a
                n += 1
                if n == 5552 {
                    a %= 65521
                    b %= 65521
                    n = 0
                }
            }
            self.a = a % 65521
            self.b = b % 65521
            if let contiguous = chunk as? [UInt8] { md5.update(data: contiguous) } else { md5.update(data: Array(chunk)) }
            count += Int64(chunk.count)
        }

        public func finalize() -> Checksums {
            let adler = (b << 16) | a
            let hex = String(adler, radix: 16)
            let md5hex = md5.finalize().lowerHex
            return Checksums(adler32: String(repeating: "0", count: 8 - hex.count) + hex, md5: md5hex, bytes: count)
        }
    }

    /// The md5 base64-encoded, as RFC 3230 `Digest: md5=` carries it.
    public var md5Base64: String { PasswordHash.unhex(md5).map { Data($0).base64EncodedString() } ?? "" }

    /// Checksums of an in-memory buffer.
    public static func of(_ data: [UInt8]) -> Checksums {
        var acc = Accumulator()
        acc.update(data)
        return acc.finalize()
    }

    /// Checksums of a file on disk, read in 1 MiB chunks.
    public static func ofFile(at path: String) throws -> Checksums {
        guard let fh = FileHandle(forReadingAtPath: path) else { throw RucioError(.sourceNotFound, "Cannot read '\(path)'") }
        defer { try? fh.close() }
        var acc = Accumulator()
        while true {
            let chunk = try fh.read(upToCount: 1 << 20) ?? Data()
            if chunk.isEmpty { break }
            acc.update([UInt8](chunk))
        }
        return acc.finalize()
    }
}

/// Hex md5 of a string (used by the `hash` lfn2pfn algorithm).
public func md5Hex(_ s: String) -> String {
    Insecure.MD5.hash(data: Array(s.utf8)).lowerHex
}

extension Sequence<UInt8> {
    /// The bytes as lower-case hex digits, two a byte (written directly: `String(format:)` costs a microsecond a byte,
    /// and seeding a million files hashes two million names).
    public var lowerHex: String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(underestimatedCount * 2)
        for b in self {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
