import ArgumentParser
import Foundation
import NIOPosix

/// The program's entry point: NIO's event loops become Swift Concurrency's global executor, then the command runs.
///
/// Without this a request hops threads four times: the event loop that read it wakes a thread of the concurrency pool
/// to run the handler, which hands the response back to the event loop to write. With the event loops as the executor
/// the handler resumes on the loop that read the request and writes on it (on 2 cores, most of the cost of a simple
/// read was those hops and the wake-ups behind them). It must happen before any task is started.
@main
enum Main {
    static func main() async {
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        await Lakebed.main()
    }
}

/// The `lakebed` command.
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
