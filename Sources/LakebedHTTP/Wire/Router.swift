import Foundation
public import Hummingbird
public import LakebedCore

/// A route table that matches percent-decoded path segments, ignores trailing slashes, and lets a
/// final `*rest` capture what remains (Rucio's `<path:…>`).
public struct RouteTable: Sendable {
    public typealias Handler = @Sendable (RucioRequest) async throws -> Response

    enum Segment: Sendable {
        case literal(String)
        case param(String)
        case rest(String)
    }
    struct Route: Sendable {
        var method: HTTPRequest.Method
        var segments: [Segment]
        var auth: Bool
        var handler: Handler
        /// The pattern as written (`/dids/:scope/:name/meta`): a bounded label for metrics and logs.
        var pattern: String
        /// What the OpenAPI description says about the route beyond its path, method and auth.
        var doc: RouteDoc?
        /// Statuses this route answers some exception classes with instead of their usual one, as Rucio's route does.
        var statusOverrides: [RucioExceptionClass: HTTPResponse.Status]
        /// How many segments a path must have to match, when the pattern has no `*rest` (nil: at least as many as
        /// the pattern's fixed part). Checked before binding: most candidates fail on it alone.
        var segmentCount: Int?
    }

    var routes: [Route] = []
    /// Indices into `routes`, in order, of the routes a path with a given first segment can match: those whose
    /// pattern starts with that literal plus those that start with a parameter (`wildcardFirst`). Matching looks only
    /// at these, in the table's order, so the first route that fits still wins.
    private var byFirstSegment: [String: [Int]] = [:]
    /// Indices of the routes whose pattern does not start with a literal (a parameter, a `*rest`, or the root).
    private var wildcardFirst: [Int] = []
    public init() {}

    /// Adds a route; `pattern` is like `/dids/:scope/:name/meta`. `statuses` are the route's exceptions to the usual
    /// status of an exception class (Rucio's `POST /rules/` answers `InvalidRSEExpression` with 409, not 400).
    public mutating func add(
        _ method: HTTPRequest.Method, _ pattern: String, auth: Bool = true, doc: RouteDoc? = nil,
        statuses: [RucioExceptionClass: HTTPResponse.Status] = [:], _ handler: @escaping Handler
    ) {
        let segs: [Segment] = pattern.split(separator: "/").map { s in
            if s.hasPrefix(":") { return .param(String(s.dropFirst())) }
            if s.hasPrefix("*") { return .rest(String(s.dropFirst())) }
            return .literal(String(s))
        }
        let index = routes.count
        let hasRest = segs.contains { if case .rest = $0 { return true } else { return false } }
        routes.append(
            Route(
                method: method, segments: segs, auth: auth, handler: handler, pattern: pattern, doc: doc, statusOverrides: statuses,
                segmentCount: hasRest ? nil : segs.count))
        if case .literal(let first) = segs.first {
            byFirstSegment[first, default: wildcardFirst].append(index)
        } else {
            wildcardFirst.append(index)
            for key in byFirstSegment.keys { byFirstSegment[key]!.append(index) }
        }
    }

    /// Result of matching a path.
    enum Match {
        case found(Route, [String: String])
        case wrongMethod, none
    }

    func match(method: HTTPRequest.Method, segments path: [String]) -> Match {
        var sawPath = false
        let candidates = path.first.flatMap { byFirstSegment[$0] } ?? wildcardFirst
        for i in candidates {
            if let count = routes[i].segmentCount, count != path.count { continue }
            guard let params = Self.bind(routes[i].segments, path) else { continue }
            sawPath = true
            let m = routes[i].method
            if m == method || (method == .head && m == .get) { return .found(routes[i], params) }
        }
        return sawPath ? .wrongMethod : .none
    }

    static func bind(_ pattern: [Segment], _ path: [String]) -> [String: String]? {
        var params: [String: String] = [:]
        var i = 0
        for (k, seg) in pattern.enumerated() {
            switch seg {
            case .literal(let l):
                guard i < path.count, path[i] == l else { return nil }
                i += 1
            case .param(let name):
                guard i < path.count, !path[i].isEmpty else { return nil }
                params[name] = path[i]
                i += 1
            case .rest(let name):
                guard k == pattern.count - 1, i < path.count else { return nil }
                params[name] = path[i...].joined(separator: "/")
                i = path.count
            }
        }
        return i == path.count ? params : nil
    }

    /// Splits a raw path into percent-decoded segments, dropping empty ones (so `//jobs` and `/jobs/` match `/jobs`).
    public static func segments(_ rawPath: String) -> [String] {
        rawPath.split(separator: "/", omittingEmptySubsequences: true).map {
            // Most segments hold no escape: decoding them would only copy them.
            $0.contains("%") ? (String($0).removingPercentEncoding ?? String($0)) : String($0)
        }
    }
}
