import Foundation
import HTTPTypes
import Hummingbird
import LakebedCore
import NIOCore

/// A first-come-first-served gate of a few slots for expensive work shared by every client: listing pages (a big
/// listing takes its turn, one page per turn, and requests that need no page never queue behind it) and large request
/// bodies (one parsed at a time, so concurrent 32 MiB bodies cannot multiply the memory a parse costs).
public actor FairGate {
    let slots: Int
    var busy = 0
    var waiters: [CheckedContinuation<Void, Never>] = []

    /// At most `slots` pages at once (default: half the cores, at least one, so a core stays for everything else).
    public init(slots: Int? = nil) { self.slots = slots ?? max(1, ProcessInfo.processInfo.activeProcessorCount / 2) }

    func acquire() async {
        if busy < slots {
            busy += 1
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    func release() {
        if waiters.isEmpty { busy -= 1 } else { waiters.removeFirst().resume() }  // the slot passes on, first come first served
    }

    /// Runs one page's work in a slot.
    public nonisolated func run<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        await acquire()
        do {
            let result = try await body()
            await release()
            return result
        } catch {
            await release()
            throw error
        }
    }
}

extension Reply {
    /// Rows per page of a streamed listing.
    static let pageSize = 500

    /// An `application/x-json-stream` listing read page by page from the catalog: `page` gives a page's documents and
    /// where the next starts (nil: done). See `streamTextPages`.
    static func streamPages<Cursor: Sendable>(
        _ gate: FairGate, from start: Cursor,
        _ page: @escaping @Sendable (Cursor) async throws -> ([JSON], Cursor?)
    ) async throws -> Response {
        try await streamTextPages(gate, from: start) { cursor in
            let (rows, next) = try await page(cursor)
            var out = JSONText(capacity: rows.count * 96)
            for v in rows {
                out.value(v)
                out.newline()
            }
            return (out.text, next)
        }
    }

    /// An `application/x-json-stream` listing read page by page from the catalog: `page` gives a page's lines (each
    /// ending in a newline) and where the next page starts (nil: done). The first page is read before answering, so a
    /// bad request is still a Rucio error with its status; the others are written as they are read, so memory holds
    /// one page and the first byte leaves at once. Each page takes its turn at `gate`.
    static func streamTextPages<Cursor: Sendable>(
        _ gate: FairGate, from start: Cursor,
        _ page: @escaping @Sendable (Cursor) async throws -> (String, Cursor?)
    ) async throws -> Response {
        let (first, next) = try await gate.run { try await page(start) }
        guard let next else { return make(.ok, streamType, first) }
        let body = ResponseBody { writer in
            try await writer.write(ByteBuffer(string: first))
            var cursor: Cursor? = next
            while let c = cursor {
                let (chunk, after) = try await gate.run { try await page(c) }
                if !chunk.isEmpty { try await writer.write(ByteBuffer(string: chunk)) }
                cursor = after
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: streamType], body: body)
    }
}
