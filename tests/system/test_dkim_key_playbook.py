"""dkim_key through ansible-playbook on localhost, and OpenDKIM signing with the key it writes.

(Not test_dkim_key.py: pytest imports test files by basename, and tests/unit/plugins/modules has that one.)
"""
import os
import re
import shutil
import stat
import subprocess
import sys
import textwrap

import dkim
import pytest

from ansible_collections.mailauth.hardening.plugins.module_utils._records.txt import join_txt

PLAY = """\
- name: DKIM key
  hosts: localhost
  gather_facts: false
  vars:
    ansible_python_interpreter: {python}
  tasks:
    - name: Ensure the key
      mailauth.hardening.dkim_key:
{args}
"""


@pytest.fixture
def keydir(tmp_path):
    directory = tmp_path / "keys"
    directory.mkdir(mode=0o700)
    return directory


@pytest.fixture
def dkim_key(run_playbook):
    """Run the module once with these options; return (rc, task result or None, raw output)."""
    def call(*extra, check=False, diff=False, **options):
        options.setdefault("selector", "s1")
        options.setdefault("domain", "example.com")
        args = textwrap.indent("\n".join("%s: %s" % (k, v) for k, v in options.items()), " " * 8)
        rc, data, output = run_playbook(PLAY.format(python=sys.executable, args=args), *extra,
                                        check=check, diff=diff)
        result = data["plays"][0]["tasks"][0]["hosts"]["localhost"] if data else None
        return rc, result, output
    return call


def pem_lines(path):
    """The base64 lines of a PEM file: none of them may appear in any output."""
    return [line for line in path.read_text().splitlines() if line and not line.startswith("-----")]


def test_first_run_changes_second_does_not(dkim_key, keydir):
    path = keydir / "s1.key"
    rc, first, output = dkim_key(path=path)
    assert rc == 0, output
    assert first["changed"] and first["record"].startswith("v=DKIM1; k=rsa; p=")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    rc, second, output = dkim_key(path=path)
    assert rc == 0, output
    assert not second["changed"] and second["record"] == first["record"]
    assert "".join(second["record_strings"]) == second["record"]


def test_check_mode_changes_nothing(dkim_key, keydir):
    path = keydir / "s1.key"
    rc, result, output = dkim_key(path=path, check=True)
    assert rc == 0, output
    assert result["changed"] and "record" not in result
    assert not path.exists()
    dkim_key(path=path)
    before = path.read_bytes()
    os.chmod(str(path), 0o640)
    rc, result, output = dkim_key(path=path, check=True)
    assert rc == 0 and result["changed"] and result["record"].startswith("v=DKIM1;")
    assert path.read_bytes() == before and stat.S_IMODE(path.stat().st_mode) == 0o640


def test_diff_shows_the_record_never_the_key(dkim_key, keydir):
    path = keydir / "s1.key"
    rc, result, output = dkim_key(path=path, diff=True)
    assert rc == 0, output
    assert result["record"] in output and result["diff"]["after"]["record"] == result["record"]
    rc, again, verbose = dkim_key("-vvv", path=path, diff=True, type="ed25519", regenerate="on_mismatch")
    assert rc == 0 and "k=ed25519" in verbose
    for line in pem_lines(path):
        assert line not in verbose
    assert "PRIVATE KEY" not in output + verbose


def test_on_mismatch_replaces_a_key_of_another_type(dkim_key, keydir):
    path = keydir / "s1.key"
    _rc, rsa_result, _output = dkim_key(path=path)
    rc, kept, output = dkim_key(path=path, type="ed25519")
    assert rc == 0 and not kept["changed"] and kept["record"] == rsa_result["record"]
    assert "regenerate is never" in output
    rc, replaced, output = dkim_key(path=path, type="ed25519", regenerate="on_mismatch")
    assert rc == 0 and replaced["changed"] and replaced["key_type"] == "ed25519"
    assert path.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    rc, again, output = dkim_key(path=path, type="ed25519", regenerate="on_mismatch")
    assert rc == 0 and not again["changed"] and again["record"] == replaced["record"]


@pytest.mark.parametrize("dir_mode", [0o770, 0o777])
def test_writable_directory_is_refused_naming_path(dkim_key, keydir, dir_mode):
    os.chmod(str(keydir), dir_mode)
    rc, result, output = dkim_key(path=keydir / "s1.key")
    assert rc != 0 and result["failed"]
    assert result["msg"].startswith("path: ") and str(keydir) in result["msg"]
    assert os.listdir(str(keydir)) == []


def test_bad_selector_is_refused_before_the_file_exists(dkim_key, keydir):
    rc, result, output = dkim_key(path=keydir / "s1.key", selector="bad_selector")
    assert rc != 0 and result["msg"].startswith("selector: ")
    assert not (keydir / "s1.key").exists()


# --- OpenDKIM 2.11 signs with the file; dkimpy verifies against the module's record -------

MESSAGE = ("From: Alice <alice@example.com>\nTo: bob@example.net\nSubject: hello\n"
           "Date: Mon, 01 Jan 2024 00:00:00 +0000\nMessage-ID: <1@example.com>\n\nHello, Bob.\n")


def opendkim_sign(workdir, key_path, algorithm):
    """Sign MESSAGE with `opendkim -t` (its test mode: no daemon, no socket); return the header value."""
    conf = workdir / ("opendkim-%s.conf" % algorithm)
    conf.write_text(textwrap.dedent("""\
        Domain example.com
        Selector s1
        KeyFile {key}
        Mode s
        SignatureAlgorithm {algorithm}
        Canonicalization relaxed/relaxed
        Syslog no
        # pytest's temp dirs sit under /tmp, which OpenDKIM's path check always refuses.
        RequireSafeKeys no
        """).format(key=key_path, algorithm=algorithm))
    message = workdir / "message.eml"
    message.write_text(MESSAGE)
    proc = subprocess.run(["opendkim", "-x", str(conf), "-t", str(message)], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=60, check=False)
    # It prints the header it would add: "DKIM-Signature: ..." plus folded lines.
    found = re.search(r"^DKIM-Signature: (.*?\n(?:[ \t].*\n)*)", proc.stdout + proc.stderr, re.M)
    assert found, proc.stdout + proc.stderr
    return found.group(1).rstrip("\n")


@pytest.mark.skipif(not shutil.which("opendkim"), reason="opendkim is not installed (apt-get install opendkim)")
@pytest.mark.parametrize("key_type, algorithm", [("rsa", "rsa-sha256"), ("ed25519", "ed25519-sha256")])
def test_opendkim_signs_with_the_key_file(dkim_key, keydir, tmp_path, key_type, algorithm):
    path = keydir / "s1.key"
    rc, result, output = dkim_key(path=path, type=key_type)
    assert rc == 0, output
    header = opendkim_sign(tmp_path, path, algorithm)
    assert "a=%s;" % algorithm in header
    signed = ("DKIM-Signature: " + header + "\n" + MESSAGE).replace("\n", "\r\n").encode()

    def dnsfunc(name, timeout=5):
        assert name.rstrip(b".") == result["dns_name"].encode()
        return join_txt(result["record_strings"]).encode()

    assert dkim.verify(signed, dnsfunc=dnsfunc)
    assert not dkim.verify(signed.replace(b"Hello, Bob.", b"Hello, Eve."), dnsfunc=dnsfunc)
