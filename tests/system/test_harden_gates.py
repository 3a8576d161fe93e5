"""The mail_auth role's controller side for Postfix hosts, against loopback BINDs.

Two Postfix hosts (mx1, mx2) share example.test, each with its own DKIM selector. The hosts' own
part (dkim and postfix roles) does not run here: each host's keys and path are given as inventory
variables, as the dkim role would leave them, and the role's ``publish`` tasks run - the plan,
the SPF gate, the DMARC hold, publishing once per domain and the signing gate. A second BIND
with a static copy of the zone plays a secondary that has not caught up.
"""
import base64
import json

import dns.message
import dns.query
import dns.rdatatype
import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from dns_servers import run_named, zone_text

ZONE = "example.test"
ADDRESSES = {"mx1": "203.0.113.10", "mx2": "203.0.113.11"}
ZONE_RECORDS = ["@ IN MX 10 mx1.%s." % ZONE, "@ IN MX 20 mx2.%s." % ZONE] + \
    ["%s IN A %s" % (host, ip) for host, ip in ADDRESSES.items()]


def key_result(selector):
    """What the dkim role leaves in mailauth_dkim_host_records for one key."""
    public = rsa.generate_private_key(65537, 2048).public_key()
    p = base64.b64encode(public.public_bytes(serialization.Encoding.DER,
                                             serialization.PublicFormat.SubjectPublicKeyInfo)).decode()
    return {"domain": ZONE, "selector": selector, "dns_name": "%s._domainkey.%s" % (selector, ZONE),
            "record": "v=DKIM1; k=rsa; p=" + p, "public_key": p}


KEYS = {"mx1": key_result("s-mx1"), "mx2": key_result("s-mx2")}


@pytest.fixture(scope="module")
def primary(tmp_path_factory):
    with run_named({ZONE: zone_text(ZONE, ZONE_RECORDS)}, directory=tmp_path_factory.mktemp("primary")) as server:
        yield server


@pytest.fixture(scope="module")
def lagging(tmp_path_factory):
    """A secondary still serving the zone as it was before anything was published."""
    with run_named({ZONE: zone_text(ZONE, ZONE_RECORDS)}, allow_update=False,
                   directory=tmp_path_factory.mktemp("lagging")) as server:
        yield server


def domain(named, mechanisms=("mx",)):
    return {"name": ZONE, "dns": {"provider": "rfc2136", "server": named.address, "key_name": named.key_name,
                                  "zone": ZONE, "credentials": "test"},
            "spf": {"mechanisms": list(mechanisms), "all": "fail"},
            "dmarc": {"p": "none", "rua": ["aggregate@%s" % ZONE]}}


def inventory(tmp_path, named, **host_vars):
    hosts = {}
    for host, ip in ADDRESSES.items():
        selector = KEYS[host]["selector"]
        hosts[host] = {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}",
                       "mailauth_path_chosen": "postfix", "mailauth_sending_ips": [ip],
                       "mailauth_domains": [dict(domain(named, **host_vars), dkim=[{"selector": selector}])],
                       "mailauth_dkim_host_records": [KEYS[host]]}
    path = tmp_path / "inventory.yml"
    path.write_text(yaml.safe_dump({"mailservers": {"hosts": hosts}}))
    return str(path)


def publish_play(nameservers, **play_vars):
    dns_options = {"nameservers": nameservers}
    play_vars = dict({"mailauth_dns_secrets": "{{ test_dns_secrets }}", "mailauth_dns_wait": False}, **play_vars)
    return json.dumps([{
        "hosts": "mailservers", "gather_facts": False, "vars": play_vars,
        # main.yml gives the gates and the audit their name servers this way.
        "module_defaults": {"mailauth.hardening.mail_gate": dns_options, "mailauth.hardening.mail_audit": dns_options},
        "tasks": [{"name": "Controller side", "ansible.builtin.include_role": {
            "name": "mailauth.hardening.mail_auth", "tasks_from": "publish"}}]}])


def run(run_playbook, tmp_path, named, nameservers, mechanisms=("mx",), **play_vars):
    secrets = tmp_path / "secrets.json"
    secrets.write_text(json.dumps({"test_dns_secrets": {"test": {"key_secret": named.key_secret}}}))
    rc, data, out = run_playbook(publish_play(nameservers, **play_vars), "-i", inventory(tmp_path, named, mechanisms=mechanisms),
                                 "-e", "@%s" % secrets)
    assert named.key_secret not in out
    return rc, data, out


