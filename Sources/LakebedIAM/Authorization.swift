import Foundation
import LakebedCore

/// A login the user approved at `/iam/authorize`, waiting for its client to redeem the code.
struct AuthorizationCode: Sendable {
    var clientID: String
    var redirectURI: String
    var sub: String
    var scopes: [String]
    var audience: [String]
    var nonce: String?
    var expiresAt: Double
}

/// An OAuth authorization request (RFC 6749 §4.1.1) as a browser brings it to `/iam/authorize`.
public struct AuthorizationRequest: Sendable, Equatable {
    /// Must be `code`.
    public var responseType: String
    /// The client asking.
    public var clientID: String
    /// Where the user's browser is sent back with the code.
    public var redirectURI: String
    /// Requested scopes, space-separated.
    public var scope: String?
    /// The client's value, returned with the code.
    public var state: String?
    /// The client's value, written into the ID token.
    public var nonce: String?
    /// Requested audiences (IAM's `audience` extension).
    public var audience: [String]

    /// Reads the request's parameters (query or form); `invalid_request` when one it needs is missing.
    public init(parameters p: [(String, String)]) throws(OAuthError) {
        func value(_ k: String) -> String? { p.first { $0.0 == k }?.1 }
        guard let type = value("response_type") else { throw .invalidRequest("response_type is required") }
        guard let client = value("client_id") else { throw .invalidRequest("client_id is required") }
        guard let redirect = value("redirect_uri") else { throw .invalidRequest("redirect_uri is required") }
        responseType = type
        clientID = client
        redirectURI = redirect
        scope = value("scope")
        state = value("state")
        nonce = value("nonce")
        audience = ScopeList.split(value("audience"))
    }

    /// The parameters again, as the login form carries them on.
    public var parameters: [(String, String)] {
        var out = [("response_type", responseType), ("client_id", clientID), ("redirect_uri", redirectURI)]
        if let scope { out.append(("scope", scope)) }
        if let state { out.append(("state", state)) }
        if let nonce { out.append(("nonce", nonce)) }
        if !audience.isEmpty { out.append(("audience", audience.joined(separator: " "))) }
        return out
    }
}

extension IAM {
    /// How long a code may wait for its client.
    static let codeLifetime: Double = 60

    /// Checks a request before the login form is shown: `code` responses, a known client allowed the code grant, the
    /// scopes it may have, and a redirect URI on this machine. IAM compares redirect URIs with those registered for the
    /// client; Lakebed serves loopback only, so it accepts any loopback URI (the lake's own `/auth/oidc_code` among them).
    public func checkAuthorization(_ r: AuthorizationRequest) throws(OAuthError) -> IAMClient {
        guard r.responseType == "code" else { throw OAuthError("unsupported_response_type", "Unsupported response type: \(r.responseType)") }
        guard let client = directory.client(r.clientID) else { throw OAuthError.invalidClient("Unknown client: \(r.clientID)") }
        guard client.grantTypes.contains(GrantType.authorizationCode) else {
            throw OAuthError("unauthorized_client", "Unauthorized grant type: \(GrantType.authorizationCode)")
        }
        guard let url = URLComponents(string: r.redirectURI), ["http", "https"].contains(url.scheme ?? ""),
            ["127.0.0.1", "localhost", "::1", "[::1]"].contains(url.host ?? "")
        else { throw OAuthError.invalidRequest("Invalid redirect_uri: \(r.redirectURI)") }
        _ = try grantedScopes(r.scope, client: client, ceiling: nil)
        return client
    }

    /// The user signs in: on the right password, the URL to send the browser to (`redirect_uri?code=…&state=…`).
    public func authorize(_ r: AuthorizationRequest, username: String, password: String) throws(OAuthError) -> String {
        let client = try checkAuthorization(r)
        guard let user = directory.user(named: username), user.checkPassword(password) else { throw OAuthError.invalidGrant("Bad credentials") }
        let t = Double(now)
        codes = codes.filter { $0.value.expiresAt > t }
        let code = UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        codes[code] = AuthorizationCode(
            clientID: client.clientID, redirectURI: r.redirectURI, sub: user.sub, scopes: try grantedScopes(r.scope, client: client, ceiling: nil),
            audience: r.audience, nonce: r.nonce, expiresAt: t + Self.codeLifetime)
        var back = URLComponents(string: r.redirectURI)!
        back.queryItems =
            (back.queryItems ?? []) + [URLQueryItem(name: "code", value: code)] + (r.state.map { [URLQueryItem(name: "state", value: $0)] } ?? [])
        return back.string!
    }

    /// `grant_type=authorization_code`: the code, once, by the client it was issued to, with the same redirect URI.
    func redeem(_ r: TokenRequest, client: IAMClient) async throws -> TokenResponse {
        guard let code = r.code, !code.isEmpty else { throw OAuthError.invalidRequest("code is required") }
        guard let grant = codes.removeValue(forKey: code), grant.expiresAt > Double(now) else {
            throw OAuthError.invalidGrant("Invalid authorization code")
        }
        guard grant.clientID == client.clientID else { throw OAuthError.invalidGrant("Client ID does not match the authorization code") }
        guard r.redirectURI == nil || r.redirectURI == grant.redirectURI else { throw OAuthError.invalidGrant("Redirect URI does not match") }
        guard let user = directory.user(sub: grant.sub) else { throw OAuthError.invalidGrant("The user no longer exists") }
        return try await respond(
            client: client, user: user, sub: grant.sub, scopes: grant.scopes, audience: grant.audience, act: nil, nonce: grant.nonce)
    }
}
