# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The outside-in audit of a mail domain: SPF, DKIM, DMARC and DNSBL, as DNS serves them.

Pure: every answer comes from an injected resolver callable (see ``_records.lookup``),
so the same code runs against a live name server, each authoritative server in
turn, or a static table in unit tests. The record logic (``_spf``, ``_dmarc``,
``_dkim_record``, ``_dnsbl``) decides what a record means; this module decides
what to ask, compares the answers with what the hosts hold, and names each
problem with one of the check names in ``CHECK_ORDER``.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re

from ansible_collections.mailauth.hardening.plugins.module_utils._records.dkim_record import (
    dkim_dns_name, inspect_dkim_record, public_key_b64, require_cryptography, validate_dkim_record, validate_selector)
from ansible_collections.mailauth.hardening.plugins.module_utils._records.dmarc import (
    POLICIES, find_dmarc, parse_dmarc, report_auth_names, report_destinations, validate_dmarc)
from ansible_collections.mailauth.hardening.plugins.module_utils._records.dnsbl import build_site, filter_matches, mask_dqs
from ansible_collections.mailauth.hardening.plugins.module_utils._records import mta_sts as _mta_sts
from ansible_collections.mailauth.hardening.plugins.module_utils._records import tls_rpt as _tls_rpt
from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError
from ansible_collections.mailauth.hardening.plugins.module_utils._core.findings import SEVERITIES, Finding
from ansible_collections.mailauth.hardening.plugins.module_utils._records.lookup import (
    LookupFailure, is_hostname, normalise_name)
from ansible_collections.mailauth.hardening.plugins.module_utils._records.spf import (
    check_host, count_lookups, find_spf, parse_spf, validate_spf)
from ansible_collections.mailauth.hardening.plugins.module_utils._web.policy_fetch import FetchFailure

# The checks in the order reports show them (one column each).
CHECK_ORDER = (
    "spf.missing", "spf.multiple", "spf.syntax", "spf.lookups", "spf.all", "spf.sender",
    "dkim.missing", "dkim.syntax", "dkim.mismatch", "dkim.weak",
    "dmarc.missing", "dmarc.syntax", "dmarc.obsolete", "dmarc.policy", "dmarc.report_auth",
    "mta_sts.missing", "mta_sts.syntax", "mta_sts.policy", "mta_sts.id",
    "tls_rpt.missing", "tls_rpt.syntax",
    "dnsbl.listed",
    "dns.unreachable", "dns.cname_loop",
)
SPF_CHECKS = CHECK_ORDER[:6]
DKIM_CHECKS = CHECK_ORDER[6:10]
DMARC_CHECKS = CHECK_ORDER[10:15]
FAIL_ON = ("error", "warning", "never")
SPF_ALL_VALUES = ("fail", "softfail", "neutral")
ALL_TEXT = {"fail": "-all", "softfail": "~all", "neutral": "?all", "pass": "+all"}
# Answers of Spamhaus (and others following it) that are not listings: 127.255.255.254 for a
# query through a public or open resolver, 127.255.255.255 for excessive use.
DNSBL_REFUSED = ("127.255.255.254", "127.255.255.255")
DNSBL_ERROR_NET = ipaddress.ip_network("127.255.255.0/24")
DNSBL_LISTED_NET = ipaddress.ip_network("127.0.0.0/8")
# Cell status in the summary grid, worst last.
STATUS_ORDER = ("skipped", "ok", "info", "warning", "error")

_DMARC_RECORD_RE = re.compile(r"^[vV][ \t]*=[ \t]*DMARC1(;|[ \t]|$)")
_WHITESPACE_RE = re.compile(r"\s")
_MAX_REDIRECTS = 10


# ---------------------------------------------------------------- input

def _ip(value, field):
    try:
        address = ipaddress.ip_address(str(value).strip())
    except ValueError:
        raise InputError(field, "%r is not an IP address." % (value,), "give the host's outbound IPv4 or IPv6 address.")
    return str(address.ipv4_mapped or address) if address.version == 6 else str(address)


