import LakebedApp

/// Which lake a command that reads a data folder (`env`, `token`, `cert`, `check`) means when given no `--data-dir`:
/// `./lakebed-data` — or, when no lake runs there but exactly one `serve --scenario` runs under it, that one.
enum DataDirChoice {
    static func resolve(_ given: String?) -> String {
        if let given { return given }
        let running = Lake.runningDefaultLakes()
        if running.contains(Lake.defaultDataDir) || running.count != 1 { return Lake.defaultDataDir }
        return running[0]
    }
}
