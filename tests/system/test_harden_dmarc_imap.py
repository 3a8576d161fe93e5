"""harden reads the rua mailbox over IMAP: reports arrive by SMTP, Postfix delivers them to a Maildir, Dovecot serves it with TLS.

Real parts on loopback: BIND for example.test, a private Postfix instance delivering mail for
reports.test into Maildirs, Dovecot serving those Maildirs over IMAPS. Receivers' aggregate reports
(zip attachments, as Google sends them) about the hosts mx1 and mx2 and a listed newsletter service
arrive by SMTP. While the newsletter fails, harden holds p=none and names it; after it is fixed and
new reports arrive, harden raises to p=quarantine. The reports are written by the test (a receiver's
view of the hosts' addresses), not made from mail the hosts sent.
"""
import io
import smtplib
import time
import zipfile
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

import pytest
import test_harden_dmarc_evidence
from mail_servers import mail_root, run_dovecot, run_postfix
from test_harden_dmarc_evidence import MX1, MX2, NEWSLETTER, ZONE, dmarc_stage, harden, report_xml

named = test_harden_dmarc_evidence.named  # the BIND fixture, for this module's tests too
RUA, PASSWORD = "aggregate@reports.test", "rua-Passw0rd-not-shown"


@pytest.fixture
def mailbox():
    with mail_root() as root, run_postfix(root, "reports.test", [RUA]) as smtp, \
            run_dovecot(root, {RUA: PASSWORD}) as imap:
        yield {"smtp": smtp, "imap": imap, "new": root / "reports.test" / "aggregate" / "Maildir" / "new"}


def send_report(mailbox, name, policy, rows, days_ago):
    """A receiver's report mail (a zip attachment, as Google sends it), by SMTP; waits until it is delivered."""
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("receiver.example!%s!%s.xml" % (ZONE, name), report_xml(name, policy, rows, days_ago))
    message = MIMEMultipart()
    message["From"], message["To"] = "noreply-dmarc@receiver.example", RUA
    message["Subject"] = "Report domain: %s Submitter: receiver.example Report-ID: %s" % (ZONE, name)
    message.attach(MIMEText("DMARC aggregate report."))
    attachment = MIMEApplication(archive.getvalue(), "zip")
    attachment.add_header("Content-Disposition", "attachment", filename="receiver.example!%s!%s.zip" % (ZONE, name))
    message.attach(attachment)
    before = len(list(mailbox["new"].iterdir()))
    with smtplib.SMTP("127.0.0.1", mailbox["smtp"]["port"], timeout=10) as smtp:
        smtp.sendmail("noreply-dmarc@receiver.example", [RUA], message.as_bytes())
    deadline = time.monotonic() + 20
    while len(list(mailbox["new"].iterdir())) == before:
        assert time.monotonic() < deadline, mailbox["smtp"]["log"].read_text()
        time.sleep(0.1)


def imap(mailbox):
    return {"host": "localhost", "port": mailbox["imap"]["imaps"], "user": RUA, "password": PASSWORD, "tls": "ssl",
            "ca_file": mailbox["imap"]["ca_file"]}


def test_harden_holds_naming_the_failing_source_then_raises_once_it_is_fixed(run_playbook, tmp_path, named, mailbox):
    send_report(mailbox, "day1", "none", [(MX1, 300, True), (MX2, 200, True), (NEWSLETTER, 40, False)], days_ago=1)
    rc, data, out = harden(run_playbook, tmp_path, named, mailauth_dmarc_imap=imap(mailbox))
    assert rc != 0 and PASSWORD not in out
    assert "198.51.100.7 (Newsletter) sends 40 of 40 messages failing DMARC." in out
    assert dmarc_stage(named) == "none"

    # The newsletter service now signs for the domain; the next reports show it, with enough aligned mail.
    send_report(mailbox, "day2", "none", [(MX1, 3000, True), (MX2, 1500, True), (NEWSLETTER, 400, True)], days_ago=0)
    rc, data, out = harden(run_playbook, tmp_path, named, mailauth_dmarc_imap=imap(mailbox))
    assert rc == 0, out
    assert dmarc_stage(named) == "quarantine" and PASSWORD not in out
