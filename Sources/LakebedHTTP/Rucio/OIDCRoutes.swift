import Foundation
import HTTPTypes
import Hummingbird
import LakebedCore
import LakebedOIDC

extension RucioAPI {
    /// Rucio's OIDC login (`/auth/oidc`, `/auth/oidc_redirect`, `/auth/oidc_code`, `/auth/oidc_refresh`) against the
    /// lake's IAM; see `OIDCLogin`.
    func registerOIDC(_ t: inout RouteTable) {
        let oidc = self.oidc
        let rses = catalog.rses
        t.add(
            .get, "/auth/oidc", auth: false,
            doc: RouteDoc(
                "Start an OIDC login: the URL to open comes back in X-Rucio-OIDC-Auth-URL",
                headers:
                    "X-Rucio-Account:string X-Rucio-Client-Authorize-Scope:string X-Rucio-Client-Authorize-Audience:string X-Rucio-Client-Authorize-Issuer:string X-Rucio-Client-Authorize-Polling:bool X-Rucio-Client-Authorize-Refresh-Lifetime:int"
            )
        ) { r in
            let account = r.header("X-Rucio-Account")
            let refusal = RucioError.cannotAuthenticate(
                "Cannot get authentication URL from Rucio Authentication Server for account \(account ?? "None")")
            guard let oidc else { throw refusal }
            let polling = ["True", "true"].contains(r.header("X-Rucio-Client-Authorize-Polling") ?? "")
            let lifetime = r.header("X-Rucio-Client-Authorize-Refresh-Lifetime").flatMap { Int($0) }
            let start = OIDCLogin.Start(
                account: account, scope: r.header("X-Rucio-Client-Authorize-Scope") ?? "",
                audience: r.header("X-Rucio-Client-Authorize-Audience") ?? "",
                issuer: r.header("X-Rucio-Client-Authorize-Issuer"), polling: polling, refreshLifetime: lifetime)
            guard let url = try await oidc.start(start, base: Self.ownBase(r, httpsPort: rses.webdavEndpoint?.port)) else { throw refusal }
            return Reply.make(.ok, "application/octet-stream", "", extra: [("X-Rucio-OIDC-Auth-URL", url)])
        }
        t.add(
            .get, "/auth/oidc_redirect", auth: false,
            doc: RouteDoc(
                "The login URL of /auth/oidc: a browser is sent to the IAM; a client fetching its token gets it",
                headers: "X-Rucio-Client-Fetch-Token:bool")
        ) { r in
            let code = r.request.uri.query ?? ""
            let fetch = r.header("X-Rucio-Client-Fetch-Token") == "True"
            guard let oidc, let result = try await oidc.redirect(code: code, fetchToken: fetch) else { return Self.noAuthorizationContent(nil) }
            if fetch { return Reply.make(.ok, "application/octet-stream", "", extra: [("X-Rucio-Auth-Token", result)]) }
            return Reply.make(.seeOther, "text/html", "", extra: [("Location", result)])
        }
        t.add(
            .get, "/auth/oidc_code", auth: false,
            doc: RouteDoc("Where the IAM sends the browser back with a code", query: "code!:string state!:string")
        ) { r in
            guard let oidc, let code = r.q("code"), let state = r.q("state") else { return Self.noAuthorizationContent(nil) }
            let finished: OIDCLogin.Finished?
            do { finished = try await oidc.finish(code: code, state: state) } catch let e as RucioError {
                return Self.noAuthorizationContent(e.message)
            }
            switch finished {
            case .polling: return Self.grantedPage(code: nil)
            case .fetchCode(let c): return Self.grantedPage(code: c)
            case nil: return Self.noAuthorizationContent(nil)
            }
        }
        t.add(
            .get, "/auth/oidc_refresh", auth: false,
            doc: RouteDoc(
                "A refreshed OIDC token for a token that came with a refresh token", headers: "X-Rucio-Account!:string X-Rucio-Auth-Token!:string")
        ) { r in
            guard let account = r.header("X-Rucio-Account"), let token = r.header("X-Rucio-Auth-Token") else {
                throw RucioError(.cannotAuthorize, "Cannot authorize token request.")
            }
            let fresh = try await oidc?.refresh(token: token, account: account)
            return Reply.make(
                .ok, "application/octet-stream", "",
                extra: [("X-Rucio-Auth-Token", fresh?.token ?? ""), ("X-Rucio-Auth-Token-Expires", fresh.map { String($0.expiresAt) } ?? "")])
        }
    }

    /// This server's address as the client reached it: Rucio builds its login URLs from its own (proxied) host name;
    /// Lakebed answers on two listeners and takes the one the request came on (https when the Host is the TLS port).
    static func ownBase(_ r: RucioRequest, httpsPort: Int?) -> String {
        let host = r.request.head.authority ?? r.header("Host") ?? "127.0.0.1"
        let port = host.split(separator: ":").last.flatMap { Int($0) }
        return (httpsPort != nil && port == httpsPort ? "https://" : "http://") + host
    }

    /// Rucio's answer when a login cannot be finished: 401 with its crash page, `CannotAuthenticate` in the headers.
    static func noAuthorizationContent(_ why: String?) -> Response {
        let message = "Cannot finalize your token request, no authorization content returned from the auth server"
        let page =
            "<html><body><h1>Rucio: authentication failed</h1><p>\(message)</p>\(why.map { "<p>\(Self.htmlEscaped($0))</p>" } ?? "")</body></html>"
        return Reply.make(.unauthorized, "text/html", page, extra: [("ExceptionClass", "CannotAuthenticate"), ("ExceptionMessage", message)])
    }

    /// Rucio's `auth_granted.html`: the code to paste into the client, or (polling) that the client will fetch its token.
    static func grantedPage(code: String?) -> Response {
        let text =
            code.map {
                "Please copy-paste the following code to the open terminal session with Rucio Client in order to get your access token: <b>\($0)</b>"
            }
            ?? "Rucio authorization server has been granted access to your information. Rucio Client should now be able to fetch your token automatically."
        return Reply.make(.ok, "text/html", "<html><body><h1>RUCIO</h1><p>\(text)</p></body></html>")
    }

    static func htmlEscaped(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
