import Foundation
import HTTPTypes
import Hummingbird
import LakebedCore
import LakebedIAM

extension IAMRoutes {
    /// `/authorize`: the browser login of the authorization-code flow. GET shows the sign-in form for a valid request;
    /// POST checks the user's password and sends the browser back to the client with a code (303), or shows the form
    /// again (401) with what went wrong.
    func registerLogin(_ t: inout RouteTable) {
        let iam = self.iam
        t.add(.get, "/authorize", auth: false) { r in
            do {
                let request = try AuthorizationRequest(parameters: r.query)
                let client = try await iam.checkAuthorization(request)
                return Self.loginPage(request, clientName: client.name, error: nil, status: .ok)
            } catch let e as OAuthError { return Self.oauthError(e) }
        }
        t.add(.post, "/authorize", auth: false) { r in
            let form = QueryString.parse(String(decoding: r.body, as: UTF8.self))
            func value(_ k: String) -> String { form.last { $0.0 == k }?.1 ?? "" }
            do {
                let request = try AuthorizationRequest(parameters: form)
                let client = try await iam.checkAuthorization(request)
                do {
                    let back = try await iam.authorize(request, username: value("username"), password: value("password"))
                    return Reply.make(.seeOther, "text/html; charset=utf-8", "", extra: [("Location", back), ("Cache-Control", "no-store")])
                } catch let e as OAuthError where e.code == "invalid_grant" {
                    return Self.loginPage(request, clientName: client.name, error: "Bad username or password", status: .unauthorized)
                }
            } catch let e as OAuthError { return Self.oauthError(e) }
        }
    }

    /// The sign-in form; the request's parameters ride along as hidden fields.
    static func loginPage(_ r: AuthorizationRequest, clientName: String, error: String?, status: HTTPResponse.Status) -> Response {
        func esc(_ s: String) -> String {
            s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
                .replacingOccurrences(of: "\"", with: "&quot;")
        }
        let hidden = r.parameters.map { "<input type=\"hidden\" name=\"\(esc($0.0))\" value=\"\(esc($0.1))\">" }.joined(separator: "\n    ")
        let html = """
            <!doctype html>
            <html><head><meta charset="utf-8"><title>Lakebed IAM: sign in</title></head>
            <body>
            <h1>Sign in to Lakebed IAM</h1>
            <p>\(esc(clientName)) asks for: \(esc(r.scope ?? "its default scopes"))</p>
            \(error.map { "<p class=\"error\">\(esc($0))</p>" } ?? "")
            <form method="post" action="authorize">
                \(hidden)
                <label>Username <input name="username" autocomplete="username"></label>
                <label>Password <input name="password" type="password" autocomplete="current-password"></label>
                <button type="submit">Sign in</button>
            </form>
            </body></html>
            """
        return Reply.make(status, "text/html; charset=utf-8", html, extra: [("Cache-Control", "no-store")])
    }
}
