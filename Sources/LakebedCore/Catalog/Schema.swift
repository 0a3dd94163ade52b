import GRDB

/// The catalog's tables, created by numbered migrations so data folders survive upgrades.
enum Schema {
    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1-spine") { db in
            try db.execute(
                sql: """
                    CREATE TABLE accounts (
                        account TEXT PRIMARY KEY, account_type TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'ACTIVE',
                        email TEXT, created_at REAL NOT NULL, updated_at REAL NOT NULL, suspended_at REAL, deleted_at REAL);
                    CREATE TABLE account_attributes (
                        account TEXT NOT NULL REFERENCES accounts(account) ON DELETE CASCADE, key TEXT NOT NULL, value TEXT NOT NULL,
                        PRIMARY KEY (account, key));
                    CREATE TABLE identities (
                        identity TEXT NOT NULL, id_type TEXT NOT NULL, account TEXT NOT NULL REFERENCES accounts(account) ON DELETE CASCADE,
                        is_default INTEGER NOT NULL DEFAULT 0, password TEXT, email TEXT, created_at REAL NOT NULL,
                        PRIMARY KEY (identity, id_type, account));
                    CREATE TABLE tokens (
                        token TEXT PRIMARY KEY, account TEXT NOT NULL, identity TEXT, expires_at REAL NOT NULL,
                        audience TEXT, scope TEXT, created_at REAL NOT NULL);
                    CREATE TABLE scopes (
                        scope TEXT PRIMARY KEY, account TEXT NOT NULL REFERENCES accounts(account), status TEXT NOT NULL DEFAULT 'OPEN',
                        created_at REAL NOT NULL);
                    CREATE INDEX scopes_account ON scopes(account);
                    CREATE TABLE rses (
                        id TEXT PRIMARY KEY, rse TEXT NOT NULL, rse_type TEXT NOT NULL DEFAULT 'DISK', deterministic INTEGER NOT NULL DEFAULT 1,
                        volatile INTEGER NOT NULL DEFAULT 0, staging_area INTEGER NOT NULL DEFAULT 0,
                        city TEXT, region_code TEXT, country_name TEXT, continent TEXT, time_zone TEXT, isp TEXT, asn TEXT,
                        longitude REAL, latitude REAL,
                        availability_read INTEGER NOT NULL DEFAULT 1, availability_write INTEGER NOT NULL DEFAULT 1,
                        availability_delete INTEGER NOT NULL DEFAULT 1, qos_class TEXT, root TEXT NOT NULL,
                        deleted INTEGER NOT NULL DEFAULT 0, created_at REAL NOT NULL, updated_at REAL NOT NULL, deleted_at REAL);
                    CREATE UNIQUE INDEX rses_name ON rses(rse) WHERE deleted = 0;
                    CREATE TABLE rse_attributes (
                        rse_id TEXT NOT NULL REFERENCES rses(id) ON DELETE CASCADE, key TEXT NOT NULL, value TEXT NOT NULL,
                        PRIMARY KEY (rse_id, key));
                    CREATE TABLE rse_protocols (
                        rse_id TEXT NOT NULL REFERENCES rses(id) ON DELETE CASCADE, scheme TEXT NOT NULL, hostname TEXT NOT NULL,
                        port INTEGER NOT NULL, prefix TEXT NOT NULL, impl TEXT NOT NULL, domains TEXT NOT NULL,
                        extended_attributes TEXT, PRIMARY KEY (rse_id, scheme, hostname, port));
                    CREATE TABLE rse_limits (
                        rse_id TEXT NOT NULL REFERENCES rses(id) ON DELETE CASCADE, name TEXT NOT NULL, value INTEGER NOT NULL,
                        PRIMARY KEY (rse_id, name));
                    CREATE TABLE rse_usage (
                        rse_id TEXT NOT NULL REFERENCES rses(id) ON DELETE CASCADE, source TEXT NOT NULL, used INTEGER, free INTEGER,
                        files INTEGER, updated_at REAL NOT NULL, PRIMARY KEY (rse_id, source));
                    CREATE TABLE distances (
                        src_rse_id TEXT NOT NULL REFERENCES rses(id) ON DELETE CASCADE, dest_rse_id TEXT NOT NULL REFERENCES rses(id) ON DELETE CASCADE,
                        distance INTEGER NOT NULL, created_at REAL NOT NULL, updated_at REAL NOT NULL, PRIMARY KEY (src_rse_id, dest_rse_id));
                    CREATE TABLE account_limits (
                        account TEXT NOT NULL REFERENCES accounts(account) ON DELETE CASCADE, rse_id TEXT NOT NULL REFERENCES rses(id) ON DELETE CASCADE,
                        bytes INTEGER NOT NULL, PRIMARY KEY (account, rse_id));
                    CREATE TABLE global_account_limits (
                        account TEXT NOT NULL REFERENCES accounts(account) ON DELETE CASCADE, rse_expression TEXT NOT NULL,
                        bytes INTEGER NOT NULL, PRIMARY KEY (account, rse_expression));
                    CREATE TABLE dids (
                        scope TEXT NOT NULL, name TEXT NOT NULL, did_type TEXT NOT NULL, account TEXT NOT NULL,
                        bytes INTEGER, length INTEGER, md5 TEXT, adler32 TEXT, guid TEXT, events INTEGER,
                        is_open INTEGER, monotonic INTEGER NOT NULL DEFAULT 0, hidden INTEGER NOT NULL DEFAULT 0,
                        obsolete INTEGER NOT NULL DEFAULT 0, complete INTEGER, availability TEXT NOT NULL DEFAULT 'AVAILABLE',
                        suppressed INTEGER NOT NULL DEFAULT 0, expired_at REAL, purge_replicas INTEGER NOT NULL DEFAULT 1,
                        eol_at REAL, project TEXT, datatype TEXT, run_number INTEGER, stream_name TEXT, prod_step TEXT,
                        version TEXT, campaign TEXT, task_id INTEGER, panda_id INTEGER, lumiblocknr INTEGER, provenance TEXT,
                        phys_group TEXT, transient INTEGER NOT NULL DEFAULT 0, accessed_at REAL, closed_at REAL,
                        is_archive INTEGER, constituent INTEGER, access_cnt INTEGER, meta TEXT,
                        created_at REAL NOT NULL, updated_at REAL NOT NULL,
                        PRIMARY KEY (scope, name)) WITHOUT ROWID;
                    CREATE INDEX dids_type ON dids(scope, did_type, name);
                    CREATE TABLE contents (
                        scope TEXT NOT NULL, name TEXT NOT NULL, child_scope TEXT NOT NULL, child_name TEXT NOT NULL,
                        did_type TEXT NOT NULL, child_type TEXT NOT NULL, bytes INTEGER, adler32 TEXT, md5 TEXT, guid TEXT, events INTEGER,
                        created_at REAL NOT NULL,
                        PRIMARY KEY (scope, name, child_scope, child_name)) WITHOUT ROWID;
                    CREATE INDEX contents_child ON contents(child_scope, child_name);
                    CREATE TABLE replicas (
                        rse_id TEXT NOT NULL REFERENCES rses(id), scope TEXT NOT NULL, name TEXT NOT NULL,
                        bytes INTEGER NOT NULL, md5 TEXT, adler32 TEXT, path TEXT, state TEXT NOT NULL,
                        lock_cnt INTEGER NOT NULL DEFAULT 0, tombstone REAL, virtual INTEGER NOT NULL DEFAULT 0,
                        accessed_at REAL, created_at REAL NOT NULL, updated_at REAL NOT NULL,
                        PRIMARY KEY (rse_id, scope, name)) WITHOUT ROWID;
                    CREATE INDEX replicas_did ON replicas(scope, name);
                    CREATE INDEX replicas_tombstone ON replicas(tombstone) WHERE tombstone IS NOT NULL;
                    """)
        }
        registerRules(&m)
        m.registerMigration("v3-rule-events") { db in
            // Rule state transitions, written in the transaction that makes them; drained into the event log.
            try db.execute(
                sql: """
                    CREATE TABLE rule_events (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT, time REAL NOT NULL, rule_id TEXT NOT NULL, scope TEXT NOT NULL, name TEXT NOT NULL,
                        old_state TEXT, new_state TEXT NOT NULL, error TEXT);
                    """)
        }
        m.registerMigration("v4-esap-basket") { db in
            // The emulated ESAP's shopping baskets: one row per item, its data kept as the JSON text ESAP stores.
            try db.execute(
                sql: """
                    CREATE TABLE esap_basket_items (
                        id INTEGER PRIMARY KEY AUTOINCREMENT, user_name TEXT NOT NULL, item_data TEXT NOT NULL, created_at REAL NOT NULL);
                    CREATE INDEX esap_basket_user ON esap_basket_items(user_name, id);
                    """)
        }
        m.registerMigration("v5-token-expiry") { db in
            // Every login sweeps expired tokens; under many logins that sweep must not scan the table.
            try db.execute(sql: "CREATE INDEX tokens_expiry ON tokens(expires_at)")
        }
        m.registerMigration("v6-token-hashes") { db in
            // Tokens are now stored as their SHA-256; the clear ones of older lakes end (clients log in again).
            try db.execute(sql: "DELETE FROM tokens")
        }
        m.registerMigration("v7-replica-paths") { db in
            // Storage writes and deletes look up the replicas held at a path (ReplicaStore.heldReplicas).
            try db.execute(sql: "CREATE INDEX replicas_path ON replicas(rse_id, path)")
        }
        m.registerMigration("v8-commit-mark") { db in
            // A counter that every change to files, replicas and rules moves forward, in the change's own transaction:
            // a catalog that lost commits (a damaged WAL, an older file put back) shows a smaller count than the
            // high-water mark the lake wrote beside it (CatalogMark).
            var sql = """
                CREATE TABLE lake_mark (id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL);
                INSERT INTO lake_mark (id, seq) VALUES (1, 0);
                """
            for table in ["dids", "replicas", "rules"] {
                for (name, when) in [("insert", "INSERT"), ("delete", "DELETE"), ("state", "UPDATE OF state")]
                where !(table == "dids" && name == "state") {
                    sql += "CREATE TRIGGER mark_\(table)_\(name) AFTER \(when) ON \(table) BEGIN UPDATE lake_mark SET seq = seq + 1; END;\n"
                }
            }
            try db.execute(sql: sql)
        }
        registerSubscriptions(&m)
        registerBookkeeping(&m)
        registerProtocolStorage(&m)
        registerPolicy(&m)
        registerLogins(&m)
        registerSearch(&m)
        registerConveyor(&m)
        return m
    }
}

