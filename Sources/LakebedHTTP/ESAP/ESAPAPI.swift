import Foundation
import HTTPTypes
public import Hummingbird
public import LakebedCore
public import LakebedIAM

/// The part of the ESAP API gateway that DLaaS notebooks talk to, under `/esap-api/`: user profiles with their shopping
/// basket (`accounts/user-profiles/`) and basket items (`accounts/shopping-items/`), as Django REST framework renders them.
///
/// Callers authenticate with a bearer token from Lakebed's IAM (what ESAP receives from its OIDC login and a notebook
/// finds in its token file); the profile is the token's IAM user. Without a token the profile list is empty, as ESAP's
/// `AllowAny` view set answers anonymous callers. Items keep ESAP's storage form: `item_data` is JSON *text*.
public struct ESAPAPI: Sendable {
    let catalog: Catalog
    let iam: IAM

    public init(catalog: Catalog, iam: IAM) {
        self.catalog = catalog
        self.iam = iam
    }

    public var mount: Mount {
        var t = RouteTable()
        register(&t)
        return Mount(prefix: "/esap-api", table: t, errors: ESAPError.self)
    }

    /// An ESAP user as the profile shows it.
    struct Profile {
        var userName: String
        var fullName: String?
        var email: String
        var accessToken: String
    }

    /// The caller's profile: nil without a token, `NotAuthenticated` for a token the IAM refuses.
    func caller(_ r: RucioRequest) async throws -> Profile? {
        guard let h = r.header("Authorization") else { return nil }
        guard h.lowercased().hasPrefix("bearer ") else { throw ESAPError(.notAuthenticated, "Authentication credentials were not provided.") }
        let token = String(h.dropFirst(7)).trimmingCharacters(in: .whitespaces)
        let claims: AccessTokenClaims
        do { claims = try await iam.validate(token) } catch { throw ESAPError(.notAuthenticated, "Invalid token: \(error.reason)") }
        if let user = await iam.directory.user(sub: claims.sub) {
            return Profile(userName: user.username, fullName: user.name, email: user.email, accessToken: token)
        }
        // A client_credentials token: the client is the user.
        return Profile(userName: claims.sub, fullName: nil, email: "", accessToken: token)
    }

    func requireCaller(_ r: RucioRequest) async throws -> Profile {
        guard let p = try await caller(r) else { throw ESAPError(.notAuthenticated, "Authentication credentials were not provided.") }
        return p
    }

    static func itemDoc(_ item: BasketItem) -> JSON {
        ["item_data": .string(item.itemData), "user_profile": .string(item.userName)]
    }

    func profileDoc(_ p: Profile) async throws -> JSON {
        let items = try await catalog.baskets.basket(user: p.userName)
        return JSON.object(
            JSONObject([
                ("user_name", .string(p.userName)), ("full_name", p.fullName.map(JSON.string) ?? .null), ("user_email", .string(p.email)),
                ("oidc_id_token", .null), ("oidc_access_token", .string(p.accessToken)), ("query_schema", .null),
                ("software_repositories", .array([])), ("compute_resources", .array([])),
                ("shopping_cart", .array(items.map(Self.itemDoc))),
            ]))
    }

    /// DRF's page: `{"count", "next", "previous", "results"}`.
    static func page(_ results: [JSON]) -> JSON {
        ["count": .int(Int64(results.count)), "next": .null, "previous": .null, "results": .array(results)]
    }

    /// The items of a `shopping_cart` in a profile update. ESAP's serializer stores each element as given (JSON-dumped);
    /// an element that is itself `{"item_data": <text or object>}` (a cart read back and sent again) is unwrapped.
    static func cartItems(_ body: JSONObject) throws -> [JSON]? {
        guard let cart = body["shopping_cart"] else { return nil }
        guard let list = cart.arrayValue else { throw ESAPError(.validation, "shopping_cart must be a list") }
        return try list.map { element in
            guard let o = element.objectValue else { throw ESAPError(.validation, "each shopping_cart item must be an object") }
            if o.count <= 2, let inner = o["item_data"] {
                if let text = inner.stringValue, let parsed = try? JSONParser.parse(Array(text.utf8)) { return parsed }
                return inner
            }
            return element
        }
    }

