import Foundation
import LakebedCore

/// What a storage request does, in WLCG capability terms.
public enum StorageOperation: String, Sendable, CaseIterable {
    /// Read or list data (`storage.read`, or `storage.stage`, which also reads).
    case read
    /// Write new data (`storage.create`, or `storage.modify`, which includes it).
    case create
    /// Overwrite, rename or delete data (`storage.modify` only).
    case modify
    /// Stage from tape (`storage.stage`).
    case stage
}

/// One WLCG storage capability scope, `storage.<op>:<path>`.
public struct StorageScope: Sendable, Equatable, CustomStringConvertible {
    /// The capability: `read`, `create`, `modify` or `stage`.
    public var operation: StorageOperation
    /// Normalised absolute path (`/` for the whole storage area).
    public var path: String

    /// Parses `storage.read:/data`; nil for anything else (including paths with `..`).
    public init?(_ scope: String) {
        guard scope.hasPrefix("storage."), let colon = scope.firstIndex(of: ":") else { return nil }
        guard let op = StorageOperation(rawValue: String(scope[scope.index(scope.startIndex, offsetBy: 8)..<colon])) else { return nil }
        guard let p = StoragePath.normalize(String(scope[scope.index(after: colon)...])) else { return nil }
        operation = op
        path = p
    }

    public var description: String { "storage.\(operation.rawValue):\(path)" }

    /// Whether `other` (a normalised path) is this scope's path or below it, segment by segment.
    public func covers(_ other: String) -> Bool {
        path == "/" || other == path || other.hasPrefix(path + "/")
    }

    /// Whether this capability allows `op`.
    public func allows(_ op: StorageOperation) -> Bool {
        switch op {
        case .read: return operation == .read || operation == .stage
        case .create: return operation == .create || operation == .modify
        case .modify: return operation == .modify
        case .stage: return operation == .stage
        }
    }
}

/// Storage paths as WLCG scopes use them.
public enum StoragePath {
    /// Makes a path absolute, collapses `//` and `.`, drops a trailing `/`; nil if `..` would climb out or the path is not a path.
    public static func normalize(_ raw: String) -> String? {
        var out: [Substring] = []
        for seg in raw.split(separator: "/", omittingEmptySubsequences: true) {
            if seg == "." { continue }
            if seg == ".." {
                guard !out.isEmpty else { return nil }
                out.removeLast()
                continue
            }
            out.append(seg)
        }
        return "/" + out.joined(separator: "/")
    }

    /// `path` relative to `base` (both normalised), or nil if it is outside.
    public static func relative(_ path: String, to base: String) -> String? {
        if base == "/" { return path }
        if path == base { return "/" }
        guard path.hasPrefix(base + "/") else { return nil }
        return String(path.dropFirst(base.count))
    }
}

/// A bearer token that passed a storage check: who it is and which scope allowed the request.
public struct StorageGrant: Sendable, Equatable {
    /// The token's claims.
    public var claims: AccessTokenClaims
    /// The scope that covered the request.
    public var scope: StorageScope
    /// The path checked, relative to the storage base, as the scope saw it.
    public var path: String
}

/// Why a storage request with a bearer token was refused.
public struct StorageDenied: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The token itself is bad (signature, expiry, issuer, audience): answer 401.
        case invalidToken
        /// The token is good but its scopes do not cover the request: answer 403.
        case insufficientScope
    }
    /// Which refusal: a bad token (401) or scopes that do not cover the request (403).
    public var kind: Kind
    /// Why, in words; storage endpoints send it as the refusal's body.
    public var message: String
    /// The HTTP status a storage endpoint should answer with (401 or 403).
    public init(kind: Kind, message: String) {
        self.kind = kind
        self.message = message
    }

    public var httpStatus: Int { kind == .invalidToken ? 401 : 403 }
    public var description: String { message }
}

extension IAM {
    /// Checks a bearer token for a storage request, as a WLCG storage element does.
    ///
    /// - token: the bearer token (a leading `Bearer ` is ignored).
    /// - path: the request path on the storage (absolute, e.g. the PFN's path).
    /// - operation: what the request does (`GET`/`PROPFIND` = `.read`, `PUT` of a new file = `.create`, `DELETE`/`MOVE`/overwrite = `.modify`).
    /// - audience: the storage's audience (e.g. its hostname); when given, the token's `aud` must contain it or the WLCG "any" audience.
    /// - basePath: the storage area that scope paths are relative to (Rucio's RSE attribute `oidc_base_path`); a path outside it is refused.
    public func authorizeStorage(
        token: String, path: String, operation: StorageOperation, audience: String? = nil,
        basePath: String = "/"
    ) async throws(StorageDenied) -> StorageGrant {
        var raw = token.trimmingCharacters(in: .whitespaces)
        if raw.lowercased().hasPrefix("bearer ") { raw = String(raw.dropFirst(7)).trimmingCharacters(in: .whitespaces) }
        let claims: AccessTokenClaims
        do { claims = try await validate(raw) } catch { throw StorageDenied(kind: .invalidToken, message: error.reason) }
        if let audience, !claims.aud.contains(audience), !claims.aud.contains(Self.anyAudience) {
            throw StorageDenied(kind: .invalidToken, message: "token audience \(claims.aud) does not include '\(audience)'")
        }
        guard let full = StoragePath.normalize(path), let base = StoragePath.normalize(basePath),
            let rel = StoragePath.relative(full, to: base)
        else {
            throw StorageDenied(kind: .insufficientScope, message: "path '\(path)' is outside the storage area '\(basePath)'")
        }
        let scopes = claims.scopes.compactMap(StorageScope.init)
        guard let match = scopes.first(where: { $0.allows(operation) && $0.covers(rel) }) else {
            throw StorageDenied(
                kind: .insufficientScope,
                message: "no scope in the token allows \(operation.rawValue) on '\(rel)' (token scopes: \(claims.scope ?? ""))")
        }
        return StorageGrant(claims: claims, scope: match, path: rel)
    }

    /// The same check with a read/write flag: `write` needs `storage.create` or `storage.modify`, otherwise `storage.read`.
    public func authorizeStorage(
        token: String, path: String, write: Bool, audience: String? = nil,
        basePath: String = "/"
    ) async throws(StorageDenied) -> StorageGrant {
        try await authorizeStorage(token: token, path: path, operation: write ? .create : .read, audience: audience, basePath: basePath)
    }
}
