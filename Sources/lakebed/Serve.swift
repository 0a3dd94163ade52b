import ArgumentParser
import Foundation
import Hummingbird
import LakebedCore
import LakebedHTTP
import LakebedIAM
import LakebedTransfers
import Logging

/// `lakebed serve`: run the lake and its Rucio API.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Start Lakebed: the Rucio API on a catalog and RSE directories under a data folder.",
        discussion: """
        One process serves the Rucio REST API (/), the emulated FTS3 (/fts), the emulated INDIGO IAM (/iam/), the control API (/lakebed/), the dashboard (/dashboard/) and Prometheus metrics (/metrics). On start it prints every URL, the accounts and passwords, a ready rucio.cfg (also written to the data folder) and the environment lines to use; `lakebed env --shell` prints them again later.

        Examples:
          lakebed serve                       # http://127.0.0.1:8080
          lakebed serve --time-scale 60       # workshops: a minute a second
          lakebed serve --time-scale 0 --port 0 --seed 1   # tests
          lakebed serve --log-level debug     # log every request
        """)

    @Option(name: .long, help: "Folder for the catalog and RSE directories (created if missing; reused on restart).")
    var dataDir: String = "./lakebed-data"

    @Option(name: .long, help: "Address to bind. Loopback by default; anything else prints a warning, since the default passwords are public.")
    var host: String = "127.0.0.1"

    @Option(name: .long, help: "Port to listen on (0 picks a free one).")
    var port: Int = 8080

    @Option(name: .long, help: "Lake clock speed: 1 = real time, 60 = a minute per second, 0 = manual (time moves only through POST /lakebed/clock/advance).")
    var timeScale: Double = 1

    @Option(name: .long, help: "Seed for everything random (transfer failures, identifiers): same seed, same events.")
    var seed: UInt64?

    @OptionGroup(title: "Logging")
    var logging: LoggingOptions

    func run() async throws {
        let started = Date()
        let logger = logging.bootstrap()
        let clock = VirtualClock(scale: timeScale)
        let catalog = try Catalog(dataDir: dataDir, clock: clock, seed: seed)
        let seeded = try await DefaultLake.seedIfEmpty(catalog)
        // Transfers that were in flight when the last process stopped are lost with it: queue them again.
        _ = try await catalog.requeueInFlightRequests()
        let engine = TransferEngine(catalog: catalog, seed: seed ?? 0, logger: logger)
        let driver = LakeDriver(catalog: catalog, clock: clock, engine: engine, logger: logger)
        await driver.connectEventLog()
        if !["127.0.0.1", "localhost", "::1"].contains(host) {
            FileHandle.standardError.write(Data("WARNING: Lakebed is binding to \(host), which is not loopback. Anyone who can reach this address can use the lake with the default credentials.\n".utf8))
        }
        let iam = try await IAM(dataDir: catalog.dataDir, clock: catalog.clock)
        let iamLogger = logger
        let fts = FTSAPI(catalog: catalog, engine: engine, authenticate: { token in
            if let native = try? await catalog.validateNativeToken(token) { return native.account }
            return (try? await iam.validate(token))?.sub
        }, storageCheck: { token, rse, path, write in
            // Only RSEs marked oidc_support check storage tokens, as Rucio's and FTS's storage do.
            guard let base = try? await IAM.storageTokenBase(rse: rse, catalog: catalog) else { return nil }
            guard let token else { return "RSE \(rse) requires a bearer token with storage scopes" }
            guard let model = try? await catalog.rse(rse) else { return "unknown RSE \(rse)" }
            let root = (model.root as NSString).standardizingPath
            let rel = path.hasPrefix(root) ? String(path.dropFirst(root.count)) : path
            do { _ = try await iam.authorizeStorage(token: token, path: rel.hasPrefix("/") ? rel : "/" + rel, write: write, basePath: base) }
            catch let denied as StorageDenied { return denied.message } catch { return "\(error)" }
            return nil
        })
        let requestMetrics = RequestMetrics()
        let loopback = Loopback()
        let responder = LakebedResponder(catalog: catalog, externalTokens: { token in await iam.rucioTokenInfo(token, catalog: catalog) },
                                         mounts: [IAMRoutes(iam: iam).mount(), fts.mount, ControlAPI(driver: driver).mount,
                                                  DashboardAPI(driver: driver, loopback: loopback).mount,
                                                  MetricsAPI(driver: driver, requests: requestMetrics).mount],
                                         metrics: requestMetrics, logger: logger)
        loopback.attach(responder)
        let dataDir = catalog.dataDir
        let daemons = DaemonService(driver: driver, logger: logger)
        let app = Application(
            responder: responder,
            configuration: .init(address: .hostname(host, port: port), serverName: "Lakebed"),
            services: [daemons],
            onServerRunning: { channel in
                let boundPort = channel.localAddress?.port ?? port
                let url = "http://\(host.contains(":") ? "[\(host)]" : host):\(boundPort)"
                let iamLines = await IAMBanner.lines(iam: iam, catalog: catalog, url: url, logger: iamLogger)
                let endpoints = LakeEndpoints(url: url, dataDir: dataDir)
                do { try endpoints.save() } catch { iamLogger.error("cannot write \(endpoints.rucioConfigPath): \(error)") }
                let ms = Int(Date().timeIntervalSince(started) * 1000)
                let banner = """
                Lakebed ready at \(url)  (started in \(ms) ms\(seeded ? ", seeded the default lake" : ""))
                  data folder : \(dataDir)
                  Rucio API   : \(endpoints.rucioAPI)
                  auth        : \(endpoints.auth)  (userpass; also /auth/validate)
                  FTS3 REST   : \(endpoints.fts)
                  storage     : \(endpoints.storage)  (file:// protocol, one folder per RSE)
                  dashboard   : \(endpoints.dashboard)
                  metrics     : \(endpoints.metrics)  (Prometheus)
                  control API : \(endpoints.control)  (clock, links, transfers, events)
                  clock       : \(timeScale == 0 ? "manual (advance with POST /lakebed/clock/advance)" : "\(timeScale)x real time")
                  login       : account root, username \(DefaultLake.rootUsername), password \(DefaultLake.rootPassword)
                \(iamLines)

                rucio.cfg for clients (also written to \(endpoints.rucioConfigPath)):
                \(endpoints.rucioConfig)
                environment (or: eval "$(lakebed env --shell --data-dir \(dataDir))"):
                \(endpoints.shellExports)
                """
                FileHandle.standardOutput.write(Data(banner.utf8))
            },
            logger: logger
        )
        try await app.runService()
    }
}
