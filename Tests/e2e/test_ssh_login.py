"""SSH public-key login as Rucio does it: the real client (auth_type = ssh) asks for a challenge, signs it with its
private key (paramiko, rsa-sha2-256), and gets a token for the account whose SSH identity holds the public key."""
import subprocess

import pytest
import requests
from rucio.client import Client
from rucio.common.exception import CannotAuthenticate


def keypair(tmp_path, name):
    key = tmp_path / name
    subprocess.run(["ssh-keygen", "-q", "-t", "rsa", "-b", "3072", "-m", "PEM", "-N", "", "-C", f"{name}@lakebed", "-f", str(key)], check=True)
    return key, (tmp_path / f"{name}.pub").read_text().strip()


@pytest.fixture(scope="module")
def ssh_accounts(lake, client, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ssh")
    good, good_pub = keypair(tmp, "alice")
    other, _ = keypair(tmp, "mallory")
    client.add_account("sshalice", "USER", "alice@example.org")
    client.add_identity("sshalice", good_pub, "SSH", "alice@example.org")
    return {"good": good, "other": other, "pub": good_pub}


def ssh_client(lake, account, key):
    return Client(rucio_host=lake.url, auth_host=lake.url, account=account, auth_type="ssh", creds={"ssh_private_key": str(key)})


def test_the_real_client_logs_in_with_its_ssh_key_and_calls_whoami(lake, ssh_accounts):
    c = ssh_client(lake, "sshalice", ssh_accounts["good"])
    assert c.whoami()["account"] == "sshalice"
    assert c.auth_token.startswith("sshalice-")


def test_a_key_the_account_does_not_hold_is_refused(lake, ssh_accounts, client):
    client.add_account("sshbob", "USER", "bob@example.org")
    client.add_identity("sshbob", ssh_accounts["pub"], "SSH", "bob@example.org")
    # The server answers 401 CannotAuthenticate; the 41.5.1 client turns a refused login into its own message.
    with pytest.raises(CannotAuthenticate, match="ssh authentication failed for account=sshbob"):
        ssh_client(lake, "sshbob", ssh_accounts["other"])


def test_challenges_are_nonces_not_tokens_and_are_used_once(lake, ssh_accounts):
    r = requests.get(f"{lake.url}/auth/ssh_challenge_token", headers={"X-Rucio-Account": "sshalice"})
    assert r.status_code == 200
    challenge = r.headers["X-Rucio-SSH-Challenge-Token"]
    assert challenge.startswith("challenge-") and challenge.split("-")[2] == "sshalice"
    # A challenge never authenticates a request by itself.
    assert requests.get(f"{lake.url}/accounts/whoami", headers={"X-Rucio-Auth-Token": challenge}).status_code == 401
    from rucio.common.utils import ssh_sign
    signature = ssh_sign(ssh_accounts["good"].read_text(), challenge)
    first = requests.get(f"{lake.url}/auth/ssh", headers={"X-Rucio-Account": "sshalice", "X-Rucio-SSH-Signature": signature})
    assert first.status_code == 200 and first.headers["X-Rucio-Auth-Token"].startswith("sshalice-")
    again = requests.get(f"{lake.url}/auth/ssh", headers={"X-Rucio-Account": "sshalice", "X-Rucio-SSH-Signature": signature})
    assert again.status_code == 401 and again.headers["ExceptionClass"] == "CannotAuthenticate"


def test_unknown_account_gets_no_challenge(lake):
    r = requests.get(f"{lake.url}/auth/ssh_challenge_token", headers={"X-Rucio-Account": "nosuchaccount"})
    assert r.status_code == 401 and r.headers["ExceptionClass"] == "CannotAuthenticate"
