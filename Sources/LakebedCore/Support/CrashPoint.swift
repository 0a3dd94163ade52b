import Foundation

/// Named places where a test can make the process die as `kill -9` would (`LAKEBED_CRASH_POINT=<name>`), to prove
/// that work interrupted exactly there is finished or undone at the next start. Unset, it costs one comparison.
public enum CrashPoint {
    static let armed: String? = ProcessInfo.processInfo.environment["LAKEBED_CRASH_POINT"]

    /// Dies on the spot (SIGKILL: no cleanup, no flush) when `name` is the armed crash point.
    public static func reach(_ name: String) {
        guard let armed, armed == name else { return }
        kill(getpid(), SIGKILL)
    }
}
