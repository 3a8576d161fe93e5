"""The report reader: every container kind, duplicates, and hostile or broken input skipped within its limits."""
import gzip
import io
import json
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from ansible_collections.mailauth.hardening.plugins.module_utils._reports.files import Collector, Limits

CORPUS = Path(__file__).resolve().parents[3] / "dmarc_corpus"
GOOGLE = (CORPUS / "src" / "google.xml").read_bytes()
MiB = 1024 * 1024


def collector(**limits):
    values = dict(max_file_size=64 * MiB, max_report_size=100 * MiB, max_records=100000, max_members=16)
    values.update(limits)
    return Collector(Limits(values["max_file_size"], values["max_report_size"], values["max_records"],
                            values["max_members"]))


def read(data, **limits):
    found = collector(**limits)
    found.read_bytes("input", data)
    return found


def report_xml(records, header=b'<?xml version="1.0"?>\n'):
    return (header + b"<feedback><report_metadata><org_name>r.example</org_name><report_id>1</report_id>"
            b"<date_range><begin>1764547200</begin><end>1764633599</end></date_range></report_metadata>"
            b"<policy_published><domain>example.com</domain><p>none</p></policy_published>" + records + b"</feedback>")


def record(ip=b"192.0.2.1", count=b"1", header_from=b"example.com"):
    return (b"<record><row><source_ip>" + ip + b"</source_ip><count>" + count + b"</count><policy_evaluated>"
            b"<disposition>none</disposition><dkim>pass</dkim><spf>fail</spf></policy_evaluated></row>"
            b"<identifiers><header_from>" + header_from + b"</header_from></identifiers><auth_results/></record>")


def test_the_whole_corpus_directory_counts_each_report_once():
    found = collector()
    found.read_path(str(CORPUS / "good"))
    assert found.unreadable == []
    # google: a zip and a mail; yahoo: a .gz and twice in the mbox; fastmail: a .gz and in the mbox.
    assert sorted(r["org_name"] for r in found.reports) == [
        "Enterprise Outlook", "Fastmail Pty Ltd", "Mimecast", "Sample Reporter", "Yahoo", "google.com", "mail.example.net"]
    assert sorted(r["org_name"] for r in found.tls_reports) == ["Company-X", "Google Inc.", "Microsoft Corporation"]


def test_a_report_in_the_iso_format_of_the_issue():
    report = read(GOOGLE).reports[0]
    assert (report["org_name"], report["report_id"], report["domain"]) == ("google.com", "4721635409286619238", "example.com")
    assert (report["begin"], report["end"]) == ("2025-12-01T00:00:00Z", "2025-12-01T23:59:59Z")
    assert report["policy_published"]["p"] == "none" and report["policy_published"]["np"] == "none"
    first = report["records"][0]
    assert first == {"source_ip": "192.0.2.10", "count": 412, "header_from": "example.com", "envelope_from": "example.com",
                     "disposition": "none", "dkim": "pass", "spf": "pass", "reasons": [],
                     "auth_results": {"dkim": [{"domain": "example.com", "selector": "s202611", "result": "pass"}],
                                      "spf": [{"domain": "example.com", "scope": "mfrom", "result": "pass"}]}}
    assert report["records"][1]["source_ip"] == "2001:db8:10::25"


def test_a_maildir_reads_new_and_cur_but_not_tmp_or_index_files(tmp_path):
    box = tmp_path / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (box / sub).mkdir(parents=True)
    shutil.copy(CORPUS / "good" / "google-rua.eml", box / "new" / "1764669000.M1P2.mx1")
    shutil.copy(CORPUS / "good" / "tls-google.eml", box / "cur" / "1764669001.M2P2.mx1:2,S")
    shutil.copy(CORPUS / "good" / "microsoft-rua.eml", box / "tmp" / "1764669002.M3P2.mx1")  # still being delivered
    (box / "dovecot-uidlist").write_text("3 V1764669000 N3\n")
    for target in (box, tmp_path):  # named itself, or found inside a tree
        found = collector()
        found.read_path(str(target))
        assert [r["org_name"] for r in found.reports] == ["google.com"] and len(found.tls_reports) == 1
        assert found.unreadable == []


