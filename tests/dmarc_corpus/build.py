"""Build the report corpus's containers (zip, gzip, mail, mbox) from the hand-written sources in src/.

The sources follow the shapes real reporters send (their XML dialects, file names, MIME layouts):
Google (zip attached to a multipart mail), Microsoft (gzip attached, xsd/xsi namespaces,
envelope_to), Yahoo and Fastmail (.xml.gz), Mimecast (the whole mail body one base64 gzip part),
RFC 9990 (dmarc-2.0 namespace, np/testing/discovery_method, xml:lang), an RFC 7489-era report
(Latin-1, <identities>, upper-case results, a report_id in angle brackets) and SMTP TLS reports
(RFC 8460 JSON, Google's application/tlsrpt+gzip mail). broken/ holds what must be skipped:
truncated, damaged, oddly compressed, hostile (entity expansion, an external entity) and
not-a-report files. The output is deterministic (fixed timestamps and boundaries), so running this
again changes no file (the large hostile inputs - bombs, a 2 GB file - are made by the tests):

    python3 tests/dmarc_corpus/build.py
"""
import gzip
import io
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SRC = HERE / "src"
GOOD = HERE / "good"
WHEN = (2025, 12, 2, 0, 0, 0)


def gz(data):
    return gzip.compress(data, mtime=0)


def zipped(name, data):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo(name, WHEN), data, compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def b64(data):
    import base64
    text = base64.b64encode(data).decode()
    return "\n".join(text[i:i + 76] for i in range(0, len(text), 76))


def mail(headers, body):
    return ("\n".join(headers) + "\n\n" + body + "\n").encode()


def google_mail(report):
    name = "google.com!example.com!1764547200!1764633599.zip"
    return mail([
        "Return-Path: <noreply-dmarc-support@google.com>",
        "Received: from mail-sor-f69.google.com (mail-sor-f69.google.com [209.85.220.69])",
        "\tby mx1.example.com (Postfix) with ESMTPS id 4dK2x71Z3pz9sWq",
        "\tfor <aggregate@example.com>; Tue,  2 Dec 2025 10:21:03 +0000 (UTC)",
        "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=google.com; s=20230601;",
        "        h=to:from:subject:message-id:date:mime-version:from:to:cc:subject",
        "         :date:message-id:reply-to; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;",
        "        b=dGhpcyBpcyBub3QgYSByZWFsIHNpZ25hdHVyZQ==",
        "MIME-Version: 1.0",
        "Date: Mon, 01 Dec 2025 15:59:59 -0800",
        "Message-ID: <4721635409286619238@google.com>",
        "Subject: Report domain: example.com Submitter: google.com Report-ID: 4721635409286619238",
        "From: noreply-dmarc-support@google.com",
        "To: aggregate@example.com",
        'Content-Type: multipart/mixed; boundary="000000000000a1b2c3d4e5f60718"',
    ], "\n".join([
        "--000000000000a1b2c3d4e5f60718",
        'Content-Type: text/plain; charset="UTF-8"',
        "",
        "",
        "--000000000000a1b2c3d4e5f60718",
        'Content-Type: application/zip; name="%s"' % name,
        'Content-Disposition: attachment; filename="%s"' % name,
        "Content-Transfer-Encoding: base64",
        "",
        b64(zipped(name.replace(".zip", ".xml"), report)),
        "--000000000000a1b2c3d4e5f60718--",
    ]))