def expected_key_bytes(value, field="public_key"):
    """The public key bytes a host holds, from the base64 ``p=`` value, a whole record or a PEM key.

    Whitespace is ignored (keys are often copied wrapped), so two copies of the
    same key compare equal whatever their line breaks.
    """
    if not isinstance(value, str) or not value.strip():
        raise InputError(field, "must be the public key as base64 text.",
                         "pass the public_key that dkim_key or plesk_domain_dkim returned.")
    text = value.strip()
    if text.startswith("-----BEGIN"):
        require_cryptography()
        from cryptography.hazmat.backends import default_backend
        from cryptography.hazmat.primitives import serialization
        try:
            key = serialization.load_pem_public_key(text.encode("ascii"), backend=default_backend())
        except (ValueError, TypeError, UnicodeEncodeError):
            raise InputError(field, "is PEM text that does not hold a public key.",
                             "pass the -----BEGIN PUBLIC KEY----- block or its base64 p= value.")
        return base64.b64decode(public_key_b64(key))
    if "p=" in text:
        try:
            return inspect_dkim_record(text).public_key
        except InputError as err:
            raise InputError(field, "is a DKIM record that does not parse: %s" % err, err.fix)
    b64 = _WHITESPACE_RE.sub("", text)
    try:
        return base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError):
        raise InputError(field, "is not base64 text.", "pass the p= value of the key record (base64).")


def domain_spec(data, field):
    """Check one ``domains`` entry and return it normalised; InputError names the field."""
    if not isinstance(data, dict):
        raise InputError(field, "must be a mapping with at least name.", "write e.g. {name: example.com}.")
    unknown = sorted(set(data) - {"name", "sending_ips", "spf_all", "dkim", "dmarc_policy", "mta_sts", "tls_rpt"})
    if unknown:
        raise InputError(field, "unknown key(s) %s." % ", ".join(unknown),
                         "use name, sending_ips, spf_all, dkim, dmarc_policy, mta_sts and tls_rpt.")
    name = data.get("name")
    if not is_hostname(name or ""):
        raise InputError(field + ".name", "%r is not a domain name." % (name,), "write e.g. example.com.")
    spec = {"name": normalise_name(name), "sending_ips": [], "spf_all": None, "dkim": [], "dmarc_policy": None}
    for flag in ("mta_sts", "tls_rpt"):
        if not isinstance(data.get(flag, False), bool):
            raise InputError("%s.%s" % (field, flag), "must be true or false.",
                             "set it true when the domain publishes the record.")
        spec[flag] = data.get(flag, False)
    for index, ip in enumerate(data.get("sending_ips") or []):
        address = _ip(ip, "%s.sending_ips[%d]" % (field, index))
        if address not in spec["sending_ips"]:
            spec["sending_ips"].append(address)
    if data.get("spf_all") is not None:
        value = str(data["spf_all"]).strip().lower()
        value = {"-all": "fail", "~all": "softfail", "?all": "neutral", "-": "fail", "~": "softfail",
                 "?": "neutral"}.get(value, value)
        if value not in SPF_ALL_VALUES:
            raise InputError(field + ".spf_all", "%r is not fail, softfail or neutral." % (data["spf_all"],),
                             "use fail (-all).")
        spec["spf_all"] = value
    if data.get("dmarc_policy") is not None:
        value = str(data["dmarc_policy"]).strip().lower()
        if value not in POLICIES:
            raise InputError(field + ".dmarc_policy", "%r is not none, quarantine or reject." % (data["dmarc_policy"],),
                             "use the stage the domain should publish now, e.g. none.")
        spec["dmarc_policy"] = value
    for index, item in enumerate(data.get("dkim") or []):
        item_field = "%s.dkim[%d]" % (field, index)
        if isinstance(item, str):
            item = {"selector": item}
        if not isinstance(item, dict) or not item.get("selector"):
            raise InputError(item_field, "must be a mapping with selector (and public_key).",
                             "write e.g. {selector: s202611, public_key: MIIB...}.")
        try:
            selector = validate_selector(str(item["selector"]))
        except InputError as err:
            raise InputError(item_field + ".selector", err.problem, err.fix)
        key = item.get("public_key")
        spec["dkim"].append({"selector": selector,
                             "public_key": expected_key_bytes(key, item_field + ".public_key") if key else None})
    return spec


