import ArgumentParser
import Foundation
import Hummingbird
import LakebedCore
import LakebedHTTP
import LakebedIAM
import Logging

/// `lakebed serve`: run the lake and its Rucio API.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Start Lakebed: the Rucio API on a catalog and RSE directories under a data folder.")

    @Option(name: .long, help: "Folder for the catalog and RSE directories (created if missing; reused on restart).")
    var dataDir: String = "./lakebed-data"

    @Option(name: .long, help: "Address to bind. Loopback by default.")
    var host: String = "127.0.0.1"

    @Option(name: .long, help: "Port to listen on (0 picks a free one).")
    var port: Int = 8080

    @Option(name: .long, help: "Clock speed: 1 = real time, 100 = a hundred times faster.")
    var timeScale: Double = 1

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "notice"

    func run() async throws {
        let started = Date()
        var logger = Logger(label: "lakebed")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .notice
        let clock = VirtualClock(scale: timeScale)
        let catalog = try Catalog(dataDir: dataDir, clock: clock)
        let seeded = try await DefaultLake.seedIfEmpty(catalog)
        if !["127.0.0.1", "localhost", "::1"].contains(host) {
            FileHandle.standardError.write(Data("WARNING: Lakebed is binding to \(host), which is not loopback. Anyone who can reach this address can use the lake with the default credentials.\n".utf8))
        }
        let iam = try await IAM(dataDir: catalog.dataDir, clock: catalog.clock)
        let iamLogger = logger
        let responder = LakebedResponder(catalog: catalog, externalTokens: { token in await iam.rucioTokenInfo(token, catalog: catalog) },
                                         mounts: [IAMRoutes(iam: iam).mount()], logger: logger)
        let dataDir = catalog.dataDir
        let housekeeping = HousekeepingService(catalog: catalog, logger: logger)
        let app = Application(
            responder: responder,
            configuration: .init(address: .hostname(host, port: port), serverName: "Lakebed"),
            services: [housekeeping],
            onServerRunning: { channel in
                let boundPort = channel.localAddress?.port ?? port
                let url = "http://\(host.contains(":") ? "[\(host)]" : host):\(boundPort)"
                let iamLines = await IAMBanner.lines(iam: iam, catalog: catalog, url: url, logger: iamLogger)
                let ms = Int(Date().timeIntervalSince(started) * 1000)
                let banner = """
                Lakebed ready at \(url)  (started in \(ms) ms\(seeded ? ", seeded the default lake" : ""))
                  data folder : \(dataDir)
                  Rucio API   : \(url)
                  login       : account root, username \(DefaultLake.rootUsername), password \(DefaultLake.rootPassword)
                \(iamLines)

                rucio.cfg for clients:
                [client]
                rucio_host = \(url)
                auth_host = \(url)
                auth_type = userpass
                username = \(DefaultLake.rootUsername)
                password = \(DefaultLake.rootPassword)
                account = root

                """
                FileHandle.standardOutput.write(Data(banner.utf8))
            },
            logger: logger
        )
        try await app.runService()
    }
}
