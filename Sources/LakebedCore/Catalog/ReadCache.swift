import GRDB
import Synchronization

/// Answers to hot one-row reads (a DID, an RSE with its protocols and attributes, an account), kept until the
/// catalog's next commit.
///
/// Most requests a client sends read the same few rows again and again (`GET /dids/<scope>/<name>` in a polling
/// loop, the RSE a client is about to upload to, the account behind every token). Each such read costs a reader
/// checkout, a statement step and the decoding of a row; the answer only changes when a transaction commits.
///
/// Correctness rests on one counter: every commit on the catalog's writer bumps `generation` (see `CommitWatcher`),
/// and an entry is only served while the generation it was read under is still current. The generation is taken
/// *before* the read begins, so an answer read while a commit lands is tagged with the older generation and is never
/// served after that commit returns. Anything that replaces the catalog without a commit on its writer (restoring a
/// snapshot with SQLite's backup API) calls `invalidate()`.
final class ReadCache: Sendable {
    private let generation = Atomic<UInt64>(0)
    private let entries = Mutex<[String: Entry]>([:])
    /// Entries kept at most; past it, the cache starts again empty (hot rows come back on their next read).
    let capacity: Int

    private struct Entry: Sendable {
        let generation: UInt64
        let value: any Sendable
    }

    init(capacity: Int = 4096) { self.capacity = capacity }

    /// Forgets every entry (the catalog changed under its writer's back).
    func invalidate() { generation.add(1, ordering: .sequentiallyConsistent) }

    /// How many entries are held (current or stale).
    var count: Int { entries.withLock { $0.count } }

    /// The answer for `key` from the current generation, or `read()`'s, which is then kept for this generation.
    /// Errors (a DID not found) are not kept.
    func value<T: Sendable>(_ key: String, read: () throws -> T) rethrows -> T {
        let now = generation.load(ordering: .sequentiallyConsistent)
        if let hit = entries.withLock({ $0[key] }), hit.generation == now, let value = hit.value as? T {
            return value
        }
        let value = try read()
        entries.withLock { entries in
            // A commit may have landed while reading: keep the answer only if none did (a newer entry wins too).
            guard generation.load(ordering: .sequentiallyConsistent) == now else { return }
            if entries.count >= capacity, entries[key] == nil { entries.removeAll(keepingCapacity: true) }
            entries[key] = Entry(generation: now, value: value)
        }
        return value
    }

    /// Tells the cache about every commit on `db` (the catalog's writer).
    func watch(_ writer: DatabasePool) throws {
        try writer.writeWithoutTransaction { db in
            db.add(transactionObserver: CommitWatcher(cache: self), extent: .databaseLifetime)
        }
    }
}

/// Bumps the read cache's generation after every commit. It observes no table, so it costs nothing per changed row;
/// GRDB still tells every observer when a transaction commits.
private final class CommitWatcher: TransactionObserver {
    let cache: ReadCache
    init(cache: ReadCache) { self.cache = cache }
    func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool { false }
    func databaseDidChange(with event: DatabaseEvent) {}
    func databaseDidCommit(_ db: Database) { cache.invalidate() }
    func databaseDidRollback(_ db: Database) {}
}