def dnsbl_sites(entries, field="dnsbl_zones", dqs_key=None):
    """The blocklists to check, as ``_dnsbl.DnsblSite``; allowlists (negative weight) are left out.

    Entries use the collection's one DNSBL syntax (``mailauth_dnsbl`` items): a
    string ``zone[=filter][*weight]`` or ``{zone, reply, weight, dqs_key}``; ``dqs_key`` moves
    public Spamhaus zones without a key of their own to the Data Query Service. Findings name a
    site by ``site.shown``, its zone with the key masked.
    """
    sites = []
    for index, entry in enumerate(entries or []):
        site = build_site(entry, "%s[%d]" % (field, index), dqs_key or None)
        if site.weight > 0:
            sites.append(site)
    return sites


# ---------------------------------------------------------------- collecting

class DomainAudit(object):
    """The findings of one domain against one view of DNS, and which checks ran."""

    def __init__(self, domain):
        self.domain = domain
        self.findings = []
        self.checked = set()
        self.unread_groups = set()

    def ran(self, *checks):
        self.checked.update(c for c in checks if not c.startswith(tuple(self.unread_groups)))

    def unread(self, group):
        """A record of ``group`` ("spf.", ...) could not be read: its checks show as not run, not ok."""
        self.unread_groups.add(group)
        self.checked = set(c for c in self.checked if not c.startswith(group))

    def add(self, findings):
        for finding in findings if isinstance(findings, (list, tuple)) else [findings]:
            self.checked.add(finding.check)
            if finding not in self.findings:
                self.findings.append(finding)


def _why(err):
    """A lookup failure as a clause: its text without the final full stop."""
    return str(err).rstrip(". ")


def _txt(lookup, name, group, audit):
    """TXT values at ``name``, or None after a ``dns.*`` error when the lookup failed.

    A failed read is never a missing record: the record may be there. ``group`` ("spf.",
    "dkim.", "dmarc.") is then shown as not checked, and the audit fails closed on the error.
    """
    try:
        values = lookup(name, "TXT")
    except LookupFailure as err:
        audit.unread(group)
        if err.kind == "cname_loop":
            audit.add(Finding("dns.cname_loop", "error", "%s; receivers get SERVFAIL and see no record there, so it "
                              "is not checked further (and not counted as missing)." % _why(err),
                              "point the CNAME at %s to a name that holds the record, or replace it by the record."
                              % name))
        else:
            audit.add(Finding("dns.unreachable", "error", "%s; the record could not be read, so it is not checked "
                              "(and not counted as missing)." % _why(err),
                              "make every authoritative name server of the zone answer for %s (or check "
                              "nameservers, nameserver_port and timeout)." % name))
        return None
    audit.ran("dns.unreachable", "dns.cname_loop")
    return values


# ---------------------------------------------------------------- SPF

# validate_spf's notes on the all qualifier; with an expected qualifier the audit states its own verdict.
_QUALIFIER_NOTES = ("?all", "~all", "no all mechanism")


def _effective_all(domain, record, lookup):
    """(result of the all that ends evaluation or None, domain whose record holds it), through redirects."""
    seen = [domain]
    for _hop in range(_MAX_REDIRECTS):
        if record.all is not None:
            return record.all.result, domain
        if record.redirect is None or "%" in record.redirect:
            return None, domain
        domain = normalise_name(record.redirect)
        if domain in seen:
            return None, domain
        seen.append(domain)
        try:
            text, _missing = find_spf(lookup(domain, "TXT"), domain)
            record = parse_spf(text) if text else None
        except (LookupFailure, InputError):
            record = None
        if record is None:
            return None, domain
    return None, domain


