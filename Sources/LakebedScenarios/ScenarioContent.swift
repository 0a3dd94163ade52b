import Foundation
import LakebedCore

/// The bytes of a scenario's files: deterministic for a seed and a DID, so the same scenario gives the same bytes and
/// checksums on every machine, and checksums can be known without writing the bytes.
enum ScenarioContent {
    /// The generator of a file's bytes, seeded by the scenario seed and the DID.
    static func generator(seed: UInt64, _ scope: String, _ name: String) -> SplitMix64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in "\(scope):\(name)".utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return SplitMix64(seed: seed ^ h)
    }

    /// Hands the file's bytes to `body` in chunks of at most 64 KiB.
    static func forEachChunk(seed: UInt64, _ scope: String, _ name: String, _ size: Int64, _ body: (ArraySlice<UInt8>) throws -> Void) rethrows {
        var g = generator(seed: seed, scope, name)
        var left = size
        var chunk = [UInt8](repeating: 0, count: 65536)
        while left > 0 {
            let n = Int(min(left, Int64(chunk.count)))
            var i = 0
            while i < n {
                var v = g.next()
                for _ in 0..<8 where i < n {
                    chunk[i] = UInt8(truncatingIfNeeded: v)
                    v >>= 8
                    i += 1
                }
            }
            try body(chunk[0..<n])
            left -= Int64(n)
        }
    }

    /// The file's adler32 and md5, without writing it.
    static func sums(seed: UInt64, _ scope: String, _ name: String, _ size: Int64) -> (String, String) {
        var acc = Checksums.Accumulator()
        forEachChunk(seed: seed, scope, name, size) { acc.update($0) }
        let c = acc.finalize()
        return (c.adler32, c.md5)
    }

    /// Writes the file's bytes at `path`.
    static func write(seed: UInt64, _ scope: String, _ name: String, _ size: Int64, to path: String) throws {
        let fm = FileManager.default
        try fm.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        guard fm.createFile(atPath: path, contents: nil), let h = FileHandle(forWritingAtPath: path) else {
            throw RucioError(.rucioException, "cannot write \(path)")
        }
        defer { try? h.close() }
        try forEachChunk(seed: seed, scope, name, size) { try h.write(contentsOf: $0) }
    }

    /// Checksums for virtual files (no bytes): stable values derived from the DID.
    static func virtualSums(_ scope: String, _ name: String, _ size: Int64) -> (String, String) {
        let m = md5Hex("\(scope):\(name):\(size)")
        return (String(m.prefix(8)), m)
    }
}
