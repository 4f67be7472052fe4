import Foundation

/// A JSON value for the scenario runner: numbers stay numbers, `null` stays
/// distinct from absent, and booleans never pass for numbers.
indirect enum J: Equatable, CustomStringConvertible {
    case null
    case bool(Bool)
    case num(Double)
    case str(String)
    case arr([J])
    case obj([(String, J)])

    static func == (a: J, b: J) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.num(x), .num(y)): return x == y
        case let (.str(x), .str(y)): return x == y
        case let (.arr(x), .arr(y)): return x == y
        case let (.obj(x), .obj(y)):
            return x.count == y.count && x.allSatisfy { k, v in y.contains { $0.0 == k && $0.1 == v } }
        default: return false
        }
    }

    subscript(key: String) -> J? {
        if case let .obj(pairs) = self { return pairs.first { $0.0 == key }?.1 }
        return nil
    }

    var string: String? { if case let .str(s) = self { return s }; return nil }
    var number: Double? { if case let .num(n) = self { return n }; return nil }
    var array: [J]? { if case let .arr(a) = self { return a }; return nil }
    var isNull: Bool { if case .null = self { return true }; return false }

    var description: String {
        switch self {
        case .null: return "null"
        case let .bool(b): return b ? "true" : "false"
        case let .num(n):
            if n == n.rounded() && abs(n) < 1e15 { return String(Int64(n)) }
            return String(n)
        case let .str(s): return J.quote(s)
        case let .arr(a): return "[" + a.map(\.description).joined(separator: ",") + "]"
        case let .obj(o): return "{" + o.map { J.quote($0.0) + ":" + $0.1.description }.joined(separator: ",") + "}"
        }
    }

    static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }

    static func parse(_ text: String) throws -> J {
        var p = Parser(Array(text.unicodeScalars))
        let v = try p.value()
        p.ws()
        guard p.i == p.s.count else { throw p.fail("trailing characters") }
        return v
    }

    private struct Parser {
        let s: [Unicode.Scalar]
        var i = 0
        init(_ s: [Unicode.Scalar]) { self.s = s }

        func fail(_ what: String) -> TestFailure {
            TestFailure("JSON: \(what) at \(i)")
        }

        mutating func ws() { while i < s.count, [" ", "\n", "\r", "\t"].contains(s[i]) { i += 1 } }

        mutating func value() throws -> J {
            ws()
            guard i < s.count else { throw fail("unexpected end") }
            switch s[i] {
            case "{": return try obj()
            case "[": return try arr()
            case "\"": return .str(try str())
            case "t": return try lit("true", .bool(true))
            case "f": return try lit("false", .bool(false))
            case "n": return try lit("null", .null)
            default: return try num()
            }
        }

        mutating func lit(_ word: String, _ v: J) throws -> J {
            let w = Array(word.unicodeScalars)
            guard i + w.count <= s.count, Array(s[i..<i + w.count]) == w else { throw fail("bad literal") }
            i += w.count
            return v
        }

        mutating func num() throws -> J {
            let start = i
            while i < s.count, "0123456789+-.eE".unicodeScalars.contains(s[i]) { i += 1 }
            var text = ""
            text.unicodeScalars.append(contentsOf: s[start..<i])
            guard let d = Double(text) else { throw fail("bad number") }
            return .num(d)
        }

        mutating func str() throws -> String {
            i += 1
            var out = String.UnicodeScalarView()
            while i < s.count {
                let c = s[i]
                i += 1
                if c == "\"" { return String(out) }
                if c == "\\" {
                    let e = s[i]
                    i += 1
                    switch e {
                    case "n": out.append("\n")
                    case "t": out.append("\t")
                    case "r": out.append("\r")
                    case "b": out.append("\u{08}")
                    case "f": out.append("\u{0C}")
                    case "u":
                        var hex = ""
                        hex.unicodeScalars.append(contentsOf: s[i..<i + 4])
                        i += 4
                        var code = UInt32(hex, radix: 16) ?? 0xFFFD
                        if (0xD800..<0xDC00).contains(code), i + 6 <= s.count, s[i] == "\\", s[i + 1] == "u" {
                            var low = ""
                            low.unicodeScalars.append(contentsOf: s[i + 2..<i + 6])
                            if let l = UInt32(low, radix: 16), (0xDC00..<0xE000).contains(l) {
                                code = 0x10000 + ((code - 0xD800) << 10) + (l - 0xDC00)
                                i += 6
                            }
                        }
                        out.append(Unicode.Scalar(code) ?? "\u{FFFD}")
                    default: out.append(e)
                    }
                } else {
                    out.append(c)
                }
            }
            throw fail("unterminated string")
        }

        mutating func obj() throws -> J {
            i += 1
            var pairs: [(String, J)] = []
            ws()
            if s[i] == "}" { i += 1; return .obj(pairs) }
            while true {
                ws()
                let k = try str()
                ws()
                guard s[i] == ":" else { throw fail("expected :") }
                i += 1
                pairs.append((k, try value()))
                ws()
                let c = s[i]
                i += 1
                if c == "," { continue }
                if c == "}" { return .obj(pairs) }
                throw fail("expected , or }")
            }
        }

        mutating func arr() throws -> J {
            i += 1
            var items: [J] = []
            ws()
            if s[i] == "]" { i += 1; return .arr(items) }
            while true {
                items.append(try value())
                ws()
                let c = s[i]
                i += 1
                if c == "," { continue }
                if c == "]" { return .arr(items) }
                throw fail("expected , or ]")
            }
        }
    }
}
