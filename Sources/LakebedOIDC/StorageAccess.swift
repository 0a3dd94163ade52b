import Foundation
public import LakebedCore
public import LakebedIAM

extension IAM {
    /// Whether an RSE takes bearer tokens (RSE attribute `oidc_support` true), and the base path its scopes are relative to
    /// (`oidc_base_path`, default `/`). Nil when the RSE does not take tokens.
    public static func storageTokenBase(rse: String, catalog: Catalog) async throws -> String? {
        let attrs = try await catalog.rses.rseAttributes(rse)
        func value(_ k: String) -> JSON? { attrs.first { $0.0 == k }?.1 }
        let support = value("oidc_support")
        guard support?.boolValue == true else { return nil }
        return value("oidc_base_path")?.stringValue ?? "/"
    }

    /// Whether a request on an RSE's storage may go ahead, as the RSE's storage element would decide: RSEs without
    /// `oidc_support` are open (Lakebed listens on loopback); the others need a bearer token of this IAM whose storage
    /// scopes cover `path` (relative to the RSE root, itself relative to the RSE's `oidc_base_path`). Nil means allowed.
    public func checkStorageAccess(token: String?, rse: String, path: String, operation: StorageOperation, catalog: Catalog) async -> StorageDenied? {
        let base: String?
        do { base = try await Self.storageTokenBase(rse: rse, catalog: catalog) } catch {
            return StorageDenied(kind: .insufficientScope, message: "unknown RSE \(rse)")
        }
        guard let base else { return nil }
        guard let token else { return StorageDenied(kind: .invalidToken, message: "RSE \(rse) requires a bearer token with storage scopes") }
        do { _ = try await authorizeStorage(token: token, path: path, operation: operation, basePath: base) } catch { return error }
        return nil
    }
}

extension IAM {
    /// FTS's check before it reads or writes `absolutePath` (a path on this machine, under the RSE's root) for a
    /// transfer: the same decision as `checkStorageAccess`, with the path made relative to the RSE's root.
    /// Nil means allowed; otherwise FTS's reason for failing the transfer.
    public func checkStorageAccess(token: String?, rse: String, absolutePath: String, write: Bool, catalog: Catalog) async -> String? {
        guard let model = try? await catalog.rses.rse(rse) else { return "unknown RSE \(rse)" }
        let root = (model.root as NSString).standardizingPath
        let rel = absolutePath.hasPrefix(root) ? String(absolutePath.dropFirst(root.count)) : absolutePath
        return await checkStorageAccess(
            token: token, rse: rse, path: rel.hasPrefix("/") ? rel : "/" + rel,
            operation: write ? .create : .read, catalog: catalog)?.message
    }
}
