import Foundation
import GRDB

extension RucioError {
    /// The Rucio error an error from below the domain stands for, or nil: a uniqueness constraint the checks before
    /// a write did not foresee is a `Duplicate`, any other constraint an `InputValidationError`.
    public static func translating(_ error: any Error) -> RucioError? {
        if let e = error as? RucioError { return e }
        guard let db = error as? DatabaseError, db.resultCode == .SQLITE_CONSTRAINT else { return nil }
        let detail = db.message ?? "constraint failed"
        if db.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE || db.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY {
            return .duplicate("Duplicate entry (\(detail))")
        }
        return RucioError(.inputValidationError, "Invalid value (\(detail))")
    }
}
