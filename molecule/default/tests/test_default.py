"""Verify the Postfix path: what the roles set up, then mail end to end through the lab.

Runs on the controller (testinfra, podman connection). The end-to-end checks:
- a message submitted to the container's Postfix leaves DKIM-signed with RSA and Ed25519 (where
  dkimpy-milter signs; RSA only under OpenDKIM) and dkimpy verifies every signature against the lab
  DNS; a domain whose Ed25519 key is held back (not published) is signed with RSA only;
- every message of the mail loop (a message a second through the signer moves of prepare,
  converge and side_effect: OpenDKIM -> dkimpy-milter -> OpenDKIM -> dkimpy-milter) left signed;
- a message from an outside address, signed with RSA and Ed25519, gets Received-SPF and
  Authentication-Results with both dkim= results (header.a=) and dmarc=pass; an outside message
  that claims the host's own domain is not signed by the host;
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
OUTSIDE_ED25519_SELECTOR = "outside-ed"
HELD_DOMAIN = "reports.test"
SELECTORS = {"s202611": "rsa-sha256", "e202611": "ed25519-sha256"}
# dkimpy-milter signs with both keys; OpenDKIM (2.11.0 beta2, the EL choice) with RSA only.
SIGNING = {"dkimpy": SELECTORS, "opendkim": {"s202611": "rsa-sha256"}}
MILTERS = {"opendkim": "inet:127.0.0.1:8891", "dkimpy": "inet:127.0.0.1:8892"}
SERVICES = {"opendkim": "opendkim", "dkimpy": "dkimpy-milter"}
DMARC_MILTER = "inet:127.0.0.1:8893"
LOOP_STOP = "/run/mailauth-mail-loop.stop"


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


def signer(host):
    """The signer the scenario ends with: the family's choice (auto)."""
    return family_vars(host, "dkim")["mailauth_dkim_auto_signer"]


def other(host):
    return "opendkim" if signer(host) == "dkimpy" else "dkimpy"


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

@pytest.mark.parametrize("service", ["postfix", "signer", "opendmarc"])
def test_services_run_and_start_at_boot(host, service):
    name = SERVICES[signer(host)] if service == "signer" else service
    assert host.service(name).is_running
    assert host.service(name).is_enabled


def test_the_other_signer_is_stopped_and_off_at_boot(host):
    name = SERVICES[other(host)]
    if other(host) == "dkimpy" and not host.package("dkimpy-milter").is_installed:
        return  # never chosen here
    assert not host.service(name).is_running
    assert not host.service(name).is_enabled


def test_milters_and_smtp_listen(host):
    for socket in (MILTERS[signer(host)].replace("inet:", "tcp://"), "tcp://127.0.0.1:8893", "tcp://0.0.0.0:25"):
        assert host.socket(socket).is_listening, socket
    assert not host.socket(MILTERS[other(host)].replace("inet:", "tcp://")).is_listening


def test_postfix_configuration_is_valid(host):
    assert host.run("postfix check").rc == 0


def test_milters_in_order_signer_before_dmarc_and_no_other_signer(host):
    milters = re.split(r"[\s,]+", host.check_output("postconf -h smtpd_milters"))
    assert milters.index(MILTERS[signer(host)]) < milters.index(DMARC_MILTER)
    non_smtpd = re.split(r"[\s,]+", host.check_output("postconf -h non_smtpd_milters"))
    assert MILTERS[signer(host)] in non_smtpd
    assert MILTERS[other(host)] not in milters + non_smtpd


def test_postscreen_in_front_of_smtpd(host):
    assert host.check_output("postconf -F smtp/inet/command") == "smtp/inet/command = postscreen"
    assert host.check_output("postconf -h postscreen_dnsbl_sites") == "dnsbl.test=127.0.0.[2..11]*3"
    assert host.check_output("postconf -h postscreen_dnsbl_threshold") == "3"
    for service in ("smtpd/pass", "dnsblog/unix", "tlsproxy/unix"):
        assert host.check_output("postconf -M %s" % service)


