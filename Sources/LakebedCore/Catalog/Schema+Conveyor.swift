import GRDB

extension Schema {
    /// What the conveyor's submitter needs to take work from a million queued requests without scanning them: the
    /// queue in the order it claims (priority, then age, then id), and when each queued request becomes eligible.
    /// Both are partial on QUEUED, so requests that are done cost nothing.
    static func registerConveyor(_ m: inout DatabaseMigrator) {
        m.registerMigration("v12-conveyor-queue") { db in
            try db.execute(
                sql: """
                    CREATE INDEX requests_queue ON requests(priority DESC, requested_at, id) WHERE state = 'QUEUED';
                    CREATE INDEX requests_wakeup ON requests(\(ConveyorSubmitter.wakeupSQL)) WHERE state = 'QUEUED';
                    """)
        }
    }
}
