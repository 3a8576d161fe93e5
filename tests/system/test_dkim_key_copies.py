"""One DKIM key per selector across hosts: the dkim_rotation role's keys entry point (harden and rotate_dkim).

Three hosts on this machine (local connections, each with its own key directory, tables and state
file) sign one domain with one selector. The first run makes the key on mx1 and copies it to mx2;
a re-run changes nothing; a host added later gets the same key (in check mode it is only
reported); no private key material reaches the output, even at -vvv.
"""
import json

import pytest
import yaml
from ansible_collections.mailauth.hardening.plugins.module_utils._records.dkim_record import public_key_b64
from cryptography.hazmat.primitives import serialization

DOMAIN = "example.test"
PLAY = json.dumps([{
    "hosts": "mailservers", "gather_facts": False,
    "tasks": [
        # The dkim role's tables are OS-family paths (include_vars): a fact per host moves them off /etc.
        {"ansible.builtin.set_fact": {"mailauth_dkim_tables_dir": "{{ host_dir }}/tables",
                                      "mailauth_dkim_config": "{{ host_dir }}/opendkim.conf"}},
        {"ansible.builtin.include_role": {"name": "mailauth.hardening.dkim_rotation", "tasks_from": "current"}},
        {"ansible.builtin.include_role": {"name": "mailauth.hardening.dkim_rotation", "tasks_from": "keys"}}]}])


class Fleet(object):
    def __init__(self, tmp_path, run_playbook):
        self.dir, self._run = tmp_path, run_playbook

    def host_dir(self, host):
        return self.dir / host

    def key(self, host):
        return self.host_dir(host) / "keys" / DOMAIN / "s1.private"

    def play(self, hosts, check=False, verbose=False):
        inventory = {"mailservers": {"hosts": dict((host, {
            "ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}",
            "host_dir": str(self.host_dir(host)),
            "mailauth_dkim_keys_dir": str(self.host_dir(host) / "keys"),
            "mailauth_dkim_rotation_state_file": str(self.host_dir(host) / "state.json"),
            "mailauth_dkim_service_restart": False,
            "mailauth_domains": [{"name": DOMAIN, "dkim": [{"selector": "s1", "type": "rsa", "bits": 2048}]}]})
            for host in hosts)}}
        path = self.dir / "inventory.yml"
        path.write_text(yaml.safe_dump(inventory))
        args = ["-i", str(path)] + (["-vvv"] if verbose else [])
        rc, data, out = self._run(PLAY, *args, check=check)
        assert rc == 0, out
        self.assert_no_key_material(out)
        return data, out

    def changed(self, hosts, **kwargs):
        data, _out = self.play(hosts, **kwargs)
        return dict((host, data["stats"][host]["changed"]) for host in hosts)

    def assert_no_key_material(self, out):
        for host in ("mx1", "mx2", "mx3"):
            if self.key(host).exists():
                key = serialization.load_pem_private_key(self.key(host).read_bytes(), password=None)
                numbers = key.private_numbers()
                for secret in (numbers.d, numbers.p, numbers.q):
                    assert str(secret) not in out and ("%x" % secret) not in out
                # A PKCS#1 key starts with the modulus, which the public record carries too: only the rest is secret.
                public = public_key_b64(key)
                body = [line for line in self.key(host).read_text().splitlines()
                        if len(line) >= 40 and not line.startswith("-----") and line not in public]
                assert not [line for line in body if line in out], "key material of %s in the output" % host


@pytest.fixture
def fleet(tmp_path, run_playbook):
    return Fleet(tmp_path, run_playbook)


def test_one_key_made_on_the_first_host_is_copied_to_the_others(fleet):
    changed = fleet.changed(["mx1", "mx2"])
    assert changed["mx1"] > 0 and changed["mx2"] > 0
    assert fleet.key("mx1").read_bytes() == fleet.key("mx2").read_bytes()
    assert all(fleet.key(host).stat().st_mode & 0o777 == 0o600 for host in ("mx1", "mx2"))
    # The copy's KeyTable names it (the source's comes from the dkim role's main, or rotate_dkim's finish).
    table = (fleet.host_dir("mx2") / "tables" / "KeyTable").read_text()
    assert "s1._domainkey.%s %s:s1:%s" % (DOMAIN, DOMAIN, fleet.key("mx2")) in table
    assert fleet.changed(["mx1", "mx2"]) == {"mx1": 0, "mx2": 0}

    # A host added later: check mode reports the copy and writes nothing; the real run copies mx1's key.
    assert fleet.changed(["mx1", "mx2", "mx3"], check=True)["mx3"] > 0
    assert not fleet.key("mx3").exists()
    data, _out = fleet.play(["mx3", "mx1", "mx2"], verbose=True)
    assert data is None or data["stats"]["mx3"]["changed"] > 0
    assert fleet.key("mx3").read_bytes() == fleet.key("mx1").read_bytes()
    assert fleet.changed(["mx1", "mx2", "mx3"]) == {"mx1": 0, "mx2": 0, "mx3": 0}


def test_a_host_that_holds_its_own_key_keeps_it(fleet):
    fleet.changed(["mx2"])
    own = fleet.key("mx2").read_bytes()
    fleet.changed(["mx1", "mx2"])
    # mx2 had the key first: it is the source, and mx1 gets mx2's key.
    assert fleet.key("mx2").read_bytes() == own == fleet.key("mx1").read_bytes()
