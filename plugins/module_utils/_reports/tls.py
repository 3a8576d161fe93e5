# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""SMTP TLS reports (RFC 8460 section 4) from JSON, normalised as parsedmarc normalises them."""

from __future__ import annotations

import datetime
import json

from ansible_collections.mailauth.hardening.plugins.module_utils._reports.xml import ReportError

POLICY_TYPES = ("tlsa", "sts", "no-policy-found")
DETAIL_FIELDS = ("sending-mta-ip", "receiving-ip", "receiving-mx-hostname", "receiving-mx-helo",
                 "failure-reason-code", "additional-information")


def _field(data, key, where):
    if not isinstance(data, dict) or key not in data:
        raise ReportError("the TLS report has no %s%s." % (where, key))
    return data[key]


def _count(data, key, where):
    value = _field(data, key, where)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ReportError("%s%s %r is not a session count." % (where, key, value))
    return value


def _text(value):
    """A non-blank string, else None (reporters send "" for fields they lack)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return value if isinstance(value, str) else json.dumps(value)


def _when(value, key):
    try:
        moment = datetime.datetime.fromisoformat(str(value).strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ReportError("date-range/%s %r is not an RFC 3339 date-time." % (key, value))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _details(entry, where):
    details = {"result_type": _text(_field(entry, "result-type", where)),
               "failed_session_count": _count(entry, "failed-session-count", where)}
    for key in DETAIL_FIELDS:
        details[key.replace("-", "_")] = _text(entry.get(key))
    if details["additional_information"] is None:  # the name some reporters use instead
        details["additional_information"] = _text(entry.get("additional-info-uri"))
    return details


def _policy(entry, index):
    where = "policies[%d]/" % index
    policy = _field(entry, "policy", where)
    policy_type = _field(policy, "policy-type", where + "policy/")
    if policy_type not in POLICY_TYPES:
        raise ReportError("%spolicy/policy-type %r is none of %s." % (where, policy_type, ", ".join(POLICY_TYPES)))
    summary = _field(entry, "summary", where)
    details = entry.get("failure-details") or []
    if not isinstance(details, list):
        raise ReportError("%sfailure-details is not a list." % where)
    strings = policy.get("policy-string")
    hosts = policy.get("mx-host", policy.get("mx-host-pattern"))
    return {
        "policy_type": policy_type,
        "policy_domain": str(_field(policy, "policy-domain", where + "policy/")).lower(),
        "policy_strings": [str(s) for s in strings] if isinstance(strings, list) else [],
        "mx_hosts": [str(h) for h in hosts] if isinstance(hosts, list) else [],
        "successful": _count(summary, "total-successful-session-count", where + "summary/"),
        "failed": _count(summary, "total-failure-session-count", where + "summary/"),
        "failure_details": [_details(d, "%sfailure-details[%d]/" % (where, n)) for n, d in enumerate(details)],
    }


def parse_tls(data):
    """One SMTP TLS report from JSON bytes; ReportError says why it is none."""
    try:
        doc = json.loads(data.decode("utf-8", "replace"))
    except ValueError as err:
        raise ReportError("the JSON is not readable: %s." % err)
    except RecursionError:
        raise ReportError("the JSON nests too deeply.")
    if not isinstance(doc, dict) or "organization-name" not in doc:
        raise ReportError("the JSON is not an SMTP TLS report (RFC 8460): it has no organization-name.")
    dates = _field(doc, "date-range", "")
    policies = _field(doc, "policies", "")
    if not isinstance(policies, list):
        raise ReportError("policies is not a list.")
    _field(doc, "contact-info", "")  # required by RFC 8460 (and by parsedmarc)
    report_id = _text(_field(doc, "report-id", ""))
    if report_id is None:
        raise ReportError("report-id is empty.")
    return {
        "org_name": _text(doc["organization-name"]) or "",
        "report_id": report_id,
        "begin": _when(_field(dates, "start-datetime", "date-range/"), "start-datetime"),
        "end": _when(_field(dates, "end-datetime", "date-range/"), "end-datetime"),
        "contact_info": _text(doc["contact-info"]),
        "policies": [_policy(entry, n) for n, entry in enumerate(policies)],
    }
