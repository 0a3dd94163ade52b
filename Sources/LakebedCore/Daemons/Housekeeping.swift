import Foundation
import GRDB

/// One pass of the catalog's housekeeping daemons: the judge-cleaner, then the reaper.
public struct Housekeeping: CatalogStore {
    /// The catalog this works on.
    public let catalog: Catalog
    /// Works on `catalog`.
    public init(catalog: Catalog) { self.catalog = catalog }

    /// What one pass of the housekeeping daemons did.
    public struct HousekeepingReport: Sendable, Equatable {
        public var expiredRules: Int = 0
        public var reapedReplicas: Int = 0
        public var reapedBytes: Int64 = 0
        public var repairedRules: Int = 0
    }

    /// One housekeeping pass: expire rules, then reap.
    public func housekeeping() async throws -> HousekeepingReport {
        var rep = HousekeepingReport()
        rep.expiredRules = try await JudgeCleaner(catalog: catalog).expireRules() + (try await JudgeCleaner(catalog: catalog).retireMovedRules())
        let r = try await Reaper(catalog: catalog).reap()
        rep.reapedReplicas = r.count
        rep.reapedBytes = r.bytes
        return rep
    }
}
