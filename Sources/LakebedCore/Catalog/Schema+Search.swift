import GRDB

extension Schema {
    /// What DID searches need beyond the catalog's key: the indexes Rucio keeps on `dids` (`DIDS_EXPIRED_AT_IDX`;
    /// `DIDS_IS_NEW_IDX` is `dids_new`), partial where most DIDs have no value, so seeding a million files pays nothing
    /// for them. (Name prefixes need no index of their own: they are ranges of the key, see `namePrefixRanges`.)
    static func registerSearch(_ m: inout DatabaseMigrator) {
        m.registerMigration("v11-did-search-indexes") { db in
            try db.execute(sql: "CREATE INDEX dids_expired_at ON dids(expired_at) WHERE expired_at IS NOT NULL")
        }
    }
}
