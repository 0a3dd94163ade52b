public import Foundation

/// Why a storage operation on an RSE directory could not be done.
public enum StorageFault: Error, Sendable, Equatable {
    /// Nothing at that path.
    case notFound(String)
    /// Something is already there (MKCOL on an existing collection, MOVE without overwrite).
    case exists(String)
    /// The operation cannot apply to what is there (a file where a collection is needed, the RSE root itself).
    case conflict(String)
    /// The path leaves the RSE directory or is not a path.
    case badPath(String)
}

/// An RSE's directory seen as a storage element: the byte-level operations WebDAV and gfal-style clients perform.
///
/// Like a real storage element it knows nothing of the catalog: writing bytes does not register a replica, and
/// deleting them does not remove one. Every path is relative to the RSE root and checked by `containedPath`.
public struct RSEStorage: Sendable {
    /// The RSE's name.
    public let rse: String
    /// The RSE's id.
    public let rseID: String
    /// The RSE's directory (standardised, no trailing slash).
    public let root: String

    /// Files being written carry this prefix until they are complete; listings hide them.
    public static let partialPrefix = ".lakebed-part-"

    /// Where bytes for `target` (an absolute path) are written before they are complete: a hidden, unique name in the
    /// same folder, renamed onto the target once whole and checked. Uploads through WebDAV and FTS's copies both use it.
    public static func partialPath(beside target: String) -> String {
        (target as NSString).deletingLastPathComponent + "/" + partialPrefix + UUID().uuidString.lowercased()
    }

    /// Whether a file name is an unfinished write (also the `<name>.lakebed-part` files older Lakebeds' FTS left).
    public static func isPartial(_ name: String) -> Bool { name.hasPrefix(partialPrefix) || name.hasSuffix(".lakebed-part") }

    public init(rse: RSE) {
        self.rse = rse.rse
        self.rseID = rse.id
        self.root = (rse.root as NSString).standardizingPath
    }

    /// What is at a path.
    public enum Entry: Sendable, Equatable {
        case file(size: Int64, modified: Date)
        case collection(modified: Date)
        public var isCollection: Bool { if case .collection = self { return true } else { return false } }
    }

    /// The absolute path of a relative one (`""` is the root).
    public func absolute(_ relative: String) throws(StorageFault) -> String {
        let trimmed = relative.split(separator: "/", omittingEmptySubsequences: true).joined(separator: "/")
        if trimmed.isEmpty { return root }
        do { return try containedPath(root: root, relative: trimmed) } catch { throw .badPath(relative) }
    }

    /// What is at `relative`, or nil.
    public func stat(_ relative: String) throws(StorageFault) -> Entry? {
        let path = try absolute(relative)
        guard let attrs = try? FileManager.default.attributesOfItem(atPath: path) else { return nil }
        let modified = attrs[.modificationDate] as? Date ?? Date(timeIntervalSince1970: 0)
        if attrs[.type] as? FileAttributeType == .typeDirectory { return .collection(modified: modified) }
        return .file(size: (attrs[.size] as? NSNumber)?.int64Value ?? 0, modified: modified)
    }

    /// The members of a collection, by name (in-progress uploads hidden).
    public func list(_ relative: String) throws(StorageFault) -> [(name: String, entry: Entry)] {
        let path = try absolute(relative)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        var out: [(String, Entry)] = []
        for name in names.sorted() where !Self.isPartial(name) {
            // A symbolic link planted in the RSE is not storage: it is left out, so the listing of its parent still works.
            if (try? FileManager.default.destinationOfSymbolicLink(atPath: path + "/" + name)) != nil { continue }
            guard let e = try? stat(relative + "/" + name) else { continue }
            out.append((name, e))
        }
        return out
    }