def audit_spf(audit, lookup, sending_ips=(), expected_all=None):
    domain = audit.domain
    values = _txt(lookup, domain, "spf.", audit)
    if values is None:
        return
    audit.ran("spf.missing", "spf.multiple")
    text, missing = find_spf(values, domain)
    if text is None:
        audit.add(missing)
        return
    audit.ran("spf.syntax")
    findings = validate_spf(text)
    if any(f.check == "spf.syntax" and f.severity == "error" for f in findings):
        audit.add(findings)
        return
    # The live count below sees the record's own terms too; its verdict replaces the text-only one.
    findings = [f for f in findings if f.check != "spf.lookups"]
    if expected_all:
        findings = [f for f in findings if not (f.check == "spf.all" and f.message.startswith(_QUALIFIER_NOTES))]
    audit.add(findings)
    audit.ran("spf.lookups", "spf.all")
    audit.add(count_lookups(domain, lookup).findings)
    if expected_all:
        _check_all(audit, text, lookup, expected_all)
    if sending_ips:
        audit.ran("spf.sender")
        for ip in sending_ips:
            _check_sender(audit, ip, lookup)


def _check_all(audit, text, lookup, expected):
    actual, where = _effective_all(audit.domain, parse_spf(text), lookup)
    if actual == expected or actual == "pass":  # +all is already an error of validate_spf
        return
    via = "" if where == audit.domain else " (reached through redirect= at %s)" % where
    if actual is None:
        message = "the SPF record%s has no all mechanism, so it ends neutral; expected %s." % (via, ALL_TEXT[expected])
    else:
        message = "the SPF record%s ends with %s (%s); expected %s (%s)." % (
            via, ALL_TEXT[actual], actual, ALL_TEXT[expected], expected)
    audit.add(Finding("spf.all", "warning", message, "end the SPF record of %s with %s." % (where, ALL_TEXT[expected])))


def _check_sender(audit, ip, lookup):
    result = check_host(ip, audit.domain, lookup)
    if result.result == "pass":
        return
    reason = " (%s)" % result.reason if result.reason else ""
    if result.result == "temperror":
        audit.add(Finding("spf.sender", "warning", "SPF for sending address %s could not be evaluated: temperror%s."
                          % (ip, reason), "make the name servers of %s answer." % result.domain))
        return
    family = "ip4" if ipaddress.ip_address(ip).version == 4 else "ip6"
    audit.add(Finding("spf.sender", "error", "sending address %s gets SPF %s, not pass%s."
                      % (ip, result.result, reason),
                      "add %s:%s (or a mechanism that covers the host) before the all of %s's SPF record."
                      % (family, ip, audit.domain)))


# ---------------------------------------------------------------- DKIM

def audit_dkim(audit, lookup, selectors):
    if not selectors:
        return
    audit.ran(*DKIM_CHECKS)
    for item in selectors:
        _check_selector(audit, lookup, item["selector"], item.get("public_key"))


def _check_selector(audit, lookup, selector, expected_key):
    name = dkim_dns_name(selector, audit.domain)
    values = _txt(lookup, name, "dkim.", audit)
    if values is None:
        return
    if not values:
        audit.add(Finding("dkim.missing", "error", "no DKIM key record at %s." % name,
                          "publish the selector's key record (v=DKIM1; k=...; p=...) at %s." % name))
        return
    if len(values) > 1:
        audit.add(Finding("dkim.syntax", "error", "%d TXT records at %s; verifiers may pick any of them."
                          % (len(values), name), "keep exactly one key record at %s." % name))
        return
    findings = validate_dkim_record(values[0], where=name)
    audit.add(findings)
    try:
        record = inspect_dkim_record(values[0])
    except InputError:
        return  # named by validate_dkim_record
    if record.revoked:
        audit.add(Finding("dkim.missing", "error", "%s is revoked (empty p=); mail signed with it fails." % name,
                          "sign with a published selector, or publish the key again."))
        return
    if expected_key is not None and record.public_key != expected_key:
        audit.add(Finding("dkim.mismatch", "error", "the key published at %s is not the key the host signs with; "
                          "signatures fail." % name,
                          "publish the host's current public key at %s (or sign with the key that is published)."
                          % name))


