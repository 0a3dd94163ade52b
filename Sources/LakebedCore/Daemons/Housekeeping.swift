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
        /// Rules the judge-cleaner removed: expired ones plus moved rules whose child rule is OK.
        public var expiredRules: Int = 0
        /// Replicas the reaper deleted (catalog rows; their bytes go too unless virtual).
        public var reapedReplicas: Int = 0
        /// Bytes of the replicas the reaper deleted.
        public var reapedBytes: Int64 = 0
        /// STUCK rules the judge-repairer retried; filled by `LakeDriver.tick`, always 0 from `housekeeping()` itself.
        public var repairedRules: Int = 0

        /// Nothing done yet.
        public init() {}
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
