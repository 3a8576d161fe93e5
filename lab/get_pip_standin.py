"""Stand-in for ansible-test's get-pip.py bootstrap script.

ansible-test sanity downloads get-pip.py from a host this build machine cannot
reach. This script does the same job from what is reachable: ensurepip puts a
pip into the fresh venv, then that pip installs the requested packages (the
pinned pip version) from the package index.
"""
import ensurepip
import os
import subprocess
import sys

ensurepip.bootstrap()
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
# ansible-test runs this with a trimmed environment: name the machine's CA bundle.
ca_bundle = "/etc/ssl/certs/ca-certificates.crt"
if os.path.exists(ca_bundle):
    args = ["--cert", ca_bundle] + args
subprocess.check_call([sys.executable, "-m", "pip", "install"] + args)
