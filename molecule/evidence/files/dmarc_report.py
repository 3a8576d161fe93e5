"""The lab receiver's DMARC aggregate reporter: OpenDMARC's history file in, one report per domain out by SMTP.

What opendmarc-import and opendmarc-reports do, without their MySQL database: read the HistoryFile
OpenDMARC wrote for the mail it checked, group it per policy domain, write the RFC 7489 aggregate
report (gzipped XML attached to a mail, as receivers send it) and hand it to the local Postfix for
each rua address the domain published, which looks up the domain's MX and delivers by SMTP. The
history is moved aside first, so the next report covers only the mail checked after this one.
Prints a JSON summary of the reports sent (domain, report id, rows) for the scenario's checks.

    python3 dmarc_report.py HISTORY ORG_NAME REPORTER_EMAIL
"""
import gzip
import json
import os
import subprocess
import sys
import time
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formatdate, make_msgid
from xml.sax.saxutils import escape

# OpenDMARC's result codes, as opendmarc-reports turns them into report words.
ARES = {0: "pass", 2: "softfail", 3: "neutral", 4: "temperror", 5: "permerror", 6: "none", 7: "fail",
        8: "policy", 9: "nxdomain", 10: "signed", 12: "discard"}
ALIGNED = {4: "pass", 5: "fail"}
DISPOSITION = {0: "reject", 1: "reject", 2: "none", 4: "quarantine"}
POLICY = {ord("n"): "none", ord("q"): "quarantine", ord("r"): "reject"}
MODE = {ord("r"): "r", ord("s"): "s"}


def read_history(text):
    """One dict per message OpenDMARC checked (a "job" line starts each)."""
    jobs = []
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        if key == "job":
            jobs.append({"dkim": [], "rua": []})
        elif not jobs or not key:
            continue
        elif key == "dkim":
            domain, selector, result = value.split(" ")
            jobs[-1]["dkim"].append((domain, selector, int(result)))
        elif key == "rua":
            jobs[-1]["rua"].extend(v for v in value.split(",") if v != "-")
        else:
            jobs[-1][key] = value
    return jobs


def record_xml(row, count):
    ip, header_from, disposition, dkim, spf, envelope, spf_result, signatures = row
    auth = "".join("<dkim><domain>%s</domain><selector>%s</selector><result>%s</result></dkim>"
                   % (escape(d), escape(s), ARES.get(r, "unknown")) for d, s, r in signatures)
    return ("<record><row><source_ip>%s</source_ip><count>%d</count><policy_evaluated><disposition>%s</disposition>"
            "<dkim>%s</dkim><spf>%s</spf></policy_evaluated></row><identifiers><header_from>%s</header_from>"
            "</identifiers><auth_results>%s<spf><domain>%s</domain><result>%s</result></spf></auth_results></record>"
            % (ip, count, disposition, dkim, spf, escape(header_from), auth, escape(envelope), spf_result))


def report(domain, jobs, org, email, report_id):
    """The aggregate report XML about ``domain`` from its jobs, and its rows (for the summary)."""
    first = jobs[0]
    rows = {}
    for job in jobs:
        row = (job["ipaddr"], job["from"], DISPOSITION.get(int(job.get("action", 2)), "none"),
               ALIGNED.get(int(job.get("align_dkim", 5)), "fail"), ALIGNED.get(int(job.get("align_spf", 5)), "fail"),
               job.get("mfrom", job["from"]), ARES.get(int(job.get("spf", 6)), "none"), tuple(job["dkim"]))
        rows[row] = rows.get(row, 0) + 1
    received = [int(job["received"]) for job in jobs]
    xml = ('<?xml version="1.0" encoding="UTF-8"?><feedback><version>1.0</version><report_metadata>'
           "<org_name>%s</org_name><email>%s</email><report_id>%s</report_id><date_range><begin>%d</begin>"
           "<end>%d</end></date_range></report_metadata><policy_published><domain>%s</domain><adkim>%s</adkim>"
           "<aspf>%s</aspf><p>%s</p><sp>%s</sp><pct>%s</pct></policy_published>%s</feedback>" % (
               escape(org), escape(email), report_id, min(received), max(max(received), int(time.time())),
               escape(domain), MODE.get(int(first.get("adkim", 114)), "r"), MODE.get(int(first.get("aspf", 114)), "r"),
               POLICY.get(int(first.get("p", 110)), "none"), POLICY.get(int(first.get("sp", first.get("p", 110))), "none"),
               first.get("pct", "100"), "".join(record_xml(row, count) for row, count in sorted(rows.items()))))
    summary = [{"source_ip": r[0], "count": c, "dkim": r[3], "spf": r[4], "signatures": [list(s) for s in r[7]]}
               for r, c in sorted(rows.items())]
    return xml, summary, min(received), max(max(received), int(time.time()))


def send(xml, domain, org, email, report_id, begin, end, rua):
    name = "%s!%s!%d!%d.xml.gz" % (org, domain, begin, end)
    message = MIMEMultipart()
    message["From"], message["To"], message["Date"] = email, ", ".join(rua), formatdate()
    message["Message-ID"] = make_msgid(domain=org)
    message["Subject"] = "Report Domain: %s Submitter: %s Report-ID: <%s>" % (domain, org, report_id)
    message.attach(MIMEText("This is an aggregate report from %s about mail from %s." % (org, domain)))
    attachment = MIMEApplication(gzip.compress(xml.encode()), "gzip")
    attachment.add_header("Content-Disposition", "attachment", filename=name)
    message.attach(attachment)
    subprocess.run(["/usr/sbin/sendmail", "-f", email, "--"] + rua, input=message.as_bytes(), check=True)


def main(history, org, email):
    moved = "%s.%d" % (history, time.time_ns())
    os.rename(history, moved)  # OpenDMARC opens the file for each message: the next one starts a new file
    with open(moved) as f:
        jobs = read_history(f.read())
    by_domain = {}
    for job in jobs:
        by_domain.setdefault(job.get("pdomain", job["from"]), []).append(job)
    sent = []
    for domain, domain_jobs in sorted(by_domain.items()):
        rua = sorted(set(uri[len("mailto:"):] for job in domain_jobs for uri in job["rua"] if uri.startswith("mailto:")))
        if not rua:
            continue
        report_id = "%s.%s.%d" % (org, domain, time.time_ns())
        xml, summary, begin, end = report(domain, domain_jobs, org, email, report_id)
        send(xml, domain, org, email, report_id, begin, end, rua)
        sent.append({"domain": domain, "report_id": report_id, "rua": rua, "records": summary})
    print(json.dumps(sent))


if __name__ == "__main__":
    main(*sys.argv[1:4])
