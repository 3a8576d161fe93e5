"""The mail_auth role's Plesk path on this host: the Plesk test double as Plesk, a loopback BIND as the
external DNS of one domain. The whole role runs (main entry point): path choice, the plesk role, the
plan, the SPF gate, the DMARC hold, publishing, the audit and the DMARC raise.
"""
import json

import dns.message
import dns.query
import dns.rdatatype
import pytest
# named and plesk_double are fixtures: importing them is using them.
from example_zone_env import MX_IP, ZONE, named  # noqa: F401 pylint: disable=unused-import
from plesk_double_env import plesk_double  # noqa: F401 pylint: disable=unused-import


@pytest.fixture
def seeded(plesk_double):
    plesk_double.admin("add-domain", ZONE, "--external-dns")
    plesk_double.admin("add-domain", "plesk.test")
    return plesk_double


def role_play(named, keys_dir, spf=("mx",), dmarc_p="quarantine", **extra_vars):
    domains = [{"name": ZONE, "dns": {"provider": "rfc2136", "server": named.address, "key_name": named.key_name,
                                      "zone": ZONE, "credentials": "test"},
                "spf": {"mechanisms": list(spf), "all": "fail"},
                "dmarc": {"p": dmarc_p, "rua": ["aggregate@%s" % ZONE]}},
               {"name": "plesk.test", "dns": {"provider": "plesk"}, "spf": {"mechanisms": ["a"], "all": "fail"},
                "dmarc": {"p": "reject"}}]
    # The zone's NS record points at port 53, where this BIND does not listen: the gates ask it
    # directly (mailauth_gate_nameservers) and publishing does not wait.
    play_vars = {"ansible_python_interpreter": "{{ ansible_playbook_python }}", "mailauth_domains": domains,
                 "mailauth_dns_secrets": {"test": {"key_secret": named.key_secret}},
                 "mailauth_plesk_dkim_keys_dir": str(keys_dir), "mailauth_dns_wait": False,
                 "mailauth_gate_nameservers": [named.address], "mailauth_sending_ips": [MX_IP]}
    play_vars.update(extra_vars)
    return json.dumps([{"hosts": "localhost", "gather_facts": False, "vars": play_vars,
                        "roles": ["mailauth.hardening.mail_auth"]}])


def served(named, name):
    query = dns.message.make_query("%s." % name, "TXT")
    reply = dns.query.tcp(query, named.host, port=named.port, timeout=5)
    return sorted(b"".join(rdata.strings).decode() for rrset in reply.answer if rrset.rdtype == dns.rdatatype.TXT
                  for rdata in rrset)


def results(data, name):
    """Every localhost result of the tasks called ``name`` (after the role's prefix), in order."""
    return [task["hosts"]["localhost"] for play in data["plays"] for task in play["tasks"]
            if task["task"]["name"].split(" : ")[-1] == name and "localhost" in task["hosts"]]


def failure(data):
    return [r for play in data["plays"] for t in play["tasks"] for r in t["hosts"].values() if r.get("failed")]


DMARC_AT = "v=DMARC1; p=%s; rua=mailto:aggregate@example.test"


def test_plesk_path_hardens_a_fresh_domain_to_its_stage_in_one_run_and_then_changes_nothing(seeded, named, run_playbook):
    play = role_play(named, seeded.keys_dir)
    rc, data, out = run_playbook(play, extra_env=seeded.env)
    assert rc == 0, out
    assert named.key_secret not in out
    # Plesk path: the settings and the key are Plesk's.
    assert seeded.mail_settings()["domain_keys_sign"] == "true"
    [key] = served(named, "default._domainkey." + ZONE)
    assert key.startswith("v=DKIM1; k=rsa; p=")
    # The controller published SPF once and DMARC twice: held at none, then raised after a clean audit.
    assert served(named, ZONE) == ["v=spf1 mx -all"]
    assert served(named, "_dmarc." + ZONE) == [DMARC_AT % "quarantine"]
    [hold] = results(data, "DMARC gate - hold each domain's DMARC at the stage it publishes now (a stage back when the reports show harm)")
    assert hold["published"] == {ZONE: None} and [p["held"] for p in hold["pending"]] == ["none"]
    [audit] = results(data, "Audit the domains whose DMARC stage is to rise (reports only; the gate decides)")
    assert [f for f in audit["findings"] if f["severity"] == "error"] == []
    [spf] = results(data, "SPF gate - no own sending address may fail the SPF record about to be published")
    assert [(c["domain"], c["ip"], c["result"]) for c in spf["checked"]] == [(ZONE, MX_IP, "pass")]
    # plesk.test's DNS is Plesk's own: the controller publishes nothing there.
    assert "v=spf1 a -all" not in seeded.plesk("bin", "dns", "--info", "plesk.test")

    rc, data, out = run_playbook(play, extra_env=seeded.env)
    assert rc == 0, out
    assert data["stats"]["localhost"]["changed"] == 0, out
    [hold] = results(data, "DMARC gate - hold each domain's DMARC at the stage it publishes now (a stage back when the reports show harm)")
    assert hold["published"] == {ZONE: "quarantine"} and hold["pending"] == []


