import Foundation
import LakebedCore
public import LakebedDaemons
import LakebedFTS
public import LakebedScenarios
public import Logging
public import ServiceLifecycle

/// Runs the lake's daemons (conveyor/FTS, judge-cleaner, reaper, repairer) on a short real-time tick while the
/// server is up. On a manual clock the tick still submits new work; time moves only through the control API.
public struct DaemonService: Service {
    let driver: LakeDriver
    let scenario: ScenarioRunner?
    let logger: Logger
    let interval: Duration

    public init(driver: LakeDriver, scenario: ScenarioRunner? = nil, logger: Logger, interval: Duration = .milliseconds(200)) {
        self.driver = driver
        self.scenario = scenario
        self.logger = logger
        self.interval = interval
    }

    public func run() async throws {
        var pass = 0
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            pass += 1
            // About once a second of wall time, whatever the lake clock does: the catalog's high-water mark, a passive
            // checkpoint, and the WAL emptied if it has grown past its limit (CatalogMark, Catalog.maintain).
            if pass % max(1, Int(Duration.seconds(1) / interval)) == 0 {
                do { try driver.catalog.maintain() } catch { logger.error("catalog maintenance failed: \(error)") }
            }
            do {
                let driver = self.driver
                let scenario = self.scenario
                let rep = try await driver.exclusive {
                    if let scenario { try await scenario.applyDue(driver.clock.now()) }
                    return try await driver.tick()
                }
                if rep.expiredRules + rep.reapedReplicas + rep.repairedRules > 0 {
                    logger.info(
                        "daemons: expired \(rep.expiredRules) rules, reaped \(rep.reapedReplicas) replicas (\(rep.reapedBytes) bytes), repaired \(rep.repairedRules) rules"
                    )
                }
            } catch is CancellationError {
                return  // shutting down
            } catch {
                logger.error("daemon pass failed: \(error)")
            }
            try? await Task.sleep(for: interval)
        }
    }
}
