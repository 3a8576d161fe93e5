"""dkim_signer_check against the real signers on loopback: dkimpy-milter (RSA + Ed25519) and OpenDKIM.

Also pins why OpenDKIM alone cannot dual-sign: with a KeyTable its one SignatureAlgorithm applies to
every key, and an Ed25519 key under the default rsa-sha256 fails every message.
"""
import json
import shutil
import socket
import subprocess
import sys
import textwrap
import time

import pytest

from ansible_collections.mailauth.hardening.plugins.module_utils._dkim import keys as _dkim_keys
from ansible_collections.mailauth.hardening.plugins.module_utils._records.dkim_record import build_dkim_record, public_key_b64

DOMAIN = "example.test"
PLAY = """\
- hosts: localhost
  gather_facts: false
  vars:
    ansible_python_interpreter: {python}
  tasks:
    - mailauth.hardening.dkim_signer_check: {args}
"""


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def keys(tmp_path):
    """An RSA and an Ed25519 key: PEM files, the dkimpy seed of the Ed25519 one, their records."""
    directory = tmp_path / "keys"
    directory.mkdir(mode=0o700)
    made = {}
    for selector, key_type in (("s1", "rsa"), ("e1", "ed25519")):
        key = _dkim_keys.generate_private_key(key_type, 2048)
        (directory / ("%s.private" % selector)).write_bytes(_dkim_keys.private_key_pem(key))
        (directory / ("%s.dkimpy" % selector)).write_bytes(_dkim_keys.dkimpy_private_key(key))
        made[selector] = {"domain": DOMAIN, "selector": selector, "type": key_type,
                          "path": str(directory / ("%s.private" % selector)),
                          "record": build_dkim_record(key_type, public_key_b64(key))}
    for path in directory.iterdir():
        path.chmod(0o600)
    return made


@pytest.fixture
def daemon(tmp_path):
    """Start a milter (argv, its pid file); stopped by its pid file at the end."""
    started = []

    def start(argv, pid_file, port):
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        started.append((proc, pid_file))
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    return
            time.sleep(0.2)
        pytest.fail("%s does not listen on %d" % (argv[0], port))

    yield start
    for proc, pid_file in started:
        pid = int(pid_file.read_text()) if pid_file.exists() else proc.pid
        subprocess.run(["kill", str(pid)], check=False)
        proc.wait(10)


def dkimpy_milter(tmp_path, daemon, keys, ed25519=True):
    port = free_port()
    (tmp_path / "KeyTable").write_text("%s %s:s1:%s\n" % (DOMAIN, DOMAIN, keys["s1"]["path"]))
    seed = keys["e1"]["path"].replace(".private", ".dkimpy") if ed25519 else "/dev/null"
    (tmp_path / "KeyTableEd25519").write_text("%s %s:e1:%s\n" % (DOMAIN, DOMAIN, seed))
    (tmp_path / "SigningTable").write_text("*@%s %s\n" % (DOMAIN, DOMAIN))
    conf = tmp_path / "dkimpy-milter.conf"
    conf.write_text(textwrap.dedent("""\
        Syslog no
        Socket inet:{port}@127.0.0.1
        UserID root
        Mode sv
        MacroListVerify daemon_name|VERIFYING
        KeyTable {d}/KeyTable
        KeyTableEd25519 {d}/KeyTableEd25519
        SigningTable refile:{d}/SigningTable
        """).format(port=port, d=tmp_path))
    pid = tmp_path / "dkimpy.pid"
    daemon(["dkimpy-milter", str(conf), "-P", str(pid)], pid, port)
    return "inet:127.0.0.1:%d" % port


def opendkim(tmp_path, daemon, key, algorithm=None):
    port = free_port()
    (tmp_path / "od-KeyTable").write_text("%s._domainkey.%s %s:%s:%s\n" % (key["selector"], DOMAIN, DOMAIN,
                                                                           key["selector"], key["path"]))
    (tmp_path / "od-SigningTable").write_text("*@%s %s._domainkey.%s\n" % (DOMAIN, key["selector"], DOMAIN))
    pid = tmp_path / "opendkim.pid"
    conf = tmp_path / "opendkim.conf"
    conf.write_text(textwrap.dedent("""\
        Syslog no
        Socket inet:{port}@127.0.0.1
        PidFile {pid}
        Mode sv
        Background no
        InternalHosts 127.0.0.1
        KeyTable file:{d}/od-KeyTable
        SigningTable refile:{d}/od-SigningTable
        # pytest's temp dirs sit under /tmp, which OpenDKIM's path check always refuses.
        RequireSafeKeys no
        """).format(port=port, pid=pid, d=tmp_path) + ("SignatureAlgorithm %s\n" % algorithm if algorithm else ""))
    daemon(["opendkim", "-x", str(conf), "-f"], pid, port)
    return "inet:127.0.0.1:%d" % port


@pytest.fixture
def check(run_playbook):
    def run(**args):
        rc, data, out = run_playbook(PLAY.format(python=sys.executable, args=json.dumps(args)))
        return rc, data["plays"][0]["tasks"][0]["hosts"]["localhost"] if data else None, out
    return run


needs = pytest.mark.skipif(not (shutil.which("dkimpy-milter") and shutil.which("opendkim")),
                           reason="apt-get install dkimpy-milter opendkim (lab/lab.sh deps)")


@needs
def test_dkimpy_milter_signs_with_both_keys_and_both_verify(tmp_path, daemon, keys, check):
    milter = dkimpy_milter(tmp_path, daemon, keys)
    rc, result, out = check(milter=milter, keys=[keys["s1"], dict(keys["e1"], path=None)],
                            connect_macros={"{daemon_name}": "mailauth-check"})
    assert rc == 0, out
    assert sorted((s["algorithm"], s["verified"]) for s in result["signatures"][DOMAIN]) == [
        ("ed25519-sha256", True), ("rsa-sha256", True)]
    for line in open(keys["e1"]["path"].replace(".private", ".dkimpy")).read().split():
        assert line not in out


@needs
def test_a_missing_signature_and_inbound_marked_mail_fail_the_check(tmp_path, daemon, keys, check):
    milter = dkimpy_milter(tmp_path, daemon, keys, ed25519=False)
    rc, result, out = check(milter=milter, keys=[keys["s1"], keys["e1"]])
    assert rc != 0 and "no ed25519-sha256 signature with selector e1" in result["msg"], out
    # dkimpy-milter verifies, and does not sign, what the smtpd for mail from outside marks.
    rc, result, out = check(milter=milter, keys=[keys["s1"]], connect_macros={"{daemon_name}": "VERIFYING"})
    assert rc != 0 and "no rsa-sha256 signature with selector s1" in result["msg"], out


@needs
def test_opendkim_signs_rsa_and_fails_every_message_on_an_ed25519_key_under_its_algorithm(tmp_path, daemon, keys, check):
    rc, result, out = check(milter=opendkim(tmp_path, daemon, keys["s1"]), keys=[keys["s1"]])
    assert rc == 0 and result["signatures"][DOMAIN][0]["verified"], out
    second = tmp_path / "second"
    second.mkdir()
    rc, result, out = check(milter=opendkim(second, daemon, keys["e1"]), keys=[keys["e1"]])
    assert rc != 0 and ("tempfail" in result["msg"] or "451" in result["msg"]), out


def test_an_unreachable_milter_fails_closed(check, keys):
    rc, result, out = check(milter="inet:127.0.0.1:%d" % free_port(), keys=[keys["s1"]], timeout=1)
    assert rc != 0 and "cannot connect to the milter" in result["msg"], out
