"""Real mail servers for system tests, on loopback: Dovecot (IMAP, IMAPS) and a private Postfix instance.

Both serve one directory of Maildirs, ROOT/DOMAIN/USER/Maildir, owned by the ``mail`` user: Postfix
delivers into it (virtual(8)), Dovecot serves it. Each runs in the foreground or with its own
configuration directory and is stopped by what started it; nothing under /etc is touched.

    with mail_root() as root, run_dovecot(root, users) as imap, run_postfix(root, "reports.test", users) as smtp:
        ...
"""
import datetime
import shutil
import socket
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from dns_servers import free_port

STARTUP_SECONDS = 20

DOVECOT_CONFIG = """
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
mail_location = maildir:{root}/%d/%n/Maildir
default_internal_user = dovecot
default_login_user = dovenull
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {d}/passwd
}}
userdb {{
  driver = static
  args = uid=mail gid=mail home={root}/%d/%n
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

POSTFIX_MAIN = """
compatibility_level = 3.6
queue_directory = {d}/queue
data_directory = {d}/data
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = mx.{domain}
mydestination =
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
alias_maps =
alias_database =
virtual_mailbox_domains = {domain}
virtual_mailbox_base = {root}
virtual_mailbox_maps = texthash:{d}/mailboxes
virtual_uid_maps = static:8
virtual_minimum_uid = 8
virtual_gid_maps = static:8
maillog_file = {d}/maillog
maillog_file_prefixes = {d}
"""
POSTFIX_MASTER = """
127.0.0.1:{port} inet n - n - - smtpd
pickup unix n - n 60 1 pickup
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
verify unix - - n - 1 verify
proxymap unix - - n - - proxymap
showq unix n - n - - showq
error unix - - n - - error
retry unix - - n - - error
discard unix - - n - - discard
virtual unix - n n - - virtual
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
postlog unix-dgram n - n - 1 postlogd
"""


@contextmanager
def mail_root():
    """A directory Dovecot's and Postfix's own users can enter (pytest's temporary directories are root's only)."""
    root = Path(tempfile.mkdtemp(prefix="mailauth-mail-"))
    root.chmod(0o755)
    try:
        yield root
    finally:
        shutil.rmtree(root)


def _wait_for(port, proc, log):
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if (proc is not None and proc.poll() is not None) or time.monotonic() > deadline:
                pytest.fail("server did not start: %s" % (log.read_text() if log.exists() else "no log"))
            time.sleep(0.1)


def self_signed(directory, name="localhost"):
    """A self-signed certificate for ``name`` (cert.pem, key.pem); it is its own CA file."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    (directory / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (directory / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                          serialization.NoEncryption()))
    (directory / "key.pem").chmod(0o600)


def maildir(root, address):
    user, domain = address.split("@")
    box = root / domain / user / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (box / sub).mkdir(parents=True, exist_ok=True)
    subprocess.run(["chown", "-R", "mail:mail", str(root / domain)], check=True)
    return box


@contextmanager
def run_dovecot(root, users):
    """Dovecot on 127.0.0.1 (IMAP with STARTTLS, IMAPS) for ``users`` {address: password}."""
    if not shutil.which("dovecot"):
        pytest.fail("dovecot is not installed: run `lab/lab.sh deps` (make test does), it installs dovecot-imapd")
    d = root / ".dovecot"
    for sub in ("run", "state"):
        (d / sub).mkdir(parents=True)
    self_signed(d)
    (d / "passwd").write_text("".join("%s:{PLAIN}%s\n" % (user, password) for user, password in users.items()))
    for address in users:
        maildir(root, address)
    ports = {"imap": free_port(), "imaps": free_port()}
    (d / "dovecot.conf").write_text(DOVECOT_CONFIG.format(d=d, root=root, **ports))
    proc = subprocess.Popen(["dovecot", "-F", "-c", str(d / "dovecot.conf")], stdout=subprocess.DEVNULL,
                            stderr=subprocess.STDOUT)
    try:
        _wait_for(ports["imaps"], proc, d / "dovecot.log")
        yield dict(ports, ca_file=str(d / "cert.pem"), log=d / "dovecot.log")
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@contextmanager
def run_postfix(root, domain, addresses):
    """A private Postfix instance (its own config, queue and port) delivering ``addresses`` into their Maildirs."""
    d = root / ".postfix"
    for sub in ("queue", "data"):  # postfix-script makes the queue's subdirectories, not these
        (d / sub).mkdir(parents=True)
    shutil.chown(d / "data", "postfix", "postfix")
    port = free_port()
    (d / "main.cf").write_text(POSTFIX_MAIN.format(d=d, root=root, domain=domain))
    (d / "master.cf").write_text(POSTFIX_MASTER.format(port=port))
    (d / "mailboxes").write_text("".join("%s %s/%s/Maildir/\n" % (a, domain, a.split("@")[0]) for a in addresses))
    for address in addresses:
        maildir(root, address)
    subprocess.run(["postfix", "-c", str(d), "start"], check=True, capture_output=True)
    try:
        _wait_for(port, None, d / "maillog")
        yield {"port": port, "log": d / "maillog"}
    finally:
        subprocess.run(["postfix", "-c", str(d), "stop"], check=False, capture_output=True)
