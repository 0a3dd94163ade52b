/// FTS's store of delegated proxies, as the transfer engine consults it. A job submitted with a certificate runs on
/// its owner's delegated credential (FTS's `cred_id`): a transfer whose credential was deleted or has expired fails
/// with the reason instead of running, as FTS's url-copy cannot run without the proxy.
public protocol DelegatedCredentials: Sendable {
    /// Why transfers filed under `delegationID` for `dn` may not run now; nil when a valid credential is delegated.
    func refusal(delegationID: String, dn: String) async -> String?
}