    func register(_ t: inout RouteTable) {
        t.add(.get, "/accounts/user-profiles", auth: false) { r in
            guard let p = try await caller(r) else { return Reply.json(Self.page([])) }
            return Reply.json(Self.page([try await profileDoc(p)]))
        }
        t.add(.get, "/accounts/user-profiles/:user", auth: false) { r in
            let p = try await requireCaller(r)
            guard p.userName == r.param("user") else { throw ESAPError(.notFound, "Not found.") }
            return Reply.json(try await profileDoc(p))
        }
        let update: RouteTable.Handler = { r in
            let p = try await requireCaller(r)
            guard p.userName == r.param("user") else { throw ESAPError(.notFound, "Not found.") }
            let body = try r.jsonObject()
            if let items = try Self.cartItems(body) { try await catalog.baskets.setBasket(user: p.userName, items: items) }
            return Reply.json(try await profileDoc(p))
        }
        t.add(.put, "/accounts/user-profiles/:user", auth: false, update)
        t.add(.patch, "/accounts/user-profiles/:user", auth: false, update)
        t.add(.get, "/accounts/shopping-items", auth: false) { r in
            guard let p = try await caller(r) else { return Reply.json(Self.page([])) }
            return Reply.json(Self.page(try await catalog.baskets.basket(user: p.userName).map(Self.itemDoc)))
        }
        t.add(.post, "/accounts/shopping-items", auth: false) { r in
            let p = try await requireCaller(r)
            let body = try r.jsonObject()
            if let owner = body["user_profile"]?.stringValue, owner != p.userName {
                throw ESAPError(.permissionDenied, "You can only add items to your own basket.")
            }
            guard let raw = body["item_data"] else { throw ESAPError(.validation, "item_data: This field is required.") }
            let item: JSON
            if let text = raw.stringValue {
                guard let parsed = try? JSONParser.parse(Array(text.utf8)) else {
                    throw ESAPError(.validation, "item_data: Value must be valid JSON.")
                }
                item = parsed
            } else {
                item = raw
            }
            let added = try await catalog.baskets.addBasketItem(user: p.userName, item: item)
            return Reply.json(Self.itemDoc(added), status: .created)
        }
    }
}

/// An error as ESAP's Django REST framework writes it: `{"detail": "..."}` with the status of DRF's exception class.
public struct ESAPError: ServiceError {
    /// DRF's exception classes that ESAP's API raises.
    public enum Kind: Sendable {
        case validation, notAuthenticated, permissionDenied, notFound, methodNotAllowed, serverError

        var status: HTTPResponse.Status {
            switch self {
            case .validation: .badRequest
            case .notAuthenticated: .unauthorized
            case .permissionDenied: .forbidden
            case .notFound: .notFound
            case .methodNotAllowed: .methodNotAllowed
            case .serverError: .internalServerError
            }
        }
    }

    /// Which DRF exception it is; sets the HTTP status (400, 401, 403, 404, 405 or 500).
    public var kind: Kind
    /// The text of the body's `detail`.
    public var detail: String

    public init(_ kind: Kind, _ detail: String) {
        self.kind = kind
        self.detail = detail
    }

    public init(_ failure: HTTPFailure) {
        switch failure {
        case .noEndpoint: self.init(.notFound, failure.message)
        case .methodNotAllowed: self.init(.methodNotAllowed, failure.message)
        case .bodyTooLarge, .unreadableBody: self.init(.validation, failure.message)
        case .internalError: self.init(.serverError, failure.message)
        }
    }

    /// Whatever the catalog refuses is, to ESAP's clients, a request that did not validate.
    public init(_ error: RucioError) { self.init(.validation, error.message) }

    public init(_ error: LakeError) { self.init(.notFound, error.message) }

    public var response: Response {
        let body: JSON = ["detail": .string(detail)]
        var headers: [(String, String)] = []
        if kind == .notAuthenticated { headers.append(("WWW-Authenticate", "Bearer realm=\"api\"")) }
        return Reply.make(kind.status, "application/json", body.serialized(), extra: headers)
    }
}
