"""Shared pytest set-up: import the collection under its FQCN and find the lab."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
COLLECTIONS = REPO / ".build" / "collections"
LINK = COLLECTIONS / "ansible_collections" / "mailauth" / "hardening"

# `ansible_collections.mailauth.hardening.plugins...` must import from the work tree.
if not LINK.exists():
    LINK.parent.mkdir(parents=True, exist_ok=True)
    LINK.symlink_to(REPO)
if str(COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS))


@pytest.fixture(scope="session")
def repo():
    return REPO


@pytest.fixture(scope="session")
def lab():
    """The running lab's facts (lab/lab.sh up writes them); fails when the lab is down."""
    path = REPO / ".lab" / "lab.json"
    if not path.exists():
        pytest.fail("the lab is not up: run `lab/lab.sh up` (make test does)")
    facts = json.loads(path.read_text())
    facts["tsig_secret"] = Path(facts["tsig_secret_file"]).read_text().strip()
    return facts


def ansible_env(**extra):
    """Environment for ansible-playbook runs against the work tree's collection."""
    env = dict(os.environ)
    env.update(
        ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS),
        ANSIBLE_LOCAL_TEMP=str(REPO / ".build" / "ansible-tmp"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json",
        ANSIBLE_LOAD_CALLBACK_PLUGINS="1",
        # Discovery would pick a pyenv shim here; run local modules with the venv's Python.
        ANSIBLE_PYTHON_INTERPRETER=sys.executable,
        CONTAINERS_CONF=str(REPO / "lab" / "containers.conf"),
    )
    env.update(extra)
    return env


@pytest.fixture(scope="session")
def ansible_environment():
    """ansible_env(), for tests that run Ansible (or podman) commands of their own."""
    return ansible_env()


def callback_json(stdout):
    """The json callback's document; with -v... Ansible's verbose lines come first on stdout."""
    start = 0 if stdout.startswith("{") else stdout.find("\n{\n") + 1
    try:
        return json.loads(stdout[start:]) if start or stdout.startswith("{") else None
    except ValueError:
        return None


@pytest.fixture
def run_playbook(tmp_path):
    """Run a playbook text on localhost; return (returncode, parsed json callback output, raw stdout)."""

    def run(playbook_text, *args, check=False, diff=False, extra_env=None):
        book = tmp_path / "play.yml"
        book.write_text(playbook_text)
        cmd = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(book)]
        cmd += ["--check"] if check else []
        cmd += ["--diff"] if diff else []
        cmd += list(args)
        proc = subprocess.run(cmd, capture_output=True, text=True, env=ansible_env(**(extra_env or {})), check=False)
        return proc.returncode, callback_json(proc.stdout), proc.stdout + proc.stderr

    return run