def served(named, name):
    query = dns.message.make_query("%s." % name, "TXT")
    reply = dns.query.tcp(query, named.host, port=named.port, timeout=5)
    return sorted(b"".join(rdata.strings).decode() for rrset in reply.answer if rrset.rdtype == dns.rdatatype.TXT
                  for rdata in rrset)


def task(data, name):
    """{host: result} of the task called ``name`` (after the role's prefix)."""
    [found] = [t["hosts"] for play in data["plays"] for t in play["tasks"] if t["task"]["name"].split(" : ")[-1] == name]
    return found


def failed_msg(data):
    [msg] = [r["msg"] for play in data["plays"] for t in play["tasks"] for r in t["hosts"].values() if r.get("failed")]
    return msg


def test_a_shared_domain_is_published_once_with_both_hosts_keys_and_both_sign(run_playbook, tmp_path, primary):
    rc, data, out = run(run_playbook, tmp_path, primary, [primary.address])
    assert rc == 0, out
    published = task(data, "Publish the records of each DNS provider account")
    assert list(published) == ["mx1"] and len(published["mx1"]["results"]) == 1  # one host, one account
    assert served(primary, ZONE) == ["v=spf1 mx -all"]
    for key in KEYS.values():
        assert served(primary, key["dns_name"]) == [key["record"]]
    spf = task(data, "SPF gate - no own sending address may fail the SPF record about to be published")["mx1"]
    assert sorted((c["ip"], c["result"]) for c in spf["checked"]) == [(ip, "pass") for ip in sorted(ADDRESSES.values())]
    signing = task(data, "Signing gate - sign only with keys every authoritative server serves")["mx1"]
    assert signing["passed"] is True
    assert signing["selectors"] == {"mx1": [{"domain": ZONE, "selector": "s-mx1"}],
                                    "mx2": [{"domain": ZONE, "selector": "s-mx2"}]}

    rc, data, out = run(run_playbook, tmp_path, primary, [primary.address])
    assert rc == 0, out
    assert all(stats["changed"] == 0 for stats in data["stats"].values()), out


def test_spf_gate_names_the_other_hosts_address(run_playbook, tmp_path, primary):
    rc, data, _out = run(run_playbook, tmp_path, primary, [primary.address], mechanisms=["a:mx1.example.test"])
    assert rc != 0
    msg = failed_msg(data)
    assert msg.startswith("SPF gate closed: example.test: the SPF record about to be published, "
                          "'v=spf1 a:mx1.example.test -all', gives its own sending address 203.0.113.11 fail")
    assert "203.0.113.10" not in msg and "mailauth_gate_override_spf: true" in msg


def test_signing_gate_waits_for_a_lagging_secondary(run_playbook, tmp_path, primary, lagging):
    servers = [primary.address, lagging.address]
    rc, data, _out = run(run_playbook, tmp_path, primary, servers)
    assert rc != 0
    msg = failed_msg(data)
    assert msg.startswith("SIGNING gate closed: selector s-mx1 of example.test (host mx1): its key record "
                          "s-mx1._domainkey.example.test is not visible on every authoritative server yet: "
                          "%s serves no DKIM key record" % lagging.address)
    assert "selector s-mx2 of example.test (host mx2)" in msg
    assert "%s serves" % primary.address not in msg
    assert msg.endswith("To go ahead anyway, set mailauth_gate_override_signing: true.")

    rc, data, out = run(run_playbook, tmp_path, primary, servers, mailauth_gate_override_signing=True)
    assert rc == 0, out
    signing = task(data, "Signing gate - sign only with keys every authoritative server serves")["mx1"]
    assert signing["passed"] is False and signing["overridden"] is True
    assert signing["selectors"]["mx2"] == [{"domain": ZONE, "selector": "s-mx2"}]
    assert "Going ahead anyway because mailauth_gate_override_signing is true" in out


def test_two_hosts_with_different_keys_under_one_selector_are_refused(run_playbook, tmp_path, primary):
    clash = dict(KEYS["mx2"], selector="s-mx1", dns_name="s-mx1._domainkey." + ZONE)
    path = inventory(tmp_path, primary)
    hosts = yaml.safe_load(open(path))
    hosts["mailservers"]["hosts"]["mx2"]["mailauth_dkim_host_records"] = [clash]
    with open(path, "w") as stream:
        yaml.safe_dump(hosts, stream)
    rc, data, out = run_playbook(publish_play([primary.address]), "-i", path)
    assert rc != 0
    assert "mx1 and mx2 hold different keys for s-mx1._domainkey.example.test" in out
