import Foundation
import HTTPTypes
public import Hummingbird
public import LakebedCore
import NIOCore

/// Everything a Rucio route handler needs about one request, already decoded.
public struct RucioRequest: Sendable {
    /// The underlying Hummingbird request.
    public var request: Request
    /// Path parameters by name (percent-decoded).
    public var params: [String: String]
    /// Query parameters in order (form-decoded; a key may repeat).
    public var query: [(String, String)]
    /// Raw body bytes (empty when none).
    public var body: [UInt8]
    /// The authenticated caller, for routes that require a token.
    public var issuer: Issuer?

    /// The authenticated caller (routes behind auth always have one).
    public var caller: Issuer { issuer! }

    public func param(_ name: String) -> String { params[name] ?? "" }

    /// First value of a query parameter.
    public func q(_ name: String) -> String? { query.first { $0.0 == name }?.1 }
    /// All values of a repeated query parameter.
    public func qAll(_ name: String) -> [String] { query.filter { $0.0 == name }.map(\.1) }
    /// A query flag as Rucio reads it (`True`, `true`, `1`).
    public func qBool(_ name: String, default def: Bool = false) -> Bool {
        guard let v = q(name) else { return def }
        return ["true", "1", "yes"].contains(v.lowercased())
    }

    /// A header value.
    public func header(_ name: String) -> String? {
        guard let n = HTTPField.Name(name) else { return nil }
        return request.headers[n]
    }

    /// The body as a JSON value (`ValueError` if it does not parse).
    public func json() throws -> JSON {
        guard !body.isEmpty else { return .object(JSONObject()) }
        do { return try JSONParser.parse(body) } catch { throw RucioError.valueError("cannot decode json parameter dictionary") }
    }

    /// The body as a JSON object (`TypeError` if it is another kind of value).
    public func jsonObject() throws -> JSONObject {
        guard let o = try json().objectValue else { throw RucioError.typeError("body must be a json dictionary") }
        return o
    }
}

/// Reading typed parameters out of a JSON body with Rucio's errors.
extension JSONObject {
    public func requiredString(_ key: String) throws -> String {
        guard let v = self[key] else { throw RucioError.keyError(key) }
        guard let s = v.stringValue else { throw RucioError.typeError("'\(key)' must be a string, not \(v.pythonTypeName)") }
        return s
    }
    public func optionalString(_ key: String) throws -> String? {
        guard let v = self[key], !v.isNull else { return nil }
        guard let s = v.stringValue else { throw RucioError.typeError("'\(key)' must be a string, not \(v.pythonTypeName)") }
        return s
    }
    public func optionalBool(_ key: String) throws -> Bool? {
        guard let v = self[key], !v.isNull else { return nil }
        guard let b = v.boolValue else { throw RucioError.typeError("'\(key)' must be a boolean") }
        return b
    }
    public func optionalInt(_ key: String) throws -> Int64? {
        guard let v = self[key], !v.isNull else { return nil }
        if let i = v.intValue { return i }
        if let s = v.stringValue, let i = Int64(s) { return i }
        throw RucioError.typeError("'\(key)' must be an integer, not \(v.pythonTypeName)")
    }
    public func optionalDouble(_ key: String) throws -> Double? {
        guard let v = self[key], !v.isNull else { return nil }
        if let d = v.doubleValue { return d }
        if let s = v.stringValue, let d = Double(s) { return d }
        throw RucioError.typeError("'\(key)' must be a number, not \(v.pythonTypeName)")
    }
    public func optionalObject(_ key: String) throws -> JSONObject? {
        guard let v = self[key], !v.isNull else { return nil }
        guard let o = v.objectValue else { throw RucioError.typeError("'\(key)' must be a dictionary, not \(v.pythonTypeName)") }
        return o
    }
    public func optionalArray(_ key: String) throws -> [JSON]? {
        guard let v = self[key], !v.isNull else { return nil }
        guard let a = v.arrayValue else { throw RucioError.typeError("'\(key)' must be a list, not \(v.pythonTypeName)") }
        return a
    }
    public func requiredArray(_ key: String) throws -> [JSON] {
        guard self[key] != nil else { throw RucioError.keyError(key) }
        return try optionalArray(key) ?? []
    }
}

/// Form-decoding of query strings (`+` is a space, `%XX` escapes).
enum QueryString {
    static func parse(_ raw: String?) -> [(String, String)] {
        guard let raw, !raw.isEmpty else { return [] }
        return raw.split(separator: "&", omittingEmptySubsequences: true).map { part in
            let kv = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let k = decode(String(kv[0]))
            let v = kv.count > 1 ? decode(String(kv[1])) : ""
            return (k, v)
        }
    }
    static func decode(_ s: String) -> String {
        let plus = s.replacingOccurrences(of: "+", with: " ")
        return plus.removingPercentEncoding ?? plus
    }
}
