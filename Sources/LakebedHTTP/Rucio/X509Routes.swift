import Foundation
import Hummingbird
import LakebedCore

extension RucioAPI {
    /// X.509 logins (`/auth/x509`, `/auth/x509_proxy`, `/auth/x509/webui`: the same view in Rucio) and
    /// `PUT /identities/<account>/x509`, with the client certificate of the HTTPS connection (see `ClientCertificate`).
    func registerX509(_ t: inout RouteTable) {
        for path in ["/auth/x509", "/auth/x509_proxy", "/auth/x509/webui"] {
            t.add(
                .get, path, auth: false,
                doc: RouteDoc(
                    "Log in with the client certificate (or an RFC 3820 proxy) of the HTTPS connection; the token comes back in X-Rucio-Auth-Token",
                    headers: "X-Rucio-Account:string X-Rucio-AppID:string X-Rucio-Allow-Return-Multiple-Accounts:bool")
            ) { r in
                guard let dn = try await Self.clientDN(stripped: true) else { throw RucioError.cannotAuthenticate("Cannot get DN") }
                let multiple = r.header("X-Rucio-Allow-Return-Multiple-Accounts")?.lowercased() == "true"
                switch try await catalog.auth.loginX509(dn: dn, account: r.header("X-Rucio-Account"), appID: r.header("X-Rucio-AppID"), allowMultiple: multiple)
                {
                case .token(let info):
                    return Reply.make(
                        .ok, "application/octet-stream", "",
                        extra: Self.x509Headers(r) + [
                            ("X-Rucio-Auth-Token", info.token), ("X-Rucio-Auth-Token-Expires", RucioDate.rfc1123(info.expiresAt)),
                            ("X-Rucio-Auth-Account", info.account),
                        ])
                case .chooseAccount(let accounts):
                    return Reply.make(
                        .init(code: 206), "application/octet-stream", JSON.array(accounts.map { .string($0) }).serialized(),
                        extra: Self.x509Headers(r) + [("X-Rucio-Auth-Accounts", accounts.joined(separator: ","))])
                }
            }
            t.add(.options, path, auth: false, doc: RouteDoc("CORS preflight of the X.509 login")) { r in
                Reply.make(.ok, "text/html; charset=utf-8", "", extra: Self.x509Headers(r))
            }
        }
        t.add(
            .put, "/identities/:account/x509",
            doc: RouteDoc("Add the client certificate's DN (as the connection presents it) as an X509 identity of an account", headers: "X-Rucio-Email!:string")
        ) { r in
            // Rucio takes SSL_CLIENT_S_DN as it is: a proxy's DN keeps its proxy CNs here.
            guard let dn = try await Self.clientDN(stripped: false), let email = r.header("X-Rucio-Email"), !email.isEmpty else {
                throw RucioError.valueError("SSL_CLIENT_S_DN and email must be set.")
            }
            try await catalog.auth.addIdentity(account: r.param("account"), identity: dn, type: "X509", email: email, password: nil, isDefault: false, by: r.caller)
            return Reply.created()
        }
    }

    /// The DN of the connection's verified client certificate (nil when none was presented); a chain that does not
    /// verify is refused with its reason.
    static func clientDN(stripped: Bool) async throws -> String? {
        do {
            guard let verified = try await ClientCertificate.verified() else { return nil }
            return stripped ? verified.identityDN : verified.subjectDN
        } catch let refusal as ProxyChain.Refusal {
            throw RucioError.cannotAuthenticate("Cannot authenticate with the client certificate: \(refusal.description)")
        }
    }

    /// The CORS and cache headers Rucio's X.509 view answers with.
    static func x509Headers(_ r: RucioRequest) -> [(String, String)] {
        [
            ("Access-Control-Allow-Origin", r.header("Origin") ?? ""), ("Access-Control-Allow-Headers", r.header("Access-Control-Request-Headers") ?? ""),
            ("Access-Control-Allow-Methods", "*"), ("Access-Control-Allow-Credentials", "true"),
            ("Access-Control-Expose-Headers", "X-Rucio-Auth-Token, X-Rucio-Auth-Token-Expires, X-Rucio-Auth-Account, X-Rucio-Auth-Accounts"),
            ("Cache-Control", "no-cache, no-store, max-age=0, must-revalidate"), ("Pragma", "no-cache"),
        ]
    }
}
