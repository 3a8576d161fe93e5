"""The Plesk test double (tests/plesk_double) set up for a playbook run on this host.

`plesk` is first on PATH, its database and key root are in a temp dir, and every call is logged:

    from plesk_double_env import plesk_double   # noqa: F401 (fixture)
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

DOUBLE = Path(__file__).resolve().parent.parent / "plesk_double"
PLAY_HEAD = """- hosts: localhost
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
"""


class PleskDouble(object):
    def __init__(self, directory):
        self.directory = Path(directory)
        bindir = self.directory / "bin"
        bindir.mkdir(parents=True)
        (bindir / "plesk").symlink_to(DOUBLE / "plesk")
        self.root = self.directory / "root"
        self.keys_dir = self.root / "etc" / "domainkeys"
        self.log = self.directory / "calls.log"
        self.env = {"PATH": "%s%s%s" % (bindir, os.pathsep, os.environ.get("PATH", "")),
                    "PLESK_DOUBLE_DB": str(self.directory / "psa.sqlite3"),
                    "PLESK_DOUBLE_ROOT": str(self.root), "PLESK_DOUBLE_LOG": str(self.log)}

    def _run(self, tool, args):
        proc = subprocess.run([sys.executable, str(DOUBLE / tool)] + list(args), capture_output=True, text=True,
                              env=dict(os.environ, **self.env), check=False)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    def admin(self, *args):
        return self._run("plesk-double-admin", args)

    def plesk(self, *args):
        return self._run("plesk", args)

    def query(self, sql):
        return [line.split("\t") for line in self.plesk("db", "-Ne", sql).splitlines()]

    def mail_settings(self):
        """psa name -> value, from whichever table this database keeps them in."""
        tables = [row[0] for row in self.query("SELECT name FROM sqlite_master WHERE type = 'table'")]
        if "ServiceNodeConfiguration" in tables:
            return dict(self.query("SELECT name, value FROM ServiceNodeConfiguration WHERE section = 'mailServer'"))
        return dict(self.query("SELECT param, val FROM misc"))

    def calls(self):
        """Calls logged since the last call of this method."""
        if not self.log.exists():
            return []
        calls = [json.loads(line) for line in self.log.read_text().splitlines()]
        self.log.unlink()
        return calls

    def changing_calls(self):
        return [c for c in self.calls() if c[0] == "bin" and "--help" not in c and "--info" not in c]


@pytest.fixture
def plesk_double(tmp_path):
    return PleskDouble(tmp_path / "plesk")


def task_results(data, index=0):
    """Result of the index-th task of the first play on localhost."""
    return data["plays"][0]["tasks"][index]["hosts"]["localhost"]
