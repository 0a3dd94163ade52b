import GRDB

/// Rule counter changes made within one transaction, kept in memory and written once per rule at the end (`flush`).
///
/// A million transfers ending on ten rules would otherwise read and write a rule row per transfer. Each change is
/// applied in memory exactly as `RuleStore.bumpRuleCounters` applies it to the row (the same clamping, the same
/// derived state, error and `stuck_at`), and every state change is recorded as a rule event in the order it happened,
/// so the catalog and the event log end as they would have, change by change.
final class RuleCounterBatch {
    private struct Entry {
        var state: String
        var scope: String
        var name: String
        var error: String?
        var stuckAt: Double?
        var counts: LockCounts
        var updatedAt: Double
    }
    private var rules: [String: Entry] = [:]
    /// Rule ids in the order they were first changed (the order their rows are written).
    private var order: [String] = []
    private var events: [StatementArguments] = []
    /// Rules asked for that do not exist (nothing to change, as `bumpRuleCounters` does nothing for them).
    private var missing: Set<String> = []

    /// Moves a rule's lock counters by deltas, as `RuleStore.bumpRuleCounters` does.
    func bump(_ db: Database, id: String, ok: Int, replicating: Int, stuck: Int, now: Double, error: String? = nil) throws {
        guard var e = try entry(db, id) else { return }
        e.counts = LockCounts(
            ok: max(0, e.counts.ok + ok), replicating: max(0, e.counts.replicating + replicating), stuck: max(0, e.counts.stuck + stuck))
        let current = RuleState(rawValue: e.state) ?? .replicating
        let state = current == .suspended ? .suspended : e.counts.ruleState
        let err: String? = state == .stuck ? (error ?? e.error) : nil
        if state.rawValue != e.state {
            events.append([now, id, e.scope, e.name, e.state, state.rawValue, err])
        }
        e.stuckAt = state == .stuck ? (e.stuckAt ?? now) : nil
        e.state = state.rawValue
        e.error = err
        e.updatedAt = now
        rules[id] = e
    }

    private func entry(_ db: Database, _ id: String) throws -> Entry? {
        if let e = rules[id] { return e }
        if missing.contains(id) { return nil }
        guard
            let row = try db.one(
                sql: "SELECT state, scope, name, error, stuck_at, locks_ok_cnt, locks_replicating_cnt, locks_stuck_cnt, updated_at FROM rules WHERE id = ?",
                arguments: [id])
        else {
            missing.insert(id)
            return nil
        }
        let e = Entry(
            state: row["state"], scope: row["scope"], name: row["name"], error: row["error"], stuckAt: row["stuck_at"],
            counts: LockCounts(ok: row["locks_ok_cnt"], replicating: row["locks_replicating_cnt"], stuck: row["locks_stuck_cnt"]),
            updatedAt: row["updated_at"])
        rules[id] = e
        order.append(id)
        return e
    }

    /// Writes every changed rule's counters, state, error and `stuck_at`, and the rule events, in order.
    func flush(_ db: Database) throws {
        for id in order {
            guard let e = rules[id] else { continue }
            try db.exec(
                sql: """
                    UPDATE rules SET locks_ok_cnt = ?, locks_replicating_cnt = ?, locks_stuck_cnt = ?, state = ?, error = ?, stuck_at = ?,
                      updated_at = ? WHERE id = ?
                    """, arguments: [e.counts.ok, e.counts.replicating, e.counts.stuck, e.state, e.error, e.stuckAt, e.updatedAt, id])
        }
        for args in events {
            try db.exec(
                sql: "INSERT INTO rule_events (time, rule_id, scope, name, old_state, new_state, error) VALUES (?, ?, ?, ?, ?, ?, ?)",
                arguments: args)
        }
        rules = [:]
        order = []
        events = []
        missing = []
    }
}
