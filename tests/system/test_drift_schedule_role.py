"""The drift_schedule role on this host into a scratch root (no timer is installed), then its run script.

The script runs for real - flock, timeout, pruning, sendmail, curl - against stand-ins for
ansible-playbook, sendmail and curl that record what they were given; the stand-in playbook writes
reports made by the real report code (_drift.build_report).
"""
import fcntl
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ansible_collections.mailauth.hardening.plugins.module_utils._drift import drift as _drift

WEBHOOK = "https://hooks.example.invalid/services/T000/B000/SECRETTOKEN"
ITEM = {"host": "mx1", "component": "plesk_settings", "setting": "spf_mode", "expected": "headers_only",
        "actual": "reject_fail"}

STUB_PLAYBOOK = """#!%(python)s
# Stand-in for ansible-playbook: records its arguments, writes the report of the mode asked for.
import json, os, sys
from pathlib import Path
args = sys.argv[1:]
stub = Path(os.environ["STUB_DIR"])
with open(stub / "calls", "a") as calls:
    calls.write(json.dumps({"args": args, "cwd": os.getcwd()}) + "\\n")
mode = (stub / "mode").read_text().strip()
if mode == "fail":
    print("ERROR! the inventory could not be parsed")
    sys.exit(4)
extra = {}
for index, arg in enumerate(args):
    if arg == "-e":
        extra.update(json.loads(args[index + 1]))
report = json.loads((stub / (mode + ".json")).read_text())
base = os.path.join(extra["mailauth_drift_report_dir"], extra["mailauth_drift_report_name"])
Path(base + ".json").write_text(json.dumps(report))
Path(base + ".txt").write_text(report["report_text"])
sys.exit(0 if report["ok"] else 2)
"""
STUB_SENDMAIL = """#!/bin/sh
# Stand-in for sendmail: keeps the message and its arguments.
n=$(ls "$STUB_DIR"/mail-* 2>/dev/null | wc -l)
{ echo "ARGS: $*"; cat; } > "$STUB_DIR/mail-$n"
"""
STUB_CURL = """#!/bin/sh
# Stand-in for curl: keeps its arguments, the config it read on stdin and the posted file.
n=$(ls "$STUB_DIR"/webhook-* 2>/dev/null | wc -l)
{ echo "ARGS: $*"; echo "CONFIG: $(cat)"; } > "$STUB_DIR/webhook-$n.args"
for arg in "$@"; do case "$arg" in @*) cp "${arg#@}" "$STUB_DIR/webhook-$n.json";; esac; done
"""


def write_stub(path, text):
    path.write_text(text)
    path.chmod(0o755)
    return path


class Schedule(object):
    def __init__(self, root):
        self.root = root
        self.stub = root / "stub"
        self.stub.mkdir(parents=True)
        self.reports = root / "var" / "reports"
        self.script = root / "sbin" / "mailauth-drift"
        self.units = root / "units"
        self.units.mkdir()
        (root / "sbin").mkdir()
        self.cron_file = root / "cron.d" / "mailauth-drift"
        self.cron_file.parent.mkdir()
        self.lock = root / "drift.lock"
        self.config = root / "etc" / "mailauth-drift"
        for name, report in (("clean", _drift.build_report(["mx1", "mx2"], {"mx1": [], "mx2": []})),
                             ("drift", _drift.build_report(["mx1", "mx2"], {"mx1": [ITEM], "mx2": []})),
                             ("fixed", _drift.build_report(["mx1", "mx2"], {"mx1": [ITEM], "mx2": []},
                                                           {"mx1": [ITEM]}, remediate=True))):
            (self.stub / (name + ".json")).write_text(json.dumps(report))
        self.playbook = write_stub(self.stub / "ansible-playbook", STUB_PLAYBOOK % {"python": sys.executable})
        self.sendmail = write_stub(self.stub / "sendmail", STUB_SENDMAIL)
        self.curl = write_stub(self.stub / "curl", STUB_CURL)

    def role_vars(self, **extra):
        role_vars = {
            "mailauth_drift_schedule_inventory": "/srv/ansible/inventory.yml",
            "mailauth_drift_schedule_ansible_playbook": str(self.playbook),
            "mailauth_drift_schedule_options": ["--vault-password-file=/srv/ansible/vault pass"],
            "mailauth_drift_schedule_extra_vars": {"mailauth_hosts": "mailservers:!mx9"},
            "mailauth_drift_schedule_environment": {"STUB_DIR": str(self.stub), "ANSIBLE_CONFIG": "/srv/ansible/ansible.cfg"},
            "mailauth_drift_schedule_python": sys.executable,
            "mailauth_drift_schedule_activate": False, "mailauth_drift_schedule_install": False,
            "mailauth_drift_schedule_report_dir": str(self.reports), "mailauth_drift_schedule_keep": 2,
            "mailauth_drift_schedule_mail_to": ["postmaster@example.test", "ops@example.test"],
            "mailauth_drift_schedule_webhook_url": WEBHOOK,
            "mailauth_drift_schedule_sendmail": str(self.sendmail), "mailauth_drift_schedule_curl": str(self.curl),
            "mailauth_drift_schedule_script": str(self.script), "mailauth_drift_schedule_config_dir": str(self.config),
            "mailauth_drift_schedule_unit_dir": str(self.units), "mailauth_drift_schedule_cron_file": str(self.cron_file),
            "mailauth_drift_schedule_lock_file": str(self.lock),
        }
        role_vars.update(extra)
        return role_vars

    def play(self, **extra):
        play_vars = dict(self.role_vars(**extra), ansible_python_interpreter="{{ ansible_playbook_python }}")
        return json.dumps([{"hosts": "localhost", "gather_facts": False, "vars": play_vars,
                            "roles": ["mailauth.hardening.drift_schedule"]}])

    def run(self, mode):
        (self.stub / "mode").write_text(mode)
        return subprocess.run(["bash", str(self.script)], capture_output=True, text=True, check=False, timeout=120)

    def calls(self):
        path = self.stub / "calls"
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []

    def mails(self):
        return [p.read_text() for p in sorted(self.stub.glob("mail-*"))]

    def webhooks(self):
        return [(p.read_text(), json.loads(p.with_suffix("").with_suffix(".json").read_text()))
                for p in sorted(self.stub.glob("webhook-*.args"))]

    def runs(self):
        return sorted(set(p.name.rsplit(".", 1)[0] for p in self.reports.glob("drift-*")))