# ---------------------------------------------------------------- DMARC

def audit_dmarc(audit, lookup, expected_policy=None):
    domain = audit.domain
    values = _txt(lookup, "_dmarc." + domain, "dmarc.", audit)
    if values is None:
        return
    audit.ran("dmarc.missing")
    text, missing = find_dmarc(values, domain)
    audit.ran("dmarc.syntax")
    if text is None:
        audit.add(missing)
        return
    findings = validate_dmarc(text)
    audit.add(findings)
    if any(f.check == "dmarc.syntax" and f.severity == "error" for f in findings):
        return
    audit.ran("dmarc.obsolete", "dmarc.policy", "dmarc.report_auth")
    record = parse_dmarc(text)
    actual = record.get("p", "none")
    if expected_policy and actual != expected_policy:
        audit.add(Finding("dmarc.policy", "warning", "_dmarc.%s publishes p=%s; the expected stage is p=%s."
                          % (domain, actual, expected_policy),
                          "publish p=%s (move one stage at a time: none, quarantine, reject)." % expected_policy))
    for destination in report_destinations(domain, record):
        _check_report_auth(audit, lookup, destination)


def _check_report_auth(audit, lookup, destination):
    names = report_auth_names(audit.domain, destination)
    failures = []
    for name in names:
        try:
            values = lookup(name, "TXT")
        except LookupFailure as err:
            failures.append(_why(err))
            continue
        if any(_DMARC_RECORD_RE.match(v) for v in values):
            return
    if failures and len(failures) == len(names):
        audit.add(Finding("dmarc.report_auth", "warning", "could not check that %s accepts reports about %s: %s."
                          % (destination, audit.domain, "; ".join(failures)),
                          "make the name servers of %s answer." % destination))
        return
    audit.add(Finding("dmarc.report_auth", "warning", "%s does not authorise DMARC reports about %s (neither %s nor "
                      "%s has v=DMARC1); receivers drop those reports." % (destination, audit.domain, names[0], names[1]),
                      'publish %s TXT "v=DMARC1" in the zone of %s, or send reports to an address in %s.'
                      % (names[0], destination, audit.domain)))


# ---------------------------------------------------------------- transport security

def audit_mta_sts(audit, lookup, fetch=None):
    """The ``_mta-sts`` TXT record, and the policy ``fetch(domain, lookup)`` gets as a sender would.

    Without ``fetch`` only the record is checked. A policy that cannot be fetched is an error: a
    sender then has no policy, and the audit cannot say the MX hosts are covered (fails closed).
    """
    values = _txt(lookup, _mta_sts.txt_name(audit.domain), "mta_sts.", audit)
    if values is None:
        return
    audit.ran("mta_sts.missing", "mta_sts.syntax")
    text, findings = _mta_sts.find_txt(values, audit.domain)
    if text is None or fetch is None:
        audit.add(findings if text is None else _mta_sts.check_policy(audit.domain, text, None, ()))
        return
    audit.ran("mta_sts.policy", "mta_sts.id")
    try:
        mx_hosts = lookup(audit.domain, "MX")
        policy = fetch(audit.domain, lookup)
    except LookupFailure as err:
        audit.add(Finding("mta_sts.policy", "error", "the MX hosts of %s could not be read: %s; the policy's "
                          "coverage is not known." % (audit.domain, _why(err)),
                          "make the domain's name servers answer for its MX records."))
        return
    except FetchFailure as err:
        audit.add(Finding("mta_sts.policy", "error", "the policy could not be fetched as a sender fetches it: %s. "
                          "Senders then apply no policy." % err,
                          "serve %s over HTTPS with a certificate valid for %s (text/plain, no redirect)."
                          % (_mta_sts.policy_url(audit.domain), _mta_sts.policy_host(audit.domain))))
        return
    audit.add(_mta_sts.check_policy(audit.domain, text, policy, mx_hosts))


