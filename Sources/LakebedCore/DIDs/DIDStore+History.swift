public import Foundation
import GRDB

/// A DID that was once in a collection (Rucio's `contents_history`).
public struct DetachedContent: Sendable {
    /// Scope of the DID that was in the collection.
    public var scope: String
    /// Name of that DID.
    public var name: String
    /// FILE, DATASET or CONTAINER.
    public var type: DIDType
    /// Its bytes as the content row had them; nil = unknown.
    public var bytes: Int64?
    /// Its adler32; nil = unknown.
    public var adler32: String?
    /// Its md5; nil = unknown.
    public var md5: String?
    /// When it was attached.
    public var createdAt: Date
    /// When it was detached.
    public var deletedAt: Date
}

extension DIDStore {
    /// Keeps a content row about to be detached in the collection's history.
    static func recordDetachment(_ db: Database, parent: DIDRef, child: DIDRef, now: Double) throws {
        try db.exec(
            sql: """
                INSERT INTO contents_history (scope, name, child_scope, child_name, child_type, bytes, adler32, md5, created_at, deleted_at)
                SELECT scope, name, child_scope, child_name, child_type, bytes, adler32, md5, created_at, ? FROM contents
                WHERE scope = ? AND name = ? AND child_scope = ? AND child_name = ?
                """, arguments: [now, parent.scope, parent.name, child.scope, child.name])
    }

    /// What was detached from a collection, oldest first (`list_content_history`).
    public func contentHistory(_ scope: String, _ name: String) async throws -> [DetachedContent] {
        try await db.read { db in
            _ = try Self.did(db, scope, name)
            return try db.all(sql: "SELECT * FROM contents_history WHERE scope = ? AND name = ? ORDER BY seq", arguments: [scope, name]).map {
                DetachedContent(
                    scope: $0["child_scope"], name: $0["child_name"], type: DIDType(loose: $0["child_type"]) ?? .file, bytes: $0["bytes"],
                    adler32: $0["adler32"], md5: $0["md5"], createdAt: Date(timeIntervalSince1970: $0["created_at"]),
                    deletedAt: Date(timeIntervalSince1970: $0["deleted_at"]))
            }
        }
    }

    /// Accounts following a DID (`get_users_following_did`).
    public func followers(_ scope: String, _ name: String) async throws -> [String] {
        try await db.read { db in
            _ = try Self.did(db, scope, name)
            return try String.fetchAll(
                db, sql: "SELECT account FROM dids_followed WHERE scope = ? AND name = ? ORDER BY account", arguments: [scope, name])
        }
    }

    /// An account starts (`follow`) or stops following a DID.
    public func setFollowing(_ scope: String, _ name: String, account: String, follow: Bool) async throws {
        let now = nowStamp
        try await db.write { db in
            let d = try Self.did(db, scope, name)
            try AccountStore.requireAccount(db, account)
            if follow {
                try db.exec(
                    sql: "INSERT OR IGNORE INTO dids_followed (scope, name, account, did_type, created_at) VALUES (?, ?, ?, ?, ?)",
                    arguments: [scope, name, account, d.type.rawValue, now])
            } else {
                try db.exec(sql: "DELETE FROM dids_followed WHERE scope = ? AND name = ? AND account = ?", arguments: [scope, name, account])
            }
        }
    }
}
