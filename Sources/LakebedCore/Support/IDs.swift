import Foundation
import Synchronization

/// SplitMix64: a small, fast, seedable generator. Same seed, same sequence, on every platform.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE5_E4B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// A double in [0, 1).
    public mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}

/// Makes the 32-hex-digit identifiers Rucio uses for rules and requests.
///
/// Unseeded, identifiers are random UUIDs; seeded (scenarios, `--seed`), they follow the seed, so a replayed
/// scenario produces the same rule and request identifiers and therefore the same event log.
public final class IDGenerator: Sendable {
    private let rng: Mutex<SplitMix64?>
    public init(seed: UInt64? = nil) { rng = Mutex(seed.map { SplitMix64(seed: $0 ^ 0x1D5_1D5) }) }

    public func next() -> String {
        let pair: (UInt64, UInt64)? = rng.withLock { g in
            guard var r = g else { return nil }
            let p = (r.next(), r.next())
            g = r
            return p
        }
        guard let (a, b) = pair else { return UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased() }
        return String(format: "%016llx%016llx", a, b)
    }

    /// Restarts the sequence (after a scenario reset).
    public func reseed(_ seed: UInt64?) { rng.withLock { $0 = seed.map { SplitMix64(seed: $0 ^ 0x1D5_1D5) } } }
}
