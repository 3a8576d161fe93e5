"""The execution environment definition: `ansible-builder create` makes the build context, the collection
installs from it as the image's galaxy stage does, and ansible-builder's introspection finds the
collection's Python and system requirements (meta/execution-environment.yml)."""
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def run(args, cwd):
    proc = subprocess.run([str(a) for a in args], cwd=str(cwd), capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


@pytest.mark.skipif(not (BIN / "ansible-builder").exists(), reason="ansible-builder is not installed")
def test_builder_context_installs_the_collection_and_finds_its_requirements(tmp_path):
    context = tmp_path / "context"
    run([BIN / "ansible-builder", "create", "-f", "ee/execution-environment.yml", "-c", context], REPO)
    containerfile = (context / "Containerfile").read_text()
    assert 'ANSIBLE_INSTALL_REFS="ansible-core==2.19.14 ansible-runner==2.4.3"' in containerfile
    assert "ansible-galaxy collection install" in containerfile

    # What the galaxy stage runs in /build, and what the builder stage then introspects.
    build = context / "_build"
    collections = tmp_path / "collections"
    # --force: under `make`, ANSIBLE_COLLECTIONS_PATH already holds the collection, and galaxy would skip it.
    run([BIN / "ansible-galaxy", "collection", "install", "--force", "-r", "requirements.yml",
         "--collections-path", collections], build)
    installed = collections / "ansible_collections" / "mailauth" / "hardening"
    assert (installed / "playbooks" / "drift.yml").exists() and (installed / "roles" / "drift_schedule").is_dir()
    assert not (installed / "tests").exists()
    found = yaml.safe_load(run([sys.executable, build / "scripts" / "introspect.py", "introspect",
                                "--user-pip=requirements.txt", collections], build))
    python = [line.split("#")[0].split(">=")[0].split("==")[0].strip() for line in found["python"]
              if "from collection mailauth.hardening" in line]
    assert python == ["dnspython", "cryptography", "dns-lexicon"]
    assert "dnspython==2.9.2  # from collection user" in found["python"]
    assert any(line.startswith("openssh-clients [platform:rpm]") for line in found["system"])
