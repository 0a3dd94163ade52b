import Foundation
import GRDB
import LakebedTesting
import Testing

@testable import LakebedCore

/// Signed URLs (AWS SigV4, Swift TempURL), SSH signature checks, DIRAC's LFN handling and the open data states.
@Suite("Signed URLs, SSH keys, DIRAC, open data")
struct CredentialAndLoginTests {
    let root = Issuer(account: "root", identity: "ddmlab", isAdmin: true)
    let accessKey = "AKIAIOSFODNN7EXAMPLE"
    let secretKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

    /// AWS's own example of a presigned URL ("Authenticating Requests: Using Query Parameters", Signature Version 4).
    @Test func sigV4MatchesAWSTestVector() {
        let signer = SigV4Presigner(accessKey: accessKey, secretKey: secretKey, region: "us-east-1")
        let url = signer.presign(
            method: "GET", host: "examplebucket.s3.amazonaws.com", port: nil, path: "/test.txt", date: Date(timeIntervalSince1970: 1_369_353_600),
            expires: 86400)
        #expect(
            url
                == "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
        )
    }

    /// What botocore 1.x (Rucio's boto3) makes for the same keys: the port stays in the URL, 443 is left out of the signed host.
    @Test func sigV4MatchesBotocoreOnPorts() {
        let signer = SigV4Presigner(accessKey: accessKey, secretKey: secretKey, region: "us-east-1")
        let date = Date(timeIntervalSince1970: 1_796_220_611)  // 2026-12-02T14:10:11Z
        let onDefault = signer.presign(
            method: "GET", host: "s3.example.org", port: 443, path: "/bucket/dir/file%20one.dat", date: date, expires: 86400)
        #expect(onDefault.hasPrefix("https://s3.example.org:443/bucket/dir/file%20one.dat?"))
        #expect(onDefault.hasSuffix("X-Amz-Signature=130418fe968431d998781e07cd28a747487fcdf8d9fd39aaa9bdcbacd37ec128"))
        let onOther = signer.presign(method: "GET", host: "s3.example.org", port: 9000, path: "/bucket/a/b", date: date, expires: 86400)
        #expect(onOther.hasSuffix("X-Amz-Signature=4f2df83734d804ec43536f92203e8e7fec1999fd8e48fbcd51758f5eef064533"))
        #expect(SigV4Presigner.encode("dir/file one.dat", keepSlash: true) == "dir/file%20one.dat")
    }

    @Test func swiftTempURLAndErrors() async throws {
        let c = try TemporaryLake.catalog("credentials")
        try await DefaultLake.seedIfEmpty(c)
        try FileManager.default.createDirectory(atPath: c.dataDir + "/etc", withIntermediateDirectories: true)
        try Data(#"{"SITE-A": {"tempurl_key": "mykey"}}"#.utf8).write(to: URL(fileURLWithPath: c.credentials.rseAccountsPath))
        let now = Int(c.clock.now().timeIntervalSince1970)
        let url = try await c.credentials.signedURL(
            rse: "SITE-A", service: "swift", operation: "read", url: "https://swift.example.org:8080/v1/AUTH_account/container/object", lifetime: 600,
            issuer: root)
        // HMAC-SHA1 of "GET\n<expires>\n<path>" with the key, as Swift's tempurl middleware checks it.
        #expect(url.hasPrefix("https://swift.example.org/v1/AUTH_account/container/object?temp_url_sig="))
        #expect(url.hasSuffix("&temp_url_expires=\(now + 600)"))
        await #expect(
            throws: RucioError(
                .errorLoadingCredentials,
                "No credentials for RSE SITE-B (id \(try await c.rses.rse("SITE-B").id)) in \(c.credentials.rseAccountsPath)")
        ) {
            _ = try await c.credentials.signedURL(
                rse: "SITE-B", service: "swift", operation: "read", url: "https://h/v1/a/c/o", lifetime: 1, issuer: root)
        }
        await #expect(throws: RucioError.unsupportedOperation("Not a valid Path-Style S3 URL")) {
            _ = try await c.credentials.signedURL(rse: "SITE-A", service: "s3", operation: "read", url: "https://h/bucket", lifetime: 1, issuer: root)
        }
        let user = Issuer(account: "jdoe", identity: "jdoe", isAdmin: false)
        await #expect(throws: RucioError.self) {
            _ = try await c.credentials.signedURL(
                rse: "SITE-A", service: "swift", operation: "read", url: "https://h/v1/a/c/o", lifetime: 1, issuer: user)
        }
    }

    // A 2048-bit key made with ssh-keygen; the signatures by paramiko 5 (rucio-clients' ssh_sign) over "challenge-42-root-1767225610".
    static let publicKey =
        "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQCZTZhlXatoa9L6KlapeUA6rGqObxLCX91uYEOatjevCPFGlH3x0OhI2YPQMpnPhoKZNdvmSaNTXAdE8Esk58e2yZVDMWJrA4dBfjDkHB9XdpsP/Ca9DFgcFPFR/R2PciOzMxbFA/Rc48uE1uWjz7zOJKzA58p004cBbogq4shtPDEs+4tR8lqjbtnFm5CCx9rsJ79FOswVKKSgzyXvnhAyH/OvxnhpXnHItGH7PQLi6PpXXmFyLExwbtKywW7QeYSUo99+pojeKGW5xrU0ZKAq6DeE24sMYxvASxlUp8kcJiIqdo3KOuc2L/fMI8Cq54OIUIWq9Gdss9l8wBHy/TuV test@lakebed"
    static let sha256Signature =
        "AAAADHJzYS1zaGEyLTI1NgAAAQAIdWK0TUpD9eaPFYqUFL15hjnfUYFf4uWk/xirWLWawaR8JU4FfNdC7KKNtgAPjVkJR87bGsrGghCqyidJ/hEe9IDm3Q8JnSE93LhwwojWs9Fmpqf57PiCVat+yzGiJ3eHkcBQ8WTim1wl3WxXqWURPjeWva4QIG1gUpItdoMYB/Np5Il0f3HWsWqSsWz3YGzVzxFuve3EOB803aPs/UCMKLAWJo8cdq5aybI/OnicXGq/4AddTjnt25iasyn5g4hrZar5CeKNgYmhz8rt5WvBT0bM/79j4ay+y+9ZVYdpmKY0L99QqKGuhXBcJcf/AIj4ImTgFvQVl3tA/8vF7yvI"
    static let sha512Signature =
        "AAAADHJzYS1zaGEyLTUxMgAAAQBvSL54IPwA8KqHoL2ID8X0QM44oDANIeujGO1zR9VcdrirgRm2OZ4CS0l9suJyYySUjqjanLUyGpNatqGUHWISNJwf5s9eLOPoBOyq9kAtJdKiX8JtU/NHVg3NmNuv8X/e7aFAbKhGNLDcRZwOQfqtFlrAU1uf/N8lf1OayoCNz2dQdTxGzO2fdh9MNfMoMe2Vt0N1QIKsw8Zf5HwSQvY7qaxpS1j9GesI8tVLdCqJiCxtA7AOp1AIWN8vpePelH9JjmELdeRRZ0guAJ3t9nRz+awtZpYXsO9BZ126ul+ppyNJJ9xP348JZGV/uhWpBYgqraYnxMXO73AL6USNgy7e"

    @Test func sshSignaturesAreCheckedAsParamikoDoes() throws {
        let key = try #require(SSHPublicKey(identity: Self.publicKey))
        let message = Array("challenge-42-root-1767225610".utf8)
        for sig in [Self.sha256Signature, Self.sha512Signature] {
            let bytes = [UInt8](try #require(Data(base64Encoded: sig)))
            #expect(key.verifies(bytes, of: message))
            #expect(!key.verifies(bytes, of: Array("challenge-43-root-1767225610".utf8)))
        }
        // The algorithm name is part of the signature: SHA-1 `ssh-rsa` is refused (paramiko 5), as are garbled blobs.
        var sha1Named = [UInt8](try #require(Data(base64Encoded: Self.sha256Signature)))
        sha1Named.replaceSubrange(4..<16, with: Array("ssh-rsa".utf8) + [0, 0, 0, 0, 0])
        #expect(!key.verifies(sha1Named, of: message))
        #expect(!key.verifies([0, 0, 0, 1], of: message))
        #expect(SSHPublicKey(identity: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBx9 x") == nil)
        #expect(SSHPublicKey(identity: "not a key") == nil)
    }

    @Test func sshLoginUsesTheChallengeOnce() async throws {
        let c = try TemporaryLake.catalog("ssh")
        try await DefaultLake.seedIfEmpty(c)
        try await c.auth.addIdentity(
            account: "root", identity: Self.publicKey, type: "SSH", email: "r@example.org", password: nil, isDefault: false, by: root)
        // A challenge is random; this test signs a known one, so it is put in place as `sshChallenge` would.
        let known = "challenge-42-root-1767225610"
        try await c.db.write { db in
            try db.execute(
                sql: "INSERT INTO ssh_challenges (token, account, expires_at, created_at) VALUES (?, 'root', ?, ?)",
                arguments: [known, c.nowStamp + 10, c.nowStamp])
        }
        #expect(try await c.auth.loginSSH(account: "root", signature: Self.sha256Signature, appID: nil)?.account == "root")
        #expect(try await c.auth.loginSSH(account: "root", signature: Self.sha256Signature, appID: nil) == nil)
        let fresh = try #require(try await c.auth.sshChallenge(account: "root"))
        #expect(fresh.token.hasPrefix("challenge-") && fresh.token.contains("-root-"))
        #expect(try await c.auth.validateNativeToken(fresh.token) == nil)
        #expect(try await c.auth.sshChallenge(account: "nosuch") == nil)
    }

    @Test func diracLFNs() throws {
        #expect(DiracStore.parents(of: "/vo/scope/ds/f.dat") == ["/vo/scope/ds", "/vo/scope", "/vo"])
        #expect(try ScopeExtraction.dirac.split("/vo/user.x/ds/f.dat") == ("user.x", "/vo/user.x/ds/f.dat"))
        #expect(try ScopeExtraction.dirac.split("/vo") == ("vo", "/vo"))
        #expect(try ScopeExtraction.default.split("user.jdoe.file.dat") == ("user.jdoe", "user.jdoe.file.dat"))
        #expect(try ScopeExtraction.default.split("data18:AOD.01") == ("data18", "AOD.01"))
        #expect(throws: RucioError.self) { try ScopeExtraction.default.split("a:b:c") }
        #expect(ScopeExtraction(configured: "nosuch") == .default)
    }

    @Test func openDataStates() async throws {
        let c = try TemporaryLake.catalog("opendata")
        try await DefaultLake.seedIfEmpty(c)
        try await c.dids.addCollection(scope: "test", name: "od", type: .dataset, issuer: root)
        try await c.openData.add(scope: "test", name: "od", issuer: root)
        await #expect(throws: RucioError(.openDataInvalidStateUpdate, "Cannot set state to SUSPENDED from DRAFT. First set it to PUBLIC.")) {
            _ = try await c.openData.update(scope: "test", name: "od", .init(state: .suspended), issuer: root)
        }
        try await c.dids.setStatus("test", "od", open: false, issuer: root)
        let changed = try await c.openData.update(scope: "test", name: "od", .init(state: .public, recordID: 7), issuer: root)
        #expect(changed["state_old"] == "DRAFT" && changed["state_new"] == "PUBLIC" && changed["record_id_new"] == 7)
        #expect(try await c.openData.list(state: .public, limit: nil, offset: nil).total == 1)
        await #expect(throws: RucioError.self) { try await c.openData.delete(scope: "test", name: "od", issuer: root) }
        try await c.dids.addCollection(scope: "test", name: "od2", type: .dataset, issuer: root)
        try await c.openData.add(scope: "test", name: "od2", issuer: root)
        await #expect(
            throws: RucioError(.openDataDuplicateRecordID, "Data identifier with the same Record ID (7) already exists in the open data catalog.")
        ) {
            _ = try await c.openData.update(scope: "test", name: "od2", .init(recordID: 7), issuer: root)
        }
    }
}