def audit_tls_rpt(audit, lookup):
    """The ``_smtp._tls`` TXT record: there once, ``v=TLSRPTv1`` with valid ``rua`` destinations."""
    values = _txt(lookup, _tls_rpt.txt_name(audit.domain), "tls_rpt.", audit)
    if values is None:
        return
    audit.ran("tls_rpt.missing", "tls_rpt.syntax")
    audit.add(_tls_rpt.check_txt(audit.domain, values))


# ---------------------------------------------------------------- DNSBL

def dnsbl_query_name(ip, zone):
    """The name a DNSBL is asked for ``ip``: reversed octets (IPv4) or nibbles (IPv6), then the zone."""
    address = ipaddress.ip_address(ip)
    if address.version == 4:
        labels = str(address).split(".")
    else:
        labels = list(address.exploded.replace(":", ""))
    return ".".join(reversed(labels)) + "." + zone


def audit_dnsbl(audit, lookup, sending_ips, sites):
    if not sending_ips or not sites:
        return
    audit.ran("dnsbl.listed")
    for ip in sending_ips:
        for site in sites:
            _check_listing(audit, lookup, ip, site)


def _check_listing(audit, lookup, ip, site):
    name = dnsbl_query_name(ip, site.zone)
    try:
        answers = lookup(name, "A")
    except LookupFailure as err:
        audit.add(Finding("dnsbl.listed", "warning", mask_dqs("%s could not be asked about %s: %s." % (site.zone, ip, _why(err))),
                          "check that this machine's resolver reaches %s." % site.shown))
        return
    refused = [a for a in answers if a in DNSBL_REFUSED]
    if refused:
        audit.add(Finding("dnsbl.listed", "warning", "query refused by the DNSBL (public or open resolver?): %s "
                          "answered %s for %s, which is an error code, not a listing." % (site.shown, refused[0], ip),
                          "ask the DNSBL through your own resolver (not a public one), or use a Spamhaus DQS key."))
        return
    codes = [a for a in answers if ipaddress.ip_address(a) in DNSBL_ERROR_NET]
    if codes:
        audit.add(Finding("dnsbl.listed", "warning", "%s answered the error code %s for %s; the query was not "
                          "understood, so the listing is unknown." % (site.shown, codes[0], ip),
                          "check the zone name (a domain list asked for an address?)."))
        return
    if site.reply:
        listed = [a for a in answers if ipaddress.ip_address(a).version == 4 and filter_matches(site.reply, a)]
    else:
        listed = [a for a in answers if ipaddress.ip_address(a) in DNSBL_LISTED_NET]
    if not listed:
        return
    try:
        reasons = lookup(name, "TXT")
    except LookupFailure:
        reasons = []
    reason = " Reason given: %s." % "; ".join(reasons) if reasons else ""
    audit.add(Finding("dnsbl.listed", "error", "sending address %s is listed on %s (answer %s).%s"
                      % (ip, site.shown, ", ".join(listed), reason),
                      "find out why (open relay, compromised account, bad neighbours), fix it, then ask %s to "
                      "delist %s." % (site.shown, ip)))


# ---------------------------------------------------------------- one domain, several servers

