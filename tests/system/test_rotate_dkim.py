"""The rotate_dkim playbook on this host: keys and the signers' tables in a temp dir, a loopback BIND as DNS.

One host signs two domains (RSA + Ed25519 dual signing, and a 1024-bit RSA key that the rotation
replaces with a 2048-bit one). The walk takes every phase one run at a time with
mailauth_dkim_rotation_stop_after, runs each finished phase again (changed=0), and checks what
receivers see with dkimpy against the BIND. The signer is the Debian default, dkimpy-milter: its
tables follow both algorithms' selectors through the rotation (OpenDKIM's SigningTable, the way back,
follows the RSA ones). The Plesk case uses the Plesk test double.
"""
import json
import time

import dkim
from cryptography.hazmat.primitives import serialization
import dns.message
import dns.query
import dns.rdatatype
import pytest
from ansible_collections.mailauth.hardening.plugins.module_utils._records.dkim_record import (
    build_dkim_record, inspect_dkim_record, key_type_of, public_key_b64)
from dns_servers import run_named, served_txt, zone_text
# plesk_double is a fixture: importing it is using it.
from plesk_double_env import plesk_double  # noqa: F401 pylint: disable=unused-import

ZONES = ("example.test", "example2.test")
BOOK = "- ansible.builtin.import_playbook: mailauth.hardening.rotate_dkim\n"
MESSAGE = (b"From: Alice <alice@%s>\r\nTo: bob@elsewhere.test\r\nSubject: rotation\r\n"
           b"Message-ID: <1@%s>\r\n\r\nHello.\r\n")
OLD = {"example.test": ["s1", "e1"], "example2.test": ["k1"]}


@pytest.fixture(scope="module")
def named(tmp_path_factory):
    with run_named(dict((z, zone_text(z)) for z in ZONES), directory=tmp_path_factory.mktemp("rotate-named")) as server:
        yield server


def dkim_key_record(path):
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    return build_dkim_record(key_type_of(key), public_key_b64(key))


