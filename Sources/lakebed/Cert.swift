import ArgumentParser
import Foundation
import LakebedHTTP

/// `lakebed cert`: where the data folder's TLS certificates are (created if missing), or the CA certificate itself.
struct Cert: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the path of the CA certificate Lakebed's HTTPS listener is signed with (or, with --pem, the certificate).",
        discussion: """
            Point clients at it: `ca_cert = <path>` in rucio.cfg, `rucio_ca_cert` in the JupyterLab extension,
            `REQUESTS_CA_BUNDLE=<path>` or `curl --cacert <path>`. The certificate is made on first use and kept in <data-dir>/tls/.
            """)

    @Option(name: .long, help: "The lake's data folder.")
    var dataDir: String = "./lakebed-data"

    @Flag(name: .long, help: "Print the CA certificate in PEM form instead of its path.")
    var pem = false

    func run() async throws {
        let certs = try LocalCertificates.ensure(dataDir: dataDir)
        if pem { print(try certs.caPEM(), terminator: "") } else { print(certs.caPath) }
    }
}
