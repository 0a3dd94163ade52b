import Foundation
import LakebedCore

/// Reads the Python literals the Rucio client puts in query strings (`str([{'name': 'x*'}])`).
enum PythonLiteral {
    static func parse(_ text: String) throws -> JSON {
        var p = Parser(chars: Array(text.unicodeScalars))
        p.ws()
        let v = try p.value(depth: 0)
        p.ws()
        guard p.i == p.chars.count else { throw p.fail() }
        return v
    }

    struct Parser {
        let chars: [Unicode.Scalar]
        var i = 0
        func fail() -> RucioError { RucioError(.didFilterSyntaxError, "Cannot parse filters: invalid Python literal near offset \(i)") }
        mutating func ws() { while i < chars.count, chars[i] == " " || chars[i] == "\n" || chars[i] == "\t" { i += 1 } }

        mutating func value(depth: Int) throws -> JSON {
            guard depth < 32, i < chars.count else { throw fail() }
            switch chars[i] {
            case "[", "(":
                let close: Unicode.Scalar = chars[i] == "[" ? "]" : ")"
                i += 1
                var out: [JSON] = []
                while true {
                    ws()
                    guard i < chars.count else { throw fail() }
                    if chars[i] == close {
                        i += 1
                        return .array(out)
                    }
                    out.append(try value(depth: depth + 1))
                    ws()
                    guard i < chars.count else { throw fail() }
                    if chars[i] == "," {
                        i += 1
                        continue
                    }
                    if chars[i] == close {
                        i += 1
                        return .array(out)
                    }
                    throw fail()
                }
            case "{":
                i += 1
                var o = JSONObject()
                while true {
                    ws()
                    guard i < chars.count else { throw fail() }
                    if chars[i] == "}" {
                        i += 1
                        return .object(o)
                    }
                    let k = try value(depth: depth + 1)
                    guard let key = k.stringValue ?? k.intValue.map({ String($0) }) else { throw fail() }
                    ws()
                    guard i < chars.count, chars[i] == ":" else { throw fail() }
                    i += 1
                    ws()
                    o[key] = try value(depth: depth + 1)
                    ws()
                    guard i < chars.count else { throw fail() }
                    if chars[i] == "," {
                        i += 1
                        continue
                    }
                    if chars[i] == "}" {
                        i += 1
                        return .object(o)
                    }
                    throw fail()
                }
            case "'", "\"":
                let q = chars[i]
                i += 1
                var s = String.UnicodeScalarView()
                while i < chars.count, chars[i] != q {
                    if chars[i] == "\\", i + 1 < chars.count {
                        i += 1
                        switch chars[i] {
                        case "n": s.append("\n")
                        case "t": s.append("\t")
                        case "\\": s.append("\\")
                        case "'": s.append("'")
                        case "\"": s.append("\"")
                        default:
                            s.append("\\")
                            s.append(chars[i])
                        }
                    } else {
                        s.append(chars[i])
                    }
                    i += 1
                }
                guard i < chars.count else { throw fail() }
                i += 1
                return .string(String(s))
            default:
                let start = i
                while i < chars.count, !",:]})".unicodeScalars.contains(chars[i]), chars[i] != " " { i += 1 }
                let word = String(String.UnicodeScalarView(chars[start..<i]))
                switch word {
                case "True": return .bool(true)
                case "False": return .bool(false)
                case "None": return .null
                default:
                    if let n = Int64(word) { return .int(n) }
                    if let d = Double(word) { return .double(d) }
                    throw fail()
                }
            }
        }
    }
}
