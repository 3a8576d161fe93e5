"""dmarc_reports over IMAP against a real Dovecot (Debian's dovecot-imapd) on loopback, with TLS.

The reports mailbox is a Maildir holding the corpus's report mails (one of them twice); the module
reads it over IMAPS and over STARTTLS, read only: afterwards no message is marked seen.
"""
import imaplib
import json
import shutil
import ssl
from pathlib import Path

import pytest
from mail_servers import mail_root, maildir, run_dovecot

CORPUS = Path(__file__).resolve().parents[1] / "dmarc_corpus" / "good"
USER, PASSWORD = "aggregate@localhost", "imap-Passw0rd-not-shown"
MAILS = ["google-rua.eml", "microsoft-rua.eml", "mimecast-rua.eml", "tls-google.eml", "google-rua.eml"]


@pytest.fixture(scope="module")
def dovecot():
    with mail_root() as root:
        box = maildir(root, USER)
        for number, name in enumerate(MAILS):
            shutil.copy(CORPUS / name, box / "new" / ("1764669%03d.M%dP1.localhost" % (number, number)))
        shutil.chown(box / "new", "mail", "mail")
        for path in (box / "new").iterdir():
            shutil.chown(path, "mail", "mail")
        with run_dovecot(root, {USER: PASSWORD}) as server:
            yield server


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
