import GRDB

extension Schema {
    /// Protocols decide where bytes live: which RSEs carry Lakebed's ready-made protocols (their `https` one follows the
    /// listener's port), and which replicas a client registered without Lakebed seeing their bytes.
    static func registerProtocolStorage(_ m: inout DatabaseMigrator) {
        m.registerMigration("v11-protocol-storage") { db in
            try db.execute(
                sql: """
                    ALTER TABLE rses ADD COLUMN lakebed_protocols INTEGER NOT NULL DEFAULT 0;
                    UPDATE rses SET lakebed_protocols = 1;
                    ALTER TABLE replicas ADD COLUMN unverified INTEGER NOT NULL DEFAULT 0;
                    """)
        }
    }
}
