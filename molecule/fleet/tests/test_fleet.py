"""Verify the fleet: the drift playbook reports exactly the hand-made drift, fixes it, then sees none.

Runs on the controller after the side_effect step (side_effect.yml) changed, by hand:
fleet-mx2's postscreen_dnsbl_threshold, fleet-mx5's KeyTable line, fleet-mx5's DKIM record.
The steps depend on each other and run in file order.
"""
import json
import os
import subprocess
from pathlib import Path

import pytest

PROJECT = Path(os.environ.get("MOLECULE_PROJECT_DIRECTORY", Path(__file__).resolve().parents[3]))
EPHEMERAL = Path(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/nonexistent"))
INVENTORY = Path(os.environ.get("MOLECULE_INVENTORY_FILE", "/nonexistent")).parent


def drift(*extra):
    """Run the drift playbook on the fleet; (exit code, report)."""
    report_dir = EPHEMERAL / "drift"
    # Under Mitogen (mitogen_linear turns the podman connection into mitogen_podman): three drift runs
    # over eight hosts take a third of the stock strategy's time (benchmarks/fleet_harden.md). The
    # converge stays on the stock strategy: molecule's create step hangs under Mitogen.
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(PROJECT / ".build" / "collections"), ANSIBLE_FORKS="8",
               ANSIBLE_STRATEGY="mitogen_linear", ANSIBLE_STRATEGY_PLUGINS=str(PROJECT / ".build" / "mitogen-strategy"))
    run = subprocess.run(
        [str(Path(os.sys.executable).parent / "ansible-playbook"), "-i", str(INVENTORY),
         str(PROJECT / "playbooks" / "drift.yml"), "-e", "mailauth_drift_report_dir=%s" % report_dir, *extra],
        env=env, capture_output=True, text=True, check=False)
    path = report_dir / "drift.json"
    if not path.exists():
        pytest.fail("no drift report; output:\n%s\n%s" % (run.stdout[-6000:], run.stderr[-3000:]))
    return run.returncode, json.loads(path.read_text()), run.stdout


def found(report, key="drift"):
    return sorted((item["host"], item["component"], item["setting"]) for item in report[key])


def test_drift_reports_exactly_the_hand_made_changes():
    code, report, output = drift()
    assert code != 0, output[-3000:]
    items = report["drift"]
    by_host = {}
    for item in items:
        by_host.setdefault(item["host"], []).append(item)
    assert not report["summary"]["failed_hosts"], report["summary"]
    settings = found(report)
    # The main.cf parameter, with what it is and what it should be.
    threshold = [i for i in items if i["setting"] == "postscreen_dnsbl_threshold"]
    assert [(i["host"], i["actual"], i["expected"]) for i in threshold] == [("fleet-mx2", "5", "3")], settings
    # The KeyTable line of fleet-mx5.
    keytable = [i for i in items if i["host"] == "fleet-mx5" and "KeyTable" in i["setting"]]
    assert len(keytable) == 1 and "fleet-mx5._domainkey.fleet.test" in str(keytable[0]["expected"]), settings
    # The DKIM record in the DNS.
    record = [i for i in items if "fleet-mx5._domainkey" in i["setting"] and i not in keytable]
    assert len(record) == 1 and "k=ed25519" in str(record[0]["actual"]), settings
    # And nothing else.
    assert len(items) == 3, settings


def test_remediation_fixes_the_drifted_hosts_only():
    code, report, output = drift("-e", "mailauth_remediate=true")
    assert code == 0, output[-3000:]
    assert report["summary"]["fixed_hosts"] == report["summary"]["drifted_hosts"], report["summary"]
    assert {item["host"] for item in report["fixed"]} <= {"fleet-mx2", "fleet-mx5"}, found(report, "fixed")
    assert found(report, "fixed"), report


def test_next_drift_run_is_clean():
    code, report, output = drift()
    assert code == 0 and report["drift"] == [], found(report) or output[-3000:]
