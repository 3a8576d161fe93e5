"""playbooks/drift.yml through ansible-runner (as AWX runs it), on this host as a Plesk server (the test double).

Converge with the mail_auth role (its Plesk path), change things behind its back - a setting through
Plesk's CLI, records at the domain's DNS - and read the drift from the set_stats data of runner's
playbook_on_stats event: exactly those; then remediation fixes them and the next drift run is clean.
"""
import json
import os
import sys
from pathlib import Path

import ansible_runner
import dns.query
import dns.tsigkeyring
import dns.update
import pytest
# named and plesk_double are fixtures: importing them is using them.
from example_zone_env import MX_IP, ZONE, named  # noqa: F401 pylint: disable=unused-import
from plesk_double_env import plesk_double  # noqa: F401 pylint: disable=unused-import

REPO = Path(__file__).resolve().parents[2]
COLLECTIONS = REPO / ".build" / "collections"
SPF_DRIFT = {"host": "localhost", "component": "plesk_settings", "setting": "spf_mode",
             "expected": "headers_only", "actual": "reject_fail"}


@pytest.fixture
def plesk(plesk_double):
    plesk_double.admin("add-domain", ZONE, "--external-dns")
    return plesk_double


def plesk_vars(named, plesk):
    # The zone's NS record points at port 53, where this BIND does not listen: the gates ask it
    # directly and publishing does not wait.
    return {"mailauth_domains": [{"name": ZONE, "dns": {"provider": "rfc2136", "server": named.address,
                                                        "key_name": named.key_name, "zone": ZONE,
                                                        "credentials": "test"},
                                  "spf": {"mechanisms": ["mx"], "all": "fail"},
                                  "dmarc": {"p": "quarantine", "rua": ["aggregate@%s" % ZONE]}}],
            "mailauth_dns_secrets": {"test": {"key_secret": named.key_secret}},
            "mailauth_plesk_dkim_keys_dir": str(plesk.keys_dir), "mailauth_dns_wait": False,
            "mailauth_gate_nameservers": [named.address], "mailauth_sending_ips": [MX_IP]}


def converge(run_playbook, named, plesk):
    """What playbooks/harden.yml does on this host."""
    play_vars = dict(plesk_vars(named, plesk), ansible_python_interpreter="{{ ansible_playbook_python }}")
    rc, _data, out = run_playbook(json.dumps([{"hosts": "localhost", "gather_facts": False, "vars": play_vars,
                                               "roles": ["mailauth.hardening.mail_auth"]}]), extra_env=plesk.env)
    assert rc == 0, out


def replace_txt(named, name, value):
    """Change a record at the DNS behind the collection's back."""
    update = dns.update.UpdateMessage(ZONE, keyring=dns.tsigkeyring.from_text({named.key_name: named.key_secret}),
                                      keyalgorithm="hmac-sha256")
    update.replace(name, 60, "TXT", '"%s"' % value)
    dns.query.tcp(update, named.host, port=named.port, timeout=5)


class Drift(object):
    """One run of the drift playbook through ansible_runner, and what it left."""

    def __init__(self, runner, report_dir):
        self.runner = runner
        self.stdout = runner.stdout.read()
        stats = [e for e in runner.events if e["event"] == "playbook_on_stats"]
        assert len(stats) == 1, self.stdout
        self.stats = stats[0]["event_data"]["artifact_data"].get("mailauth_drift_stats")
        report = report_dir / "drift.json"
        self.report = json.loads(report.read_text()) if report.exists() else None
        self.text = (report_dir / "drift.txt").read_text() if report.exists() else ""