def test_mail_from_outside_is_marked_for_dkimpy_milter(host):
    if signer(host) != "dkimpy":
        return
    assert host.check_output("postconf -P smtpd/pass/milter_macro_daemon_name") == (
        "smtpd/pass/milter_macro_daemon_name = VERIFYING")
    conf = host.file("/etc/dkimpy-milter/dkimpy-milter.conf").content_string
    assert re.search(r"^MacroListVerify\s+daemon_name\|VERIFYING$", conf, re.M)


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
    if signer(host) == "dkimpy" and SELECTORS[selector] == "ed25519-sha256":
        seed = host.file("%s/%s/%s.dkimpy" % (keys_dir, DOMAIN, selector))
        assert seed.user == "opendkim" and seed.mode == 0o600
        assert len(base64.b64decode(seed.content_string)) == 32


def test_signing_tables_hold_the_published_selectors_each_signer_can_use(host):
    table = host.file("/etc/opendkim/SigningTable").content_string
    for selector, algorithm in SELECTORS.items():
        line = "*@%s %s._domainkey.%s" % (DOMAIN, selector, DOMAIN)
        assert (line in table) == (algorithm == "rsa-sha256"), table
    if signer(host) != "dkimpy":
        return
    keys_dir = family_vars(host, "dkim")["mailauth_dkim_family_keys_dir"]
    signing = host.file("/etc/dkimpy-milter/SigningTable").content_string
    rsa = host.file("/etc/dkimpy-milter/KeyTable").content_string
    ed25519 = host.file("/etc/dkimpy-milter/KeyTableEd25519").content_string
    for domain in (DOMAIN, HELD_DOMAIN):
        assert "*@%s %s\n" % (domain, domain) in signing
        assert "%s %s:s202611:%s/%s/s202611.private\n" % (domain, domain, keys_dir, domain) in rsa
    assert "%s %s:e202611:%s/%s/e202611.dkimpy\n" % (DOMAIN, DOMAIN, keys_dir, DOMAIN) in ed25519
    assert "%s %s:-:/dev/null\n" % (HELD_DOMAIN, HELD_DOMAIN) in ed25519


# --- end to end ---------------------------------------------------------------------------------------

def send_local(host, domain, note):
    """Submit a message from sender@DOMAIN with sendmail(1); its raw text as delivered."""
    marker = "outbound-%s" % uuid.uuid4().hex
    message = ("From: Sender <sender@%s>\nTo: mailtest@%s\nSubject: %s\nDate: %s\nMessage-ID: <%s@%s>\n\n%s\n"
               % (domain, DOMAIN, marker, email.utils.formatdate(), marker, domain, note))
    encoded = base64.b64encode(message.encode()).decode()
    host.run_test("echo %s | base64 -d | /usr/sbin/sendmail -f sender@%s mailtest@%s", encoded, domain, DOMAIN)
    return wait_for_message(host, marker).encode()


def signatures_of(raw):
    """{selector: algorithm} of the message's DKIM signatures, and their count."""
    signatures = [value for name, value in headers_of(raw.decode()) if name.lower() == "dkim-signature"]
    return {re.search(r"\bs=([^;\s]+)", sig).group(1): re.search(r"\ba=([^;\s]+)", sig).group(1)
            for sig in signatures}, len(signatures)


def assert_every_signature_verifies(raw, count, resolver):
    signed = dkim.DKIM(raw.replace(b"\n", b"\r\n"))
    for index in range(count):
        assert signed.verify(idx=index, dnsfunc=lab_txt(resolver)), "signature %d does not verify" % index


def test_submitted_mail_leaves_signed_with_both_algorithms_and_verifies(host, resolver):
    raw = send_local(host, DOMAIN, "Signed on the way out.")
    algorithms, count = signatures_of(raw)
    assert algorithms == SIGNING[signer(host)] and count == len(algorithms), raw.decode()
    assert_every_signature_verifies(raw, count, resolver)


def test_a_held_back_ed25519_key_leaves_the_domain_signed_with_rsa_only(host, resolver):
    # Not published, so never signed with: receivers would see a signature they cannot check.
    with pytest.raises(dns.resolver.NXDOMAIN):
        resolver.resolve("e202611._domainkey.%s" % HELD_DOMAIN, "TXT")
    raw = send_local(host, HELD_DOMAIN, "Signed with the published key only.")
    algorithms, count = signatures_of(raw)
    assert algorithms == {"s202611": "rsa-sha256"} and count == 1, raw.decode()
    assert_every_signature_verifies(raw, count, resolver)


