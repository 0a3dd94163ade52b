import ArgumentParser
import Foundation
import Hummingbird
import HummingbirdTLS
import LakebedApp
import LakebedCore
import LakebedDaemons
import LakebedFTS
import LakebedHTTP
import LakebedIAM
import LakebedScenarios
import Logging
import NIOCore
import ServiceLifecycle

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

    @Option(
        name: .long,
        help:
            "Folder for the catalog and RSE directories (created if missing; reused on restart). Default: ./lakebed-data, or ./lakebed-data/scenarios/<name> with --scenario."
    )
    var dataDir: String?

    @Option(name: .long, help: "Play a scenario file (seed, topology, timeline, expectations) live while clients work.")
    var scenario: String?

    @Option(
        name: .long,
        help:
            "Experiment policy of a new lake, as Rucio's [policy] selects it: generic (default), atlas, cms, belleii or escape (naming schema, permissions, default lfn2pfn). A lake keeps the policy it was created with: another one needs --fresh."
    )
    var policy: String?

    @Flag(
        name: .long,
        help:
            "Start an empty lake, as a fresh Rucio is: only the root account (userpass ddmlab / secret), no RSEs, no scopes; bootstrap it with the rucio client. Its folder defaults to ./lakebed-data/scenarios/empty."
    )
    var empty = false

    @Flag(
        name: .long,
        help:
            "Start over: wipe the data folder's catalog, RSE directories and snapshots first (then seed the default lake, or the scenario; a scenario's folder that holds an earlier run needs it)."
    )
    var fresh = false

    @Option(
        name: .customLong("import"),
        help: ArgumentHelp(
            "Import a Rucio export (JSON of `GET /export` / `rucio-admin data export`: RSEs, protocols, attributes, distances, accounts) into the lake this start creates (with --empty, --fresh or a new --data-dir); refused on a lake already in use.",
            valueName: "file"))
    var importFile: String?

    @Option(name: .long, help: "Address to bind. Loopback by default; anything else prints a warning, since the default passwords are public.")
    var host: String = "127.0.0.1"

    @Option(name: .long, help: "Port to listen on (0 picks a free one).")
    var port: Int = 8080

    @Option(name: .long, help: "Port of the HTTPS listener (same API, plus the RSEs over WebDAV at /storage/<RSE>/; 0 picks a free one).")
    var httpsPort: Int = 0

    @Flag(name: .long, help: "Do not start the HTTPS listener (RSEs are still served over WebDAV on the HTTP port).")
    var noHttps = false

    @Option(
        name: .long,
        help: ArgumentHelp(
            "A folder where `file` protocol prefixes may put RSE bytes, besides the data folder and the system's temporary folders (repeatable).",
            valueName: "folder"))
    var storageRoot: [String] = []

    @Option(
        name: .long,
        help:
            "Clock speed: 1 = real time, 100 = a hundred times faster, 0 = manual (moves only through the control API). Default: 1, or the scenario's time_scale."
    )
    var timeScale: Double?

    @Option(name: .long, help: "Seed for everything random (transfer failures, identifiers): same seed, same events.")
    var seed: UInt64?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "A token the control API (/lakebed/…) requires in X-Lakebed-Control-Token or Authorization: Bearer (default: $LAKEBED_CONTROL_TOKEN; none: open on loopback).",
            valueName: "token"))
    var controlToken: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Stop one of the lake's daemons (\(Daemon.allCases.map(\.rawValue).joined(separator: ", "))), as a Rucio dev environment runs only the daemons it starts; repeatable. It still runs once on POST /lakebed/daemons/<name>/run, and PUT /lakebed/daemons/<name> {\"running\": true} starts it.",
            valueName: "daemon"))
    var stopDaemon: [String] = []

    @OptionGroup(title: "Logging")
    var logging: LoggingOptions

    /// Whether an address given to `--host` stays on this machine (127.0.0.0/8, ::1, localhost).
    static func isLoopback(_ host: String) -> Bool {
        let h = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")).lowercased()
        if h == "localhost" || h == "::1" || h == "0:0:0:0:0:0:0:1" { return true }
        let parts = h.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }

    func run() async throws {
        let started = Date()
        let logger = logging.bootstrap()
        FileLimit.raise()
        var loaded: Scenario? = nil
        var chosenPolicy: Policy.Name? = nil
        if let policy {
            guard let p = Policy.Name(rawValue: policy.lowercased()) else {
                FileHandle.standardError.write(Data("--policy \(policy) is not a policy: give one of \(Policy.namesText)\n".utf8))
                throw ExitCode(2)
            }
            chosenPolicy = p
        }
        if empty {
            if scenario != nil {
                FileHandle.standardError.write(Data("--empty starts a lake with no scenario: give --empty or --scenario, not both\n".utf8))
                throw ExitCode(2)
            }
            loaded = try DefaultScenario.loadEmpty()
        }
        if let scenario {
            do { loaded = try ScenarioParser.load(path: scenario, policy: chosenPolicy) } catch let e as ScenarioErrors {
                FileHandle.standardError.write(Data("Scenario \(scenario) has mistakes:\n\(e.description)\n".utf8))
                throw ExitCode(2)
            }
        }
        var stopped: [Daemon] = []
        for name in stopDaemon {
            guard let d = Daemon(rawValue: name.lowercased()) else {
                FileHandle.standardError.write(
                    Data("--stop-daemon \(name) is not a daemon: give one of \(Daemon.allCases.map(\.rawValue).joined(separator: ", "))\n".utf8))
                throw ExitCode(2)
            }
            stopped.append(d)
        }
        var options = LakeOptions(dataDir: dataDir, scenario: loaded, fresh: fresh, timeScale: timeScale, seed: seed)
        options.seedProgress = loaded.map { Self.seedProgress($0.name) }
        options.policy = chosenPolicy
        let lake: Lake
        do { lake = try await Lake.open(options, logger: logger) } catch let e as LakeOpenError {
            FileHandle.standardError.write(Data("\(e.description)\n".utf8))
            throw ExitCode(2)
        }
        for d in stopped { lake.driver.setRunning(d, false) }
        let catalog = lake.catalog
        catalog.rses.allowStorageRoots(storageRoot.map { URL(fileURLWithPath: $0).standardizedFileURL.path })
        var importNote = ""
        if let importFile {
            do {
                let s = try await ImportFile.run(importFile, into: lake)
                importNote =
                    ", imported \(s.rsesAdded + s.rsesUpdated) RSEs, \(s.protocolsAdded) protocols, \(s.distances) distances from \(importFile)"
            } catch {
                FileHandle.standardError.write(Data("Cannot import \(importFile): \(error)\n".utf8))
                throw ExitCode(2)
            }
        }
        guard let iam = lake.iam else { throw ExitCode(1) }
        let timeScale = lake.timeScale
        let dataDir = catalog.dataDir
        let seeded = lake.seeded && loaded == nil
        if !Self.isLoopback(host) {
            let line = String(repeating: "!", count: 100)
            FileHandle.standardError.write(
                Data(
                    """
                    \(line)
                    WARNING: Lakebed is binding to \(host), which is not loopback. Anyone who can reach this address can use
                    the lake, its control API (reset, inject faults; give it --control-token) and its storage, with the PUBLIC default passwords.
                    Bind to 127.0.0.1 (the default) unless this machine's network is yours alone.
                    \(line)

                    """.utf8))
        }
        let iamLogger = logger
        let controlSecret = controlToken ?? ProcessInfo.processInfo.environment["LAKEBED_CONTROL_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        let responder = try lake.responder(logger: logger, loopbackOnly: Self.isLoopback(host), controlToken: controlSecret)
        let dataFolder = catalog.dataDir
        let controlExtra = (loaded == nil ? "" : ", scenario, reset, snapshots, inject") + (controlSecret == nil ? "" : "; needs its token")
        let bannerNote = (seeded ? ", seeded the default lake" : "") + (loaded.map { ", scenario \($0.name)" } ?? "") + importNote
        var services: [any Service] = [lake.daemons(logger: logger)]
        // The HTTPS listener serves the same responder with a certificate for localhost signed by the data folder's own CA;
        // once it is bound, every RSE gets an `https` (WebDAV) protocol at its port, before the banner says "ready".
        let tlsPort = PortAnnouncement()
        let certs = try LocalCertificates.ensure(dataDir: catalog.dataDir)
        if noHttps {
            tlsPort.announce(nil)
        } else {
            services.append(
                Application(
                    // Clients may present a certificate (X.509 logins, FTS, WebDAV); none has to.
                    responder: ClientCertificateResponder(responder, ca: try certs.caCertificate()),
                    server: try .tlsWithClientCertificates(configuration: HTTPLimits.http1, tlsConfiguration: try certs.serverConfiguration()),
                    configuration: .init(address: .hostname(host, port: httpsPort), serverName: "Lakebed"),
                    onServerRunning: { channel in
                        let bound = channel.localAddress?.port ?? httpsPort
                        do { try await catalog.rses.publishWebDAV(WebDAVEndpoint(hostname: "localhost", port: bound)) } catch {
                            iamLogger.error("cannot publish the WebDAV protocols: \(error)")
                        }
                        tlsPort.announce(bound)
                    }, logger: logger))
        }
        let app = Application(
            responder: responder, server: .http1(configuration: HTTPLimits.http1),
            configuration: .init(address: .hostname(host, port: port), serverName: "Lakebed"),
            services: services,
            onServerRunning: { channel in
                let boundPort = channel.localAddress?.port ?? port
                catalog.rses.serveStorage(port: boundPort, hostname: host)
                let url = "http://\(host.contains(":") ? "[\(host)]" : host):\(boundPort)"
                let httpsLines: String
                if let p = await tlsPort.value() {
                    httpsLines = """
                          HTTPS       : https://localhost:\(p)  (CA certificate: \(certs.caPath); `lakebed cert` prints it)
                          WebDAV      : https://localhost:\(p)/storage/<RSE>/  (each RSE's `https` protocol; also \(url)/storage/<RSE>/)
                        """
                } else {
                    httpsLines = "  WebDAV      : \(url)/storage/<RSE>/"
                }
                let iamLines = await IAMBanner.lines(iam: iam, catalog: catalog, url: url, logger: iamLogger)
                let endpoints = LakeEndpoints(url: url, dataDir: dataFolder)
                do { try endpoints.save() } catch { iamLogger.error("cannot write \(endpoints.rucioConfigPath): \(error)") }
                let ms = Int(Date().timeIntervalSince(started) * 1000)
                ReleaseMemory.now()  // what starting (and seeding a scenario) allocated and freed goes back: the idle lake stays small
                let banner = """
                    Lakebed ready at \(url)  (started in \(ms) ms\(bannerNote))
                      data folder : \(dataFolder)
                      Rucio API   : \(endpoints.rucioAPI)
                      auth        : \(endpoints.auth)  (userpass; also /auth/validate)
                      FTS3 REST   : \(endpoints.fts)
                      storage     : \(endpoints.storage)  (file:// protocol, one folder per RSE)
                    \(httpsLines)
                      ESAP        : \(url)/esap-api/accounts/user-profiles/  (shopping baskets, bearer token)
                      dashboard   : \(endpoints.dashboard)\(controlSecret.map { "#control-token=\($0)" } ?? "")
                      metrics     : \(endpoints.metrics)  (Prometheus)
                      control API : \(endpoints.control)  (clock, links, transfers, events\(controlExtra))
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
        defer {
            do { try catalog.checkpoint() } catch { logger.error("cannot checkpoint the catalog at stop: \(error)") }
        }
        do { try await app.runService() } catch let error as IOError
            where error.errnoCode == EADDRINUSE || error.errnoCode == EADDRNOTAVAIL || error.errnoCode == EACCES
        {
            FileHandle.standardError.write(
                Data(
                    "Cannot listen on \(host):\(port): \(String(cString: strerror(error.errnoCode))). Choose another --port (0 picks a free one) or --host.\n"
                        .utf8))
            throw ExitCode(1)
        }
    }

    /// Seeding progress on stderr (redrawn on a terminal, a line a second in a CI log).
    static func seedProgress(_ name: String) -> @Sendable (Int, Int) -> Void {
        let progress = TerminalProgress()
        return { done, all in
            progress.report(ProgressUpdate(phase: "seeding \(name)", done: done, total: all, unit: "files"))
            if done == all { progress.finish() }
        }
    }
}

/// The HTTPS listener's port, announced once it is bound (nil when there is none), awaited by the banner.
final class PortAnnouncement: Sendable {
    private let stream: AsyncStream<Int?>
    private let continuation: AsyncStream<Int?>.Continuation

    init() { (stream, continuation) = AsyncStream.makeStream(of: Int?.self, bufferingPolicy: .bufferingNewest(1)) }

    func announce(_ port: Int?) {
        continuation.yield(port)
        continuation.finish()
    }

    func value() async -> Int? {
        for await p in stream { return p }
        return nil
    }
}