    /// Creates a collection and any missing parents (as dCache and XRootD do). Throws `exists` if it is already there.
    public func makeCollection(_ relative: String) throws(StorageFault) {
        let path = try absolute(relative)
        if let e = try stat(relative) {
            throw e.isCollection ? .exists(relative) : .conflict("\(relative) is a file")
        }
        do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
            throw .conflict("cannot create \(relative): a parent is a file")
        }
    }

    /// Starts writing a file: bytes go to a hidden file beside the target and appear under the name only on `commit`.
    public func beginWrite(_ relative: String) throws(StorageFault) -> PendingWrite {
        let target = try absolute(relative)
        guard target != root else { throw .conflict("cannot write the RSE root") }
        if try stat(relative)?.isCollection == true { throw .conflict("\(relative) is a collection") }
        let dir = (target as NSString).deletingLastPathComponent
        do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
            throw .conflict("cannot create the parent of \(relative)")
        }
        let temp = Self.partialPath(beside: target)
        guard FileManager.default.createFile(atPath: temp, contents: nil), let handle = FileHandle(forWritingAtPath: temp) else {
            throw .conflict("cannot write \(relative)")
        }
        return PendingWrite(target: target, temp: temp, handle: handle)
    }

    /// Renames `from` to `to` on this RSE. Returns whether something was replaced.
    @discardableResult
    public func move(_ from: String, to: String, overwrite: Bool) throws(StorageFault) -> Bool {
        let src = try absolute(from)
        let dst = try absolute(to)
        guard src != root, dst != root else { throw .conflict("cannot move the RSE root") }
        guard try stat(from) != nil else { throw .notFound(from) }
        if dst == src { return true }
        if dst.hasPrefix(src + "/") { throw .conflict("cannot move a collection into itself") }
        let existed = try stat(to) != nil
        if existed {
            guard overwrite else { throw .exists(to) }
            try? FileManager.default.removeItem(atPath: dst)
        }
        do {
            try FileManager.default.createDirectory(atPath: (dst as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try FileManager.default.moveItem(atPath: src, toPath: dst)
        } catch { throw .conflict("cannot move \(from) to \(to)") }
        return existed
    }

    /// Removes a file or a whole collection.
    public func delete(_ relative: String) throws(StorageFault) {
        let path = try absolute(relative)
        guard path != root else { throw .conflict("cannot delete the RSE root") }
        guard try stat(relative) != nil else { throw .notFound(relative) }
        do { try FileManager.default.removeItem(atPath: path) } catch { throw .conflict("cannot delete \(relative)") }
    }

    /// Removes the hidden partial files of writes a stopped process left behind (a kill during a WebDAV PUT), under
    /// `root`. Only safe while no write runs: the lake calls it at start, holding its data folder's lock.
    /// Returns how many were removed.
    @discardableResult
    public static func removeStalePartials(under root: String) -> Int {
        guard let walk = FileManager.default.enumerator(atPath: root) else { return 0 }
        var removed = 0
        while let rel = walk.nextObject() as? String {
            guard isPartial((rel as NSString).lastPathComponent) else { continue }
            if (try? FileManager.default.removeItem(atPath: (root as NSString).appendingPathComponent(rel))) != nil { removed += 1 }
        }
        return removed
    }

    /// Opens a file for reading at an offset.
    public func openForReading(_ relative: String, offset: Int64) throws(StorageFault) -> FileHandle {
        let path = try absolute(relative)
        guard case .file = try stat(relative), let h = FileHandle(forReadingAtPath: path) else { throw .notFound(relative) }
        if offset > 0 { _ = try? h.seek(toOffset: UInt64(offset)) }
        return h
    }
}

/// A file being written to storage: complete it with `commit`, or `abort` to leave nothing behind.
public final class PendingWrite: @unchecked Sendable {
    // Used by one request task at a time; the class only exists so abort can run from a defer.
    let target: String
    let temp: String
    let handle: FileHandle
    private var finished = false
    /// Bytes written so far.
    public private(set) var written: Int64 = 0

    init(target: String, temp: String, handle: FileHandle) {
        self.target = target
        self.temp = temp
        self.handle = handle
    }

    /// Appends bytes.
    public func append(_ bytes: some DataProtocol) throws {
        try handle.write(contentsOf: bytes)
        written += Int64(bytes.count)
    }

    /// Puts the file in place under its name (replacing what was there). Returns whether it replaced a file.
    @discardableResult
    public func commit() throws -> Bool {
        finished = true
        try handle.close()
        let existed = FileManager.default.fileExists(atPath: target)
        if rename(temp, target) != 0 {
            try? FileManager.default.removeItem(atPath: temp)
            throw StorageFault.conflict("cannot put the file in place")
        }
        return existed
    }

    /// Drops the partial file.
    public func abort() {
        guard !finished else { return }
        finished = true
        try? handle.close()
        try? FileManager.default.removeItem(atPath: temp)
    }

    deinit { abort() }
}
