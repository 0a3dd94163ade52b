import Foundation

/// What the OpenAPI description says about one route, written compactly where the route is registered:
/// `RouteDoc("Add rules", query: "limit:int", body: "dids!:[did] copies!:int grouping:ALL|DATASET|NONE")`.
/// A field is `name:type`, `name!:type` when required; a type is `string`, `int`, `number`, `bool`, `object`, `any`,
/// `[T]` (a list of T), `did` (`{scope, name}`), `file` (a file spec) or `A|B|C` (one of these strings).
/// A body written `[] …` is a JSON list of such objects.
public struct RouteDoc: Sendable {
    /// One query parameter or body field.
    public struct Field: Sendable, Equatable {
        /// The parameter's or field's name as clients send it.
        public var name: String
        /// Its type in RouteDoc's notation: `string`, `int`, `number`, `bool`, `object`, `any`, `[T]`, `did`, `file` or `A|B|C`.
        public var type: String
        /// Whether the OpenAPI description marks it required (written `name!:type`).
        public var required: Bool
    }

    /// A one-line summary.
    public var summary: String
    /// Query parameters.
    public var query: [Field]
    /// Fields of the JSON body (none: the route reads no body).
    public var body: [Field]
    /// Whether the body is a list of objects with `body`'s fields rather than one object.
    public var bodyIsList: Bool
    /// Request headers the route reads (besides the token).
    public var headers: [Field]

    public init(_ summary: String, query: String = "", body: String = "", headers: String = "") {
        self.summary = summary
        self.query = Self.fields(query)
        self.headers = Self.fields(headers)
        var words = body.split(separator: " ").map(String.init)
        bodyIsList = words.first == "[]"
        if bodyIsList { words.removeFirst() }
        self.body = Self.fields(words.joined(separator: " "))
    }

    static func fields(_ text: String) -> [Field] {
        text.split(separator: " ").map { word in
            let parts = word.split(separator: ":", maxSplits: 1).map(String.init)
            let name = parts[0]
            let type = parts.count > 1 ? parts[1] : "string"
            return name.hasSuffix("!")
                ? Field(name: String(name.dropLast()), type: type, required: true) : Field(name: name, type: type, required: false)
        }
    }
}
