import ArgumentParser
import Foundation
import LakebedApp
import LakebedCore
import LakebedDaemons
import LakebedFTS
import LakebedScenarios

/// `lakebed simulate`: play a scenario headless on the virtual clock and report.
struct Simulate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a scenario headless, as fast as the machine allows, and print a report (exit 1 if an expectation fails).")

    @Argument(help: "The scenario file (YAML).")
    var file: String

    @Option(name: .long, help: "Seed for everything random; default: the scenario's seed. Same seed, same events.")
    var seed: UInt64?

    @Flag(name: .long, help: "Print the report as JSON.")
    var json = false

    @Option(name: .long, help: "Write the event log here, one event per line.")
    var events: String?

    @Option(name: .long, help: "Folder for the simulated lake (default: a temporary folder, removed afterwards).")
    var dataDir: String?

    @Flag(name: .long, help: "No progress on stderr.")
    var quiet = false

    @Option(
        name: .long,
        help:
            "Write SVG charts (transfers in flight and throughput per link, rule completion, failures) and report.html, which shows them with the report, into this folder."
    )
    var plot: String?

    func run() async throws {
        var scenario: Scenario
        do { scenario = try ScenarioParser.load(path: file) } catch let e as ScenarioErrors {
            FileHandle.standardError.write(Data("Scenario \(file) has mistakes:\n\(e.description)\n".utf8))
            throw ExitCode(2)
        }
        if let seed { scenario.seed = seed }
        let temporary = dataDir == nil
        let dir = dataDir ?? NSTemporaryDirectory() + "lakebed-sim-\(UUID().uuidString.prefix(8))"
        defer { if temporary { try? FileManager.default.removeItem(atPath: dir) } }
        let showProgress = !quiet && !json
        let total = scenario.files.reduce(0) { $0 + $1.count }
        let lake = try await Lake.simulation(
            of: scenario, dataDir: dir,
            seedProgress: showProgress && total >= 10_000 ? Serve.seedProgress(scenario.name) : nil)
        let catalog = lake.catalog
        let runner = lake.scenario
        let terminal = TerminalProgress()
        let report = try await runner.simulate(progress: showProgress ? Self.progress(terminal) : nil)
        if showProgress { terminal.finish() }
        if let events {
            let lines = catalog.events.all.map { $0.line + "\n" }.joined()
            try lines.write(toFile: events, atomically: true, encoding: .utf8)
        }
        if json { print(report.json.serialized()) } else { print(report.text, terminator: "") }
        if let plot {
            let files = try await runner.charts(report: report).write(to: plot)
            if !quiet { FileHandle.standardError.write(Data("Charts: \(files.count - 1) SVG files and \(files.last ?? "report.html")\n".utf8)) }
        }
        if !report.passed { throw ExitCode(1) }
    }

    /// Simulation progress on stderr, in lake seconds.
    static func progress(_ terminal: TerminalProgress) -> @Sendable (TimeInterval, TimeInterval) -> Void {
        { now, end in
            terminal.report(ProgressUpdate(phase: "simulating", done: Int(now), total: Int(end), unit: "lake seconds"))
        }
    }
}

/// `lakebed scenario …`: work with scenario files.
struct ScenarioCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scenario", abstract: "Check and list scenario files.",
        subcommands: [Validate.self, List.self])

    struct Validate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check scenario files; mistakes are reported as FILE:LINE:COLUMN: what is wrong.")
        @Argument(help: "Scenario files.")
        var files: [String]

        func run() async throws {
            var bad = 0
            for f in files {
                do {
                    let s = try ScenarioParser.load(path: f)
                    print(
                        "\(f): OK — \(s.name): \(s.rses.count) RSEs, \(s.files.reduce(0) { $0 + $1.count }) files, \(s.rules.count) rules, \(s.timeline.count) timeline events, \(s.expectations.count) expectations"
                    )
                } catch let e as ScenarioErrors {
                    bad += 1
                    print(e.description)
                }
            }
            if bad > 0 { throw ExitCode(1) }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the scenarios in a folder with their descriptions.")
        @Argument(help: "Folder (default: scenarios).")
        var folder: String = "scenarios"

        func run() async throws {
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter {
                $0.hasSuffix(".yaml") || $0.hasSuffix(".yml")
            }.sorted()
            for n in names {
                let path = (folder as NSString).appendingPathComponent(n)
                if let s = try? ScenarioParser.load(path: path) {
                    print("\(path)\n    \(s.description.split(separator: "\n").first.map(String.init) ?? s.name)")
                } else {
                    print("\(path)\n    (has mistakes: run `lakebed scenario validate \(path)`)")
                }
            }
        }
    }
}
