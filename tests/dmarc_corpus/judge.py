"""What parsedmarc reads from each corpus file, in the comparison form of test_dmarc_reports_judge.py.

Runs in the judge's own venv (.build/judge-venv, requirements/judge.txt), never in the controller's:
    .build/judge-venv/bin/python tests/dmarc_corpus/judge.py FILE...
prints {file: [report, ...]} as JSON, or {file: {"error": text}} where parsedmarc refuses the file.
parsedmarc runs offline (no DNS, no downloads) and without splitting long periods into days.
"""
import ipaddress
import json
import logging
import os
import sys
import time

os.environ["TZ"] = "UTC"  # parsedmarc writes report times in the local zone
time.tzset()

import parsedmarc  # noqa: E402  (after TZ is set)

OPTIONS = dict(offline=True, always_use_local_files=True)
POLICY_KEYS = ("p", "sp", "adkim", "aspf", "pct", "fo", "np", "testing", "discovery_method")


def iso(text):
    """parsedmarc's "YYYY-MM-DD HH:MM:SS" (UTC here) as ISO 8601."""
    return text.replace(" ", "T") + "Z"


def aggregate(report):
    meta, policy = report["report_metadata"], report["policy_published"]
    return {
        "kind": "aggregate",
        "report_id": meta["report_id"],
        "domain": policy["domain"].lower(),
        "begin": iso(meta["begin_date"]),
        "end": iso(meta["end_date"]),
        "policy": dict((key, policy.get(key)) for key in POLICY_KEYS),
        "records": [{
            "source_ip": str(ipaddress.ip_address(record["source"]["ip_address"])),
            "count": record["count"],
            "header_from": record["identifiers"]["header_from"],
            "envelope_from": record["identifiers"]["envelope_from"],
            "disposition": record["policy_evaluated"]["disposition"],
            "dkim": record["policy_evaluated"]["dkim"],
            "spf": record["policy_evaluated"]["spf"],
            "reasons": [[r.get("type"), r.get("comment")] for r in record["policy_evaluated"]["policy_override_reasons"]],
            "dkim_results": [[r["domain"], r["selector"], r["result"]] for r in record["auth_results"]["dkim"]],
            "spf_results": [[r["domain"], r["scope"], r["result"]] for r in record["auth_results"]["spf"]],
        } for record in report["records"]],
    }


def tls(report):
    return {
        "kind": "tls",
        "org_name": report["organization_name"],
        "report_id": report["report_id"],
        "begin": report["begin_date"],
        "end": report["end_date"],
        "policies": [{
            "policy_type": policy["policy_type"],
            "policy_domain": policy["policy_domain"].lower(),
            "successful": policy["successful_session_count"],
            "failed": policy["failed_session_count"],
            "failure_details": [[d["result_type"], d["failed_session_count"], d.get("sending_mta_ip"),
                                 d.get("receiving_ip"), d.get("receiving_mx_hostname"), d.get("failure_reason_code"),
                                 d.get("additional_info_uri")] for d in policy.get("failure_details", [])],
        } for policy in report["policies"]],
    }


def read(path):
    if path.endswith(".mbox"):
        found = parsedmarc.get_dmarc_reports_from_mbox(path, **OPTIONS)
        return [aggregate(r) for r in found["aggregate_reports"]] + [tls(r) for r in found["smtp_tls_reports"]]
    parsed = parsedmarc.parse_report_file(path, normalize_timespan_threshold_hours=1e9, **OPTIONS)
    if parsed["report_type"] == "aggregate":
        return [aggregate(parsed["report"])]
    if parsed["report_type"] == "smtp_tls":
        return [tls(parsed["report"])]
    return {"error": "a %s report, not an aggregate or TLS report" % parsed["report_type"]}


def main(paths):
    logging.disable(logging.CRITICAL)
    out = {}
    for path in paths:
        try:
            out[path] = read(path)
        except Exception as err:  # the judge's verdict on a file it refuses, whatever parsedmarc raised
            out[path] = {"error": "%s: %s" % (type(err).__name__, err)}
    json.dump(out, sys.stdout, indent=1, sort_keys=True)


if __name__ == "__main__":
    main(sys.argv[1:])
