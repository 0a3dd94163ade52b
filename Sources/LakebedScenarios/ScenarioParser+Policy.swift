import Foundation
import LakebedCore
import Yams

/// The scenario's policy and the names it checks: what `validate` reports here, seeding would refuse.
extension ScenarioParser {
    /// Reads `policy:` into the scenario and the parser (every later name is checked against it).
    mutating func scenarioPolicy(_ n: Node?, _ s: inout Scenario) {
        var name = requestedPolicy ?? .generic
        if let n, let text = string(n, "policy") {
            if let named = Policy.Name(rawValue: text.lowercased()) {
                if let requestedPolicy, requestedPolicy != named {
                    fail(n, "policy", "the scenario's policy is \(named.rawValue), but \(requestedPolicy.rawValue) was asked for (--policy)")
                }
                name = named
            } else {
                fail(n, "policy", "`\(text)` is not a policy (one of \(Policy.namesText))")
            }
        }
        policy = Policy(name)
        s.policy = name
    }

    /// Reports `value` at `node` when the policy's schema refuses it (`check` throws Rucio's error).
    mutating func checkName(_ node: Node?, _ path: String, _ value: String, _ what: String, _ check: (NamingSchema) throws -> Void) {
        do { try check(policy.schema) } catch { fail(node, path, refusal(value, what, check)) }
    }

    /// A sentence saying why the policy refuses `value`, with Rucio's own words.
    func refusal(_ value: String, _ what: String, _ check: (NamingSchema) throws -> Void) -> String {
        var why = ""
        do { try check(policy.schema) } catch let e as RucioError {
            why = e.message.replacingOccurrences(of: "Provided object does not match schema. Details: ", with: "")
        } catch { why = "\(error)" }
        return "`\(value)` is not a valid \(what) under the \(policy.name.rawValue) policy (\(why))"
    }

    /// A dataset's or container's name, as `add_did` checks it: the schema's form for the type, and (CMS) what a
    /// collection outside the `cms` scope must be called.
    mutating func checkCollection(_ node: Node?, _ path: String, _ d: DIDRef, _ type: DIDType) {
        let what = type == .dataset ? "dataset name" : "container name"
        checkName(node, path, d.name, what) { try $0.checkDID(scope: d.scope, name: d.name, type: type) }
        if !policy.permission.collectionNameAllowed(scope: d.scope, name: d.name, type: type) {
            fail(
                node, path,
                "`\(d.name)`: outside the cms scope the \(policy.name.rawValue) policy lets no account add a \(type == .dataset ? "dataset not holding /USER#" : "container not ending in /USER")"
            )
        }
    }
}