def microsoft_mail(report):
    name = "enterprise.protection.outlook.com!example.com!1764547200!1764633600.xml.gz"
    return mail([
        "From: DMARC Aggregate Report <dmarcreport@microsoft.com>",
        "To: <aggregate@example.com>",
        "Subject: Report Domain: example.com Submitter: enterprise.protection.outlook.com "
        "Report-ID: a3f1c0e9b7d24c6f9e0b5a7d3c2e1f40",
        "Date: Tue, 2 Dec 2025 04:12:44 +0000",
        "Message-ID: <PH7PR11MB6053.namprd11.prod.outlook.com>",
        'Content-Type: multipart/mixed; boundary="_000_a3f1c0e9b7d24c6f_"',
        "MIME-Version: 1.0",
    ], "\n".join([
        "--_000_a3f1c0e9b7d24c6f_",
        'Content-Type: text/plain; charset="us-ascii"',
        "Content-Transfer-Encoding: quoted-printable",
        "",
        "This is a DMARC aggregate report from Microsoft Corporation. For Emails rec=",
        "eived between 2025-12-01 00:00:00 UTC to 2025-12-02 00:00:00 UTC.",
        "",
        "--_000_a3f1c0e9b7d24c6f_",
        'Content-Type: application/gzip; name="%s"' % name,
        "Content-Description: %s" % name,
        'Content-Disposition: attachment; filename="%s"; size=912;' % name,
        "Content-Transfer-Encoding: base64",
        "",
        b64(gz(report)),
        "",
        "--_000_a3f1c0e9b7d24c6f_--",
    ]))


def mimecast_mail(report):
    name = "mimecast.org!example.com!1764547200!1764633599!9c7e4b1d2a3f5e6d.xml.gz"
    return mail([
        "From: no-reply@eu-1.mimecastreport.com",
        "Subject: Report domain: example.com Submitter: mimecast.org Report-ID:",
        " 9c7e4b1d2a3f5e6d7c8b9a0f1e2d3c4b5a6978877665544332211ffeeddccbba",
        "To: <aggregate@example.com>",
        "Message-Id: <4973f467-4c66-4341-a50a-cf1a87033376@eu-1.mimecastreport.com>",
        "Date: Tue, 02 Dec 2025 10:06:12 +1000",
        "Content-Type: application/gzip",
        "Content-Transfer-Encoding: base64",
        "Content-Disposition: attachment;",
        ' filename="%s"' % name,
        "MIME-Version: 1.0",
    ], b64(gz(report)))


def report_mail(sender, subject, name, kind, payload):
    return mail([
        "From: %s" % sender,
        "To: aggregate@example.com",
        "Subject: %s" % subject,
        "Date: Tue, 02 Dec 2025 06:00:00 +0000",
        "MIME-Version: 1.0",
        'Content-Type: multipart/mixed; boundary="=_part_boundary"',
    ], "\n".join([
        "--=_part_boundary",
        "Content-Type: text/plain; charset=us-ascii",
        "",
        "DMARC aggregate report for example.com.",
        "--=_part_boundary",
        'Content-Type: %s; name="%s"' % (kind, name),
        'Content-Disposition: attachment; filename="%s"' % name,
        "Content-Transfer-Encoding: base64",
        "",
        b64(payload),
        "--=_part_boundary--",
    ]))


def google_tls_mail(report):
    name = "google.com!example.com!1764547200!1764633599!001.json.gz"
    return mail([
        "From: noreply-smtp-tls-reporting@google.com",
        "To: tls-reports@example.com",
        "Subject: Report Domain: example.com Submitter: google.com Report-ID: <2025.12.01T00.00.00Z+example.com@google.com>",
        "Date: Mon, 01 Dec 2025 16:59:59 -0800",
        "TLS-Report-Domain: example.com",
        "TLS-Report-Submitter: google.com",
        "MIME-Version: 1.0",
        'Content-Type: multipart/report; boundary="000000000000f0e1d2c3b4a59687"; report-type=tlsrpt',
    ], "\n".join([
        "--000000000000f0e1d2c3b4a59687",
        'Content-Type: text/plain; charset="UTF-8"',
        "",
        "This is an aggregate TLS report from google.com",
        "",
        "--000000000000f0e1d2c3b4a59687",
        'Content-Type: application/tlsrpt+gzip; name="%s"' % name,
        'Content-Disposition: attachment; filename="%s"' % name,
        "Content-Transfer-Encoding: base64",
        "",
        b64(gz(report)),
        "--000000000000f0e1d2c3b4a59687--",
    ]))


