import Foundation
import GRDB

/// Listings read page by page: each page is one short read transaction that resumes after the last row the previous
/// page gave (keyset paging on the catalog's own order), so a listing of a million files holds one page in memory,
/// never blocks writers for long, and lets other requests run between its pages.
public struct ListingCursor<Position: Sendable>: Sendable {
    /// Where the next page starts (nil: the listing is done).
    public var position: Position?
    /// Rows given so far (for `limit`).
    public var given: Int
    public init(position: Position?, given: Int) {
        self.position = position
        self.given = given
    }
}

/// A file as listings give it: the columns `list_files` and `list_replicas` answer with, read by position (a listing
/// of a million files builds no `DID` with its whole metadata per row).
public struct ListedFile: Sendable, Equatable {
    /// Scope of the file.
    public var scope: String
    /// Name of the file.
    public var name: String
    /// Size in bytes; nil = unknown.
    public var bytes: Int64?
    /// MD5 (hex); nil = unknown.
    public var md5: String?
    /// Adler32 (8 hex digits); nil = unknown.
    public var adler32: String?
    /// Rucio `guid`; nil = none.
    public var guid: String?
    /// Rucio `events`; nil = none.
    public var events: Int64?
    /// Rucio `lumiblocknr` (`list_files` with `long`); nil = none.
    public var lumiblocknr: Int64?

    public init(
        scope: String, name: String, bytes: Int64?, md5: String?, adler32: String?, guid: String?, events: Int64?, lumiblocknr: Int64?
    ) {
        self.scope = scope
        self.name = name
        self.bytes = bytes
        self.md5 = md5
        self.adler32 = adler32
        self.guid = guid
        self.events = events
        self.lumiblocknr = lumiblocknr
    }

    /// The columns a listing selects, in the order `init(row:)` reads them.
    static let columns = "d.scope, d.name, d.bytes, d.md5, d.adler32, d.guid, d.events, d.lumiblocknr"

    init(row: Row) {
        scope = row[0]
        name = row[1]
        bytes = row[2]
        md5 = row[3]
        adler32 = row[4]
        guid = row[5]
        events = row[6]
        lumiblocknr = row[7]
    }

    init(_ d: DID) {
        scope = d.scope
        name = d.name
        bytes = d.bytes
        md5 = d.md5
        adler32 = d.adler32
        guid = d.columns["guid"]?.stringValue
        events = d.columns["events"]?.intValue
        lumiblocknr = d.columns["lumiblocknr"]?.intValue
    }
}

extension DIDStore {
    /// Files under a DID in (scope, name) order, after `after`, at most `limit` of them: the pages of `files`.
    static func filesPage(_ db: Database, _ top: DID, after: DIDRef?, limit: Int) throws -> [ListedFile] {
        if top.type == .file { return after == nil ? [ListedFile(top)] : [] }
        let a = after ?? DIDRef("", "")
        let rows: RowCursor
        if top.type == .dataset {
            // A dataset's files are its direct content, already in key order (the contents table's primary key).
            rows = try Row.fetchCursor(
                db.cachedStatement(
                    sql: """
                        SELECT \(ListedFile.columns) FROM contents c JOIN dids d ON d.scope = c.child_scope AND d.name = c.child_name
                        WHERE c.scope = ? AND c.name = ? AND c.child_type = 'FILE' AND (c.child_scope, c.child_name) > (?, ?)
                        ORDER BY c.child_scope, c.child_name LIMIT ?
                        """), arguments: [top.scope, top.name, a.scope, a.name, limit])
        } else {
            rows = try Row.fetchCursor(
                db.cachedStatement(
                    sql: filesCTE + """
                         SELECT \(ListedFile.columns) FROM files f JOIN dids d ON d.scope = f.scope AND d.name = f.name WHERE (f.scope, f.name) > (?, ?)
                        ORDER BY d.scope, d.name LIMIT ?
                        """), arguments: [top.scope, top.name, a.scope, a.name, limit])
        }
        var out: [ListedFile] = []
        out.reserveCapacity(limit)
        while let row = try rows.next() { out.append(ListedFile(row: row)) }
        return out
    }

    /// Where a paged file listing of several DIDs stands: which DID, and the last file given from it.
    public struct FileWalk: Sendable {
        var index = 0
        var after: DIDRef?
        /// Files already given (only kept when several DIDs could name the same file).
        var seen: Set<DIDRef>?
        /// The start of a listing.
        public init() {}
    }

    /// One page of `listFiles` (at most `pageSize` files); start with `FileWalk()`. Unknown DIDs throw on the first page.
    public func listFilesPage(
        _ scope: String, _ name: String, cursor: ListingCursor<FileWalk>, pageSize: Int = 500
    )
        async throws -> ([ListedFile], ListingCursor<FileWalk>)
    {
        try await walkFiles([DIDRef(scope, name)], cursor: cursor, pageSize: pageSize, limit: nil)
    }

    /// The next page of files under `dids` (deduplicated across them, in each DID's key order).
    func walkFiles(_ dids: [DIDRef], cursor: ListingCursor<FileWalk>, pageSize: Int, limit: Int?) async throws -> ([ListedFile], ListingCursor<FileWalk>) {
        guard var walk = cursor.position else { return ([], cursor) }
        let first = cursor.given == 0 && walk.index == 0 && walk.after == nil
        if dids.count > 1, walk.seen == nil { walk.seen = [] }
        let want = min(pageSize, limit.map { max(0, $0 - cursor.given) } ?? pageSize)
        let start = walk
        let (out, end) = try await db.read { db -> ([ListedFile], FileWalk) in
            var walk = start
            var out: [ListedFile] = []
            if first { for ref in dids { _ = try Self.did(db, ref.scope, ref.name) } }  // a missing DID is an error before any row
            while out.count < want, walk.index < dids.count {
                let ref = dids[walk.index]
                let need = want - out.count
                let page = try Self.filesPage(db, try Self.did(db, ref.scope, ref.name), after: walk.after, limit: need)
                for f in page where walk.seen?.insert(DIDRef(f.scope, f.name)).inserted ?? true { out.append(f) }
                if page.count < need {
                    walk.index += 1
                    walk.after = nil
                } else if let last = page.last {
                    walk.after = DIDRef(last.scope, last.name)
                }
            }
            return (out, walk)
        }
        walk = end
        let given = cursor.given + out.count
        let done = walk.index >= dids.count || (limit.map { given >= $0 } ?? false)
        return (out, ListingCursor(position: done ? nil : walk, given: given))
    }
}

extension ReplicaStore {
    /// One page of `listReplicas` (at most `pageSize` files); start with `ListingCursor(position: FileWalk(), given: 0)`.
    public func listReplicasPage(
        _ dids: [DIDRef], query: ReplicaQuery, cursor: ListingCursor<DIDStore.FileWalk>, pageSize: Int = 500
    )
        async throws -> ([FileReplicas], ListingCursor<DIDStore.FileWalk>)
    {
        let (files, next) = try await catalog.dids.walkFiles(dids, cursor: cursor, pageSize: pageSize, limit: query.limit)
        if files.isEmpty { return ([], next) }
        let page = try await db.read { db in try self.replicaEntries(db, files, query) }
        return (page, next)
    }
}