@pytest.fixture
def drift(tmp_path, named, plesk):
    runs = []

    def run(cmdline=None, **extravars):
        runs.append(len(runs))
        report_dir = tmp_path / ("reports-%d" % len(runs))
        inventory = {"all": {"children": {"mailservers": {"hosts": {"localhost": {
            "ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}}}
        env = {"ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS), "ANSIBLE_LOCAL_TEMP": str(REPO / ".build" / "ansible-tmp"),
               "ANSIBLE_NOCOLOR": "1"}
        env.update(plesk.env)
        # runner starts ansible-playbook from PATH: the venv's, with the Plesk double's `plesk` first.
        env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), plesk.env["PATH"]])
        extra = dict(plesk_vars(named, plesk), mailauth_drift_report_dir=str(report_dir), **extravars)
        private_data_dir = tmp_path / ("runner-%d" % len(runs))
        private_data_dir.mkdir()
        runner = ansible_runner.run(private_data_dir=str(private_data_dir),
                                    playbook=str(REPO / "playbooks" / "drift.yml"), inventory=inventory,
                                    extravars=extra, envvars=env, quiet=True, cmdline=cmdline)
        result = Drift(runner, report_dir)
        assert named.key_secret not in result.stdout and named.key_secret not in result.text
        assert named.key_secret not in json.dumps(result.report)
        return result

    return run


def test_drift_reports_a_changed_plesk_setting_remediation_fixes_it_and_the_next_run_is_clean(
        run_playbook, named, plesk, drift):
    converge(run_playbook, named, plesk)
    clean = drift()
    assert clean.runner.rc == 0, clean.stdout
    assert (clean.stats["ok"], clean.stats["total"], clean.stats["hosts"]) == (True, 0, {"localhost": 0})

    plesk.plesk("bin", "mailserver", "--set-spf-behavior", "3")  # an admin picks "reject mail on SPF fail"
    plesk.calls()

    found = drift()
    assert found.runner.rc != 0 and found.runner.status == "failed"
    assert found.stats["items"] == [SPF_DRIFT]
    assert (found.stats["ok"], found.stats["total"], found.stats["hosts"]) == (False, 1, {"localhost": 1})
    assert found.stats["drifted_hosts"] == ["localhost"] and found.stats["failed_hosts"] == []
    assert found.report["drift"] == [SPF_DRIFT] and found.report["summary"]["grid"] == {"localhost": {"plesk_settings": 1}}
    assert found.text.splitlines()[0] == "drift: 1 item on 1 of 1 host"
    assert "drift: 1 item on 1 of 1 host" in found.stdout  # the failing assert says so
    assert plesk.changing_calls() == [] and plesk.mail_settings()["spf_behavior"] == "3"

    fixed = drift(mailauth_remediate=True)
    assert fixed.runner.rc == 0, fixed.stdout
    assert (fixed.stats["ok"], fixed.stats["total"], fixed.stats["fixed"]) == (True, 1, 1)
    assert fixed.report["fixed"] == [SPF_DRIFT] and fixed.stats["fixed_hosts"] == ["localhost"]
    assert fixed.text.splitlines()[0] == "drift: 1 item on 1 of 1 host; fixed 1 item on 1 host"
    assert plesk.mail_settings()["spf_behavior"] == "1"

    again = drift()
    assert again.runner.rc == 0, again.stdout
    assert (again.stats["ok"], again.stats["total"], again.report["drift"]) == (True, 0, [])


def test_drift_of_records_at_the_dns_is_one_item_per_name(run_playbook, named, plesk, drift):
    converge(run_playbook, named, plesk)
    replace_txt(named, "default._domainkey", "v=DKIM1; k=rsa; p=AAAA")  # published by the plesk role
    replace_txt(named, "@", "v=spf1 a -all")  # published once per domain by the controller

    found = drift()
    assert found.runner.rc != 0
    spf, dkim = found.stats["items"]
    assert (spf["component"], spf["setting"], spf["actual"], spf["expected"]) == (
        "dns_publish", ZONE + ". TXT", ["v=spf1 a -all"], ["v=spf1 mx -all"])
    assert (dkim["component"], dkim["setting"], dkim["actual"]) == (
        "plesk_dns", "default._domainkey.%s. TXT" % ZONE, ["v=DKIM1; k=rsa; p=AAAA"])
    assert dkim["expected"][0].startswith("v=DKIM1; k=rsa; p=MII")

    fixed = drift(mailauth_remediate=True)
    assert fixed.runner.rc == 0, fixed.stdout
    assert fixed.report["fixed"] == [spf, dkim]
    assert drift().stats["total"] == 0


def test_remediation_is_refused_in_a_check_run(run_playbook, named, plesk, drift):
    converge(run_playbook, named, plesk)
    plesk.plesk("bin", "mailserver", "--set-spf-behavior", "3")
    plesk.calls()
    refused = drift(cmdline="--check", mailauth_remediate=True)
    assert refused.runner.rc != 0 and refused.stats is None
    assert "mailauth_remediate=true changes hosts" in refused.stdout
    assert plesk.changing_calls() == []


def test_a_check_run_still_writes_the_report(run_playbook, named, plesk, drift):
    converge(run_playbook, named, plesk)
    plesk.plesk("bin", "mailserver", "--set-spf-behavior", "3")
    found = drift(cmdline="--check")
    assert found.runner.rc != 0 and found.stats["items"] == [SPF_DRIFT] and found.report["drift"] == [SPF_DRIFT]
