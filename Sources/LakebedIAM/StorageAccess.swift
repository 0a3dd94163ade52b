import Foundation
import LakebedCore

extension IAM {
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
