import Foundation

/// An RSE expression as Rucio parses it: primitives (`NAME`, `key=value`, `key<n`, `key>n`, `*`) joined by
/// `|` (union), `&` (intersection) and `\` (difference), evaluated strictly left to right with equal
/// precedence; parentheses group.
public indirect enum RSEExpression: Sendable, Equatable {
    case all
    case equals(key: String, value: String)
    case less(key: String, value: String)
    case greater(key: String, value: String)
    case union(RSEExpression, RSEExpression)
    case intersection(RSEExpression, RSEExpression)
    case difference(RSEExpression, RSEExpression)

    /// An RSE with its attributes, as the evaluator sees it.
    public struct Candidate: Sendable {
        /// The RSE; its columns (`rse_type`, `city`, `availability_read`…) answer keys that no attribute sets.
        public var rse: RSE
        /// The RSE's attributes by key (Rucio `rse_attributes`, including the RSE's own name = true); these win over columns.
        public var attributes: [String: JSON]
        public init(rse: RSE, attributes: [String: JSON]) {
            self.rse = rse
            self.attributes = attributes
        }
    }

    static func invalid(_ m: String) -> RucioError { RucioError(.invalidRSEExpression, m) }

    /// Longest expression (Rucio stores a rule's expression in a 3000-character column).
    public static let maxLength = 3000
    /// Deepest nesting of parentheses (the parser and the evaluator recurse).
    public static let maxNesting = 64

    /// Parses `text`, throwing `InvalidRSEExpression` for anything Rucio would refuse.
    public static func parse(_ text: String) throws -> RSEExpression {
        guard text.utf8.count <= maxLength else { throw invalid("RSE expression longer than \(maxLength) characters") }
        var open = 0
        for c in text {
            if c == "(" { open += 1 } else if c == ")" { open -= 1 }
            if open < 0 { throw invalid("Problem with parantheses.") }
            if open > maxNesting { throw invalid("Problem with parantheses: nested deeper than \(maxNesting)") }
        }
        if open != 0 { throw invalid("Problem with parantheses.") }
        var p = Parser(chars: Array(text))
        guard !p.chars.isEmpty else { throw invalid("Expression does not comply to RSE Expression syntax") }
        let e = try p.term()
        guard p.i == p.chars.count else { throw invalid("Expression does not comply to RSE Expression syntax") }
        return e
    }

    struct Parser {
        let chars: [Character]
        var i = 0

        static func isKeyChar(_ c: Character) -> Bool { c.isASCII && (c.isLetter || c.isNumber || c == "." || c == "_" || c == "-") }
        static func isValueChar(_ c: Character) -> Bool { c.isASCII && (c.isLetter || c.isNumber || c == "_" || c == "-") }

        /// term := operand (op operand)*  — left-associative, one precedence level.
        mutating func term() throws -> RSEExpression {
            var left = try operand()
            while i < chars.count, chars[i] != ")" {
                let op = chars[i]
                guard op == "|" || op == "&" || op == "\\" else { throw RSEExpression.invalid("Expression does not comply to RSE Expression syntax") }
                i += 1
                let right = try operand()
                switch op {
                case "|": left = .union(left, right)
                case "&": left = .intersection(left, right)
                default: left = .difference(left, right)
                }
            }
            return left
        }

        mutating func operand() throws -> RSEExpression {
            guard i < chars.count else { throw RSEExpression.invalid("Expression does not comply to RSE Expression syntax") }
            if chars[i] == "(" {
                i += 1
                let inner = try term()
                guard i < chars.count, chars[i] == ")" else { throw RSEExpression.invalid("Problem with parantheses.") }
                i += 1
                return inner
            }
            if chars[i] == "*" {
                i += 1
                return .all
            }
            let start = i
            while i < chars.count, Self.isKeyChar(chars[i]) { i += 1 }
            let key = String(chars[start..<i])
            guard !key.isEmpty else { throw RSEExpression.invalid("Expression does not comply to RSE Expression syntax") }
            if i < chars.count, chars[i] == "=" || chars[i] == "<" || chars[i] == ">" {
                let op = chars[i]
                i += 1
                let vs = i
                while i < chars.count, Self.isValueChar(chars[i]) { i += 1 }
                let value = String(chars[vs..<i])
                guard !value.isEmpty else { throw RSEExpression.invalid("Expression does not comply to RSE Expression syntax") }
                switch op {
                case "=": return .equals(key: key, value: value)
                case "<": return .less(key: key, value: value)
                default: return .greater(key: key, value: value)
                }
            }
            // A bare word is an RSE name (an attribute set to True on every RSE): Rucio's DEFAULT_RSE_ATTRIBUTE, the
            // same under every policy, so CMS's `T1_US_FNAL_Disk` and Belle II's `DESY-DE` are words too.
            guard Validation.isRSEExpressionWord(key) else { throw RSEExpression.invalid("Expression does not comply to RSE Expression syntax") }
            return .equals(key: key, value: "True")
        }
    }

    /// The ids of the candidates this expression selects.
    public func evaluate(_ universe: [Candidate]) -> Set<String> {
        switch self {
        case .all: return Set(universe.map(\.rse.id))
        case .union(let l, let r): return l.evaluate(universe).union(r.evaluate(universe))
        case .intersection(let l, let r): return l.evaluate(universe).intersection(r.evaluate(universe))
        case .difference(let l, let r): return l.evaluate(universe).subtracting(r.evaluate(universe))
        case .equals(let key, let value):
            return Set(universe.filter { Self.value(of: key, in: $0).map { Self.same($0, value) } ?? false }.map(\.rse.id))
        case .less(let key, let value):
            guard let limit = Double(value) else { return [] }
            return Set(universe.filter { Self.value(of: key, in: $0).flatMap(Self.number).map { $0 < limit } ?? false }.map(\.rse.id))
        case .greater(let key, let value):
            guard let limit = Double(value) else { return [] }
            return Set(universe.filter { Self.value(of: key, in: $0).flatMap(Self.number).map { $0 > limit } ?? false }.map(\.rse.id))
        }
    }

    /// An attribute's value, falling back to the RSE's own columns (`type`, `rse_type`, `istape`, location…).
    static func value(of key: String, in c: Candidate) -> JSON? {
        if let v = c.attributes[key] { return v }
        switch key {
        case "type", "rse_type": return .string(c.rse.rseType)
        case "istape": return .bool(c.rse.isTape)
        case "rse": return .string(c.rse.rse)
        case "deterministic": return .bool(c.rse.deterministic)
        case "volatile": return .bool(c.rse.volatile)
        case "staging_area": return .bool(c.rse.stagingArea)
        case "availability_read": return .bool(c.rse.availabilityRead)
        case "availability_write": return .bool(c.rse.availabilityWrite)
        case "availability_delete": return .bool(c.rse.availabilityDelete)
        case "city": return .str(c.rse.city)
        case "country_name": return .str(c.rse.countryName)
        case "continent": return .str(c.rse.continent)
        case "region_code": return .str(c.rse.regionCode)
        case "qos_class": return .str(c.rse.qosClass)
        default: return nil
        }
    }

    static func same(_ v: JSON, _ s: String) -> Bool {
        switch v {
        case .bool(let b): return s.lowercased() == (b ? "true" : "false") || s == (b ? "1" : "0")
        case .string(let x): return x == s || (["true", "false"].contains(x.lowercased()) && x.lowercased() == s.lowercased())
        case .int(let i): return String(i) == s || Double(s) == Double(i)
        case .double(let d): return Double(s) == d
        default: return false
        }
    }

    static func number(_ v: JSON) -> Double? {
        switch v {
        case .int(let i): return Double(i)
        case .double(let d): return d
        case .string(let s): return Double(s)
        default: return nil
        }
    }
}