@pytest.fixture
def schedule(tmp_path):
    return Schedule(tmp_path / "root")


def test_systemd_units_script_and_secrets_are_written_once(schedule, run_playbook):
    rc, data, out = run_playbook(schedule.play(mailauth_drift_schedule_scheduler="systemd"), diff=True)
    assert rc == 0, out
    assert WEBHOOK not in out and "SECRETTOKEN" not in out

    service = (schedule.units / "mailauth-drift.service").read_text()
    assert "Type=oneshot" in service and "ExecStart=%s\n" % schedule.script in service
    assert "User=root" in service and "TimeoutStartSec=3720" in service
    timer = (schedule.units / "mailauth-drift.timer").read_text()
    for line in ("OnCalendar=*-*-* 04:30:00", "RandomizedDelaySec=15min", "Persistent=true",
                 "Unit=mailauth-drift.service", "WantedBy=timers.target"):
        assert line + "\n" in timer
    assert not schedule.cron_file.exists()

    env = schedule.config / "drift.env"
    assert env.stat().st_mode & 0o777 == 0o600 and WEBHOOK in env.read_text()
    assert WEBHOOK not in schedule.script.read_text()
    assert schedule.script.stat().st_mode & 0o777 == 0o755
    assert subprocess.run(["bash", "-n", str(schedule.script)], check=False).returncode == 0

    rc, data, out = run_playbook(schedule.play(mailauth_drift_schedule_scheduler="systemd"), diff=True)
    assert rc == 0 and data["stats"]["localhost"]["changed"] == 0, out


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze is not installed")
def test_systemd_accepts_the_units(schedule, run_playbook):
    rc, _data, out = run_playbook(schedule.play(mailauth_drift_schedule_scheduler="systemd"))
    assert rc == 0, out
    units = [str(schedule.units / name) for name in ("mailauth-drift.service", "mailauth-drift.timer")]
    proc = subprocess.run(["systemd-analyze", "verify"] + units, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr


def test_cron_entry_where_there_is_no_systemd(schedule, run_playbook):
    rc, _data, out = run_playbook(schedule.play(mailauth_drift_schedule_scheduler="cron",
                                                mailauth_drift_schedule_cron_time="15 */6 * * *"))
    assert rc == 0, out
    lines = schedule.cron_file.read_text().splitlines()
    assert 'MAILTO=""' in lines and "15 */6 * * * root %s" % schedule.script in lines
    assert not (schedule.units / "mailauth-drift.timer").exists()


def test_auto_picks_the_scheduler_this_host_runs(schedule, run_playbook):
    rc, _data, out = run_playbook(schedule.play())
    assert rc == 0, out
    has_systemd = Path("/run/systemd/system").is_dir()  # systemd's own test for "booted with systemd"
    assert (schedule.units / "mailauth-drift.timer").exists() == has_systemd
    assert schedule.cron_file.exists() != has_systemd


def test_bad_settings_fail_before_anything_is_written(schedule, run_playbook):
    rc, _data, out = run_playbook(schedule.play(mailauth_drift_schedule_webhook_url="ftp://x", mailauth_drift_schedule_keep=0))
    assert rc != 0 and "mailauth_drift_schedule_keep is at" in out
    assert not schedule.script.exists() and not schedule.config.exists()
    rc, _data, out = run_playbook(schedule.play(mailauth_drift_schedule_scheduler="anacron"))
    assert rc != 0 and "mailauth_drift_schedule_scheduler" in out


@pytest.fixture
def installed(schedule, run_playbook):
    rc, _data, out = run_playbook(schedule.play(mailauth_drift_schedule_scheduler="cron"))
    assert rc == 0, out
    return schedule


def test_a_clean_run_keeps_its_report_and_tells_nobody(installed):
    proc = installed.run("clean")
    assert proc.returncode == 0, proc.stderr
    [call] = installed.calls()
    args = call["args"]
    assert args[:3] == ["-i", "/srv/ansible/inventory.yml", "mailauth.hardening.drift"]
    assert "--vault-password-file=/srv/ansible/vault pass" in args
    extra = [json.loads(args[i + 1]) for i, a in enumerate(args) if a == "-e"]
    assert extra[0] == {"mailauth_hosts": "mailservers:!mx9", "mailauth_remediate": False,
                        "mailauth_drift_report_dir": str(installed.reports)}
    [run] = installed.runs()
    assert extra[1] == {"mailauth_drift_report_name": run}
    assert call["cwd"] == str(installed.config)
    assert json.loads((installed.reports / "latest.json").read_text())["text"] == "no drift on 2 hosts"
    assert installed.mails() == [] and installed.webhooks() == []


def test_drift_sends_the_mail_and_the_webhook_and_fails_the_run(installed):
    proc = installed.run("drift")
    assert proc.returncode == 2
    assert proc.stdout.strip().endswith(": drift: 1 item on 1 of 2 hosts")
    [mail] = installed.mails()
    headers, body = mail.split("\n\n", 1)
    assert "ARGS: -t -i" in headers and "To: postmaster@example.test, ops@example.test" in headers
    [subject] = [line for line in headers.splitlines() if line.startswith("Subject: ")]
    assert subject.startswith("Subject: mailauth drift on ") and subject.endswith(": drift: 1 item on 1 of 2 hosts")
    assert ["mx1", "plesk_settings", "spf_mode", "reject_fail", "->", "headers_only"] in [l.split() for l in body.splitlines()]
    [(args, posted)] = installed.webhooks()
    assert WEBHOOK not in args.split("CONFIG:")[0]  # never on curl's command line
    assert 'CONFIG: url = "%s"' % WEBHOOK in args and "--fail" in args
    assert posted["drift"] == [ITEM] and posted["text"] == "drift: 1 item on 1 of 2 hosts"


def test_drift_fixed_by_remediation_is_still_told(installed):
    proc = installed.run("fixed")
    assert proc.returncode == 0
    [mail] = installed.mails()
    assert "drift: 1 item on 1 of 2 hosts; fixed 1 item on 1 host" in mail
    assert len(installed.webhooks()) == 1


def test_a_failed_run_without_report_sends_the_log(installed):
    proc = installed.run("fail")
    assert proc.returncode == 4
    [mail] = installed.mails()
    assert "drift run failed on" in mail and "(exit status 4)" in mail
    assert "ERROR! the inventory could not be parsed" in mail
    [(_args, posted)] = installed.webhooks()
    assert posted["ok"] is False and posted["exit_status"] == 4 and "drift run failed" in posted["text"]
    assert not list(installed.reports.glob("*.webhook.json"))


def test_only_the_newest_runs_are_kept(installed):
    for mode in ("drift", "clean", "fail", "clean"):
        installed.run(mode)
    runs = installed.runs()
    assert len(installed.calls()) == 4 and len(runs) == 2
    newest = runs[-1]
    assert sorted(p.name for p in installed.reports.glob(newest + ".*")) == [newest + ".json", newest + ".log", newest + ".txt"]
    assert (installed.reports / "latest.json").resolve().name == newest + ".json"


def test_a_run_while_another_holds_the_lock_is_skipped(installed):
    with open(installed.lock, "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        proc = installed.run("drift")
    assert proc.returncode == 0 and "another run holds" in proc.stderr
    assert installed.calls() == [] and installed.mails() == []
    assert installed.run("clean").returncode == 0 and len(installed.calls()) == 1


@pytest.mark.skipif(not shutil.which("shellcheck"), reason="shellcheck is not installed")
def test_shellcheck_finds_nothing_in_the_script(installed):
    proc = subprocess.run(["shellcheck", str(installed.script)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout
