import GRDB

extension Schema {
    /// Rucio's bookkeeping beside the spine: the long-term rule history, bad and suspicious replicas, lifetime
    /// exceptions, the config table, RSE QoS policies, detached content, followed DIDs, metadata conventions,
    /// quarantined replicas, transfer limits and the heartbeats external daemons send.
    static func registerBookkeeping(_ m: inout DatabaseMigrator) {
        m.registerMigration("v10-rule-history-bad-replicas-config") { db in
            try db.execute(
                sql: """
                    CREATE TABLE rules_history (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT, rule_id TEXT NOT NULL, scope TEXT NOT NULL, name TEXT NOT NULL,
                        account TEXT NOT NULL, rse_expression TEXT NOT NULL, state TEXT NOT NULL, locks_ok_cnt INTEGER NOT NULL,
                        locks_replicating_cnt INTEGER NOT NULL, locks_stuck_cnt INTEGER NOT NULL, created_at REAL NOT NULL, updated_at REAL NOT NULL);
                    CREATE INDEX rules_history_did ON rules_history(scope, name);
                    CREATE INDEX rules_history_rule ON rules_history(rule_id);
                    CREATE TABLE bad_replicas (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT, scope TEXT NOT NULL, name TEXT NOT NULL, rse_id TEXT NOT NULL,
                        reason TEXT, state TEXT NOT NULL, account TEXT NOT NULL, bytes INTEGER, created_at REAL NOT NULL,
                        updated_at REAL NOT NULL, expires_at REAL);
                    CREATE INDEX bad_replicas_replica ON bad_replicas(scope, name, rse_id);
                    CREATE INDEX bad_replicas_state ON bad_replicas(state, rse_id);
                    CREATE TABLE lifetime_exceptions (
                        id TEXT PRIMARY KEY, scope TEXT NOT NULL, name TEXT NOT NULL, did_type TEXT NOT NULL, account TEXT NOT NULL,
                        pattern TEXT, comments TEXT, state TEXT NOT NULL, created_at REAL NOT NULL, updated_at REAL NOT NULL, expires_at REAL);
                    CREATE TABLE configs (
                        section TEXT NOT NULL, opt TEXT NOT NULL, value TEXT NOT NULL, created_at REAL NOT NULL, updated_at REAL NOT NULL,
                        PRIMARY KEY (section, opt)) WITHOUT ROWID;
                    CREATE TABLE contents_history (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT, scope TEXT NOT NULL, name TEXT NOT NULL, child_scope TEXT NOT NULL, child_name TEXT NOT NULL,
                        child_type TEXT NOT NULL, bytes INTEGER, adler32 TEXT, md5 TEXT, created_at REAL NOT NULL, deleted_at REAL NOT NULL);
                    CREATE INDEX contents_history_parent ON contents_history(scope, name);
                    CREATE TABLE dids_followed (
                        scope TEXT NOT NULL, name TEXT NOT NULL, account TEXT NOT NULL, did_type TEXT NOT NULL, created_at REAL NOT NULL,
                        PRIMARY KEY (scope, name, account)) WITHOUT ROWID;
                    CREATE TABLE did_keys (
                        key TEXT PRIMARY KEY, key_type TEXT NOT NULL, value_type TEXT, value_regexp TEXT, created_at REAL NOT NULL);
                    CREATE TABLE did_key_values (
                        key TEXT NOT NULL REFERENCES did_keys(key) ON DELETE CASCADE, value TEXT NOT NULL, created_at REAL NOT NULL,
                        PRIMARY KEY (key, value)) WITHOUT ROWID;
                    CREATE TABLE quarantined_replicas (
                        rse_id TEXT NOT NULL REFERENCES rses(id) ON DELETE CASCADE, path TEXT NOT NULL, scope TEXT, name TEXT, bytes INTEGER,
                        created_at REAL NOT NULL, PRIMARY KEY (rse_id, path)) WITHOUT ROWID;
                    CREATE TABLE transfer_limits (
                        id TEXT PRIMARY KEY, rse_expression TEXT NOT NULL, activity TEXT, direction TEXT NOT NULL, max_transfers INTEGER, volume INTEGER,
                        deadline INTEGER, strategy TEXT, transfers INTEGER, waitings INTEGER, created_at REAL NOT NULL, updated_at REAL NOT NULL);
                    CREATE UNIQUE INDEX transfer_limits_key ON transfer_limits(rse_expression, COALESCE(activity, ''), direction);
                    CREATE TABLE heartbeats (
                        executable TEXT NOT NULL, hostname TEXT NOT NULL, pid INTEGER NOT NULL, thread_name TEXT NOT NULL, payload TEXT,
                        created_at REAL NOT NULL, updated_at REAL NOT NULL, PRIMARY KEY (executable, hostname, pid, thread_name)) WITHOUT ROWID;
                    CREATE TABLE rse_qos_policies (
                        rse_id TEXT NOT NULL REFERENCES rses(id) ON DELETE CASCADE, qos_policy TEXT NOT NULL, created_at REAL NOT NULL,
                        PRIMARY KEY (rse_id, qos_policy)) WITHOUT ROWID;
                    """)
        }
    }
}