def audit_domain(spec, lookup, sites=(), fetch=None):
    """Every check for one ``domain_spec`` against one resolver; returns a ``DomainAudit``.

    ``fetch`` gets a domain's MTA-STS policy (``_web.policy_fetch.PolicyFetcher``); None checks the TXT only."""
    audit = DomainAudit(spec["name"])
    audit_spf(audit, lookup, spec["sending_ips"], spec["spf_all"])
    audit_dkim(audit, lookup, spec["dkim"])
    audit_dmarc(audit, lookup, spec["dmarc_policy"])
    if spec.get("mta_sts"):
        audit_mta_sts(audit, lookup, fetch)
    if spec.get("tls_rpt"):
        audit_tls_rpt(audit, lookup)
    audit_dnsbl(audit, lookup, spec["sending_ips"], sites)
    return audit


def finding_dict(domain, finding, servers=None):
    """What the module returns for one finding; ``servers`` names the servers that showed it when not all did."""
    message = finding.message
    if servers:
        message = "[only on %s] %s" % (", ".join(servers), message)
    return {"domain": domain, "check": finding.check, "severity": finding.severity, "message": message,
            "fix": finding.fix}


def merge_servers(audits):
    """One domain's ``[(server label, DomainAudit)]`` -> (finding dicts, checks that ran).

    A finding every server shows is reported once; one that only some servers
    show is prefixed with those servers' names, so "the key is missing on ns2"
    reads as such.
    """
    labels = [label for label, _audit in audits]
    domain = audits[0][1].domain
    order, seen_on = [], {}
    checked = set()
    for label, audit in audits:
        checked |= audit.checked
        for finding in audit.findings:
            if finding not in seen_on:
                seen_on[finding] = []
                order.append(finding)
            seen_on[finding].append(label)
    merged = []
    for finding in order:
        servers = seen_on[finding]
        merged.append(finding_dict(domain, finding, servers if len(labels) > 1 and len(servers) < len(labels) else None))
    return merged, checked


# ---------------------------------------------------------------- summary

def cell_status(findings, check, checked):
    """One grid cell: the worst severity among the check's findings, ok, or skipped when it did not run."""
    severities = [f["severity"] for f in findings if f["check"] == check]
    if severities:
        return max(severities, key=STATUS_ORDER.index)
    return "ok" if check in checked else "skipped"


def summarise(domains, findings, checked):
    """Counts per severity and the domain x check grid; ``checked`` maps domain -> checks that ran."""
    counts = dict((severity, sum(1 for f in findings if f["severity"] == severity)) for severity in SEVERITIES)
    # Grouped once: comparing every finding with every domain took seconds at 10,000 domains.
    by_domain = {}
    for finding in findings:
        by_domain.setdefault(finding["domain"], []).append(finding)
    grid = {}
    for domain in domains:
        own = by_domain.get(domain, [])
        grid[domain] = dict((check, cell_status(own, check, checked.get(domain, ()))) for check in CHECK_ORDER)
    return {"domains": len(domains), "findings": len(findings), "counts": counts,
            "checks": list(CHECK_ORDER), "grid": grid}


def passes(findings, fail_on):
    """True when no finding reaches ``fail_on`` (error, warning); with never, when there is no error."""
    levels = ("error", "warning") if fail_on == "warning" else ("error",)
    return not any(f["severity"] in levels for f in findings)


def run_audit(specs, views_for, sites=(), fail_on="error", fetch=None):
    """Audit every domain; ``views_for(domain)`` gives ``[(server label, resolver)]`` to ask.

    Returns ``{findings, summary, ok}``: the module's result.
    """
    findings, checked, domains = [], {}, []
    for spec in specs:
        audits = [(label, audit_domain(spec, lookup, sites, fetch)) for label, lookup in views_for(spec["name"])]
        merged, ran = merge_servers(audits)
        findings.extend(merged)
        checked[spec["name"]] = ran
        domains.append(spec["name"])
    summary = summarise(domains, findings, checked)
    return {"findings": findings, "summary": summary, "ok": passes(findings, fail_on)}