extension Schema {
    /// Rules, locks and transfer requests.
    static func registerRules(_ m: inout DatabaseMigrator) {
        m.registerMigration("v2-rules") { db in
            try db.execute(
                sql: """
                    CREATE TABLE rules (
                        id TEXT PRIMARY KEY, subscription_id TEXT, account TEXT NOT NULL, scope TEXT NOT NULL, name TEXT NOT NULL,
                        did_type TEXT NOT NULL, state TEXT NOT NULL, error TEXT, rse_expression TEXT NOT NULL, copies INTEGER NOT NULL,
                        expires_at REAL, weight TEXT, locked INTEGER NOT NULL DEFAULT 0, locks_ok_cnt INTEGER NOT NULL DEFAULT 0,
                        locks_replicating_cnt INTEGER NOT NULL DEFAULT 0, locks_stuck_cnt INTEGER NOT NULL DEFAULT 0,
                        source_replica_expression TEXT, activity TEXT NOT NULL, grouping TEXT NOT NULL, notification TEXT NOT NULL DEFAULT 'NO',
                        stuck_at REAL, purge_replicas INTEGER NOT NULL DEFAULT 0, ignore_availability INTEGER NOT NULL DEFAULT 0,
                        ignore_account_limit INTEGER NOT NULL DEFAULT 0, priority INTEGER NOT NULL DEFAULT 3, comments TEXT,
                        child_rule_id TEXT, eol_at REAL, split_container INTEGER NOT NULL DEFAULT 0, meta TEXT, bytes INTEGER,
                        created_at REAL NOT NULL, updated_at REAL NOT NULL);
                    CREATE INDEX rules_did ON rules(scope, name);
                    CREATE INDEX rules_account ON rules(account);
                    CREATE INDEX rules_expires ON rules(expires_at) WHERE expires_at IS NOT NULL;
                    CREATE TABLE locks (
                        rule_id TEXT NOT NULL REFERENCES rules(id) ON DELETE CASCADE, scope TEXT NOT NULL, name TEXT NOT NULL,
                        rse_id TEXT NOT NULL, account TEXT NOT NULL, bytes INTEGER NOT NULL, state TEXT NOT NULL,
                        repair_cnt INTEGER NOT NULL DEFAULT 0, created_at REAL NOT NULL, updated_at REAL NOT NULL,
                        PRIMARY KEY (rule_id, scope, name, rse_id)) WITHOUT ROWID;
                    CREATE INDEX locks_replica ON locks(scope, name, rse_id);
                    CREATE TABLE requests (
                        id TEXT PRIMARY KEY, request_type TEXT NOT NULL DEFAULT 'TRANSFER', scope TEXT NOT NULL, name TEXT NOT NULL,
                        did_type TEXT NOT NULL DEFAULT 'FILE', dest_rse_id TEXT NOT NULL, source_rse_id TEXT, state TEXT NOT NULL,
                        external_id TEXT, external_host TEXT, retry_count INTEGER NOT NULL DEFAULT 0, err_msg TEXT, previous_attempt_id TEXT,
                        rule_id TEXT, activity TEXT, bytes INTEGER, md5 TEXT, adler32 TEXT, dest_url TEXT, account TEXT,
                        priority INTEGER NOT NULL DEFAULT 3, requested_at REAL, submitted_at REAL, started_at REAL, transferred_at REAL,
                        estimated_at REAL, not_before REAL, created_at REAL NOT NULL, updated_at REAL NOT NULL);
                    CREATE UNIQUE INDEX requests_active ON requests(scope, name, dest_rse_id) WHERE state IN ('QUEUED', 'SUBMITTED', 'WAITING');
                    CREATE INDEX requests_state ON requests(state, priority, requested_at);
                    CREATE INDEX requests_did ON requests(scope, name);
                    """)
        }
    }
}

/// A state column's enum (rules, locks, replicas, requests). Queries name states through it, so a typo does not
/// compile; the value goes into the SQL text as a literal, so SQLite still matches the partial indexes on states.
protocol CatalogState: RawRepresentable, DatabaseValueConvertible where RawValue == String {}

extension CatalogState {
    /// The state as an SQL literal: `'QUEUED'`.
    var sql: String { "'\(rawValue)'" }
}

extension Array where Element: CatalogState {
    /// The states as an SQL list: `('QUEUED', 'SUBMITTED', 'WAITING')`.
    var sql: String { "(" + map(\.sql).joined(separator: ", ") + ")" }
}

extension RuleState: CatalogState {}
extension LockState: CatalogState {}
extension ReplicaState: CatalogState {}
extension RequestState: CatalogState {}
