import Foundation
import Testing

@testable import LakebedCore

@Suite("lfn2pfn, checksums and names")
struct NamingTests {
    @Test func hashAlgorithmMatchesRucio() {
        // md5("user.jdoe:file1") = 0f8d6e8a... : the path starts with its first two byte pairs.
        let h = md5Hex("user.jdoe:file1")
        let path = LFN2PFN.hash.path(scope: "user.jdoe", name: "file1")
        #expect(path == "user/jdoe/\(h.prefix(2))/\(h.dropFirst(2).prefix(2))/file1")
        #expect(LFN2PFN.hash.path(scope: "data18", name: "f").hasPrefix("data18/"))
        #expect(LFN2PFN.identity.path(scope: "group.phys", name: "f") == "group/phys/f")
    }

    @Test func checksumsOfKnownInputs() {
        let s = Checksums.of(Array("Wikipedia".utf8))
        #expect(s.adler32 == "11e60398")
        #expect(s.md5 == md5Hex("Wikipedia"))
        #expect(Checksums.of([]).adler32 == "00000001")
        // Long input exercises the modulo batching.
        let big = [UInt8](repeating: 0xff, count: 100_000)
        var acc = Checksums.Accumulator()
        acc.update(big[0..<50_000])
        acc.update(big[50_000...])
        #expect(acc.finalize() == Checksums.of(big))
    }

    @Test func namesFollowRucioSchema() {
        #expect(Validation.isValidName("file_1.root"))
        #expect(!Validation.isValidName("../../etc/passwd"))
        #expect(!Validation.isValidName("/abs"))
        #expect(!Validation.isValidName("a\0b"))
        #expect(!Validation.isValidName("a/../b"))
        #expect(!Validation.isValidName("x"))
        #expect(Validation.isValidScope("user.jdoe"))
        #expect(!Validation.isValidScope("a/b"))
        #expect(Validation.isValidRSE("SITE-A"))
        #expect(!Validation.isValidRSE("site-a"))
        #expect(!Validation.isValidRSE("SITE--A"))
        #expect(Validation.isValidAccount("jdoe"))
        #expect(!Validation.isValidAccount("JDoe"))
    }

    @Test func pathsCannotLeaveTheRoot() throws {
        #expect(try containedPath(root: "/data/rse", relative: "user/a/b/f") == "/data/rse/user/a/b/f")
        #expect(throws: RucioError.self) { try containedPath(root: "/data/rse", relative: "../x") }
        #expect(throws: RucioError.self) { try containedPath(root: "/data/rse", relative: "a/../../x") }
        #expect(throws: RucioError.self) { try containedPath(root: "/data/rse", relative: "a\0b") }
    }

    @Test func passwordsAreSaltedAndVerified() {
        let a = PasswordHash.make("secret")
        let b = PasswordHash.make("secret")
        #expect(a != b)
        #expect(PasswordHash.verify("secret", against: a))
        #expect(!PasswordHash.verify("Secret", against: a))
        #expect(!a.contains("secret"))
    }

    @Test func datesUseRucioFormat() {
        let d = Date(timeIntervalSince1970: 1_764_064_800)  // 2025-11-25 10:00:00 UTC
        #expect(RucioDate.rfc1123(d) == "Tue, 25 Nov 2025 10:00:00 UTC")
        #expect(RucioDate.iso(d) == "2025-11-25T10:00:00")
    }

    @Test func jsonRoundTrips() throws {
        let text = #"{"a": [1, 2.5, "x\ny", true, null], "b": {"c": -3}}"#
        let v = try JSONParser.parse(text)
        #expect(v.serialized() == text)
        #expect(throws: RucioError.self) { try JSONParser.parse("{\"a\": }") }
        #expect(throws: RucioError.self) { try JSONParser.parse(String(repeating: "[", count: 200)) }
    }
}

@Suite("JSON strings")
struct JSONStringTests {
    @Test func escapesWhatJSONNeedsAndCopiesTheRest() throws {
        let tricky = "plain é 日本 \"q\" back\\slash\nnl\rcr\ttab \u{1} del\u{7f} end"
        var out = ""
        JSON.string(tricky).write(to: &out)
        #expect(out == #""plain é 日本 \"q\" back\\slash\nnl\rcr\ttab \u0001 del\u007f end""#)
        #expect(try JSONParser.parse(out) == .string(tricky))
        var plain = ""
        JSON.string("user.root:file-1.dat").write(to: &plain)
        #expect(plain == #""user.root:file-1.dat""#)
        var empty = ""
        JSON.string("").write(to: &empty)
        #expect(empty == #""""#)
    }
}
