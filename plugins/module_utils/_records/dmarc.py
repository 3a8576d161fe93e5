# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""DMARC policy records (RFC 9989, which obsoletes RFC 7489) and report authorisation.

Build, parse and validate ``_dmarc.DOMAIN`` records, and name the
``DOMAIN._report._dmarc.DEST`` records a report receiver in another domain
publishes. No DNS here.
"""

from __future__ import annotations

import re
from urllib.parse import unquote as _url_unquote

from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError
from ansible_collections.mailauth.hardening.plugins.module_utils._core.findings import Finding
from ansible_collections.mailauth.hardening.plugins.module_utils._records.lookup import is_hostname, normalise_name
from ansible_collections.mailauth.hardening.plugins.module_utils._records.tags import unique_items


VERSION = "DMARC1"
REPORT_AUTH_RECORD = "v=DMARC1"
POLICIES = ("none", "quarantine", "reject")
YES_NO = ("y", "n")
PSD_VALUES = ("y", "n", "u")
ALIGNMENTS = ("r", "s")
FO_OPTIONS = ("0", "1", "d", "s")
# The order tags are written in: v first (required), then p, as every reader expects.
TAG_ORDER = ("p", "sp", "np", "psd", "t", "adkim", "aspf", "rua", "ruf", "fo")
OBSOLETE_TAGS = {
    "pct": "RFC 9989 removed pct: receivers apply the policy to all failing mail or none of it. "
           "Roll out with p=none, then quarantine, then reject (t=y to test a step) instead of percentages.",
    "rf": "RFC 9989 removed rf: failure reports have one format (AFRF).",
    "ri": "RFC 9989 removed ri: aggregate reports are sent about once a day.",
}
# Well-known two-level public suffixes. The Public Suffix List cannot be fetched
# here (no network), and RFC 9989 replaced it with a DNS tree walk that needs DNS;
# this small list is enough to tell "same registered domain" for report addresses.
TWO_LEVEL_SUFFIXES = frozenset((
    "co.uk", "org.uk", "ac.uk", "gov.uk", "me.uk", "net.uk", "ltd.uk", "plc.uk",
    "com.au", "net.au", "org.au", "edu.au", "gov.au", "co.nz", "org.nz", "net.nz",
    "co.jp", "ne.jp", "or.jp", "ac.jp", "co.kr", "or.kr", "com.cn", "net.cn", "org.cn",
    "com.br", "net.br", "org.br", "com.mx", "com.ar", "com.tr", "com.tw", "com.hk", "com.sg",
    "co.in", "net.in", "org.in", "co.za", "org.za", "co.il", "org.il", "com.pl", "com.ua",
    "co.at", "or.at", "co.id", "co.th", "com.my", "com.ph", "com.vn", "com.co", "com.pe",
))

_TAG_RE = re.compile(r"^([A-Za-z]+)[ \t]*=[ \t]*(.*)$")
_LOCAL_PART_RE = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+$")


def _choice(field, value, allowed, what):
    if isinstance(value, bool) and allowed in (YES_NO, PSD_VALUES):
        value = "y" if value else "n"
    text = value.strip().lower() if isinstance(value, str) else value
    if text not in allowed:
        raise InputError(field, "%r is not %s." % (value, " or ".join(allowed)), "use %s." % what)
    return text


def _fo(field, value):
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if isinstance(value, (list, tuple)):
        options = [str(v).strip().lower() for v in value]
    elif isinstance(value, str):
        options = [v.strip().lower() for v in value.split(":")]
    else:
        raise InputError(field, "must be text like 1 or 0:d, got %r." % (value,))
    for option in options:
        if option not in FO_OPTIONS:
            raise InputError(field, "%r is not a failure reporting option." % option,
                             "combine 0 or 1 with d and s, separated by colons, e.g. 1 or 1:d.")
    if len(set(options)) != len(options) or ("0" in options and "1" in options):
        raise InputError(field, "%r repeats an option or combines 0 and 1 (RFC 9989 4.7)." % ":".join(options),
                         "use each option once, and 0 or 1, not both.")
    return ":".join(options)


REPORT_ADDRESS_FIX = "write it as user@example.com or mailto:user@example.com (no , ! or ; in it)."


def mailto_uri(field, value, fix=REPORT_ADDRESS_FIX):
    """A report address (plain e-mail or mailto: URI) as a mailto: URI; also TLS-RPT's mail destinations."""
    if not isinstance(value, str) or not value.strip():
        raise InputError(field, "must be an e-mail address or mailto: URI, got %r." % (value,))
    address = value.strip()
    if address.lower().startswith("mailto:"):
        address = address[len("mailto:"):]
    local, at, domain = address.rpartition("@")
    if not at or not _LOCAL_PART_RE.match(local) or "," in local or "!" in local or not is_hostname(domain):
        raise InputError(field, "%r is not a report address." % value, fix)
    return "mailto:%s@%s" % (local, normalise_name(domain))


def _uri_list(field, values):
    if values is None:
        return []
    if isinstance(values, str):
        values = [v for v in values.split(",") if v.strip()]
    return unique_items(field, values, mailto_uri)


