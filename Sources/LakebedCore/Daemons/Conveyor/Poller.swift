public import Foundation
import GRDB

/// The conveyor's poller: takes what FTS says of the transfers the submitter gave it (started, ended, canceled) and
/// records it, the ends through the finisher. Rucio's poller asks FTS for the states of its jobs; Lakebed's FTS runs
/// in the same process and tells it as they change, at the lake time they change.
public struct ConveyorPoller: CatalogStore {
    /// The catalog this works on.
    public let catalog: Catalog
    /// Works on `catalog`.
    public init(catalog: Catalog) { self.catalog = catalog }

    /// Transfers started moving bytes.
    public func transfersStarted(_ requestIDs: [String], at time: Date) async throws {
        // One statement for the instant's every start: a simulation starts thousands at once.
        let ids = JSON.array(requestIDs.map(JSON.string)).serialized()
        try await db.write { db in
            try db.exec(
                sql: "UPDATE requests SET started_at = ? WHERE id IN (SELECT value FROM json_each(?)) AND started_at IS NULL",
                arguments: [time.timeIntervalSince1970, ids])
        }
    }

    /// Transfers ended at one instant (`failure` nil = success): the finisher records them in one transaction.
    public func transfersEnded(
        _ items: [(requestID: String, failure: String?, virtual: Bool)], at time: Date,
        policy: RetryPolicy
    ) async throws -> [ConveyorFinisher.FinishOutcome] {
        try await ConveyorFinisher(catalog: catalog).finishTransfers(items, at: time, policy: policy)
    }

    /// A transfer canceled through FTS (`DELETE /jobs/<id>`): a failed attempt, retried or STUCK as any other.
    public func transferCanceled(requestID: String, at time: Date, policy: RetryPolicy) async throws {
        _ = try await ConveyorFinisher(catalog: catalog).transferFailed(requestID: requestID, reason: "TRANSFER CANCELED", at: time, policy: policy)
    }
}
