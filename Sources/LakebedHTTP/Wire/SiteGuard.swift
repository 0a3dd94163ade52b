import Foundation
import HTTPTypes
public import Hummingbird
import LakebedCore

/// Keeps web pages out of a lake bound to loopback: a page a developer opens can make the browser send requests to
/// 127.0.0.1 (a form, a `fetch`, or a DNS name rebound to 127.0.0.1), and the lake's control API and default
/// passwords are public. Such requests carry a foreign `Origin` or a `Host` that is not a loopback name; clients
/// (rucio, curl, gfal, FTS) send neither, and the dashboard's own requests come from a loopback origin.
public struct SiteGuard: Sendable {
    /// Whether requests are checked (a lake bound to loopback); off when `serve --host` names another address.
    public var enabled: Bool

    /// Checks requests when `enabled`.
    public init(enabled: Bool) { self.enabled = enabled }

    /// Whether `host` (a Host header or an origin's host, with or without a port) is a loopback name.
    public static func isLoopbackName(_ host: String) -> Bool {
        var h = host.lowercased()
        if h.hasPrefix("[") {
            guard let end = h.firstIndex(of: "]") else { return false }
            h = String(h[h.index(after: h.startIndex)..<end])
            return h == "::1" || h == "0:0:0:0:0:0:0:1"
        }
        if let colon = h.lastIndex(of: ":") { h = String(h[..<colon]) }
        if h == "localhost" || h.hasSuffix(".localhost") { return true }
        let parts = h.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }

    /// Why `request` is refused, or nil to serve it.
    public func refusal(_ request: Request) -> String? {
        guard enabled else { return nil }
        if let host = request.head.authority, !host.isEmpty, !Self.isLoopbackName(host) {
            return "Host '\(Validation.printable(host))' is not this loopback-bound lake (DNS rebinding?)"
        }
        if let origin = request.headers[.origin] {
            let rest = origin.lowercased().split(separator: "/", omittingEmptySubsequences: true)
            let scheme = rest.first.map(String.init) ?? ""
            guard ["http:", "https:"].contains(scheme), rest.count >= 2, Self.isLoopbackName(String(rest[1])) else {
                return "requests from web pages of other sites (Origin '\(Validation.printable(origin))') are refused"
            }
        }
        return nil
    }
}
