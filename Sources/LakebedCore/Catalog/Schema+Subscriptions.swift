import GRDB

extension Schema {
    /// Subscriptions, and the `is_new` flag the transmogrifier reads: set on datasets and containers when they are
    /// created through the API, cleared once the transmogrifier has matched them against the subscriptions.
    static func registerSubscriptions(_ m: inout DatabaseMigrator) {
        m.registerMigration("v9-subscriptions") { db in
            try db.execute(
                sql: """
                    CREATE TABLE subscriptions (
                        id TEXT PRIMARY KEY, name TEXT NOT NULL, account TEXT NOT NULL, filter TEXT NOT NULL, replication_rules TEXT NOT NULL,
                        policyid INTEGER NOT NULL DEFAULT 3, state TEXT NOT NULL, last_processed REAL, lifetime REAL,
                        retroactive INTEGER NOT NULL DEFAULT 0, expired_at REAL, comments TEXT, created_at REAL NOT NULL, updated_at REAL NOT NULL,
                        UNIQUE (name, account));
                    ALTER TABLE dids ADD COLUMN is_new INTEGER NOT NULL DEFAULT 0;
                    CREATE INDEX dids_new ON dids(is_new) WHERE is_new = 1;
                    CREATE INDEX rules_subscription ON rules(subscription_id) WHERE subscription_id IS NOT NULL;
                    """)
        }
    }
}
