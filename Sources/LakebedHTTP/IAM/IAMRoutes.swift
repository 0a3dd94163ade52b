import Foundation
import HTTPTypes
import Hummingbird
import LakebedCore
public import LakebedIAM

/// The IAM's OAuth 2.0 / OpenID Connect endpoints, mounted under `/iam/` beside the Rucio API.
/// Requests are form-encoded; answers and errors are JSON as IAM writes them.
public struct IAMRoutes: Sendable {
    let iam: IAM

    public init(iam: IAM) { self.iam = iam }

    /// The mount for `LakebedResponder`.
    public func mount(prefix: String = "/iam") -> Mount {
        var t = RouteTable()
        register(&t)
        return Mount(prefix: prefix, table: t, maxBody: HTTPLimits.maxIAMBody, errors: IAMRouteError.self)
    }

    func register(_ t: inout RouteTable) {
        let iam = self.iam
        t.add(.get, "/.well-known/openid-configuration", auth: false) { _ in Reply.json(await iam.discovery()) }
        for path in ["/jwk", "/jwks"] {
            t.add(.get, path, auth: false) { _ in Reply.json(await iam.jwks()) }
        }
        t.add(.post, "/token", auth: false) { r in
            let form = Self.form(r)
            func value(_ k: String) -> String? { form.last { $0.0 == k }?.1 }
            let audience = form.filter { ["aud", "audience", "resource"].contains($0.0) }.flatMap { ScopeList.split($0.1) }
            let request = TokenRequest(
                grantType: value("grant_type") ?? "", client: Self.clientCredentials(r, form), scope: value("scope"),
                audience: audience, username: value("username"), password: value("password"),
                refreshToken: value("refresh_token"), subjectToken: value("subject_token"),
                subjectTokenType: value("subject_token_type"), code: value("code"), redirectURI: value("redirect_uri"))
            return await Self.answer { try await iam.token(request).json }
        }
        for method in [HTTPRequest.Method.get, .post] {
            t.add(method, "/userinfo", auth: false) { r in
                guard let token = Self.bearer(r) ?? Self.form(r).first(where: { $0.0 == "access_token" })?.1 else {
                    return Self.oauthError(.invalidToken("No bearer token"), status: .unauthorized)
                }
                return await Self.answer { try await iam.userinfo(accessToken: token) }
            }
        }
        t.add(.post, "/introspect", auth: false) { r in
            let form = Self.form(r)
            let token = form.first { $0.0 == "token" }?.1 ?? ""
            return await Self.answer { try await iam.introspect(token: token, client: Self.clientCredentials(r, form)) }
        }
        t.add(.post, "/revoke", auth: false) { r in
            let form = Self.form(r)
            let token = form.first { $0.0 == "token" }?.1 ?? ""
            do {
                try await iam.revoke(token: token, client: Self.clientCredentials(r, form))
                return Reply.make(.ok, "text/plain; charset=utf-8", "")
            } catch { return Self.oauthError(error as? OAuthError ?? OAuthError("server_error", "\(error)")) }
        }
        registerLogin(&t)
    }

    /// Runs an endpoint, rendering OAuth errors.
    static func answer(_ body: () async throws -> JSON) async -> Response {
        do {
            return Reply.make(.ok, "application/json", try await body().serialized(), extra: [("Cache-Control", "no-store"), ("Pragma", "no-cache")])
        } catch { return oauthError(error as? OAuthError ?? OAuthError("server_error", "\(error)")) }
    }

    /// `{"error": …, "error_description": …}` with the status RFC 6749 / RFC 6750 give the code.
    static func oauthError(_ e: OAuthError, status: HTTPResponse.Status? = nil) -> Response {
        let code: HTTPResponse.Status =
            status
            ?? {
                switch e.code {
                case "invalid_client", "invalid_token": return .unauthorized
                case "insufficient_scope": return .forbidden
                case "server_error": return .internalServerError
                default: return .badRequest
                }
            }()
        var extra = [("Cache-Control", "no-store")]
        if e.code == "invalid_client" { extra.append(("WWW-Authenticate", "Basic realm=\"lakebed-iam\"")) }
        if e.code == "invalid_token" || e.code == "insufficient_scope" {
            extra.append(
                ("WWW-Authenticate", "Bearer error=\"\(e.code)\", error_description=\"\(e.message.replacingOccurrences(of: "\"", with: "'"))\""))
        }
        let body: JSON = ["error": .string(e.code), "error_description": .string(e.message)]
        return Reply.make(code, "application/json", body.serialized(), extra: extra)
    }

    /// Form fields from the body (`application/x-www-form-urlencoded`) followed by the query string's.
    static func form(_ r: RucioRequest) -> [(String, String)] {
        QueryString.parse(String(decoding: r.body, as: UTF8.self)) + r.query
    }

    /// Client credentials from HTTP basic (`client_secret_basic`) or the form (`client_secret_post`, or `none` for public clients).
    static func clientCredentials(_ r: RucioRequest, _ form: [(String, String)]) -> ClientCredentials? {
        if let auth = r.header("Authorization"), auth.lowercased().hasPrefix("basic "),
            let data = Data(base64Encoded: String(auth.dropFirst(6)).trimmingCharacters(in: .whitespaces)),
            let pair = String(data: data, encoding: .utf8), let colon = pair.firstIndex(of: ":")
        {
            return ClientCredentials(
                id: QueryString.decode(String(pair[..<colon])), secret: QueryString.decode(String(pair[pair.index(after: colon)...])))
        }
        guard let id = form.first(where: { $0.0 == "client_id" })?.1 else { return nil }
        return ClientCredentials(id: id, secret: form.first { $0.0 == "client_secret" }?.1)
    }

    /// The token of an `Authorization: Bearer …` header.
    static func bearer(_ r: RucioRequest) -> String? {
        guard let auth = r.header("Authorization"), auth.lowercased().hasPrefix("bearer ") else { return nil }
        let t = auth.dropFirst(7).trimmingCharacters(in: .whitespaces)
        return t.isEmpty ? nil : t
    }
}

/// An error around the IAM's endpoints (no such endpoint, a body too large) in OAuth's format; the endpoints
/// themselves answer their `OAuthError`s directly.
struct IAMRouteError: ServiceError {
    var error: OAuthError
    var status: HTTPResponse.Status

    init(_ failure: HTTPFailure) {
        switch failure {
        case .noEndpoint: self.init(OAuthError("not_found", failure.message), .notFound)
        case .methodNotAllowed: self.init(OAuthError("method_not_allowed", failure.message), .methodNotAllowed)
        case .bodyTooLarge: self.init(OAuthError("server_error", failure.message), .init(code: 413))
        case .unreadableBody: self.init(OAuthError("server_error", failure.message), .badRequest)
        case .internalError: self.init(OAuthError("server_error", failure.message), .internalServerError)
        }
    }

    init(_ e: RucioError) { self.init(OAuthError("server_error", e.message), .init(code: e.exceptionClass.status)) }

    init(_ e: LakeError) { self.init(OAuthError("not_found", e.message), .notFound) }

    init(_ error: OAuthError, _ status: HTTPResponse.Status) {
        self.error = error
        self.status = status
    }

    var response: Response { IAMRoutes.oauthError(error, status: status) }
}
