import ArgumentParser
import Foundation
import Hummingbird
import HummingbirdTLS
import LakebedCore
import LakebedHTTP
import LakebedIAM
import LakebedTransfers
import Logging
import ServiceLifecycle

/// `lakebed serve`: run the lake and its Rucio API.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Start Lakebed: the Rucio API on a catalog and RSE directories under a data folder.")

    @Option(name: .long, help: "Folder for the catalog and RSE directories (created if missing; reused on restart).")
    var dataDir: String = "./lakebed-data"

    @Option(name: .long, help: "Address to bind. Loopback by default.")
    var host: String = "127.0.0.1"

    @Option(name: .long, help: "Port to listen on (0 picks a free one).")
    var port: Int = 8080

    @Option(name: .long, help: "Port of the HTTPS listener (same API, plus the RSEs over WebDAV at /storage/<RSE>/; 0 picks a free one).")
    var httpsPort: Int = 0

    @Flag(name: .long, help: "Do not start the HTTPS listener (RSEs are still served over WebDAV on the HTTP port).")
    var noHttps = false

    @Option(name: .long, help: "Clock speed: 1 = real time, 100 = a hundred times faster.")
    var timeScale: Double = 1

    @Option(name: .long, help: "Seed for everything random (transfer failures, identifiers): same seed, same events.")
    var seed: UInt64?

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "notice"

    func run() async throws {
        let started = Date()
        var logger = Logger(label: "lakebed")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .notice
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
        let webdav = WebDAVAPI(catalog: catalog, authorize: { token, rse, path, operation in
            await iam.checkStorageAccess(token: token, rse: rse, path: path, operation: operation, catalog: catalog)
                .map { StorageRefusal(status: $0.httpStatus, message: $0.message) }
        })
        let responder = LakebedResponder(catalog: catalog, externalTokens: { token in await iam.rucioTokenInfo(token, catalog: catalog) },
                                         mounts: [IAMRoutes(iam: iam).mount(), fts.mount, ControlAPI(driver: driver).mount, webdav.mount,
                                                  ESAPAPI(catalog: catalog, iam: iam).mount], logger: logger)
        let dataDir = catalog.dataDir
        let daemons = DaemonService(driver: driver, logger: logger)
        var services: [any Service] = [daemons]
        // The HTTPS listener serves the same responder with a certificate for localhost signed by the data folder's own CA;
        // once it is bound, every RSE gets an `https` (WebDAV) protocol at its port, before the banner says "ready".
        let tlsPort = PortAnnouncement()
        let certs = try LocalCertificates.ensure(dataDir: catalog.dataDir)
        if noHttps {
            tlsPort.announce(nil)
        } else {
            services.append(Application(
                responder: responder, server: try .tls(.http1(), tlsConfiguration: try certs.serverConfiguration()),
                configuration: .init(address: .hostname(host, port: httpsPort), serverName: "Lakebed"),
                onServerRunning: { channel in
                    let bound = channel.localAddress?.port ?? httpsPort
                    do { try await catalog.publishWebDAV(WebDAVEndpoint(hostname: "localhost", port: bound)) } catch {
                        iamLogger.error("cannot publish the WebDAV protocols: \(error)")
                    }
                    tlsPort.announce(bound)
                }, logger: logger))
        }
        let app = Application(
            responder: responder,
            configuration: .init(address: .hostname(host, port: port), serverName: "Lakebed"),
            services: services,
            onServerRunning: { channel in
                let boundPort = channel.localAddress?.port ?? port
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
                let ms = Int(Date().timeIntervalSince(started) * 1000)
                let banner = """
                Lakebed ready at \(url)  (started in \(ms) ms\(seeded ? ", seeded the default lake" : ""))
                  data folder : \(dataDir)
                  Rucio API   : \(url)
                  FTS3 REST   : \(url)/fts
                  control API : \(url)/lakebed  (clock, links, transfers)
                \(httpsLines)
                  ESAP        : \(url)/esap-api/accounts/user-profiles/  (shopping baskets, bearer token)
                  clock       : \(timeScale == 0 ? "manual (advance with POST /lakebed/clock/advance)" : "\(timeScale)x real time")
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