def test_an_mbox_message_over_the_limit_is_skipped_and_the_others_read(tmp_path):
    box = tmp_path / "rua.mbox"
    box.write_bytes((CORPUS / "good" / "rua.mbox").read_bytes() + b"From x Tue Dec  2 06:00:00 2025\n"
                    + b"Subject: big\n\n" + b"A" * (2 * MiB) + b"\n")
    found = collector(max_file_size=MiB)
    found.read_path(str(box))
    assert [r["org_name"] for r in found.reports] == ["Yahoo", "Fastmail Pty Ltd"]
    assert found.unreadable == [{"path": "%s#4" % box, "problem": found.unreadable[0]["problem"]}]
    assert "over max_file_size (1048576 bytes)" in found.unreadable[0]["problem"]


def test_mboxrd_quoting_is_undone(tmp_path):
    box = tmp_path / "one.mbox"
    quoted = report_xml(record()).replace(b"<org_name>r.example", b"<org_name>\n>From r.example")
    box.write_bytes(b"From a@b Tue Dec  2 06:00:00 2025\nSubject: x\nContent-Type: text/xml\n\n" + quoted + b"\n")
    found = collector()
    found.read_path(str(box))
    assert found.unreadable == [] and found.reports[0]["org_name"] == "From r.example"


def test_a_2gb_file_is_skipped_by_its_size_without_reading_it(tmp_path):
    huge = tmp_path / "huge.xml"
    with open(huge, "wb") as handle:
        handle.truncate(2 * 1024 * MiB)  # sparse: no disk used
    started = time.monotonic()
    found = collector()
    found.read_path(str(huge))
    assert time.monotonic() - started < 2
    problem = "the file is 2147483648 bytes, over max_file_size (67108864); raise max_file_size to read it."
    assert found.unreadable == [{"path": str(huge), "problem": problem}]


BOMBS = r'''
import gzip, io, resource, sys, zipfile, zlib
sys.path.insert(0, sys.argv[1])
from ansible_collections.mailauth.hardening.plugins.module_utils._reports.files import Collector, Limits
head = b'<?xml version="1.0"?><feedback>'
piece = b" " * (1024 * 1024)  # made a MiB at a time, so the test itself stays small
stream = zlib.compressobj(9, zlib.DEFLATED, 31)
bomb = stream.compress(head) + b"".join(stream.compress(piece) for _ in range(256)) + stream.flush()
archive = io.BytesIO()
with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
    for n in range(3):
        with z.open("r%d.xml" % n, "w") as member:
            member.write(head)
            for _ in range(40):
                member.write(piece)
            member.write(b"</feedback>")
found = Collector(Limits(64 << 20, 100 << 20, 100000, 16))
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
found.read_bytes("bomb.xml.gz", bomb)
found.read_bytes("bombs.zip", archive.getvalue())
print(len(bomb), len(archive.getvalue()), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)
for entry in found.unreadable:
    print(entry["path"], entry["problem"])
'''


def test_gzip_and_zip_bombs_stop_at_max_report_size_in_bounded_memory(tmp_path):
    collections = Path(__file__).resolve().parents[4] / ".build" / "collections"
    proc = subprocess.run([sys.executable, "-c", BOMBS, str(collections)], capture_output=True, text=True, check=True)
    first, *skipped = proc.stdout.splitlines()
    gz_size, zip_size, rss_growth_kib = (int(v) for v in first.split())
    assert gz_size < 300 * 1024 and zip_size < 400 * 1024  # 256 MiB and 120 MiB once unpacked
    assert skipped[0].startswith("bomb.xml.gz it decompresses to more than max_report_size (104857600 bytes)")
    # The three entries together pass the budget: the third is cut off.
    assert [line.split(" ", 1)[0] for line in skipped] == ["bomb.xml.gz", "bombs.zip!r0.xml", "bombs.zip!r1.xml",
                                                           "bombs.zip!r2.xml"]
    assert "not a DMARC" not in skipped[1]
    # The peak's growth while reading, not the interpreter's own size (which varies by machine): under
    # max_report_size, where holding the three 40 MiB entries at once would be 120 MiB.
    assert rss_growth_kib < 100 * 1024, "reading the bombs took %d KiB more" % rss_growth_kib


