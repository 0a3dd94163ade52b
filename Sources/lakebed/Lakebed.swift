import ArgumentParser
import Foundation

/// The `lakebed` command.
@main
struct Lakebed: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lakebed",
        abstract: "An emulated Rucio data lake in one process.",
        subcommands: [Serve.self, Env.self, Token.self, RotateKeys.self],
        defaultSubcommand: Serve.self
    )
}
