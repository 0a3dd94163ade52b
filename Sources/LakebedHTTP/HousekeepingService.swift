import Foundation
import LakebedCore
import Logging
import ServiceLifecycle

/// Runs the judge-cleaner and reaper on a short real-time tick while the server is up.
public struct HousekeepingService: Service {
    let catalog: Catalog
    let logger: Logger
    let interval: Duration

    public init(catalog: Catalog, logger: Logger, interval: Duration = .milliseconds(500)) {
        self.catalog = catalog
        self.logger = logger
        self.interval = interval
    }

    public func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                let rep = try await catalog.housekeeping()
                if rep.expiredRules + rep.reapedReplicas > 0 {
                    logger.info("housekeeping: expired \(rep.expiredRules) rules, reaped \(rep.reapedReplicas) replicas (\(rep.reapedBytes) bytes)")
                }
            } catch {
                logger.error("housekeeping failed: \(error)")
            }
            try? await Task.sleep(for: interval)
        }
    }
}