class Host(object):
    """A mail host on localhost: inventory, keys, tables and state file in a temp dir."""

    def __init__(self, tmp_path, named, run_playbook):
        self.dir = tmp_path
        self.keys = tmp_path / "keys"
        self.tables = tmp_path / "tables"
        self.dkimpy = tmp_path / "dkimpy"
        self.dkimpy.mkdir()
        self.state = tmp_path / "state" / "dkim_rotation.json"
        self.keys.mkdir(mode=0o700)
        self.named = named
        self._run = run_playbook
        domains = []
        for zone, dkim_entries in (("example.test", [{"selector": "s1", "type": "rsa", "bits": 2048},
                                                     {"selector": "e1", "type": "ed25519"}]),
                                   ("example2.test", {"selector": "k1", "type": "rsa", "bits": 1024})):
            # The NS of each zone is 127.0.0.1; wait_port sends the propagation check to this BIND.
            domains.append({"name": zone, "dkim": dkim_entries, "dns": {
                "provider": "rfc2136", "server": named.address, "key_name": named.key_name, "zone": zone,
                "credentials": "test", "wait_port": named.port}})
        host_vars = {"ansible_python_interpreter": "{{ ansible_playbook_python }}", "mailauth_domains": domains,
                     "mailauth_dns_secrets": {"test": {"key_secret": named.key_secret}},
                     "mailauth_dkim_keys_dir": str(self.keys), "mailauth_dkim_service_restart": False,
                     "mailauth_dkim_rotation_state_file": str(self.state),
                     "mailauth_dkim_rotation_publish_wait": "0s", "mailauth_dkim_rotation_overlap": "1s",
                     "mailauth_dkim_rotation_revoke_hold": "0s", "mailauth_dns_wait": False}
        self.inventory = tmp_path / "inventory.json"
        self.inventory.write_text(json.dumps({"all": {"hosts": {"localhost": host_vars}}}))
        # The dkim role's OS-family paths are role vars: only extra vars move them off /etc.
        self.extra = {"mailauth_dkim_tables_dir": str(self.tables), "mailauth_dkim_config": str(tmp_path / "opendkim.conf"),
                      "mailauth_dkim_dkimpy_dir": str(self.dkimpy), "mailauth_dkim_signer": "dkimpy",
                      "mailauth_hosts": "all"}

    def play(self, text, check=False, extra_env=None, **extra):
        extra = dict(self.extra, **extra)
        rc, data, out = self._run(text, "-i", str(self.inventory), "-e", json.dumps(extra), check=check,
                                  extra_env=extra_env)
        assert self.named.key_secret not in out
        for key in self.keys.glob("*/*.private"):
            # A PKCS#1 key starts with the modulus, which the public record carries too: only the rest is secret.
            public = inspect_dkim_record(dkim_key_record(key)).public_key_b64
            body = [line for line in key.read_text().splitlines()
                    if len(line) >= 40 and not line.startswith("-----") and line not in public]
            leaked = [line for line in body if line in out]
            assert not leaked, "private key material of %s in the output: %s" % (key, leaked)
        return rc, data, out

    def rotate(self, check=False, **extra):
        rc, data, out = self.play(BOOK, check=check, **extra)
        assert rc == 0, out
        return data["stats"]["localhost"]["changed"], out

    def harden(self):
        """The harden playbook's DKIM part (mail_auth's postfix.yml, publish.yml and signing.yml), without
        installing OpenDKIM: the rotation state read, the keys, the KeyTable, the records published behind
        the gates, the SigningTable. Returns the number of changes."""
        gates = {"nameservers": [self.named.address]}
        rc, data, out = self.play(json.dumps([{
            "hosts": "localhost", "gather_facts": False, "vars": {"mailauth_path_chosen": "postfix"},
            "module_defaults": {"mailauth.hardening.mail_gate": gates, "mailauth.hardening.mail_audit": gates},
            "tasks": [
                {"ansible.builtin.include_role": {"name": "mailauth.hardening.dkim_rotation", "tasks_from": "current"}},
                {"ansible.builtin.include_role": {"name": "mailauth.hardening.dkim_rotation", "tasks_from": "keys"}},
                {"ansible.builtin.include_role": {"name": "mailauth.hardening.dkim", "tasks_from": "opendkim"},
                 "vars": {"mailauth_domains": "{{ mailauth_dkim_rotation.key_domains }}"}},
                {"ansible.builtin.include_role": {"name": "mailauth.hardening.mail_auth", "tasks_from": "publish"}},
                {"ansible.builtin.include_role": {"name": "mailauth.hardening.mail_auth", "tasks_from": "signing"}}]}]))
        assert rc == 0, out
        return data["stats"]["localhost"]["changed"]

    def rotations(self):
        state = json.loads(self.state.read_text())
        return dict(((d, r["old_selector"]), r) for d, rs in state["domains"].items() for r in rs)

    def new(self, domain, old):
        return self.rotations()[(domain, old)]["new_selector"]

    def table(self, name):
        return (self.tables / name).read_text()

    def key(self, domain, selector, suffix=".private"):
        return self.keys / domain / ("%s%s" % (selector, suffix))

    def dkimpy_signs(self, domain):
        """{type: selector} dkimpy-milter signs the domain with, from its key tables."""
        found = {}
        for key_type, name in (("rsa", "KeyTable"), ("ed25519", "KeyTableEd25519")):
            for line in (self.dkimpy / name).read_text().splitlines():
                if line.startswith(domain + " "):
                    selector, path = line.split()[1].split(":")[1:]
                    if path != "/dev/null":
                        assert path == str(self.key(domain, selector, ".dkimpy" if key_type == "ed25519" else ".private"))
                        found[key_type] = selector
        return found


@pytest.fixture
def host(tmp_path, named, run_playbook):
    return Host(tmp_path, named, run_playbook)


def dnsfunc(named):
    def lookup(name, timeout=5):
        reply = dns.query.tcp(dns.message.make_query(name.decode().rstrip(".") + ".", "TXT"), named.host,
                              port=named.port, timeout=timeout)
        for rrset in reply.answer:
            if rrset.rdtype == dns.rdatatype.TXT:
                return b"".join(b"".join(rdata.strings) for rdata in rrset)
        return None
    return lookup


def verifies(named, host, domain, selector, key_type="rsa"):
    """Whether a receiver verifies mail signed with this key, looking the key up at the BIND. Ed25519
    signs with the raw seed dkimpy-milter reads, so this proves the seed matches the published key."""
    message = MESSAGE % (domain.encode(), domain.encode())
    private = host.key(domain, selector, ".dkimpy" if key_type == "ed25519" else ".private").read_bytes()
    signature = dkim.sign(message, selector.encode(), domain.encode(), private,
                          include_headers=[b"from", b"to", b"subject"],
                          signature_algorithm=b"ed25519-sha256" if key_type == "ed25519" else b"rsa-sha256")
    return dkim.verify(signature + message, dnsfunc=dnsfunc(named))


def served(named, domain, selector):
    return served_txt(named, "%s._domainkey.%s." % (selector, domain))[0]


def signing_lines(host):
    """The SigningTable's RSA lines (whether OpenDKIM signs with Ed25519 too is the dkim role's business)."""
    return sorted(line for line in host.table("SigningTable").splitlines()
                  if not line.startswith("#") and not line.split()[1].startswith("e"))


