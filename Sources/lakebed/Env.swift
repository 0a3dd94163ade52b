import ArgumentParser
import Foundation

/// `lakebed env`: the environment that points the rucio client and scripts at a lake.
struct Env: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the environment variables that point the rucio client and scripts at a lake.",
        discussion: """
            Reads what the last `lakebed serve` on the data folder wrote (endpoints.json and rucio.cfg), so run it after the server has started. In a shell:

                eval "$(lakebed env --shell)"
                rucio whoami

            Variables: RUCIO_CONFIG (a ready rucio.cfg in the data folder: account root, userpass), LAKEBED_URL, LAKEBED_DASHBOARD, LAKEBED_FTS, LAKEBED_IAM_ISSUER, LAKEBED_METRICS and LAKEBED_DATA_DIR. Not RUCIO_ACCOUNT or RUCIO_AUTH_TYPE: the client ranks those above any rucio.cfg, so another configuration (OIDC, a second account) set later with RUCIO_CONFIG works in the same shell.
            """)

    @Option(
        name: .long,
        help:
            "The lake's data folder (the one given to `lakebed serve`; default: ./lakebed-data, or the one a `serve --scenario` running under it uses)."
    )
    var dataDir: String?

    @Flag(name: .long, help: "Print `export KEY='value'` lines for eval in sh, bash or zsh (default: KEY=value lines, as for an env file).")
    var shell = false

    func run() throws {
        let dataDir = DataDirChoice.resolve(self.dataDir)
        let dir = URL(fileURLWithPath: (dataDir as NSString).expandingTildeInPath).standardizedFileURL.path
        guard let endpoints = LakeEndpoints.load(dataDir: dir) else {
            throw ValidationError("No lake has been served from \(dir) yet: start `lakebed serve --data-dir \(dataDir)` first.")
        }
        print(shell ? endpoints.shellExports : endpoints.dotenv, terminator: "")
    }
}
