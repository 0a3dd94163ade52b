import Foundation
import LakebedCore
import Synchronization

/// Shows a long operation's progress on stderr: one line redrawn in place on a terminal, or a plain line at
/// most every `interval` (and at the end) when stderr is a file or a CI log.
final class TerminalProgress: Sendable {
    struct State {
        var lastPrint: ContinuousClock.Instant?
        var lastPhase = ""
        var drawn = false
    }
    private let state = Mutex(State())
    let isTerminal: Bool
    let interval: Duration
    let write: @Sendable (String) -> Void

    init(
        isTerminal: Bool = isatty(STDERR_FILENO) != 0, interval: Duration = .seconds(1),
        write: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }
    ) {
        self.isTerminal = isTerminal
        self.interval = interval
        self.write = write
    }

    /// A handler to give to the domain.
    var handler: ProgressHandler { { [self] update in self.report(update) } }

    func report(_ u: ProgressUpdate) {
        let now = ContinuousClock.now
        let finished = u.total.map { u.done >= $0 } ?? false
        let text: String? = state.withLock { s in
            let due = s.lastPrint.map { now - $0 >= (isTerminal ? .milliseconds(100) : interval) } ?? true
            guard due || finished || u.phase != s.lastPhase else { return nil }
            s.lastPrint = now
            s.lastPhase = u.phase
            if isTerminal {
                s.drawn = !finished
                return "\r\u{1B}[2K" + u.description + (finished ? "\n" : "")
            }
            return u.description + "\n"
        }
        if let text { write(text) }
    }

    /// Ends a line left open on a terminal.
    func finish() {
        let open = state.withLock { s in
            defer { s.drawn = false }
            return s.drawn
        }
        if open { write("\n") }
    }
}
