"""dmarc_reports over IMAP against a real Dovecot (Debian's dovecot-imapd) on loopback, with TLS.

The reports mailbox is a Maildir holding the corpus's report mails (one of them twice); the module
reads it over IMAPS and over STARTTLS, read only: afterwards no message is marked seen.
"""
import datetime
import imaplib
import json
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

CORPUS = Path(__file__).resolve().parents[1] / "dmarc_corpus" / "good"
USER, PASSWORD = "aggregate", "imap-Passw0rd-not-shown"
MAILS = ["google-rua.eml", "microsoft-rua.eml", "mimecast-rua.eml", "tls-google.eml", "google-rua.eml"]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def self_signed(directory):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    (directory / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (directory / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                          serialization.NoEncryption()))
    (directory / "key.pem").chmod(0o600)


CONFIG = """
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{d}/cert.pem
ssl_key = <{d}/key.pem
disable_plaintext_auth = yes
auth_mechanisms = plain
first_valid_uid = 8
mail_location = maildir:{d}/home/%u/Maildir
default_internal_user = dovecot
default_login_user = dovenull
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {d}/passwd
}}
userdb {{
  driver = static
  args = uid=mail gid=mail home={d}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps}
    ssl = yes
  }}
}}
service stats {{
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""


@pytest.fixture(scope="module")
def dovecot():
    if not shutil.which("dovecot"):
        pytest.fail("dovecot is not installed: run `lab/lab.sh deps` (make test does), it installs dovecot-imapd")
    # Dovecot's own users (auth as dovecot, mail as mail) must reach the files: not under pytest's
    # temporary directory, which only root may enter.
    d = Path(tempfile.mkdtemp(prefix="mailauth-dovecot-"))
    d.chmod(0o755)
    try:
        yield from _serve(d)
    finally:
        shutil.rmtree(d)


def _serve(d):
    for sub in ("run", "state", "home"):
        (d / sub).mkdir()
    self_signed(d)
    (d / "passwd").write_text("%s:{PLAIN}%s\n" % (USER, PASSWORD))
    box = d / "home" / USER / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (box / sub).mkdir(parents=True)
    for number, name in enumerate(MAILS):
        shutil.copy(CORPUS / name, box / "new" / ("1764669%03d.M%dP1.localhost" % (number, number)))
    subprocess.run(["chown", "-R", "mail:mail", str(d / "home")], check=True)
    ports = {"imap": free_port(), "imaps": free_port()}
    (d / "dovecot.conf").write_text(CONFIG.format(d=d, **ports))
    proc = subprocess.Popen(["dovecot", "-F", "-c", str(d / "dovecot.conf")], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", ports["imaps"]), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    log = (d / "dovecot.log").read_text() if (d / "dovecot.log").exists() else ""
                    pytest.fail("dovecot did not start: %s %s" % (proc.stdout.read().decode(), log))
                time.sleep(0.1)
        yield dict(ports, ca_file=str(d / "cert.pem"), maildir=box)
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def task(**imap):
    settings = dict({"host": "localhost", "user": USER, "password": PASSWORD}, **imap)
    return """
- hosts: localhost
  gather_facts: false
  tasks:
    - mailauth.hardening.dmarc_reports:
        imap: %s
      register: found
""" % json.dumps(settings)


def results(data):
    return data["plays"][0]["tasks"][0]["hosts"]["localhost"]


def flags(dovecot):
    context = ssl.create_default_context(cafile=dovecot["ca_file"])
    conn = imaplib.IMAP4_SSL("localhost", dovecot["imaps"], ssl_context=context)
    conn.login(USER, PASSWORD)
    conn.select("INBOX", readonly=True)
    _status, data = conn.fetch("1:*", "(FLAGS)")
    conn.logout()
    return [item.decode() for item in data]


@pytest.mark.parametrize("mode, port", [("ssl", "imaps"), ("starttls", "imap")])
def test_reads_the_reports_mailbox_over_imap_read_only(run_playbook, dovecot, mode, port):
    code, data, out = run_playbook(task(port=dovecot[port], tls=mode, ca_file=dovecot["ca_file"]))
    assert code == 0, out
    result = results(data)
    assert sorted(r["org_name"] for r in result["reports"]) == ["Enterprise Outlook", "Mimecast", "google.com"]
    assert [r["org_name"] for r in result["tls_reports"]] == ["Google Inc."]
    assert result["unreadable"] == [] and result["changed"] is False
    assert PASSWORD not in out
    assert len(flags(dovecot)) == len(MAILS) and not any("\\Seen" in line for line in flags(dovecot))


def test_a_wrong_password_or_an_untrusted_certificate_fails_the_task(run_playbook, dovecot):
    code, data, out = run_playbook(task(port=dovecot["imaps"], ca_file=dovecot["ca_file"], password="wrong-pw"))
    assert code != 0 and "refused the login of aggregate" in results(data)["msg"] and "wrong-pw" not in out
    code, data, out = run_playbook(task(port=dovecot["imaps"]))
    assert code != 0 and "CERTIFICATE_VERIFY_FAILED" in results(data)["msg"]


def test_a_message_over_max_file_size_is_skipped_not_fetched(run_playbook, dovecot):
    book = task(port=dovecot["imaps"], ca_file=dovecot["ca_file"]).replace("      register", "        max_file_size: 2000\n      register")
    code, data, out = run_playbook(book)
    assert code == 0, out
    skipped = results(data)["unreadable"]
    assert skipped and all("over max_file_size (2000)" in s["problem"] and ";UID=" in s["path"] for s in skipped)