def test_spf_gate_stops_a_record_that_fails_the_hosts_own_address(seeded, named, run_playbook):
    rc, data, out = run_playbook(role_play(named, seeded.keys_dir, spf=["a"]), extra_env=seeded.env)
    assert rc != 0
    [failed] = failure(data)
    assert failed["msg"].startswith("SPF gate closed: example.test: the SPF record about to be published, "
                                    "'v=spf1 a -all', gives its own sending address 203.0.113.10 fail at %s"
                                    % named.address)
    assert failed["msg"].endswith("To go ahead anyway, set mailauth_gate_override_spf: true.")
    assert served(named, ZONE) == [] and served(named, "_dmarc." + ZONE) == []

    # DMARC stays at none: with the host failing SPF, the DMARC gate would hold a raise back too.
    rc, data, out = run_playbook(role_play(named, seeded.keys_dir, spf=["a"], dmarc_p="none",
                                           mailauth_gate_override_spf=True), extra_env=seeded.env)
    assert rc == 0, out
    assert "Going ahead anyway because mailauth_gate_override_spf is true" in out
    assert served(named, ZONE) == ["v=spf1 a -all"]


def test_dmarc_gate_holds_the_stage_while_the_audit_sees_dkim_failing(seeded, named, run_playbook):
    # Plesk signs, but its key is not published: every signature fails, and the audit says so.
    play = role_play(named, seeded.keys_dir, mailauth_plesk_publish_dkim=False)
    rc, data, out = run_playbook(play, extra_env=seeded.env)
    assert rc != 0
    [failed] = failure(data)
    assert failed["msg"].startswith("DMARC gate closed: example.test stays at p=none instead of p=quarantine: "
                                    "the audit sees SPF or DKIM failing (dkim.missing: ")
    assert "default._domainkey.example.test" in failed["msg"]
    assert failed["msg"].endswith("To go ahead anyway, set mailauth_gate_override_dmarc: true.")
    # SPF and the held DMARC are out; the raise is not.
    assert served(named, ZONE) == ["v=spf1 mx -all"]
    assert served(named, "_dmarc." + ZONE) == [DMARC_AT % "none"]

    rc, data, out = run_playbook(role_play(named, seeded.keys_dir, mailauth_plesk_publish_dkim=False,
                                           mailauth_gate_override_dmarc=True), extra_env=seeded.env)
    assert rc == 0, out
    assert "Going ahead anyway because mailauth_gate_override_dmarc is true" in out
    assert served(named, "_dmarc." + ZONE) == [DMARC_AT % "quarantine"]


def test_lowering_dmarc_needs_no_audit(seeded, named, run_playbook):
    rc, _data, out = run_playbook(role_play(named, seeded.keys_dir, dmarc_p="reject"), extra_env=seeded.env)
    assert rc == 0, out
    rc, data, out = run_playbook(role_play(named, seeded.keys_dir, dmarc_p="none", mailauth_plesk_publish_dkim=False),
                                 extra_env=seeded.env)
    assert rc == 0, out
    assert served(named, "_dmarc." + ZONE) == [DMARC_AT % "none"]
    assert results(data, "Audit the domains whose DMARC stage is to rise (reports only; the gate decides)")[0]["skipped"]


def test_check_mode_on_a_fresh_server_changes_nothing(seeded, named, run_playbook):
    rc, data, out = run_playbook(role_play(named, seeded.keys_dir), check=True, extra_env=seeded.env)
    assert rc == 0, out
    assert seeded.changing_calls() == []
    assert served(named, ZONE) == [] and served(named, "_dmarc." + ZONE) == []
