import ArgumentParser
import Foundation

/// The `lakebed` command.
@main
struct Lakebed: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lakebed",
        abstract: "An emulated Rucio data lake in one process.",
        discussion: """
            Start with `lakebed serve` (the default command), then point the real rucio client at it with the printed rucio.cfg or `eval "$(lakebed env --shell)"`, and open the printed dashboard URL to watch rules and transfers.
            """,
        subcommands: [Serve.self, Simulate.self, ScenarioCommand.self, Env.self, Token.self, RotateKeys.self, Cert.self, Check.self],
        defaultSubcommand: Serve.self
    )
}