def loop_messages(host):
    """{number: raw} of the mail loop's messages, once the loop stopped and the queue is empty."""
    host.run_test("touch %s", LOOP_STOP)
    deadline = time.monotonic() + 90
    while "Mail queue is empty" not in host.run("postqueue -p").stdout:
        assert time.monotonic() < deadline, host.run("postqueue -p").stdout
        time.sleep(1)
    mbox = host.file(MAILBOX).content_string
    found = {}
    for block in re.split(r"\n(?=From \S+ )", mbox):
        number = re.search(r"^Subject: mailauth-loop (\d+)$", block, re.M)
        if number:
            found[int(number.group(1))] = block.split("\n", 1)[1].encode()
    return found


def test_no_message_left_unsigned_while_the_signers_moved(host, resolver):
    messages = loop_messages(host)
    # prepare -> converge -> idempotence -> side_effect: minutes of a message a second.
    assert len(messages) >= 60 and sorted(messages) == list(range(1, max(messages) + 1)), sorted(messages)
    unsigned = []
    for number, raw in sorted(messages.items()):
        algorithms, count = signatures_of(raw)
        signed = dkim.DKIM(raw.replace(b"\n", b"\r\n"))
        if "s202611" not in algorithms or not any(signed.verify(idx=i, dnsfunc=lab_txt(resolver)) for i in range(count)):
            unsigned.append(number)
    assert not unsigned, "loop messages without a valid signature: %s" % unsigned


def test_outside_mail_claiming_the_hosts_domain_is_not_signed_by_it(host):
    marker = "spoof-%s" % uuid.uuid4().hex
    message = ("From: Spoofer <sender@%s>\r\nTo: mailtest@%s\r\nSubject: %s\r\nDate: %s\r\n"
               "Message-ID: <%s@%s>\r\n\r\nNot from here.\r\n" % (
                   DOMAIN, DOMAIN, marker, email.utils.formatdate(), marker, OUTSIDE_DOMAIN)).encode()
    with smtplib.SMTP(address_of(host), 25, local_hostname="client.%s" % OUTSIDE_DOMAIN, timeout=60) as smtp:
        smtp.sendmail("sender@%s" % OUTSIDE_DOMAIN, ["mailtest@%s" % DOMAIN], message)
    headers = headers_of(wait_for_message(host, marker))
    assert not [value for name, value in headers if name.lower() == "dkim-signature"], headers


def test_inbound_mail_gets_spf_dkim_and_dmarc_results(host):
    key = (EPHEMERAL / "outside" / ("%s.private" % OUTSIDE_SELECTOR)).read_bytes()
    ed25519_key = (EPHEMERAL / "outside" / ("%s.dkimpy" % OUTSIDE_ED25519_SELECTOR)).read_bytes()
    marker = "inbound-%s" % uuid.uuid4().hex
    message = ("From: Outside <sender@%s>\r\nTo: mailtest@%s\r\nSubject: %s\r\nDate: %s\r\n"
               "Message-ID: <%s@%s>\r\n\r\nSigned by an outside sender.\r\n" % (
                   OUTSIDE_DOMAIN, DOMAIN, marker, email.utils.formatdate(), marker, OUTSIDE_DOMAIN)).encode()
    signed_headers = [b"from", b"to", b"subject", b"date", b"message-id"]
    signature = dkim.sign(message, OUTSIDE_SELECTOR.encode(), OUTSIDE_DOMAIN.encode(), key,
                          include_headers=signed_headers)
    signature = dkim.sign(message, OUTSIDE_ED25519_SELECTOR.encode(), OUTSIDE_DOMAIN.encode(), ed25519_key,
                          include_headers=signed_headers, signature_algorithm=b"ed25519-sha256") + signature
    with smtplib.SMTP(address_of(host), 25, local_hostname="client.%s" % OUTSIDE_DOMAIN, timeout=60) as smtp:
        smtp.sendmail("sender@%s" % OUTSIDE_DOMAIN, ["mailtest@%s" % DOMAIN], signature + message)
    headers = headers_of(wait_for_message(host, marker))
    spf = [value for name, value in headers if name.lower() == "received-spf"]
    results = " ".join(value for name, value in headers if name.lower() == "authentication-results")
    assert spf and spf[0].lower().startswith("pass"), headers
    assert "dkim=pass" in results, headers
    if signer(host) == "dkimpy":
        # Both signatures verified, and the results say which algorithm each used.
        passes = re.findall(r"dkim=pass[^;]*header\.a=([a-z0-9-]+)", results)
        assert sorted(passes) == ["ed25519-sha256", "rsa-sha256"], headers
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
