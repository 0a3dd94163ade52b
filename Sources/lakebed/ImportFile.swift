import Foundation
import LakebedApp
import LakebedCore
import LakebedScenarios

/// `lakebed serve --import FILE`: a Rucio export (`rucio-admin`'s or `GET /export`'s JSON) imported into the lake
/// being started, through the same importer as `POST /import`. Only a lake this start has just created takes it
/// (the data folder was empty, or `--fresh`), so an import never lands on top of a lake someone has been using; the
/// imported state becomes the lake's seed, so `/lakebed/reset` goes back to it.
enum ImportFile {
    /// The root caller the import runs as.
    static let issuer = Issuer(account: "root", identity: "lakebed serve --import", isAdmin: true)

    /// Imports `path` into `lake`; the message of the error says what to do.
    static func run(_ path: String, into lake: Lake) async throws -> Importer.Summary {
        guard lake.seeded else {
            throw ImportFailure(
                "\(lake.catalog.dataDir) already holds a lake: --import fills a lake this start creates. Add --fresh to start it over, or give an empty --data-dir."
            )
        }
        guard let data = FileManager.default.contents(atPath: path) else { throw ImportFailure("cannot read \(path)") }
        let json: JSON
        do { json = try JSONParser.parse([UInt8](data)) } catch { throw ImportFailure("\(path) is not JSON: \(error)") }
        guard let object = json.objectValue else { throw ImportFailure("\(path) holds \(json.pythonTypeName), not an export (a JSON dictionary)") }
        let summary: Importer.Summary
        do { summary = try await lake.catalog.importer.importData(object, by: issuer) } catch let e as RucioError {
            throw ImportFailure("\(path): \(e.exceptionClass.rawValue): \(e.message)")
        }
        try await lake.scenario.snapshot("seed")
        return summary
    }

    struct ImportFailure: Error, CustomStringConvertible {
        var description: String
        init(_ d: String) { description = d }
    }
}