def keytable_selectors(host):
    return sorted(line.split()[0].split(".")[0] for line in host.table("KeyTable").splitlines()
                  if not line.startswith("#"))


def test_a_rotation_walks_every_phase_and_each_rerun_changes_nothing(host, named):
    host.harden()
    assert verifies(named, host, "example.test", "s1") and verifies(named, host, "example2.test", "k1")
    assert verifies(named, host, "example.test", "e1", "ed25519")
    assert host.dkimpy_signs("example.test") == {"rsa": "s1", "ed25519": "e1"}
    before = dict(((d, s), served(named, d, s)) for d, sels in OLD.items() for s in sels)

    # Check mode: what would start, and nothing touched.
    changed, out = host.rotate(check=True, mailauth_dkim_rotation_start=True)
    assert changed > 0 and not host.state.exists()
    assert sorted(p.name for p in host.keys.glob("*/*.private")) == ["e1.private", "k1.private", "s1.private"]

    # started: new selectors from the patterns, new keys made, the KeyTable holds both, signing unchanged.
    changed, out = host.rotate(mailauth_dkim_rotation_start=True, mailauth_dkim_rotation_stop_after="started")
    assert changed > 0
    new = dict((d, [host.new(d, s) for s in sels]) for d, sels in OLD.items())
    assert new["example.test"][0].startswith("s") and new["example.test"][1].startswith("e")
    assert new["example.test"][0] != "s1" and len(set(new["example.test"])) == 2
    assert host.rotations()[("example2.test", "k1")]["bits"] == 2048     # the 1024-bit key is replaced by 2048
    assert all(host.key(d, s).exists() for d, sels in new.items() for s in sels)
    assert keytable_selectors(host) == sorted(["s1", "e1", "k1"] + new["example.test"] + new["example2.test"])
    assert signing_lines(host) == sorted(["*@example.test s1._domainkey.example.test",
                                          "*@example2.test k1._domainkey.example2.test"])
    assert all(served(named, d, s) == [] for d, sels in new.items() for s in sels)
    assert host.rotate(mailauth_dkim_rotation_start=True, mailauth_dkim_rotation_stop_after="started")[0] == 0

    # published: every new record served; receivers verify the new keys; signing still old.
    changed, out = host.rotate(mailauth_dkim_rotation_stop_after="published")
    assert changed > 0
    assert verifies(named, host, "example.test", new["example.test"][0])
    assert verifies(named, host, "example2.test", new["example2.test"][0])
    assert served(named, "example.test", new["example.test"][1])[0].startswith("v=DKIM1; k=ed25519; p=")
    assert verifies(named, host, "example.test", new["example.test"][1], "ed25519")
    assert "*@example.test s1._domainkey.example.test" in signing_lines(host)
    assert host.dkimpy_signs("example.test") == {"rsa": "s1", "ed25519": "e1"}
    assert host.rotate(mailauth_dkim_rotation_stop_after="published")[0] == 0

    # A second rotation while this one runs is refused, and changes nothing.
    rc, _data, out = host.play(BOOK, mailauth_dkim_rotation_start=True)
    assert rc != 0 and "a second rotation is refused" in out
    assert "run the playbook without mailauth_dkim_rotation_start" in out

    # signing: the SigningTable names the new selectors; the old keys leave the KeyTable, stay published.
    changed, out = host.rotate(mailauth_dkim_rotation_stop_after="signing")
    assert changed > 0
    assert signing_lines(host) == sorted(["*@example.test %s._domainkey.example.test" % new["example.test"][0],
                                          "*@example2.test %s._domainkey.example2.test" % new["example2.test"][0]])
    assert "e1._domainkey" not in host.table("SigningTable")
    # dkimpy-milter signs with both new selectors: the Ed25519 one rotated too.
    assert host.dkimpy_signs("example.test") == {"rsa": new["example.test"][0], "ed25519": new["example.test"][1]}
    assert host.dkimpy_signs("example2.test") == {"rsa": new["example2.test"][0]}
    assert keytable_selectors(host) == sorted(new["example.test"] + new["example2.test"])
    assert all(served(named, d, s) == before[(d, s)] for d, sels in OLD.items() for s in sels)
    assert host.rotate(mailauth_dkim_rotation_stop_after="signing")[0] == 0

    # The overlap gates the revocation: with an hour left nothing happens, and the run says until when.
    changed, out = host.rotate(mailauth_dkim_rotation_overlap="1h")
    assert changed == 0 and "overlap runs until" in out
    assert verifies(named, host, "example.test", "s1")

    # revoked: after the (1 s) overlap, the old records say "v=DKIM1; p=": old signatures no longer verify.
    time.sleep(1.5)
    changed, out = host.rotate(mailauth_dkim_rotation_stop_after="revoked")
    assert changed > 0
    assert all(served(named, d, s) == ["v=DKIM1; p="] for d, sels in OLD.items() for s in sels)
    assert not verifies(named, host, "example.test", "s1")
    assert verifies(named, host, "example.test", new["example.test"][0])
    assert host.rotate(mailauth_dkim_rotation_stop_after="revoked")[0] == 0

    # removed: the old records are gone; the old keys are still on disk.
    changed, out = host.rotate(mailauth_dkim_rotation_stop_after="removed")
    assert changed > 0
    assert all(served(named, d, s) == [] for d, sels in OLD.items() for s in sels)
    assert all(host.key(d, s).exists() for d, sels in OLD.items() for s in sels)
    assert host.rotate(mailauth_dkim_rotation_stop_after="removed")[0] == 0

    # done: the old private keys are deleted; the inventory may keep naming the old selectors.
    changed, out = host.rotate()
    assert changed > 0
    assert not any(host.key(d, s).exists() for d, sels in OLD.items() for s in sels)
    assert not host.key("example.test", "e1", ".dkimpy").exists()  # the old key's dkimpy copy goes with it
    assert host.key("example.test", new["example.test"][1], ".dkimpy").exists()
    assert all(r["phase"] == "done" for r in host.rotations().values())
    assert "mailauth_domains names s1, which stands for %s now" % new["example.test"][0] in out
    assert "replace" not in out
    changed, out = host.rotate()
    assert changed == 0
    assert verifies(named, host, "example2.test", new["example2.test"][0])

    # harden with the inventory still naming s1, e1 and k1: it follows the state - the new keys signed
    # with and published, no retired selector made, published or signed with again - and a second run
    # changes nothing.
    host.harden()
    assert not any(host.key(d, s).exists() for d, sels in OLD.items() for s in sels)
    assert all(served(named, d, s) == [] for d, sels in OLD.items() for s in sels)
    assert signing_lines(host) == sorted(["*@example.test %s._domainkey.example.test" % new["example.test"][0],
                                          "*@example2.test %s._domainkey.example2.test" % new["example2.test"][0]])
    assert keytable_selectors(host) == sorted(new["example.test"] + new["example2.test"])
    assert host.harden() == 0

    # The next rotation starts from the key that signs now, though the inventory still names s1.
    changed, out = host.rotate(mailauth_dkim_rotation_start=True, mailauth_dkim_rotation_stop_after="started",
                               mailauth_dkim_rotation_domains=["example2.test"])
    assert changed > 0
    following = host.rotations()[("example2.test", new["example2.test"][0])]
    assert following["phase"] == "started" and following["new_selector"] not in OLD["example2.test"] + new["example2.test"]
    assert keytable_selectors(host) == sorted(new["example.test"] + new["example2.test"] + [following["new_selector"]])


