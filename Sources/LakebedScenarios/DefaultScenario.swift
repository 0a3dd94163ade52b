import Foundation

/// The lake `lakebed serve` starts with when given no scenario: Rucio's development identity, the three sites of
/// the default lake, a small demo dataset with an OK rule, and a fault menu for demonstrations.
public enum DefaultScenario {
    public static let yaml = """
        name: default
        description: |
          Lakebed's default lake: account root (userpass ddmlab / secret), SITE-A (tier 1, CH), SITE-B (tier 2, NL),
          SITE-C (tier 2, US), and a small LOFAR-like demo dataset at SITE-A. The fault menu breaks and heals things.
        start: now
        keep_default_lake: true
        scopes:
          - {name: demo, account: root}
        datasets:
          - did: demo:lofar.L630262
            metadata: {project: LOFAR, telescope: LOFAR, datatype: visibilities, run_number: 630262}
        files:
          - {scope: demo, name: "L630262_SB{i}_uv.MS.tar", count: 4, size: 64kB, rse: SITE-A, dataset: "demo:lofar.L630262"}
        rules:
          - {id: demo-at-site-a, did: "demo:lofar.L630262", rse_expression: SITE-A}
        faults:
          - id: site-b-down
            label: SITE-B goes down
            events: [{event: rse_down, rse: SITE-B}]
          - id: site-b-up
            label: SITE-B comes back
            events: [{event: rse_up, rse: SITE-B}]
          - id: site-c-unreachable
            label: Links to SITE-C fail
            events: [{event: link, from: "*", to: SITE-C, down: true, failure_reason: "TRANSFER [113] No route to host (SITE-C unreachable)"}]
          - id: site-c-reachable
            label: Links to SITE-C work again
            events: [{event: link, from: "*", to: SITE-C, down: false}]
          - id: slow-a-to-b
            label: SITE-A -> SITE-B crawls (50 kB/s)
            events: [{event: link, from: SITE-A, to: SITE-B, bandwidth: 50kB/s}]
          - id: tokens-expire
            label: All tokens expire now
            events: [{event: tokens_expire}]
        """

    public static func load() throws -> Scenario { try ScenarioParser.parse(yaml, file: "<default scenario>") }

    /// `lakebed serve --empty`: a lake as a fresh Rucio is, only the root account with its userpass login.
    public static let emptyYAML = """
        name: empty
        description: |
          An empty lake, as a fresh Rucio deployment is: the root account (userpass ddmlab / secret) and nothing else. Add
          RSEs, protocols, attributes, distances, scopes and accounts with the rucio client, as Rucio's dev environment does.
        start: now
        root_scopes: false
        """

    public static func loadEmpty() throws -> Scenario { try ScenarioParser.parse(emptyYAML, file: "<empty lake>") }
}