def build_dmarc(p="none", rua=(), ruf=(), fo=None, adkim=None, aspf=None, sp=None, np=None, t=None, psd=None,
                **other):
    """The ``_dmarc`` record text: ``v=DMARC1; p=...; ...``; None leaves a tag out.

    pct, rf and ri are refused (RFC 9989 removed them); other unknown names too.
    """
    for name in sorted(other):
        if name in OBSOLETE_TAGS:
            raise InputError("dmarc.%s" % name, OBSOLETE_TAGS[name], "remove %s." % name)
        raise InputError("dmarc.%s" % name, "is not a DMARC tag.",
                         "use p, sp, np, rua, ruf, fo, adkim, aspf, t or psd.")
    tags = {"p": _choice("dmarc.p", "none" if p is None else p, POLICIES, "none, quarantine or reject")}
    if sp is not None:
        tags["sp"] = _choice("dmarc.sp", sp, POLICIES, "none, quarantine or reject")
    if np is not None:
        tags["np"] = _choice("dmarc.np", np, POLICIES, "none, quarantine or reject")
    if psd is not None:
        tags["psd"] = _choice("dmarc.psd", psd, PSD_VALUES, "y (a public suffix), n or u")
    if t is not None:
        tags["t"] = _choice("dmarc.t", t, YES_NO, "y (testing) or n")
    if adkim is not None:
        tags["adkim"] = _choice("dmarc.adkim", adkim, ALIGNMENTS, "r (relaxed) or s (strict)")
    if aspf is not None:
        tags["aspf"] = _choice("dmarc.aspf", aspf, ALIGNMENTS, "r (relaxed) or s (strict)")
    for name, values in (("rua", rua), ("ruf", ruf)):
        uris = _uri_list("dmarc.%s" % name, values)
        if uris:
            tags[name] = ",".join(uris)
    if fo is not None:
        tags["fo"] = _fo("dmarc.fo", fo)
    return "; ".join(["v=" + VERSION] + ["%s=%s" % (name, tags[name]) for name in TAG_ORDER if name in tags])


# ---------------------------------------------------------------- parse and validate

def _split_tags(text, field):
    """The record's (name, value) pairs in order; the first must be v=DMARC1."""
    if not isinstance(text, str) or not text.strip():
        raise InputError(field, "the DMARC record is empty.", "publish e.g. v=DMARC1; p=none; rua=mailto:...")
    parts = [part.strip(" \t") for part in text.split(";")]
    if parts and parts[-1] == "":
        parts.pop()  # a trailing separator is allowed
    pairs = []
    for part in parts:
        match = _TAG_RE.match(part)
        if not match:
            raise InputError(field, "%r is not a tag=value pair." % part, "separate tags with ';', e.g. p=none; fo=1.")
        name, value = match.group(1).lower(), match.group(2).strip(" \t")
        if any(not 0x20 <= ord(c) <= 0x7E for c in value):
            raise InputError("%s.%s" % (field, name), "the value has a character that is not printable ASCII.")
        pairs.append((name, value))
    if not pairs or pairs[0][0] != "v":
        raise InputError("%s.v" % field, "the record must start with v=%s." % VERSION,
                         "put v=%s first." % VERSION)
    if pairs[0][1] != VERSION:
        raise InputError("%s.v" % field, "the version is %r; it must be %s (case-sensitive)." % (pairs[0][1], VERSION),
                         "write v=%s." % VERSION)
    seen = set()
    for name, _value in pairs:
        if name in seen:
            raise InputError("%s.%s" % (field, name), "the tag appears more than once.", "keep one %s tag." % name)
        seen.add(name)
    return pairs


def _parse_uris(field, value):
    uris = [uri.strip(" \t") for uri in value.split(",")]
    for uri in uris:
        if not re.match(r"^[A-Za-z][A-Za-z0-9+.\-]*:\S+$", uri):
            raise InputError(field, "%r is not a URI." % uri, "write mailto:user@example.com.")
    return uris


def parse_dmarc(text, field="dmarc"):
    """Parse a record into a dict of its tags (names lower case).

    v must come first, a repeated tag is an error, unknown tags are ignored
    (RFC 9989), obsolete pct/rf/ri are kept as given so validation can warn.
    rua and ruf become lists of URIs; a bad value raises InputError naming the tag.
    """
    record = {}
    for name, value in _split_tags(text, field):
        tag_field = "%s.%s" % (field, name)
        if name == "v":
            record["v"] = value
        elif name in ("p", "sp", "np"):
            record[name] = _choice(tag_field, value, POLICIES, "none, quarantine or reject")
        elif name == "psd":
            record[name] = _choice(tag_field, value, PSD_VALUES, "y, n or u")
        elif name == "t":
            record[name] = _choice(tag_field, value, YES_NO, "y or n")
        elif name in ("adkim", "aspf"):
            record[name] = _choice(tag_field, value, ALIGNMENTS, "r or s")
        elif name == "fo":
            record[name] = _fo(tag_field, value)
        elif name in ("rua", "ruf"):
            record[name] = _parse_uris(tag_field, value)
        elif name in OBSOLETE_TAGS:
            record[name] = value
    return record


