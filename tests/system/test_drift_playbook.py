"""playbooks/drift.yml through ansible-runner (as AWX runs it), on this host as a Plesk server (the test double).

Converge with the plesk role, change a setting behind its back through Plesk's CLI, and read the
drift from the set_stats data of runner's playbook_on_stats event: exactly that setting; then
remediation fixes it and the next drift run is clean.
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
from dns_servers import run_named, zone_text
# plesk_double is a fixture: importing it is using it.
from plesk_double_env import plesk_double  # noqa: F401 pylint: disable=unused-import

REPO = Path(__file__).resolve().parents[2]
COLLECTIONS = REPO / ".build" / "collections"
ZONE = "example.test"
SPF_DRIFT = {"host": "localhost", "component": "plesk_settings", "setting": "spf_mode",
             "expected": "headers_only", "actual": "reject_fail"}


@pytest.fixture
def named(tmp_path):
    with run_named({ZONE: zone_text(ZONE)}, directory=tmp_path / "named") as server:
        yield server


@pytest.fixture
def plesk(plesk_double):
    plesk_double.admin("add-domain", ZONE, "--external-dns")
    return plesk_double


def plesk_vars(named, plesk):
    # The zone's NS record points at port 53, where this BIND does not listen: no propagation wait.
    return {"mailauth_domains": [{"name": ZONE, "dns": {"provider": "rfc2136", "server": named.address,
                                                        "key_name": named.key_name, "zone": ZONE,
                                                        "credentials": "test"}}],
            "mailauth_dns_secrets": {"test": {"key_secret": named.key_secret}},
            "mailauth_plesk_dkim_keys_dir": str(plesk.keys_dir), "mailauth_dns_wait": False}


def converge(run_playbook, named, plesk):
    play_vars = dict(plesk_vars(named, plesk), ansible_python_interpreter="{{ ansible_playbook_python }}")
    rc, _data, out = run_playbook(json.dumps([{"hosts": "localhost", "gather_facts": False, "vars": play_vars,
                                               "roles": ["mailauth.hardening.plesk"]}]), extra_env=plesk.env)
    assert rc == 0, out


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
        extra = dict(plesk_vars(named, plesk), mailauth_drift_role="mailauth.hardening.plesk",
                     mailauth_drift_report_dir=str(report_dir), **extravars)
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


def test_drift_of_the_published_dkim_record_is_one_item_per_name(run_playbook, named, plesk, drift):
    converge(run_playbook, named, plesk)
    name = "default._domainkey.%s." % ZONE
    update = dns.update.UpdateMessage(ZONE, keyring=dns.tsigkeyring.from_text({named.key_name: named.key_secret}),
                                      keyalgorithm="hmac-sha256")
    update.replace("default._domainkey", 60, "TXT", '"v=DKIM1; k=rsa; p=AAAA"')
    dns.query.tcp(update, named.host, port=named.port, timeout=5)

    found = drift()
    assert found.runner.rc != 0
    [item] = found.stats["items"]
    assert (item["component"], item["setting"], item["actual"]) == ("plesk_dns", name + " TXT", ["v=DKIM1; k=rsa; p=AAAA"])
    assert item["expected"][0].startswith("v=DKIM1; k=rsa; p=MII")

    fixed = drift(mailauth_remediate=True)
    assert fixed.runner.rc == 0, fixed.stdout
    assert fixed.report["fixed"] == [dict(item)]
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
