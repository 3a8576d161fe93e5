"""The benchmarks' own venv, .build/bench-venv: the controller requirements plus
requirements/benchmarks.txt (Mitogen), pinned by requirements/constraints.txt, so that
the controller venv (.venv) never carries a benchmark-only package.

    python3 benchmarks/bench_venv.py        # create or update it; prints its path

It is rebuilt only when one of the three requirement files changes (a stamp holds their hash).
"""
import hashlib
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VENV = REPO / ".build" / "bench-venv"
REQUIREMENTS = [REPO / "requirements" / name for name in ("controller.in", "benchmarks.txt", "constraints.txt")]
PIP_VERSION = "26.3"  # the Makefile's pin for .venv


def requirements_hash():
    digest = hashlib.sha256()
    for path in REQUIREMENTS:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def ensure_bench_venv(quiet=False):
    """Return the venv's bin directory, installing the venv first when it is missing or stale."""
    stamp = VENV / ".installed"
    wanted = requirements_hash()
    if stamp.exists() and stamp.read_text().strip() == wanted:
        return VENV / "bin"
    if not quiet:
        print("installing %s (controller requirements + requirements/benchmarks.txt, about a minute)" % VENV,
              file=sys.stderr)
    pip = [str(VENV / "bin" / "pip"), "install", "-q"]
    if not (VENV / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    subprocess.run(pip + ["pip==" + PIP_VERSION], check=True)
    subprocess.run(pip + ["-r", str(REQUIREMENTS[0]), "-r", str(REQUIREMENTS[1]), "-c", str(REQUIREMENTS[2])], check=True)
    stamp.write_text(wanted + "\n")
    return VENV / "bin"


if __name__ == "__main__":
    print(ensure_bench_venv().parent)
