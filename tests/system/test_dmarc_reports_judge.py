"""The DMARC report reader against parsedmarc 11.1.0, the judge, on every report of the corpus.

Each file of tests/dmarc_corpus/good is read by both (parsedmarc in its own venv, `make judge-venv`);
they must find the same reports with the same records, counts, pass/fail results, auth results
and sources. parsedmarc shortens report ids at "@" and renames organisations to their base
domain, so ids are compared up to "@" and organisation names only for TLS reports.
"""
import json
import subprocess
from pathlib import Path

import pytest

from ansible_collections.mailauth.hardening.plugins.module_utils._reports.files import Collector, Limits

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "tests" / "dmarc_corpus"
JUDGE_PYTHON = REPO / ".build" / "judge-venv" / "bin" / "python"
GOOD = sorted(path for path in (CORPUS / "good").iterdir())
# Where the reader and the judge read a report differently on purpose: {file: [(where, ours, theirs)]}.
KNOWN_DIFFERENCES = {
    # A Latin-1 report: parsedmarc decodes every report as UTF-8 and drops what does not decode; the reader
    # follows the XML declaration. Dropping bytes can also join a forged name into a real one.
    "rfc7489-draft.xml.gz": [
        (("records", 1, "spf_results", 0, 0), "m\u00e9tro.example", "mtro.example"),
        (("records", 1, "envelope_from"), "m\u00e9tro.example", "mtro.example"),
    ],
}


def ours(path):
    collector = Collector(Limits(64 << 20, 100 << 20, 100000, 16))
    collector.read_path(str(path))
    assert collector.unreadable == [], collector.unreadable
    return [aggregate(r) for r in collector.reports] + [tls(r) for r in collector.tls_reports]


def aggregate(report):
    return {
        "kind": "aggregate",
        "report_id": report["report_id"].split("@")[0],
        "domain": report["domain"],
        "begin": report["begin"],
        "end": report["end"],
        "policy": dict((key, report["policy_published"][key]) for key in ("p", "sp", "adkim", "aspf", "pct", "fo", "np",
                                                                          "testing", "discovery_method")),
        "records": [{
            "source_ip": record["source_ip"],
            "count": record["count"],
            "header_from": record["header_from"],
            "envelope_from": record["envelope_from"],
            "disposition": record["disposition"],
            "dkim": record["dkim"],
            "spf": record["spf"],
            "reasons": [[r["type"], r["comment"]] for r in record["reasons"]],
            "dkim_results": [[r["domain"], r["selector"], r["result"]] for r in record["auth_results"]["dkim"]],
            "spf_results": [[r["domain"], r["scope"], r["result"]] for r in record["auth_results"]["spf"]],
        } for record in report["records"]],
    }


def tls(report):
    return {
        "kind": "tls",
        "org_name": report["org_name"],
        "report_id": report["report_id"],
        "begin": report["begin"],
        "end": report["end"],
        "policies": [{
            "policy_type": policy["policy_type"],
            "policy_domain": policy["policy_domain"],
            "successful": policy["successful"],
            "failed": policy["failed"],
            "failure_details": [[d["result_type"], d["failed_session_count"], d["sending_mta_ip"], d["receiving_ip"],
                                 d["receiving_mx_hostname"], d["failure_reason_code"], d["additional_information"]]
                                for d in policy["failure_details"]],
        } for policy in report["policies"]],
    }


@pytest.fixture(scope="module")
def judged():
    if not JUDGE_PYTHON.exists():
        pytest.fail("the judge's venv is missing: run `make judge-venv` (make test and make system do)")
    proc = subprocess.run([str(JUDGE_PYTHON), str(CORPUS / "judge.py")] + [str(p) for p in GOOD],
                          capture_output=True, text=True, check=True, timeout=300)
    return dict((Path(name).name, found) for name, found in json.loads(proc.stdout).items())


def _at(data, path):
    for key in path:
        data = data[key]
    return data


@pytest.mark.parametrize("path", GOOD, ids=[p.name for p in GOOD])
def test_reads_every_corpus_report_as_parsedmarc_does(path, judged):
    theirs = judged[path.name]
    assert not isinstance(theirs, dict), "parsedmarc refuses %s: %s" % (path.name, theirs)
    mine = ours(path)
    assert [r["kind"] for r in mine] == [r["kind"] for r in theirs] and mine
    for where, expected_mine, expected_theirs in KNOWN_DIFFERENCES.get(path.name, []):
        assert (_at(mine[0], where), _at(theirs[0], where)) == (expected_mine, expected_theirs)
        _at(theirs[0], where[:-1])[where[-1]] = expected_mine
    assert mine == theirs


def test_the_corpus_has_every_shape_the_issue_names():
    names = " ".join(p.name for p in GOOD)
    for shape in ("google", "microsoft", "yahoo", "fastmail", "mimecast", ".zip", ".gz", ".eml", ".mbox", "rfc9990",
                  "tls-rfc8460"):
        assert shape in names


BROKEN = sorted(path for path in (CORPUS / "broken").iterdir())
# parsedmarc recovers what lxml can of a truncated document; a report cut short gives wrong counts, so the
# reader skips it instead.
JUDGE_READS_ANYWAY = {"truncated.xml"}


@pytest.fixture(scope="module")
def judged_broken():
    proc = subprocess.run([str(JUDGE_PYTHON), str(CORPUS / "judge.py")] + [str(p) for p in BROKEN],
                          capture_output=True, text=True, check=True, timeout=300)
    return dict((Path(name).name, found) for name, found in json.loads(proc.stdout).items())


@pytest.mark.parametrize("path", BROKEN, ids=[p.name for p in BROKEN])
def test_skips_every_broken_file_with_a_reason_as_parsedmarc_refuses_it(path, judged_broken):
    collector = Collector(Limits(64 << 20, 100 << 20, 100000, 16))
    collector.read_path(str(path))
    assert collector.reports == [] and collector.tls_reports == []
    assert len(collector.unreadable) == 1 and collector.unreadable[0]["path"].startswith(str(path))
    assert collector.unreadable[0]["problem"]
    refused = isinstance(judged_broken[path.name], dict)
    assert refused is (path.name not in JUDGE_READS_ANYWAY), judged_broken[path.name]