def test_a_given_selector_and_one_domain_only(host, named):
    host.harden()
    given = [{"domain": "example2.test", "selector": "k1", "new_selector": "mx2027", "bits": 3072}]
    changed, _out = host.rotate(mailauth_dkim_rotation_start=True, mailauth_dkim_rotation_domains=["example2.test"],
                                mailauth_dkim_rotation_new_selectors=given, mailauth_dkim_rotation_stop_after="signing")
    assert changed > 0
    assert list(host.rotations()) == [("example2.test", "k1")]
    assert host.rotations()[("example2.test", "k1")]["bits"] == 3072
    assert verifies(named, host, "example2.test", "mx2027")
    assert "*@example2.test mx2027._domainkey.example2.test" in signing_lines(host)
    assert "*@example.test s1._domainkey.example.test" in signing_lines(host)


def test_plesk_hosts_get_the_limits_spelled_out_and_nothing_changes(host, plesk_double):
    plesk_double.admin("add-domain", "example.test", "--signing")
    plesk_double.admin("add-domain", "example2.test")
    plesk_double.calls()
    rc, data, out = host.play(BOOK, mailauth_path="plesk",
                              mailauth_plesk_dkim_keys_dir=str(plesk_double.keys_dir),
                              extra_env=plesk_double.env)
    assert rc == 0, out
    assert data["stats"]["localhost"]["changed"] == 0
    assert "example.test: Plesk signs with its fixed selector 'default'" in out
    assert "NOT DONE - Plesk cannot: a new selector" in out
    assert "example2.test: Plesk does not sign this domain's mail" in out
    assert plesk_double.changing_calls() == []
    assert not host.state.exists()
