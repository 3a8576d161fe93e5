"""`lab/lab.sh doctor` names each broken prerequisite in one line with its fix, within seconds.

Each case puts a stand-in for one host command first on PATH (dpkg-query, podman or ip) that
reports the broken state; everything else is the machine's own. The real removal of aardvark-dns
is rehearsed by lab/fresh-machine.sh.
"""
import os
import subprocess
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# dpkg-query: every package installed except the one named in $MISSING.
DPKG_QUERY = """#!/bin/sh
for last; do :; done
[ "$last" = "$MISSING" ] && exit 1
printf 'install ok installed'
"""
# podman info answering with another runtime or network backend; anything else goes to podman.
PODMAN = """#!/bin/sh
[ "$1" = info ] && { echo "$PODMAN_INFO"; exit 0; }
exec /usr/bin/podman "$@"
"""
# ip: the old CNI bridge is still there.
IP = """#!/bin/sh
[ "$3" = cni-podman0 ] && exit 0
exec /usr/sbin/ip "$@"
"""


def stub(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    path.chmod(0o755)


def doctor(tmp_path, **env):
    environment = dict(os.environ, PATH="%s:%s" % (tmp_path, os.environ["PATH"]), **env)
    start = time.monotonic()
    proc = subprocess.run([str(REPO / "lab" / "lab.sh"), "doctor"], capture_output=True, text=True,
                          env=environment, timeout=60, check=False)
    return proc.returncode, proc.stderr, time.monotonic() - start


@pytest.mark.parametrize("stand_in, env, cause, fix", [
    (("dpkg-query", DPKG_QUERY), {"MISSING": "aardvark-dns"},
     "missing Debian packages: aardvark-dns", "fix: lab/lab.sh deps"),
    (("dpkg-query", DPKG_QUERY), {"MISSING": "netavark"},
     "missing Debian packages: netavark", "fix: lab/lab.sh deps"),
    (("podman", PODMAN), {"MISSING": "", "PODMAN_INFO": "runc cni"},
     "network backend is 'cni', not netavark", "apt-get install netavark aardvark-dns"),
    (("podman", PODMAN), {"MISSING": "", "PODMAN_INFO": "crun netavark"},
     "runtime is 'crun'", 'runtime = "runc"'),
    (("ip", IP), {"MISSING": ""},
     "cni-podman0 (10.88.0.1/16) is still up", "fix: ip link delete cni-podman0"),
])
def test_doctor_names_the_cause_and_the_fix(tmp_path, stand_in, env, cause, fix):
    if stand_in[0] != "dpkg-query":
        stub(tmp_path, "dpkg-query", DPKG_QUERY)
    stub(tmp_path, *stand_in)
    rc, err, seconds = doctor(tmp_path, **env)
    assert rc == 1, err
    lines = [line for line in err.splitlines() if "doctor:" in line or "fix:" in line]
    assert len(lines) == 2 and cause in lines[0] and fix in lines[1], err
    assert seconds < 30
