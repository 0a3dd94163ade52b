import ArgumentParser
import Foundation
import LakebedHTTP

/// `lakebed cert`: where the data folder's TLS certificates are (created if missing), the CA certificate itself, or a
/// user certificate (and proxy) from that CA for X.509 logins.
struct Cert: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the path of the CA certificate Lakebed's HTTPS listener is signed with (or, with --pem, the certificate); issue user certificates.",
        discussion: """
            Point clients at it: `ca_cert = <path>` in rucio.cfg, `rucio_ca_cert` in the JupyterLab extension,
            `REQUESTS_CA_BUNDLE=<path>` or `curl --cacert <path>`. The certificate is made on first use and kept in <data-dir>/tls/.

            With --user NAME: a user certificate and key signed by the same CA (usercert.pem, userkey.pem in --out), and with
            --proxy an RFC 3820 proxy of it (x509up: proxy, its key, the user certificate), for X.509 logins over HTTPS
            (`auth_type = x509` with client_cert/client_key, or `x509_proxy` with client_x509_proxy). It prints the DN to
            register: `rucio-admin identity add --account ACCOUNT --type X509 --id "<DN>" --email EMAIL`.

            Examples:
              lakebed cert --pem > ca.pem
              lakebed cert --user jdoe --out ~/.lakebed-x509 --proxy
            """)

    @Option(name: .long, help: "The lake's data folder.")
    var dataDir: String = "./lakebed-data"

    @Flag(name: .long, help: "Print the CA certificate in PEM form instead of its path.")
    var pem = false

    @Option(name: .long, help: ArgumentHelp("Issue a user certificate for this name (its DN ends in /CN=<name>).", valueName: "name"))
    var user: String?

    @Option(name: .long, help: ArgumentHelp("Folder for usercert.pem, userkey.pem and x509up (with --user).", valueName: "folder"))
    var out: String = "."

    @Flag(name: .long, help: "Also make a proxy of the user certificate (with --user).")
    var proxy = false

    @Option(name: .long, help: "Hours the proxy is valid (wall clock).")
    var proxyHours: Double = 12

    @Option(name: .long, help: "rfc3820 (a ProxyCertInfo extension, numeric CN: today's voms-proxy-init) or legacy (Globus `CN=proxy`).")
    var proxyStyle: String = LocalCertificates.ProxyStyle.rfc3820.rawValue

    func validate() throws {
        if user == nil && proxy { throw ValidationError("--proxy needs --user NAME") }
        if proxyHours <= 0 { throw ValidationError("--proxy-hours must be positive") }
        if LocalCertificates.ProxyStyle(rawValue: proxyStyle) == nil { throw ValidationError("--proxy-style is rfc3820 or legacy") }
    }

    func run() async throws {
        let certs = try LocalCertificates.ensure(dataDir: dataDir)
        guard let user else {
            if pem { print(try certs.caPEM(), terminator: "") } else { print(certs.caPath) }
            return
        }
        let made = try certs.issueUser(user, folder: out, proxyHours: proxy ? proxyHours : nil, proxyStyle: LocalCertificates.ProxyStyle(rawValue: proxyStyle) ?? .rfc3820)
        print(
            """
            DN          : \(made.dn)
            certificate : \(made.certPath)
            key         : \(made.keyPath)\(made.proxyPath.map { "\nproxy       : \($0)  (\(proxyStyle), \(proxyHours) h)" } ?? "")
            CA          : \(certs.caPath)
            register it : rucio-admin identity add --account <account> --type X509 --id "\(made.dn)" --email <email>
            rucio.cfg   : rucio_host = auth_host = https://localhost:<https port>, ca_cert = \(certs.caPath),
                          auth_type = x509, client_cert = \(made.certPath), client_key = \(made.keyPath)\(made.proxyPath.map { "\n                          (or auth_type = x509_proxy, client_x509_proxy = \($0))" } ?? "")
            """)
    }
}
