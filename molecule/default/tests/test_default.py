"""Verify the Postfix path: what the roles set up, then mail end to end through the lab.

Runs on the controller (testinfra, podman connection). The end-to-end checks:
- a message submitted to the container's Postfix leaves DKIM-signed (RSA and Ed25519) and
  dkimpy verifies every signature against the lab DNS;
- a message from an outside address gets Received-SPF and Authentication-Results with dkim=
  and dmarc= results;
- a client listed in the lab DNSBL zone is refused; an unlisted one is accepted.
"""
import base64
import email.utils
import json
import os
import re
import smtplib
import time
import uuid
from pathlib import Path

import dkim
import dns.exception
import dns.name
import dns.query
import dns.resolver
import dns.reversename
import dns.tsig
import dns.tsigkeyring
import dns.update
import pytest
import yaml

PROJECT = Path(os.environ.get("MOLECULE_PROJECT_DIRECTORY", Path(__file__).resolve().parents[3]))
EPHEMERAL = Path(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/nonexistent"))
MAILBOX = "/var/mail/mailtest"
DOMAIN = "example.test"
OUTSIDE_DOMAIN = "example2.test"
OUTSIDE_SELECTOR = "outside"
DNSBL_ZONE = "dnsbl.test"
SELECTORS = {"s202611": "rsa-sha256", "e202611": "ed25519-sha256"}
# Debian 12's OpenDKIM (2.11.0 beta2) signs with RSA only; the Ed25519 key is published, not used.
SIGNING = {"s202611": "rsa-sha256"}


def _inventory_hosts():
    """The scenario's instances, from the inventory Molecule wrote (one podman container each)."""
    path = os.environ.get("MOLECULE_INVENTORY_FILE")
    if not path or not Path(path).exists():
        return ["podman://mailauth-mx1"]
    names = set()

    def walk(group):
        names.update((group or {}).get("hosts") or {})
        for child in ((group or {}).get("children") or {}).values():
            walk(child)

    for group in (yaml.safe_load(Path(path).read_text()) or {}).values():
        walk(group)
    return ["podman://%s" % name for name in sorted(names)]


testinfra_hosts = _inventory_hosts()


def family_vars(host, role):
    """The role's vars/<family>.yml for this host: paths come from where the role takes them."""
    family = "Debian" if host.file("/etc/debian_version").exists else "RedHat"
    return yaml.safe_load((PROJECT / "roles" / role / "vars" / ("%s.yml" % family)).read_text())


@pytest.fixture(scope="module")
def lab():
    facts = json.loads((PROJECT / ".lab" / "lab.json").read_text())
    facts["tsig_secret"] = Path(facts["tsig_secret_file"]).read_text().strip()
    return facts


@pytest.fixture(scope="module")
def resolver(lab):
    res = dns.resolver.Resolver(configure=False)
    res.nameservers = [lab["dns_server"]]
    res.port = lab["dns_port"]
    return res


def lab_txt(resolver):
    """dkimpy's dnsfunc, asking the lab DNS."""
    def get_txt(name, timeout=5):
        try:
            answer = resolver.resolve(name.decode().rstrip("."), "TXT", lifetime=timeout)
        except dns.exception.DNSException:
            return None
        return b"".join(answer[0].strings)
    return get_txt


def address_of(host):
    out = host.check_output("ip -4 -o addr show scope global")
    return re.search(r"inet (\d+\.\d+\.\d+\.\d+)/", out).group(1)


def wait_for_message(host, marker, timeout=90):
    """The raw text of the delivered message holding ``marker``, from the mbox."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if host.file(MAILBOX).exists:
            mbox = host.file(MAILBOX).content_string
            for block in re.split(r"\n(?=From \S+ )", mbox):
                if marker in block:
                    return block.split("\n", 1)[1]  # without the mbox "From " line
        time.sleep(1)
    pytest.fail("no message with %s in %s after %ss; mail log:\n%s" % (
        marker, MAILBOX, timeout, host.run("journalctl -n 60 --no-pager").stdout))


def headers_of(raw):
    head = raw.split("\n\n", 1)[0]
    unfolded = re.sub(r"\n[ \t]+", " ", head)
    return [tuple(part.strip() for part in line.split(":", 1)) for line in unfolded.splitlines() if ":" in line]


# --- what the roles set up -------------------------------------------------------------------------

@pytest.mark.parametrize("service", ["postfix", "opendkim", "opendmarc"])
def test_services_run_and_start_at_boot(host, service):
    assert host.service(service).is_running
    assert host.service(service).is_enabled


@pytest.mark.parametrize("socket", ["tcp://127.0.0.1:8891", "tcp://127.0.0.1:8893", "tcp://0.0.0.0:25"])
def test_milters_and_smtp_listen(host, socket):
    assert host.socket(socket).is_listening


def test_postfix_configuration_is_valid(host):
    assert host.run("postfix check").rc == 0


def test_milters_in_order_dkim_before_dmarc(host):
    milters = re.split(r"[\s,]+", host.check_output("postconf -h smtpd_milters"))
    assert milters.index("inet:127.0.0.1:8891") < milters.index("inet:127.0.0.1:8893")
    assert "inet:127.0.0.1:8891" in host.check_output("postconf -h non_smtpd_milters")


def test_postscreen_in_front_of_smtpd(host):
    assert host.check_output("postconf -F smtp/inet/command") == "smtp/inet/command = postscreen"
    assert host.check_output("postconf -h postscreen_dnsbl_sites") == "dnsbl.test=127.0.0.[2..11]*3"
    assert host.check_output("postconf -h postscreen_dnsbl_threshold") == "3"
    for service in ("smtpd/pass", "dnsblog/unix", "tlsproxy/unix"):
        assert host.check_output("postconf -M %s" % service)


def test_policyd_spf_only_adds_headers(host):
    assert "check_policy_service unix:private/policyd-spf" in host.check_output("postconf -h smtpd_recipient_restrictions")
    conf = host.file(family_vars(host, "postfix")["mailauth_postfix_spf_config"]).content_string
    assert re.search(r"^TestOnly = 0$", conf, re.M)
    assert re.search(r"^Mail_From_reject = False$", conf, re.M)


@pytest.mark.parametrize("selector", sorted(SELECTORS))
def test_keys_are_private_to_opendkim(host, selector):
    keys_dir = family_vars(host, "dkim")["mailauth_dkim_family_keys_dir"]
    key = host.file("%s/%s/%s.private" % (keys_dir, DOMAIN, selector))
    assert key.user == "opendkim" and key.mode == 0o600


def test_signing_table_holds_the_published_selectors_opendkim_can_use(host):
    table = host.file("/etc/opendkim/SigningTable").content_string
    for selector in SELECTORS:
        line = "*@%s %s._domainkey.%s" % (DOMAIN, selector, DOMAIN)
        assert (line in table) == (selector in SIGNING), table


# --- end to end ---------------------------------------------------------------------------------------

def test_submitted_mail_leaves_signed_and_verifies(host, resolver):
    marker = "outbound-%s" % uuid.uuid4().hex
    message = ("From: Sender <sender@%s>\nTo: mailtest@%s\nSubject: %s\nDate: %s\nMessage-ID: <%s@%s>\n\n"
               "Signed by OpenDKIM on the way out.\n" % (DOMAIN, DOMAIN, marker, email.utils.formatdate(),
                                                         marker, DOMAIN))
    encoded = base64.b64encode(message.encode()).decode()
    host.run_test("echo %s | base64 -d | /usr/sbin/sendmail -f sender@%s mailtest@%s", encoded, DOMAIN, DOMAIN)
    raw = wait_for_message(host, marker).encode()
    signatures = [value for name, value in headers_of(raw.decode()) if name.lower() == "dkim-signature"]
    algorithms = {re.search(r"\bs=([^;\s]+)", sig).group(1): re.search(r"\ba=([^;\s]+)", sig).group(1)
                  for sig in signatures}
    assert algorithms == SIGNING
    signed = dkim.DKIM(raw.replace(b"\n", b"\r\n"))
    for index in range(len(signatures)):
        assert signed.verify(idx=index, dnsfunc=lab_txt(resolver)), "signature %d does not verify" % index


def test_inbound_mail_gets_spf_dkim_and_dmarc_results(host):
    key = (EPHEMERAL / "outside" / ("%s.private" % OUTSIDE_SELECTOR)).read_bytes()
    marker = "inbound-%s" % uuid.uuid4().hex
    message = ("From: Outside <sender@%s>\r\nTo: mailtest@%s\r\nSubject: %s\r\nDate: %s\r\n"
               "Message-ID: <%s@%s>\r\n\r\nSigned by an outside sender.\r\n" % (
                   OUTSIDE_DOMAIN, DOMAIN, marker, email.utils.formatdate(), marker, OUTSIDE_DOMAIN)).encode()
    signature = dkim.sign(message, OUTSIDE_SELECTOR.encode(), OUTSIDE_DOMAIN.encode(), key,
                          include_headers=[b"from", b"to", b"subject", b"date", b"message-id"])
    with smtplib.SMTP(address_of(host), 25, local_hostname="client.%s" % OUTSIDE_DOMAIN, timeout=60) as smtp:
        smtp.sendmail("sender@%s" % OUTSIDE_DOMAIN, ["mailtest@%s" % DOMAIN], signature + message)
    headers = headers_of(wait_for_message(host, marker))
    spf = [value for name, value in headers if name.lower() == "received-spf"]
    results = " ".join(value for name, value in headers if name.lower() == "authentication-results")
    assert spf and spf[0].lower().startswith("pass"), headers
    assert "dkim=pass" in results, headers
    assert "dmarc=pass" in results, headers


@pytest.fixture
def listed_address(host, lab):
    """The container's own address, listed in the lab DNSBL zone for the test's duration."""
    address = address_of(host)
    name = dns.reversename.from_address(address).relativize(dns.name.from_text("in-addr.arpa"))
    keyring = dns.tsigkeyring.from_text({lab["tsig_name"]: lab["tsig_secret"]})

    def send(change):
        assert dns.query.tcp(change, lab["dns_server"], port=lab["dns_port"], timeout=10).rcode() == 0

    listing = dns.update.Update(DNSBL_ZONE, keyring=keyring, keyalgorithm=dns.tsig.HMAC_SHA256)
    listing.replace(name, 60, "A", "127.0.0.2")
    send(listing)
    yield address
    delisting = dns.update.Update(DNSBL_ZONE, keyring=keyring, keyalgorithm=dns.tsig.HMAC_SHA256)
    delisting.delete(name, "A")
    send(delisting)


SMTP_PROBE = """\
import smtplib
s = smtplib.SMTP(timeout=60, source_address=({address!r}, 0))
s.connect({address!r}, 25)
s.ehlo("probe.example2.test")
s.mail("sender@example2.test")
print(*s.rcpt("mailtest@example.test"))
"""


def test_listed_client_is_refused(host, listed_address):
    probe = base64.b64encode(SMTP_PROBE.format(address=listed_address).encode()).decode()
    out = host.check_output("echo %s | base64 -d | python3 -" % probe)
    code, _sep, text = out.partition(" ")
    assert code == "550" and DNSBL_ZONE in text, out


def test_unlisted_client_is_accepted(host):
    with smtplib.SMTP(address_of(host), 25, local_hostname="client.%s" % OUTSIDE_DOMAIN, timeout=60) as smtp:
        smtp.ehlo()
        smtp.mail("sender@%s" % OUTSIDE_DOMAIN)
        code, text = smtp.rcpt("mailtest@%s" % DOMAIN)
        smtp.rset()
    assert code == 250, text
