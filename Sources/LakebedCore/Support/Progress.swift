import Foundation

/// How far a long operation (seeding a large scenario, a simulation) has come, for whoever shows progress.
public struct ProgressUpdate: Sendable, Equatable {
    /// What is being done: `seeding files`, `simulating`.
    public var phase: String
    /// Units done so far, counted in `unit`.
    public var done: Int
    /// Total units, when known.
    public var total: Int?
    /// The unit counted: `files`, `lake seconds`.
    public var unit: String

    public init(phase: String, done: Int, total: Int?, unit: String) {
        self.phase = phase
        self.done = done
        self.total = total
        self.unit = unit
    }

    /// `seeding files: 1200/5000 files (24%)`.
    public var description: String {
        guard let total, total > 0 else { return "\(phase): \(done) \(unit)" }
        return "\(phase): \(done)/\(total) \(unit) (\(min(100, done * 100 / total))%)"
    }
}

/// Receives progress from long operations; the domain reports, the command line decides how to show it.
public typealias ProgressHandler = @Sendable (ProgressUpdate) -> Void