def test_limits_are_options(tmp_path):
    many = io.BytesIO()
    with zipfile.ZipFile(many, "w") as archive:
        for n in range(5):
            archive.writestr("r%d.xml" % n, report_xml(record()))
    assert "over max_members (4)" in read(many.getvalue(), max_members=4).unreadable[0]["problem"]
    assert read(report_xml(record() * 3), max_records=2).unreadable[0]["problem"] == \
        "it has more than max_records (2) records."
    assert "over max_report_size (100)" in read(many.getvalue(), max_report_size=100).unreadable[0]["problem"]


@pytest.mark.parametrize("data, problem", [
    (b"<feedback>" + b"<a>" * 20 + b"</a>" * 20 + b"</feedback>", "nests elements deeper than 12 levels"),
    (b"[" * 100000 + b"]" * 100000, "no DMARC aggregate or SMTP TLS report"),
    (b'{"a":' + b"[" * 100000 + b"]" * 100000 + b"}", "the JSON nests too deeply"),
    (b"<feedback><report_metadata><org_name>" + b"A" * 70000, "holds more than 65536 characters"),
    (report_xml(b""), "the report has no <record>."),
    (report_xml(record(ip=b"not-an-ip")), "source_ip 'not-an-ip' is not an IP address"),
    (b"\x89PNG\r\n\x1a\n", "not XML, JSON, gzip, zip or mail"),
    (gzip.compress(gzip.compress(gzip.compress(gzip.compress(gzip.compress(report_xml(record())))))), "nest deeper than 4"),
    (b"\x1f\x8b" + b"\x00" * 30, "the gzip data is damaged"),
])
def test_broken_and_hostile_input_is_skipped_with_the_reason(data, problem):
    found = read(data)
    assert found.reports == [] and found.tls_reports == []
    assert problem in found.unreadable[0]["problem"], found.unreadable


def test_a_bad_record_is_left_out_and_said_the_rest_kept():
    found = read(report_xml(record(count=b"many") + record(ip=b"2001:DB8::1")))
    assert [r["source_ip"] for r in found.reports[0]["records"]] == ["2001:db8::1"]
    assert found.unreadable == [{"path": "input", "problem": "record 1 left out: count 'many' is not a number."}]


def test_reporter_quirks_are_read():
    wrapped = report_xml(b'<xs:schema xmlns:xs="x">' + record() + b"</xs:schema>")
    assert len(read(wrapped).reports[0]["records"]) == 1
    assert read(b"\n\n  " + report_xml(record())).unreadable == []  # blank lines before the declaration
    assert read(b"\xef\xbb\xbf" + report_xml(record())).unreadable == []  # UTF-8 byte order mark
    assert read(report_xml(record()).decode().encode("utf-16")).reports[0]["records"][0]["count"] == 1
    stray = read(report_xml(record(header_from=b"exa\x91mple.com")))  # a Windows-1252 quote in a UTF-8 report
    assert stray.reports[0]["records"][0]["header_from"] == "exa\ufffdmple.com"
    two_members = gzip.compress(report_xml(record())[:100]) + gzip.compress(report_xml(record())[100:])
    assert read(two_members).reports[0]["report_id"] == "1"
    assert read(report_xml(record()).replace(b"<report_id>1", b"<report_id> &lt;1@r.example&gt; ")).reports[0]["report_id"] == \
        "1@r.example"
    assert read(report_xml(record()).replace(b"<org_name>r.example</org_name>", b"<org_name/><email>a@b.example</email>")
                ).reports[0]["org_name"] == "b.example"


def test_the_same_tls_report_twice_counts_once_and_a_broken_one_says_which_field():
    data = (CORPUS / "src" / "tls-rfc8460.json").read_bytes()
    found = collector()
    found.read_bytes("a.json", data)
    found.read_bytes("b.json.gz", gzip.compress(data))
    assert len(found.tls_reports) == 1 and found.unreadable == []
    policy = found.tls_reports[0]["policies"][0]
    assert (policy["policy_type"], policy["policy_domain"], policy["successful"], policy["failed"]) == \
        ("sts", "example.com", 5326, 303)
    assert policy["failure_details"][2]["failure_reason_code"] == "X509_V_ERR_PROXY_PATH_LENGTH_EXCEEDED"
    doc = json.loads(data)
    doc["policies"][0]["summary"]["total-failure-session-count"] = "many"
    assert read(json.dumps(doc).encode()).unreadable[0]["problem"] == \
        "policies[0]/summary/total-failure-session-count 'many' is not a session count."
