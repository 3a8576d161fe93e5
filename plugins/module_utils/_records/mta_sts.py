# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""MTA-STS (RFC 8461): the policy file, the ``_mta-sts.DOMAIN`` TXT record and their checks.

The policy's ``id`` is derived from the policy text itself, so it changes exactly when the policy
changes and a re-run with the same policy publishes the same record. No DNS and no HTTPS here.
"""

from __future__ import annotations

import hashlib
import re

from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError
from ansible_collections.mailauth.hardening.plugins.module_utils._core.findings import Finding
from ansible_collections.mailauth.hardening.plugins.module_utils._records.lookup import is_hostname, normalise_name
from ansible_collections.mailauth.hardening.plugins.module_utils._records.tags import split_tags

VERSION = "STSv1"
MODES = ("enforce", "testing", "none")
MAX_AGE_LIMIT = 31557600  # RFC 8461 section 3.2: at most one year
DEFAULT_MAX_AGE = 604800  # one week: long enough to protect, short enough to recover from a mistake
SHORT_MAX_AGE = 86400  # below a day, senders re-fetch so often that enforce protects little
POLICY_PATH = "/.well-known/mta-sts.txt"
SITE_KEYS = ("certificate", "key")
SITE_EXAMPLES = {"certificate": "/etc/letsencrypt/live/%s/fullchain.pem", "key": "/etc/letsencrypt/live/%s/privkey.pem"}
ID_LENGTH = 32  # RFC 8461: 1-32 alphanumerics

_ID_RE = re.compile(r"^[A-Za-z0-9]{1,32}$")
# RFC 8461 3.1: a record that does not begin with "v=STSv1;" (blanks allowed before the ;) is not one.
_TXT_RE = re.compile(r"^v=STSv1[ \t]*;")


def policy_host(domain):
    """The name the policy is served from (``mta-sts.DOMAIN``)."""
    return "mta-sts.%s" % normalise_name(domain)


def policy_url(domain):
    return "https://%s%s" % (policy_host(domain), POLICY_PATH)


def txt_name(domain):
    return "_mta-sts.%s" % normalise_name(domain)


def mx_matches(pattern, host):
    """RFC 8461 section 4.1: a ``*.`` pattern matches exactly one more leftmost label."""
    pattern, host = normalise_name(pattern), normalise_name(host)
    if pattern.startswith("*."):
        label, _dot, rest = host.partition(".")
        return bool(label) and rest == pattern[2:]
    return pattern == host


def _mx_pattern(field, value):
    if not isinstance(value, str) or not is_hostname(value[2:] if value.startswith("*.") else value):
        raise InputError(field, "%r is not an MX host name or *.domain pattern." % (value,),
                         "write the MX host as it appears in the MX record, e.g. mx1.example.com or *.example.com.")
    return normalise_name(value)


def policy_input(domain, spec, mx_hosts=(), field="mta_sts"):
    """Check a domain's ``mta_sts`` mapping; return ``{mode, max_age, mx}`` or raise InputError.

    ``mx`` defaults to the domain's MX hosts; every MX host must be covered by one pattern, since a
    sender in enforce mode refuses to deliver to an MX the policy does not list.
    """
    if not isinstance(spec, dict):
        raise InputError(field, "must be a mapping with mode, max_age and mx.", "write mta_sts: {mode: testing}.")
    unknown = sorted(set(spec) - {"mode", "max_age", "mx"})
    if unknown:
        raise InputError("%s.%s" % (field, unknown[0]), "is not an MTA-STS option.", "use mode, max_age and mx.")
    mode = spec.get("mode", "testing")
    if mode not in MODES:
        raise InputError("%s.mode" % field, "%r is not a mode." % (mode,), "use testing, enforce or none.")
    max_age = spec.get("max_age", DEFAULT_MAX_AGE)
    if isinstance(max_age, bool) or not isinstance(max_age, int) or not 0 <= max_age <= MAX_AGE_LIMIT:
        raise InputError("%s.max_age" % field, "%r is not a number of seconds from 0 to %d." % (max_age, MAX_AGE_LIMIT),
                         "use e.g. %d (one week)." % DEFAULT_MAX_AGE)
    given = spec.get("mx")
    if given is None:
        given = list(mx_hosts)
    if isinstance(given, str):
        given = [given]
    patterns = []
    for index, value in enumerate(given):
        pattern = _mx_pattern("%s.mx[%d]" % (field, index), value)
        if pattern not in patterns:
            patterns.append(pattern)
    if not patterns and mode != "none":
        raise InputError("%s.mx" % field, "the policy lists no MX host and %s has none to take." % domain,
                         "list the domain's MX hosts in mta_sts.mx, or publish its MX records first.")
    uncovered = [h for h in mx_hosts if not any(mx_matches(p, h) for p in patterns)]
    if uncovered and mode != "none":
        raise InputError("%s.mx" % field, "the MX host %s of %s is not covered by %s: senders would refuse to "
                         "deliver to it." % (normalise_name(uncovered[0]), domain, ", ".join(patterns)),
                         "add %s to mta_sts.mx." % normalise_name(uncovered[0]))
    return {"mode": mode, "max_age": max_age, "mx": patterns}


def site_input(domain, spec, field="mta_sts"):
    """A domain's ``mta_sts`` inventory entry -> ``{policy, record, certificate, key}``.

    The policy keys (``mode``, ``max_age``, ``mx``) make the policy text and its ``_mta-sts`` record,
    so the file served and the id published come from one place; ``certificate`` and ``key`` are the
    PEM files on the web host for ``mta-sts.DOMAIN`` (kept by the user's ACME client).
    """
    if not isinstance(spec, dict):
        raise InputError(field, "must be a mapping with mode, max_age, mx, certificate and key.",
                         "write mta_sts: {mode: testing, mx: [mx1.example.com], certificate: ..., key: ...}.")
    unknown = sorted(set(spec) - {"mode", "max_age", "mx"} - set(SITE_KEYS))
    if unknown:
        raise InputError("%s.%s" % (field, unknown[0]), "is not an MTA-STS setting.",
                         "use mode, max_age, mx, certificate and key.")
    files = {}
    for key in SITE_KEYS:
        path = spec.get(key)
        if not isinstance(path, str) or not path.startswith("/"):
            raise InputError("%s.%s" % (field, key), "%r is not an absolute path." % (path,),
                             "give the path of the PEM %s for %s on the web host, e.g. %s."
                             % (key, policy_host(domain), SITE_EXAMPLES[key] % policy_host(domain)))
        files[key] = path
    policy = policy_input(domain, dict((k, v) for k, v in spec.items() if k not in SITE_KEYS), field=field)
    text = build_policy(policy["mode"], policy["mx"], policy["max_age"])
    return dict(files, policy=text, record=build_txt(text))


def build_policy(mode, mx, max_age=DEFAULT_MAX_AGE):
    """The policy file: ``version``, ``mode``, one ``mx`` line per pattern, ``max_age``; LF line ends."""
    lines = ["version: %s" % VERSION, "mode: %s" % mode]
    lines += ["mx: %s" % pattern for pattern in mx]
    lines.append("max_age: %d" % max_age)
    return "\n".join(lines) + "\n"


def policy_id(policy_text):
    """The ``id`` for a policy: the first 32 hex digits of its SHA-256 (changes exactly with the text)."""
    return hashlib.sha256(policy_text.encode("utf-8")).hexdigest()[:ID_LENGTH]


def build_txt(policy_text):
    return "v=%s; id=%s" % (VERSION, policy_id(policy_text))


def parse_txt(text, field="mta_sts_txt"):
    """``{"v": ..., "id": ...}`` of a ``_mta-sts`` record, or InputError naming what is wrong."""
    tags = split_tags(text, field, VERSION, "v=STSv1; id=20261202T000000")
    if not _ID_RE.match(tags.get("id", "")):
        raise InputError("%s.id" % field, "id %r is not 1-32 letters and digits." % tags.get("id"),
                         "write id= with letters and digits only, changed whenever the policy changes.")
    return tags


def parse_policy(text, field="mta_sts_policy"):
    """``{version, mode, max_age, mx}`` of a served policy file; InputError on anything RFC 8461 refuses."""
    policy = {"mx": []}
    for number, line in enumerate((text or "").replace("\r\n", "\n").split("\n"), 1):
        if not line.strip():
            continue
        key, colon, value = line.partition(":")
        key, value = key.strip(), value.strip()
        if not colon or not key:
            raise InputError("%s line %d" % (field, number), "%r is not a key: value line." % line)
        if key == "mx":
            policy["mx"].append(value.lower())
        elif key in ("version", "mode", "max_age"):
            if key in policy:
                raise InputError("%s.%s" % (field, key), "appears more than once.", "keep one %s line." % key)
            policy[key] = value
    if policy.get("version") != VERSION:
        raise InputError("%s.version" % field, "must be %s." % VERSION, "start the file with version: STSv1.")
    if policy.get("mode") not in MODES:
        raise InputError("%s.mode" % field, "%r is not a mode." % policy.get("mode"), "use testing, enforce or none.")
    max_age = policy.get("max_age", "")
    if not max_age.isdigit() or int(max_age) > MAX_AGE_LIMIT:
        raise InputError("%s.max_age" % field, "%r is not 0 to %d seconds." % (max_age, MAX_AGE_LIMIT),
                         "write max_age: %d." % DEFAULT_MAX_AGE)
    policy["max_age"] = int(max_age)
    if not policy["mx"] and policy["mode"] != "none":
        raise InputError("%s.mx" % field, "the policy lists no mx.", "add one mx: line per MX host.")
    return policy


def find_txt(txt_values, domain):
    """Pick the record among the TXT values at ``_mta-sts.DOMAIN``: ``(text or None, findings)``."""
    records = [v for v in txt_values or [] if isinstance(v, str) and _TXT_RE.match(v)]
    if len(records) == 1:
        return records[0], []
    if not records:
        return None, [Finding("mta_sts.missing", "warning", "no v=STSv1 record at %s: senders do not look for a "
                              "policy." % txt_name(domain), "publish the MTA-STS policy and its TXT record.")]
    return None, [Finding("mta_sts.syntax", "error", "%d v=STSv1 records at %s; senders ignore them all."
                          % (len(records), txt_name(domain)), "keep one record.")]


def check_policy(domain, txt_text, policy_text, mx_hosts):
    """Findings about a domain's MTA-STS as seen from outside: TXT syntax, the served policy, MX coverage.

    ``policy_text`` None means the policy could not be fetched over validated HTTPS (the caller says why
    in its own finding); the id is compared with the policy served, since senders cache by id.
    """
    findings = []
    try:
        tags = parse_txt(txt_text)
    except InputError as err:
        return [Finding("mta_sts.syntax", "error", str(err), err.fix)]
    if policy_text is None:
        return findings
    try:
        policy = parse_policy(policy_text)
    except InputError as err:
        return [Finding("mta_sts.policy", "error", "%s: %s" % (policy_url(domain), err), err.fix)]
    for host in mx_hosts:
        if not any(mx_matches(p, host) for p in policy["mx"]) and policy["mode"] != "none":
            findings.append(Finding("mta_sts.policy", "error", "the policy at %s does not cover the MX %s: senders "
                                    "in enforce mode refuse it." % (policy_url(domain), host),
                                    "add mx: %s to the policy." % host))
    if tags["id"] != policy_id(policy_text):
        findings.append(Finding("mta_sts.id", "warning", "id=%s does not match the served policy: the policy changed "
                                "without a new id, so senders keep the one they cached." % tags["id"],
                                "run harden: it publishes the id of the policy it serves."))
    if policy["mode"] == "testing":
        findings.append(Finding("mta_sts.policy", "info", "mode testing: senders report failures but deliver anyway.",
                                "move to enforce once the TLS reports show every MX passing."))
    elif policy["mode"] == "enforce" and policy["max_age"] < SHORT_MAX_AGE:
        findings.append(Finding("mta_sts.policy", "warning", "max_age %d is under a day: a downgrade attacker only "
                                "has to wait it out." % policy["max_age"], "raise max_age to at least 604800."))
    return findings