def find_dmarc(txt_values, domain=None):
    """Pick the DMARC record among the TXT values at ``_dmarc.DOMAIN``: ``(text or None, findings)``."""
    where = " at _dmarc.%s" % domain if domain else ""
    records = [v for v in txt_values or [] if isinstance(v, str) and re.match(r"^[vV][ \t]*=[ \t]*DMARC1(;|[ \t]|$)", v)]
    if not records:
        return None, [Finding("dmarc.missing", "error", "no TXT record starting with v=DMARC1%s." % where,
                              "publish e.g. v=DMARC1; p=none; rua=mailto:dmarc-reports@DOMAIN.")]
    if len(records) > 1:
        return None, [Finding("dmarc.syntax", "error", "%d DMARC records%s; receivers ignore them all (RFC 9989)."
                              % (len(records), where), "keep one record.")]
    return records[0], []


def validate_dmarc(text):
    """Findings about one record's text, without DNS."""
    if text is None or not str(text).strip():
        return [Finding("dmarc.missing", "error", "the DMARC record is empty.",
                        "publish e.g. v=DMARC1; p=none; rua=mailto:dmarc-reports@DOMAIN.")]
    try:
        record = parse_dmarc(text)
    except InputError as err:
        return [Finding("dmarc.syntax", "error", str(err), err.fix)]
    findings = []
    for name in sorted(OBSOLETE_TAGS):
        if name in record:
            findings.append(Finding("dmarc.obsolete", "warning", "%s=%s: %s" % (name, record[name], OBSOLETE_TAGS[name]),
                                    "remove %s." % name))
    for name, _value in _split_tags(text, "dmarc"):
        if name not in TAG_ORDER and name != "v" and name not in OBSOLETE_TAGS:
            findings.append(Finding("dmarc.syntax", "info", "unknown tag %r is ignored (RFC 9989)." % name,
                                    "remove it or fix its name."))
    policy = record.get("p")
    if policy is None:
        findings.append(Finding("dmarc.policy", "warning", "no p tag: RFC 9989 reads that as p=none, older receivers "
                                "reject the record.", "add p=none (or quarantine, reject) after v=DMARC1."))
    elif policy == "none":
        findings.append(Finding("dmarc.policy", "info", "p=none only monitors; failing mail is delivered as usual.",
                                "move to quarantine, then reject, once the reports show all your mail passes."))
    if record.get("t") == "y" and policy in ("quarantine", "reject"):
        findings.append(Finding("dmarc.policy", "info", "t=y: receivers apply the policy one step lower while you test.",
                                "remove t=y when the reports are clean."))
    if not record.get("rua"):
        findings.append(Finding("dmarc.policy", "info", "no rua: nobody receives aggregate reports.",
                                "add rua=mailto:dmarc-reports@DOMAIN."))
    if "fo" in record and not record.get("ruf"):
        findings.append(Finding("dmarc.syntax", "info", "fo= has no effect without ruf.", "add ruf= or remove fo=."))
    return findings


# ---------------------------------------------------------------- report authorisation

def organisational_domain(name):
    """The registered domain of ``name``: its last two labels, three under a TWO_LEVEL_SUFFIXES entry."""
    labels = normalise_name(name).split(".")
    if len(labels) >= 3 and ".".join(labels[-2:]) in TWO_LEVEL_SUFFIXES:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def _report_domain(uri):
    """The domain a mailto: URI delivers to, or None for other schemes."""
    if not uri.lower().startswith("mailto:"):
        return None
    address = uri[len("mailto:"):].split("?", 1)[0]
    address = re.sub(r"!\d+[kmgt]?$", "", address, flags=re.IGNORECASE)  # RFC 7489 size limit suffix
    domain = _url_unquote(address).rpartition("@")[2]
    return normalise_name(domain) if domain else None


def report_destinations(domain, record):
    """The rua/ruf destination domains outside ``domain``'s registered domain, sorted.

    ``record`` is the record text or ``parse_dmarc``'s dict. Each destination
    must publish ``report_auth_name(domain, destination)`` (RFC 7489 7.1, kept by RFC 9989).
    """
    _check_name("domain", domain)
    if isinstance(record, str):
        record = parse_dmarc(record)
    own = organisational_domain(domain)
    destinations = set()
    for uri in list(record.get("rua") or []) + list(record.get("ruf") or []):
        dest = _report_domain(uri)
        if dest and organisational_domain(dest) != own:
            destinations.add(dest)
    return sorted(destinations)


def _check_name(field, name):
    if not is_hostname(name):
        raise InputError(field, "%r is not a domain name." % (name,), "use a name like example.com.")
    return normalise_name(name)


def report_auth_name(domain, destination):
    """The name the report receiver publishes ``v=DMARC1`` at: DOMAIN._report._dmarc.DEST."""
    return "%s._report._dmarc.%s" % (_check_name("domain", domain), _check_name("destination", destination))


def report_auth_names(domain, destination):
    """The exact authorisation name and the wildcard one that covers every domain."""
    return [report_auth_name(domain, destination), "*._report._dmarc.%s" % _check_name("destination", destination)]
