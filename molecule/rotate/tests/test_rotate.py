"""Verify a finished DKIM rotation on two hosts that sign the same domain.

Runs on the controller (testinfra, podman connection) after side_effect took the rotation to its
end and ran harden with the inventory still naming the old selector: both hosts hold the same new
key and no old one, their tables (dkimpy-milter's, which signs, and OpenDKIM's, the way back) name
only the new selector, the lab DNS serves the new record and no longer the old one, mail each
host's dkimpy-milter signs verifies against the lab DNS with dkimpy, and one more harden run
changes nothing.
"""
import base64
import email.utils
import json
import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import dkim
import dns.exception
import dns.resolver
import pytest

PROJECT = Path(os.environ.get("MOLECULE_PROJECT_DIRECTORY", Path(__file__).resolve().parents[3]))
DOMAIN = "example2.test"
OLD = "rot1"
KEYS = "/etc/dkimkeys/%s" % DOMAIN
STATE = "/var/lib/mailauth/dkim_rotation.json"
MAILBOX = "/var/mail/mailtest"
HOSTS = ["podman://mailauth-rot1", "podman://mailauth-rot2"]
testinfra_hosts = HOSTS


@pytest.fixture(scope="module")
def resolver():
    lab = json.loads((PROJECT / ".lab" / "lab.json").read_text())
    res = dns.resolver.Resolver(configure=False)
    res.nameservers = [lab["dns_server"]]
    res.port = lab["dns_port"]
    return res


def lab_txt(resolver):
    """dkimpy's dnsfunc, asking the lab DNS."""
    def get_txt(name, timeout=5):
        try:
            answer = resolver.resolve(name.decode().rstrip("."), "TXT", lifetime=timeout)
        except dns.exception.DNSException:
            return None
        return b"".join(answer[0].strings)
    return get_txt


def rotation(host):
    state = json.loads(host.file(STATE).content_string)
    (entry,) = state["domains"][DOMAIN]
    return entry


def new_selector(host):
    return rotation(host)["new_selector"]


def test_the_rotation_is_done_on_both_hosts_with_one_new_selector(host):
    entry = rotation(host)
    assert (entry["old_selector"], entry["phase"]) == (OLD, "done")
    phases = ["started", "published", "signing", "revoked", "removed", "done"]
    assert sorted(entry["at"]) == sorted(phases)
    times = [entry["at"][phase] for phase in phases]
    assert times == sorted(times), "phases recorded out of order"
    # The same new selector on both: chosen once, on the controller.
    assert {new_selector(host.get_host(h)) for h in HOSTS} == {entry["new_selector"]}


def test_both_hosts_hold_the_same_new_key_and_no_old_one(host):
    new = new_selector(host)
    key = host.file("%s/%s.private" % (KEYS, new))
    assert key.exists and key.user == "opendkim" and key.mode == 0o600
    assert not host.file("%s/%s.private" % (KEYS, OLD)).exists
    sums = {host.get_host(h).check_output("sha256sum %s/%s.private", KEYS, new).split()[0] for h in HOSTS}
    assert len(sums) == 1, "the hosts sign with different keys"


def test_the_tables_name_only_the_new_selector(host):
    new = new_selector(host)
    signing = host.file("/etc/opendkim/SigningTable").content_string
    keys = host.file("/etc/opendkim/KeyTable").content_string
    assert "*@%s %s._domainkey.%s" % (DOMAIN, new, DOMAIN) in signing
    assert "%s._domainkey" % OLD not in signing and "%s._domainkey" % OLD not in keys
    assert "%s._domainkey.%s %s:%s:" % (new, DOMAIN, DOMAIN, new) in keys
    dkimpy = host.file("/etc/dkimpy-milter/KeyTable").content_string
    assert "%s %s:%s:%s/%s.private" % (DOMAIN, DOMAIN, new, KEYS, new) in dkimpy and ":%s:" % OLD not in dkimpy
    assert host.service("dkimpy-milter").is_running and not host.service("opendkim").is_running


def test_the_lab_dns_serves_the_new_record_and_not_the_old(host, resolver):
    new = new_selector(host)
    answer = resolver.resolve("%s._domainkey.%s" % (new, DOMAIN), "TXT")
    assert b"".join(answer[0].strings).startswith(b"v=DKIM1; k=rsa; p=")
    with pytest.raises(dns.resolver.NXDOMAIN):
        resolver.resolve("%s._domainkey.%s" % (OLD, DOMAIN), "TXT")


def wait_for_message(host, marker, timeout=90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if host.file(MAILBOX).exists:
            for block in re.split(r"\n(?=From \S+ )", host.file(MAILBOX).content_string):
                if marker in block:
                    return block.split("\n", 1)[1]
        time.sleep(1)
    pytest.fail("no message with %s in %s after %ss" % (marker, MAILBOX, timeout))


def test_mail_leaves_signed_with_the_new_selector_and_verifies(host, resolver):
    marker = "rotated-%s" % uuid.uuid4().hex
    message = ("From: Sender <sender@%s>\nTo: mailtest@example.test\nSubject: %s\nDate: %s\nMessage-ID: <%s@%s>\n\n"
               "Signed with the rotated key.\n" % (DOMAIN, marker, email.utils.formatdate(), marker, DOMAIN))
    encoded = base64.b64encode(message.encode()).decode()
    host.run_test("echo %s | base64 -d | /usr/sbin/sendmail -f sender@%s mailtest@example.test", encoded, DOMAIN)
    raw = wait_for_message(host, marker).encode()
    selectors = re.findall(rb"DKIM-Signature:[^\n]*(?:\n[ \t][^\n]*)*", raw)
    assert selectors and all(b"s=%s;" % new_selector(host).encode() in re.sub(rb"\s", b"", s) for s in selectors)
    assert dkim.verify(raw.replace(b"\n", b"\r\n"), dnsfunc=lab_txt(resolver))


def test_one_more_harden_run_changes_nothing():
    """The inventory still names rot1: harden follows the finished rotation and has nothing left to do."""
    inventory = os.path.dirname(os.environ["MOLECULE_INVENTORY_FILE"])
    # Molecule's environment forces colours; the recap is read without them.
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default", ANSIBLE_FORCE_COLOR="0",
               ANSIBLE_NOCOLOR="1")
    proc = subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "-i", inventory,
                           "mailauth.hardening.harden"], capture_output=True, text=True, env=env, check=False)
    out = re.sub(r"\x1b\[[0-9;]*m", "", proc.stdout)
    tail = (out + proc.stderr)[-4000:]
    assert proc.returncode == 0, tail
    recap = re.findall(r"^(mailauth-rot[12])\s*:.*?changed=(\d+)", out, re.M)
    assert sorted(recap) == [("mailauth-rot1", "0"), ("mailauth-rot2", "0")], tail
    assert "%s._domainkey" % OLD not in out, "harden named the retired selector"
