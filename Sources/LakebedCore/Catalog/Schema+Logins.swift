import GRDB

extension Schema {
    /// What the logins beyond userpass keep between two requests, and Rucio 41's open data catalog:
    /// SSH challenges (Rucio keeps them among its tokens; here apart, because the tokens table holds only hashes and a
    /// challenge must be read back to check a signature), OIDC login sessions (Rucio's `oauth_requests`), the IAM refresh
    /// tokens Rucio keeps beside an OIDC access token (`/auth/oidc_refresh`; both in clear, as Rucio keeps them: the server needs
    /// them to refresh), and `dids_opendata`.
    static func registerLogins(_ m: inout DatabaseMigrator) {
        m.registerMigration("v11-ssh-oidc-opendata") { db in
            try db.execute(
                sql: """
                    CREATE TABLE ssh_challenges (
                        token TEXT PRIMARY KEY, account TEXT NOT NULL, expires_at REAL NOT NULL, created_at REAL NOT NULL);
                    CREATE INDEX ssh_challenges_account ON ssh_challenges(account, expires_at);
                    CREATE TABLE oauth_requests (
                        state TEXT PRIMARY KEY, nonce TEXT NOT NULL, account TEXT NOT NULL, access_msg TEXT NOT NULL, redirect_msg TEXT NOT NULL,
                        refresh_lifetime INTEGER, expires_at REAL NOT NULL, created_at REAL NOT NULL);
                    CREATE INDEX oauth_requests_access ON oauth_requests(access_msg);
                    CREATE TABLE oidc_refresh (
                        token TEXT PRIMARY KEY, access_token TEXT NOT NULL, account TEXT NOT NULL, identity TEXT NOT NULL, refresh_token TEXT NOT NULL,
                        refresh INTEGER NOT NULL DEFAULT 1, refresh_lifetime INTEGER NOT NULL, refresh_start REAL NOT NULL,
                        refresh_expires_at REAL NOT NULL, expires_at REAL NOT NULL, scope TEXT, audience TEXT, updated_at REAL NOT NULL);
                    CREATE INDEX oidc_refresh_account ON oidc_refresh(account);
                    CREATE TABLE dids_opendata (
                        scope TEXT NOT NULL, name TEXT NOT NULL, state TEXT NOT NULL, meta TEXT, doi TEXT UNIQUE, record_id INTEGER UNIQUE,
                        created_at REAL NOT NULL, updated_at REAL NOT NULL,
                        PRIMARY KEY (scope, name), FOREIGN KEY (scope, name) REFERENCES dids(scope, name) ON DELETE CASCADE);
                    CREATE INDEX dids_opendata_state ON dids_opendata(state);
                    """)
        }
    }
}