def mbox(messages):
    out = []
    for message in messages:
        out.append(b"From MAILER-DAEMON Tue Dec  2 06:00:00 2025\n" + message.replace(b"\nFrom ", b"\n>From ") + b"\n")
    return b"".join(out)


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE feedback [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<feedback><report_metadata><org_name>&lol9;</org_name></report_metadata></feedback>
"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE feedback [<!ENTITY secret SYSTEM "file:///etc/shadow">]>
<feedback><report_metadata><org_name>&secret;</org_name></report_metadata></feedback>
"""


def broken(src):
    google = src["google.xml"]
    damaged = bytearray(zipped("google.com!example.com!1764547200!1764633599.xml", google))
    damaged[len(damaged) // 3] ^= 0xFF
    no_records = google[:google.index(b"<record>")] + b"</feedback>\n"
    return {
        "truncated.xml": google[:len(google) // 2],
        "truncated.xml.gz": gz(google)[:200],
        "damaged.zip": bytes(damaged),
        "bzip2-named.xml.gz": __import__("bz2").compress(google),
        "billion-laughs.xml": BILLION_LAUGHS,
        "external-entity.xml": EXTERNAL_ENTITY,
        "not-a-report.xml": b"<html><body>Your mailbox is full</body></html>\n",
        "not-tls.json": b'{"hello": "world"}\n',
        "empty.xml": b"",
        "no-records.xml": no_records,
        "no-attachment.eml": mail(["From: someone@example.net", "To: aggregate@example.com", "Subject: hi",
                                   "MIME-Version: 1.0", "Content-Type: text/plain"], "Is this the DMARC address?"),
    }


def build():
    src = dict((path.name, path.read_bytes()) for path in SRC.iterdir())
    yahoo_mail = report_mail("Yahoo DMARC Report <noreply@dmarc.yahoo.com>",
                             "Report Domain: example.com Submitter: Yahoo Report-ID: <1764547200.583341>",
                             "yahoo.com!example.com!1764547200!1764633599.xml.gz", "application/gzip",
                             gz(src["yahoo.xml"]))
    fastmail_mail = report_mail("DMARC Aggregate Report <dmarc-reports@fastmail.com>",
                                "Report Domain: example.com Submitter: fastmail.com Report-ID: 1187392514",
                                "fastmail.com!example.com!1764547200!1764633599!1187392514.xml.gz",
                                "application/x-gzip", gz(src["fastmail.xml"]))
    files = {
        "google.com!example.com!1764547200!1764633599.zip":
            zipped("google.com!example.com!1764547200!1764633599.xml", src["google.xml"]),
        "google-rua.eml": google_mail(src["google.xml"]),
        "microsoft-rua.eml": microsoft_mail(src["microsoft.xml"]),
        "yahoo.com!example.com!1764547200!1764633599.xml.gz": gz(src["yahoo.xml"]),
        "fastmail.com!example.com!1764547200!1764633599!1187392514.xml.gz": gz(src["fastmail.xml"]),
        "mimecast-rua.eml": mimecast_mail(src["mimecast.xml"]),
        "rfc9990.xml": src["rfc9990.xml"],
        # Latin-1, as declared (src/ writes the byte as \xe9 so that every source file is UTF-8 text).
        "rfc7489-draft.xml.gz": gz(src["rfc7489-draft.xml"].replace(b"\\xe9", b"\xe9")),
        "tls-rfc8460.json": src["tls-rfc8460.json"],
        "tls-microsoft.json.gz": gz(src["tls-microsoft.json"]),
        "tls-google.eml": google_tls_mail(src["tls-google.json"]),
        # Two reports and a second copy of the first, as a mailbox holds them.
        "rua.mbox": mbox([yahoo_mail, fastmail_mail, yahoo_mail]),
    }
    for folder, contents in ((GOOD, files), (HERE / "broken", broken(src))):
        folder.mkdir(exist_ok=True)
        for name, data in contents.items():
            (folder / name).write_bytes(data)


if __name__ == "__main__":
    build()
