import Foundation
import Testing

@testable import LakebedCore

@Suite("Event log")
struct EventLogTests {
    @Test func boundedAndReadableFromAnySequenceNumber() {
        let log = EventLog(capacity: 100)
        for i in 1...1_000 { log.append(Date(timeIntervalSince1970: Double(i)), "tick", [("i", String(i))]) }
        let kept = log.all
        #expect(kept.count >= 100 && kept.count <= 110)
        #expect(kept.last?.seq == 1_000 && zip(kept, kept.dropFirst()).allSatisfy { $0.seq + 1 == $1.seq })
        #expect(log.events(after: 990).map(\.seq) == Array(991...1_000))
        #expect(log.events(after: 0, limit: 3).map(\.seq) == Array(kept.prefix(3).map(\.seq)))
        #expect(log.events(after: Int.min, limit: 1).count == 1 && log.events(after: Int.max).isEmpty)
        #expect(log.events(after: 1_000).isEmpty && log.events(after: 5_000).isEmpty && log.events(after: 995, limit: 0).isEmpty)
        log.clear()
        #expect(log.events().isEmpty)
        log.append(Date(), "again")
        #expect(log.events().map(\.seq) == [1])
    }
}
