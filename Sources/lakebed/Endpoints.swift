import Foundation
import LakebedCore

/// Where a running lake answers, written by `lakebed serve` into its data folder (`endpoints.json`, beside a
/// ready `rucio.cfg`) so that `lakebed env` and scripts can find it.
struct LakeEndpoints: Codable, Equatable {
    var url: String
    var dataDir: String
    var account = "root"
    var username = DefaultLake.rootUsername
    var password = DefaultLake.rootPassword

    var rucioAPI: String { url }
    var auth: String { url + "/auth/userpass" }
    var iamIssuer: String { url + "/iam/" }
    var fts: String { url + "/fts" }
    var control: String { url + "/lakebed" }
    var dashboard: String { url + "/dashboard/" }
    var metrics: String { url + "/metrics" }
    var storage: String { dataDir + "/rses/<RSE>/" }
    var rucioConfigPath: String { dataDir + "/rucio.cfg" }

    static func file(dataDir: String) -> String { dataDir + "/endpoints.json" }

    /// The client configuration for the default account.
    var rucioConfig: String {
        """
        [client]
        rucio_host = \(url)
        auth_host = \(url)
        auth_type = userpass
        username = \(username)
        password = \(password)
        account = \(account)

        """
    }

    /// Environment variables that point the rucio client (and scripts) at this lake, in order. Only where the lake
    /// is: the client ranks `RUCIO_ACCOUNT` and `RUCIO_AUTH_TYPE` above any `rucio.cfg`, so exporting them would make
    /// every other configuration in that shell (an OIDC one, a second user's) answer as root with a password.
    var environment: [(String, String)] {
        [
            ("RUCIO_CONFIG", rucioConfigPath),
            ("LAKEBED_URL", url), ("LAKEBED_DASHBOARD", dashboard), ("LAKEBED_FTS", fts), ("LAKEBED_IAM_ISSUER", iamIssuer),
            ("LAKEBED_METRICS", metrics), ("LAKEBED_DATA_DIR", dataDir),
        ]
    }

    /// `export KEY='value'` lines for `eval "$(lakebed env --shell)"`.
    var shellExports: String {
        environment.map { "export \($0.0)=\(Self.shellQuote($0.1))" }.joined(separator: "\n") + "\n"
    }

    /// `KEY=value` lines (dotenv, `docker --env-file`, `$GITHUB_ENV`).
    var dotenv: String { environment.map { "\($0.0)=\($0.1)" }.joined(separator: "\n") + "\n" }

    static func shellQuote(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    /// Writes `endpoints.json` and `rucio.cfg` into the data folder.
    func save() throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        try enc.encode(self).write(to: URL(fileURLWithPath: Self.file(dataDir: dataDir)))
        try Data(rucioConfig.utf8).write(to: URL(fileURLWithPath: rucioConfigPath))
    }

    static func load(dataDir: String) -> LakeEndpoints? {
        guard let data = FileManager.default.contents(atPath: file(dataDir: dataDir)) else { return nil }
        return try? JSONDecoder().decode(LakeEndpoints.self, from: data)
    }
}
