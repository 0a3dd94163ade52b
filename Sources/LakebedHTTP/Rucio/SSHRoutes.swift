import Foundation
import Hummingbird
import LakebedCore

extension RucioAPI {
    /// SSH public-key login: a challenge to sign, then the signature for a token (Rucio's `SSHChallengeToken` and `SSH`).
    func registerSSH(_ t: inout RouteTable) {
        t.add(
            .get, "/auth/ssh_challenge_token", auth: false,
            doc: RouteDoc("A challenge to sign with the account's SSH key", headers: "X-Rucio-Account!:string X-Rucio-AppID:string")
        ) { r in
            guard let account = r.header("X-Rucio-Account"), !account.isEmpty else { throw RucioError.valueError("Account must be set.") }
            guard let challenge = try await catalog.auth.sshChallenge(account: account) else {
                throw RucioError.cannotAuthenticate("Cannot generate challenge for account \(account)")
            }
            return Reply.make(
                .ok, "application/octet-stream", "",
                extra: [
                    ("X-Rucio-SSH-Challenge-Token", challenge.token),
                    ("X-Rucio-SSH-Challenge-Token-Expires", RucioDate.rfc1123(challenge.expiresAt)),
                ])
        }
        t.add(
            .get, "/auth/ssh", auth: false,
            doc: RouteDoc(
                "Log in with a signed SSH challenge", headers: "X-Rucio-Account!:string X-Rucio-SSH-Signature!:string X-Rucio-AppID:string")
        ) { r in
            guard let account = r.header("X-Rucio-Account"), !account.isEmpty, let signature = r.header("X-Rucio-SSH-Signature"), !signature.isEmpty
            else { throw RucioError.valueError("Account and SSH signature must be set.") }
            guard let info = try await catalog.auth.loginSSH(account: account, signature: signature, appID: r.header("X-Rucio-AppID")) else {
                throw RucioError.cannotAuthenticate("Cannot authenticate to account \(account) with given credentials")
            }
            return Reply.make(
                .ok, "application/octet-stream", "",
                extra: [("X-Rucio-Auth-Token", info.token), ("X-Rucio-Auth-Token-Expires", RucioDate.rfc1123(info.expiresAt))])
        }
    }
}
