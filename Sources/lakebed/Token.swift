import ArgumentParser
import Foundation
import LakebedCore
import LakebedIAM
import LakebedOIDC
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// `lakebed token`: prints an access token signed with the IAM keys of a data folder, for scripts and notebooks.
struct Token: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print an IAM access token (signed with the data folder's keys; no server needed).",
        discussion: """
            Use it as a WLCG bearer token: `lakebed token --output /tmp/token` and point BEARER_TOKEN_FILE at the file
            with `auth_type = oidc` in rucio.cfg. The issuer is the one the last `lakebed serve` on this data folder wrote.
            """)

    @Option(name: .long, help: "The lake's data folder (default: ./lakebed-data, or the one `serve --scenario` running under it uses).")
    var dataDir: String?

    @Option(name: .long, help: "IAM user the token is for (default: jdoe, unless --client alone is given).")
    var user: String?

    @Option(name: .long, help: "Client the token is issued to; alone, a client_credentials token whose subject is the client.")
    var client: String?

    @Option(name: .long, help: "Space-separated scopes.")
    var scope: String = "openid profile"

    @Option(name: .long, help: "Audience (space-separated for several).")
    var audience: String = "rucio"

    @Option(name: .long, parsing: .unconditional, help: "Lifetime in seconds (negative gives an already expired token).")
    var lifetime: Int = 3600

    @Option(name: .long, help: "Issuer URL (default: the one the server wrote into the data folder).")
    var issuer: String?

    @Option(name: .long, help: "Write the token to this file (mode 600) instead of printing it.")
    var output: String?

    func run() async throws {
        let dataDir = DataDirChoice.resolve(self.dataDir)
        guard let iss = issuer ?? IAM.savedIssuer(dataDir: dataDir) else {
            throw ValidationError("No issuer known for \(dataDir): start `lakebed serve --data-dir \(dataDir)` once, or pass --issuer.")
        }
        let iam = try await IAM(dataDir: dataDir, clock: LakeTime.clock(dataDir: dataDir), issuer: iss)
        let directory = await iam.directory
        let username: String? = client != nil && user == nil ? nil : (user ?? "jdoe")
        let clientID = client ?? directory.clients.first(where: \.isPublic)?.clientID ?? directory.clients.first?.clientID ?? "lakebed-cli"
        let token: String
        do {
            token = try await iam.issueAccessToken(
                username: username, clientID: clientID, scope: scope, audience: ScopeList.split(audience), lifetime: lifetime)
        } catch let e as OAuthError {
            throw ValidationError(e.message)
        }
        if let output {
            // No trailing newline: rucio-jupyterlab and ESAP's shopping client send the file's text verbatim as a header.
            let path = (output as NSString).expandingTildeInPath
            guard FileManager.default.createFile(atPath: path, contents: Data(token.utf8), attributes: [.posixPermissions: 0o600]) else {
                throw ValidationError("Cannot write \(path)")
            }
            try? FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
            FileHandle.standardError.write(Data("wrote a token for \(username ?? clientID) (\(lifetime) s, issuer \(iss)) to \(path)\n".utf8))
        } else {
            print(token)
        }
    }
}

/// `lakebed rotate-keys`: a new IAM signing key; the previous one keeps verifying tokens it signed.
struct RotateKeys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotate-keys",
        abstract: "Generate a new IAM signing key (the previous key stays in the JWKS; older ones are dropped and stop verifying).",
        discussion: "A running lake follows its key folder: the new key signs at once (or POST /lakebed/rotate-keys on the lake itself).")

    @Option(name: .long, help: "The lake's data folder.")
    var dataDir: String = "./lakebed-data"

    func run() async throws {
        let iam = try await IAM(dataDir: dataDir, clock: SystemClock())
        let kid = try await iam.rotateKeys()
        print(
            "new signing key \(kid); a running lake on this folder signs with it and publishes it at once, and the key before the previous one no longer verifies"
        )
    }
}

/// The IAM part of `lakebed serve`'s start: tell the IAM its issuer URL, map seeded users to Rucio, describe it.
enum IAMBanner {
    static func lines(iam: IAM, catalog: Catalog, url: String, logger: Logger) async -> String {
        let issuer = url + "/iam/"
        do {
            try await iam.setIssuer(issuer)
            let added = try await iam.ensureRucioIdentities(in: catalog)
            for identity in added { logger.info("added OIDC identity \(identity)") }
        } catch {
            logger.error("IAM setup: \(error)")
        }
        let d = await iam.directory
        var out = "  IAM issuer  : \(issuer)"
        if let u = d.users.first(where: { $0.rucioAccount != nil }) ?? d.users.first {
            // Passwords are stored hashed: the banner can show one only when it is the documented default.
            let password = u.checkPassword("\(u.username)-password") ? "password \(u.username)-password" : "password as set in the scenario"
            out += "\n  IAM user    : \(u.username), \(password)\(u.rucioAccount.map { " (Rucio account \($0))" } ?? "")"
        }
        if let c = d.clients.first(where: { !$0.isPublic }) {
            out +=
                "\n  IAM client  : \(c.clientID), "
                + (c.checkSecret("\(c.clientID)-secret") ? "secret \(c.clientID)-secret" : "secret as set in the scenario")
        }
        out += "\n  token       : lakebed token --data-dir \(catalog.dataDir) --output /tmp/token  (BEARER_TOKEN_FILE=/tmp/token, auth_type = oidc)"
        return out
    }
}

/// The lake's time as a running server on the data folder sees it (a scenario's clock may be years away from the
/// wall clock, or running faster), so tokens made offline are valid on the lake's clock; the wall clock otherwise.
enum LakeTime {
    struct Offset: LakeClock {
        let seconds: TimeInterval
        func now() -> Date { Date().addingTimeInterval(seconds) }
    }

    static func clock(dataDir: String) -> any LakeClock {
        guard let endpoints = LakeEndpoints.load(dataDir: dataDir), let url = URL(string: endpoints.url), let port = url.port,
            let body = httpGet(host: url.host == "localhost" ? "127.0.0.1" : (url.host ?? "127.0.0.1"), port: port, path: "/lakebed/clock"),
            let epoch = (try? JSONParser.parse(Array(body.utf8)))?.objectValue?["epoch"]?.doubleValue
        else { return SystemClock() }
        return Offset(seconds: epoch - Date().timeIntervalSince1970)
    }

    /// Whether a response holds its whole body (by Content-Length).
    static func complete(_ bytes: [UInt8]) -> Bool {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") else { return false }
        let head = text[..<split.lowerBound].lowercased()
        guard let line = head.split(separator: "\r\n").first(where: { $0.hasPrefix("content-length:") }),
            let length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces))
        else { return false }
        return text[split.upperBound...].utf8.count >= length
    }

    /// A plain HTTP GET to an IPv4 loopback server (no URL-loading stack needed for one small request).
    static func httpGet(host: String, port: Int, path: String) -> String? {
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        guard inet_pton(AF_INET, host, &addr.sin_addr) == 1 else { return nil }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let connected = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return nil }
        let request = Array("GET \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nConnection: close\r\n\r\n".utf8)
        guard write(fd, request, request.count) == request.count else { return nil }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while response.count < 1 << 20 {
            let n = read(fd, &buffer, buffer.count)
            if n <= 0 { break }
            response += buffer[0..<n]
            if complete(response) { break }
        }
        let text = String(decoding: response, as: UTF8.self)
        guard text.hasPrefix("HTTP/1.") && text.contains(" 200 "), let split = text.range(of: "\r\n\r\n") else { return nil }
        return String(text[split.upperBound...])
    }
}
