# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""SPF records (RFC 7208): build, parse, validate, count DNS lookups, evaluate.

All DNS goes through an injected resolver (see ``_records.lookup``). The evaluator is a
check_host() of our own because pyspf is not in the pinned set and offers no
injectable resolver; checkdmarc only checks records, it does not evaluate an IP.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import quote as _url_quote

from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError
from ansible_collections.mailauth.hardening.plugins.module_utils._core.findings import Finding
from ansible_collections.mailauth.hardening.plugins.module_utils._records.lookup import LookupFailure, is_hostname, normalise_name


VERSION = "v=spf1"
QUALIFIER_RESULTS = {"+": "pass", "-": "fail", "~": "softfail", "?": "neutral"}
ALL_QUALIFIERS = {"fail": "-", "softfail": "~", "neutral": "?", "pass": "+"}
RESULTS = ("pass", "fail", "softfail", "neutral", "none", "permerror", "temperror")
MECHANISMS = ("all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists")
# Terms that cost a DNS lookup (RFC 7208 4.6.4); ip4, ip6 and all do not.
LOOKUP_TERMS = ("include", "a", "mx", "ptr", "exists", "redirect")
MAX_LOOKUPS = 10
MAX_VOID_LOOKUPS = 2
MAX_MX_NAMES = 10
# RFC 7208 3.4: keep a record small enough for a 512-octet UDP answer.
RECOMMENDED_MAX_OCTETS = 450
# Bound on a lookup count walk, so a pathological include tree cannot run away.
_MAX_WALK_LOOKUPS = 60

_MODIFIER_RE = re.compile(r"^([A-Za-z][A-Za-z0-9_.\-]*)=(.*)$")
_MECHANISM_RE = re.compile(r"^([+\-~?]?)([A-Za-z][A-Za-z0-9]*)(.*)$")
_DUAL_CIDR_RE = re.compile(r"^(.*?)(?:/([0-9]+))?(?://([0-9]+))?$")
# macro-expand: %{letter digits [r] delimiters}, %%, %_, %-
_MACRO_RE = re.compile(r"%(?:\{([A-Za-z])([0-9]*)(r?)([.\-+,/_=]*)\}|(%|_|-))")
_DOMAIN_SPEC_LETTERS = "slodiphv"
_EXP_ONLY_LETTERS = "crt"
_TOPLABEL_RE = re.compile(r"^(?:[A-Za-z0-9]*[A-Za-z][A-Za-z0-9]*|[A-Za-z0-9]+-[A-Za-z0-9\-]*[A-Za-z0-9])$")


class Term(object):
    """One SPF term: a mechanism (``kind="mechanism"``) or a modifier."""

    __slots__ = ("kind", "qualifier", "name", "value", "cidr4", "cidr6")

    def __init__(self, kind, name, value=None, qualifier="", cidr4=None, cidr6=None):
        self.kind = kind
        self.qualifier = qualifier
        self.name = name
        self.value = value
        self.cidr4 = cidr4
        self.cidr6 = cidr6

    @property
    def result(self):
        """The result this mechanism gives when it matches (no qualifier means +)."""
        return QUALIFIER_RESULTS[self.qualifier or "+"]

    @property
    def costs_lookup(self):
        return self.name in LOOKUP_TERMS

    def __str__(self):
        if self.kind == "modifier":
            return "%s=%s" % (self.name, self.value)
        text = self.qualifier + self.name
        if self.value is not None:
            text += ":" + self.value
        if self.name in ("ip4", "ip6"):
            return text + ("/%d" % self.cidr4 if self.cidr4 is not None else "") + (
                "/%d" % self.cidr6 if self.cidr6 is not None else "")
        if self.cidr4 is not None:
            text += "/%d" % self.cidr4
        if self.cidr6 is not None:
            text += "//%d" % self.cidr6
        return text

    def __repr__(self):
        return "Term(%r)" % str(self)

    def __eq__(self, other):
        return isinstance(other, Term) and str(self) == str(other) and self.kind == other.kind

    def __hash__(self):
        return hash(str(self))

    def as_dict(self):
        data = {"kind": self.kind, "name": self.name, "value": self.value, "text": str(self)}
        if self.kind == "mechanism":
            data.update(qualifier=self.qualifier, result=self.result, cidr4=self.cidr4, cidr6=self.cidr6)
        return data


class SpfRecord(object):
    """A parsed record: its terms in order, with the modifiers RFC 7208 defines at hand."""

    def __init__(self, terms):
        self.terms = tuple(terms)

    @property
    def mechanisms(self):
        return [t for t in self.terms if t.kind == "mechanism"]

    @property
    def modifiers(self):
        return [t for t in self.terms if t.kind == "modifier"]

    def modifier(self, name):
        for term in self.modifiers:
            if term.name == name:
                return term.value
        return None

    @property
    def redirect(self):
        return self.modifier("redirect")

    @property
    def exp(self):
        return self.modifier("exp")

    @property
    def all(self):
        """The first ``all`` mechanism, the one that counts, or None."""
        for term in self.mechanisms:
            if term.name == "all":
                return term
        return None

    def __str__(self):
        return " ".join([VERSION] + [str(t) for t in self.terms])

    def as_dict(self):
        first_all = self.all
        return {
            "record": str(self),
            "terms": [t.as_dict() for t in self.terms],
            "all": first_all.result if first_all else None,
            "redirect": self.redirect,
            "exp": self.exp,
        }


# ---------------------------------------------------------------- syntax

def _check_macro_string(spec, field, term, letters):
    """Every % must start a valid macro; macro letters limited to ``letters``."""
    pos = 0
    while True:
        pos = spec.find("%", pos)
        if pos < 0:
            return
        match = _MACRO_RE.match(spec, pos)
        if not match:
            raise InputError(field, "term %r: %r is not a valid macro." % (term, spec[pos:pos + 6]),
                             "write %{d}, %{i}, ... or %% for a literal percent sign (RFC 7208 7.1).")
        letter = match.group(1)
        if letter and letter.lower() not in letters:
            raise InputError(field, "term %r: macro letter %r is not allowed here." % (term, letter),
                             "use one of %s (c, r and t only in exp text)." % ", ".join(letters))
        if match.group(2) and int(match.group(2)) == 0:
            raise InputError(field, "term %r: a macro keeps at least one label, not 0." % term)
        pos = match.end()


def _check_domain_spec(spec, field, term):
    if not spec:
        name = re.split("[:=]", term.lstrip("+-~?"))[0]
        raise InputError(field, "term %r has no domain." % term,
                         "write the domain, e.g. %s%sexample.net." % (name, "=" if "=" in term else ":"))
    if any(c.isspace() or not 0x21 <= ord(c) <= 0x7E for c in spec):
        raise InputError(field, "term %r: the domain has a character that is not visible ASCII." % term,
                         "write internationalised names in their xn-- form.")
    _check_macro_string(spec, field, term, _DOMAIN_SPEC_LETTERS)
    if spec.endswith("}"):  # domain-end may be a macro-expand
        return
    if "%" in spec:
        # Literal labels around macros are free text; only the final label is constrained.
        labels = spec.rstrip(".").split(".")
        if len(labels) < 2 or not _TOPLABEL_RE.match(labels[-1]):
            raise InputError(field, "term %r: the domain must end with a top label or a macro." % term)
        return
    if not is_hostname(spec) or not _TOPLABEL_RE.match(spec.rstrip(".").rsplit(".", 1)[-1]):
        raise InputError(field, "term %r: %r is not a valid domain name." % (term, spec),
                         "use a fully qualified name with at least two labels, e.g. example.com.")


def _cidr(text, maximum, field, term):
    if text is None:
        return None
    if (len(text) > 1 and text[0] == "0") or int(text) > maximum:
        raise InputError(field, "term %r: prefix length /%s is not 0 to %d." % (term, text, maximum),
                         "use a prefix length from 0 to %d without leading zeros." % maximum)
    return int(text)


def _parse_ip_term(name, rest, field, term):
    if not rest.startswith(":") or len(rest) == 1:
        raise InputError(field, "term %r needs an address: %s:ADDRESS[/PREFIX]." % (term, name))
    address, sep, prefix = rest[1:].partition("/")
    family, maximum = (ipaddress.IPv4Address, 32) if name == "ip4" else (ipaddress.IPv6Address, 128)
    try:
        address = str(family(address))
    except ValueError:
        raise InputError(field, "term %r: %r is not an IPv%s address." % (term, address, name[-1]),
                         "write the address in its usual form, e.g. %s." % (
                             "ip4:192.0.2.10 or ip4:192.0.2.0/24" if name == "ip4" else "ip6:2001:db8::/32"))
    if sep and not prefix.isdigit():
        raise InputError(field, "term %r: %r is not a prefix length." % (term, prefix),
                         "use a prefix length from 0 to %d." % maximum)
    length = _cidr(prefix, maximum, field, term) if sep else None
    if name == "ip4":
        return Term("mechanism", name, address, cidr4=length)
    return Term("mechanism", name, address, cidr6=length)


def parse_term(text, field="spf"):
    """Parse one term (without the ``v=spf1``); InputError names the term."""
    modifier = _MODIFIER_RE.match(text)
    if modifier:
        name, value = modifier.group(1).lower(), modifier.group(2)
        if name in ("redirect", "exp"):
            _check_domain_spec(value, field, text)
        else:
            _check_macro_string(value, field, text, _DOMAIN_SPEC_LETTERS + _EXP_ONLY_LETTERS)
        return Term("modifier", name, value)
    match = _MECHANISM_RE.match(text)
    if not match or match.group(2).lower() not in MECHANISMS:
        raise InputError(field, "term %r is not an SPF mechanism or modifier." % text,
                         "use all, include:, a, mx, ptr, ip4:, ip6:, exists:, redirect= or exp= (RFC 7208 5, 6).")
    qualifier, name, rest = match.group(1), match.group(2).lower(), match.group(3)
    if name == "all":
        if rest:
            raise InputError(field, "term %r: all takes no argument." % text)
        term = Term("mechanism", name)
    elif name in ("ip4", "ip6"):
        term = _parse_ip_term(name, rest, field, text)
    elif name in ("include", "exists"):
        if not rest.startswith(":"):
            raise InputError(field, "term %r needs a domain: %s:DOMAIN." % (text, name))
        _check_domain_spec(rest[1:], field, text)
        term = Term("mechanism", name, rest[1:])
    elif name == "ptr":
        if rest and not rest.startswith(":"):
            raise InputError(field, "term %r: write ptr or ptr:DOMAIN." % text)
        if rest:
            _check_domain_spec(rest[1:], field, text)
        term = Term("mechanism", name, rest[1:] or None)
    else:  # a, mx: [":" domain-spec] [ip4-cidr] ["//" ip6-cidr]
        if rest and rest[0] not in ":/":
            raise InputError(field, "term %r: write %s, %s:DOMAIN, %s/PREFIX or %s:DOMAIN/PREFIX//PREFIX6."
                             % ((text,) + (name,) * 4))
        spec, cidr4, cidr6 = _DUAL_CIDR_RE.match(rest).groups()
        if spec and not spec.startswith(":"):
            raise InputError(field, "term %r: %r is not a prefix length." % (text, spec))
        if spec:
            _check_domain_spec(spec[1:], field, text)
        term = Term("mechanism", name, spec[1:] if spec else None,
                    cidr4=_cidr(cidr4, 32, field, text), cidr6=_cidr(cidr6, 128, field, text))
    term.qualifier = qualifier
    return term


def is_spf(text):
    """True when a TXT value is an SPF record: ``v=spf1`` then a space or the end."""
    head = text[:len(VERSION)].lower()
    return head == VERSION and (len(text) == len(VERSION) or text[len(VERSION)] == " ")


def parse_spf(text, field="spf"):
    """Parse a record into an ``SpfRecord``; InputError naming the term on any syntax error."""
    if not isinstance(text, str) or not is_spf(text):
        raise InputError(field, "an SPF record starts with %r followed by a space, got %r." % (VERSION, text),
                         "begin the record with v=spf1.")
    parts = [part for part in text[len(VERSION):].split(" ") if part]
    for part in parts:
        if any(c.isspace() for c in part):
            raise InputError(field, "term %r holds a tab or line break; RFC 7208 4.6.1 separates terms with spaces."
                             % part, "separate the terms with spaces.")
    terms = [parse_term(part, field) for part in parts]
    for name in ("redirect", "exp"):
        if sum(1 for t in terms if t.kind == "modifier" and t.name == name) > 1:
            raise InputError(field, "%s= appears more than once (RFC 7208 6)." % name, "keep one.")
    return SpfRecord(terms)


# ---------------------------------------------------------------- build

def _all_qualifier(value):
    key = value.strip().lower() if isinstance(value, str) else value
    key = {"-": "fail", "~": "softfail", "?": "neutral", "+": "pass",
           "-all": "fail", "~all": "softfail", "?all": "neutral", "+all": "pass"}.get(key, key)
    if key == "pass":
        raise InputError("spf.all", "pass (+all) lets every host on the internet send mail as the domain.",
                         "use fail (-all), or softfail (~all) while you collect reports.")
    if key not in ALL_QUALIFIERS:
        raise InputError("spf.all", "%r is not one of fail, softfail, neutral." % (value,),
                         "use fail (publishes -all).")
    return ALL_QUALIFIERS[key]


def build_spf(mechanisms, all="fail"):  # pylint: disable=redefined-builtin
    """The record text for ``mechanisms`` (list or blank-separated text) ending in ``all``.

    ``all`` is fail, softfail or neutral (pass is refused); ``None`` leaves it
    out, which is only allowed with a ``redirect=`` modifier.
    """
    if isinstance(mechanisms, str):
        mechanisms = mechanisms.split()
    if mechanisms is None:
        mechanisms = []
    if not isinstance(mechanisms, (list, tuple)):
        raise InputError("spf.mechanisms", "must be a list of mechanisms, got %s." % type(mechanisms).__name__,
                         "write e.g. [mx, a, 'ip4:192.0.2.10'].")
    terms = []
    for index, item in enumerate(mechanisms):
        field = "spf.mechanisms[%d]" % index
        if not isinstance(item, str) or not item.strip():
            raise InputError(field, "must be a non-empty string, got %r." % (item,))
        item = item.strip()
        if item.lower().startswith("v=spf1"):
            raise InputError(field, "the v=spf1 prefix is added for you.", "list only the mechanisms.")
        if " " in item:
            raise InputError(field, "%r holds more than one term." % item, "give one term per list item.")
        term = parse_term(item, field)
        if term.kind == "mechanism" and term.name == "all":
            raise InputError(field, "'all' is set with spf.all, not in the mechanism list.",
                             "remove %r and set spf.all (fail, softfail or neutral)." % item)
        if term.kind == "modifier" and term.name not in ("redirect", "exp"):
            raise InputError(field, "%r is not a modifier RFC 7208 defines; receivers ignore it." % item,
                             "use redirect= or exp=, or a mechanism.")
        if term in terms:
            raise InputError(field, "%r is listed twice." % item, "list each mechanism once.")
        terms.append(term)
    mech_terms = [t for t in terms if t.kind == "mechanism"]
    mod_terms = [t for t in terms if t.kind == "modifier"]
    has_redirect = any(t.name == "redirect" for t in mod_terms)
    for name in ("redirect", "exp"):
        if sum(1 for t in mod_terms if t.name == name) > 1:
            raise InputError("spf.mechanisms", "%s= is given more than once." % name, "keep one.")
    if all is None:
        if not has_redirect:
            raise InputError("spf.all", "a record without all and without redirect= ends neutral (?all).",
                             "set spf.all to fail.")
        closing = []
    else:
        if has_redirect:
            raise InputError("spf.all", "redirect= is ignored when the record has an all mechanism.",
                             "set spf.all to null to use redirect=, or drop redirect=.")
        closing = [Term("mechanism", "all", qualifier=_all_qualifier(all))]
    text = str(SpfRecord(mech_terms + closing + mod_terms))
    parse_spf(text)  # the whole record must read back
    return text


# ---------------------------------------------------------------- validate and find

def find_spf(txt_values, domain=None):
    """Pick the SPF record among the TXT values at a name.

    Returns ``(record_text, findings)``: the record is None with an
    ``spf.missing`` or ``spf.multiple`` error when there is not exactly one.
    """
    where = " at %s" % domain if domain else ""
    records = [v for v in txt_values or [] if isinstance(v, str) and is_spf(v)]
    if not records:
        return None, [Finding("spf.missing", "error", "no TXT record starting with v=spf1%s." % where,
                              "publish one SPF record, e.g. v=spf1 mx a -all.")]
    if len(records) > 1:
        return None, [Finding("spf.multiple", "error",
                              "%d TXT records start with v=spf1%s; receivers return permerror (RFC 7208 4.5)."
                              % (len(records), where), "merge them into one record.")]
    return records[0], []


def validate_spf(text):
    """Findings about one record's text, without DNS."""
    if text is None or not text.strip():
        return [Finding("spf.missing", "error", "the SPF record is empty.", "publish e.g. v=spf1 mx a -all.")]
    try:
        record = parse_spf(text)
    except InputError as err:
        return [Finding("spf.syntax", "error", str(err), err.fix)]
    findings = []
    mechanisms = record.mechanisms
    alls = [t for t in mechanisms if t.name == "all"]
    if alls:
        first = alls[0]
        qualifier = first.qualifier or "+"
        if qualifier == "+":
            findings.append(Finding("spf.all", "error", "%s lets every host on the internet pass SPF." % first,
                                    "end the record with -all."))
        elif qualifier == "?":
            findings.append(Finding("spf.all", "warning", "?all (neutral) says nothing about other hosts.",
                                    "end the record with -all."))
        elif qualifier == "~":
            findings.append(Finding("spf.all", "info", "~all (softfail) marks other hosts instead of failing them.",
                                    "move to -all once the reports show every sender is listed."))
        if len(alls) > 1:
            findings.append(Finding("spf.all", "warning", "%d all mechanisms; only the first counts." % len(alls),
                                    "keep one all, at the end."))
        after = mechanisms[mechanisms.index(first) + 1:]
        if after:
            findings.append(Finding("spf.syntax", "warning", "terms after %s are never evaluated: %s."
                                    % (first, " ".join(str(t) for t in after)),
                                    "move them before %s or remove them." % first))
        if record.redirect is not None:
            findings.append(Finding("spf.syntax", "warning",
                                    "redirect=%s is ignored because the record has an all mechanism." % record.redirect,
                                    "remove redirect= or the all mechanism."))
    elif record.redirect is None:
        findings.append(Finding("spf.all", "warning", "no all mechanism and no redirect=: the record ends neutral.",
                                "end the record with -all."))
    for term in mechanisms:
        if term.name == "a" and term.qualifier == "-":
            findings.append(Finding("spf.all", "warning",
                                    "%s fails mail from the domain's own A record addresses; -all was probably meant." % term,
                                    "write +a (or a) for the host and -all at the end."))
        if term.name == "ptr":
            findings.append(Finding("spf.syntax", "warning", "%s is slow and unreliable; RFC 7208 5.5 says do not use it."
                                    % term, "list the sending addresses with ip4:/ip6:, a or mx."))
    for term in record.modifiers:
        if term.name not in ("redirect", "exp"):
            findings.append(Finding("spf.syntax", "warning", "%s is not a modifier RFC 7208 defines; receivers ignore it."
                                    % term, "remove it, or fix its name if a mechanism was meant."))
    seen = set()
    for term in record.terms:
        if str(term).lower() in seen:
            findings.append(Finding("spf.syntax", "info", "%s appears more than once." % term, "list it once."))
        seen.add(str(term).lower())
    direct = sum(1 for t in record.terms if t.costs_lookup and not (t.name == "redirect" and alls))
    if direct > MAX_LOOKUPS:
        findings.append(Finding("spf.lookups", "error", "the record's own terms need %d DNS lookups (counted from its "
                                "text, without DNS; its includes add more); RFC 7208 allows %d."
                                % (direct, MAX_LOOKUPS), "replace a, mx and include terms with ip4:/ip6: ranges."))
    size = len(text.encode("utf-8"))
    if size > RECOMMENDED_MAX_OCTETS:
        findings.append(Finding("spf.syntax", "info", "the record is %d octets; RFC 7208 3.4 advises at most %d."
                                % (size, RECOMMENDED_MAX_OCTETS), "shorten it, e.g. with include: of a sub-record."))
    return findings


# ---------------------------------------------------------------- lookup counting

class LookupCount(object):
    """What ``count_lookups`` found: totals, each lookup with its include chain, findings."""

    def __init__(self, domain):
        self.domain = domain
        self.lookups = []   # {"domain", "term", "chain"} per counted lookup, in evaluation order
        self.voids = []     # the same for each void lookup
        self.records = {}   # domain -> record text seen on the walk
        self.findings = []

    @property
    def total(self):
        return len(self.lookups)

    @property
    def void(self):
        return len(self.voids)

    @property
    def ok(self):
        return not any(f.severity == "error" for f in self.findings)

    def as_dict(self):
        return {"domain": self.domain, "total": self.total, "void": self.void, "lookups": list(self.lookups),
                "voids": list(self.voids), "records": dict(self.records),
                "findings": [f.as_dict() for f in self.findings]}


def _chain(path, term=None):
    return " > ".join(list(path) + ([str(term)] if term is not None else []))


def count_lookups(domain, lookup):
    """Count the DNS lookups an evaluation of ``domain``'s SPF record needs (RFC 7208 4.6.4).

    Every include, a, mx, ptr, exists and redirect counts, recursively through
    include and redirect, repeats included; errors (``spf.lookups``) for more
    than 10 lookups, more than 2 void lookups, more than 10 MX names, loops.
    Terms whose domain holds a macro are counted but not followed: their
    target depends on the sender.
    """
    domain = normalise_name(domain)
    result = LookupCount(domain)
    _walk(domain, [domain], (domain,), lookup, result, top=True)
    if result.total > MAX_LOOKUPS:
        eleventh = result.lookups[MAX_LOOKUPS]
        per_record = {}
        for entry in result.lookups:
            per_record[entry["domain"]] = per_record.get(entry["domain"], 0) + 1
        result.findings.append(Finding(
            "spf.lookups", "error",
            "SPF for %s needs %d DNS lookups; RFC 7208 allows %d and receivers return permerror. "
            "Lookup %d is %s (%s). Lookups per record: %s."
            % (domain, result.total, MAX_LOOKUPS, MAX_LOOKUPS + 1, eleventh["term"], eleventh["chain"],
               ", ".join("%s %d" % item for item in per_record.items())),
            "replace includes you control with their ip4:/ip6: ranges, drop a/mx/ptr terms for hosts that do not "
            "send, or send from a subdomain with its own SPF record."))
    if result.void > MAX_VOID_LOOKUPS:
        result.findings.append(Finding(
            "spf.lookups", "error",
            "SPF for %s has %d void lookups (names without records); RFC 7208 allows %d: %s."
            % (domain, result.void, MAX_VOID_LOOKUPS, "; ".join(v["chain"] for v in result.voids)),
            "remove the terms that point at names without records."))
    return result


def _walk(domain, path, domains, lookup, result, top=False):
    """Count one record's lookups.

    ``path`` is the chain shown in messages (the first domain, then the terms
    that led here); ``domains`` the domains on it, for loop detection.
    """
    try:
        values = lookup(domain, "TXT")
    except LookupFailure as err:
        result.findings.append(Finding("spf.lookups", "warning", "%s; the lookup count is incomplete (%s)."
                                       % (err, _chain(path)), "check the name servers of %s." % domain))
        return "failed"
    text, missing = find_spf(values, domain)
    if text is None:
        if top:
            result.findings.extend(missing)
        else:
            result.findings.append(Finding("spf.lookups", "error", "%s: %s An include or redirect of a domain without "
                                           "exactly one SPF record is a permerror." % (_chain(path), missing[0].message),
                                           "publish an SPF record at %s or remove the term." % domain))
        return "void" if not values else "missing"
    result.records[domain] = text
    try:
        record = parse_spf(text, field="spf record at %s" % domain)
    except InputError as err:
        result.findings.append(Finding("spf.syntax", "error", str(err), err.fix))
        return "invalid"
    terms = record.mechanisms
    if record.redirect is not None and record.all is None:
        terms = terms + [t for t in record.modifiers if t.name == "redirect"]
    for term in terms:
        if not term.costs_lookup:
            continue
        if result.total >= _MAX_WALK_LOOKUPS:
            return "stopped"
        entry = {"domain": domain, "term": str(term), "chain": _chain(path, term)}
        result.lookups.append(entry)
        target = normalise_name(term.value) if term.value else domain
        if "%" in target or term.name == "ptr":
            continue  # depends on the sender: counted, not followed
        if term.name in ("include", "redirect"):
            if target in domains:
                result.findings.append(Finding("spf.lookups", "error", "include loop: %s." % _chain(path, term),
                                               "remove the term that leads back to %s." % target))
                continue
            if _walk(target, path + [str(term)], domains + (target,), lookup, result) == "void":
                result.voids.append(entry)
            continue
        try:
            if term.name == "a":
                void = not lookup(target, "A") and not lookup(target, "AAAA")
            elif term.name == "exists":
                void = not lookup(target, "A")
            else:  # mx
                names = lookup(target, "MX")
                void = not names
                if len(names) > MAX_MX_NAMES:
                    result.findings.append(Finding(
                        "spf.lookups", "error", "%s: %s has %d MX names; RFC 7208 4.6.4 allows %d per mx term."
                        % (_chain(path, term), target, len(names), MAX_MX_NAMES),
                        "list the sending hosts with ip4:/ip6: instead of mx."))
        except LookupFailure as err:
            result.findings.append(Finding("spf.lookups", "warning", "%s; the lookup count is incomplete (%s)."
                                           % (err, entry["chain"]), "check the name servers of %s." % target))
            continue
        if void:
            result.voids.append(entry)
    return "ok"


# ---------------------------------------------------------------- evaluation (check_host)

class SpfResult(object):
    """The outcome of check_host(): result, the domain and term that decided it, and why."""

    __slots__ = ("result", "domain", "term", "reason")

    def __init__(self, result, domain, term=None, reason=""):
        self.result = result
        self.domain = domain
        self.term = term
        self.reason = reason

    def as_dict(self):
        return {"result": self.result, "domain": self.domain, "term": self.term, "reason": self.reason}

    def __repr__(self):
        return "SpfResult(%r, %r, %r, %r)" % (self.result, self.domain, self.term, self.reason)


class _PermError(Exception):
    pass


class _TempError(Exception):
    pass


class _Evaluation(object):
    """State shared by one check_host() and its includes and redirects."""

    def __init__(self, ip, sender, helo, lookup):
        self.ip = ip
        self.sender = sender
        self.local, _sep, self.sender_domain = sender.rpartition("@")
        self.helo = helo
        self.lookup = lookup
        self.lookups = 0
        self.voids = 0

    def count(self, term):
        self.lookups += 1
        if self.lookups > MAX_LOOKUPS:
            raise _PermError("more than %d DNS lookups (at %s)" % (MAX_LOOKUPS, term))

    def query(self, name, rdtype, void_counts=True):
        try:
            values = self.lookup(name, rdtype)
        except LookupFailure as err:
            raise _TempError(str(err))
        if not values and void_counts:
            self.voids += 1
            if self.voids > MAX_VOID_LOOKUPS:
                raise _PermError("more than %d void DNS lookups (at %s %s)" % (MAX_VOID_LOOKUPS, name, rdtype))
        return values

    def macro_value(self, letter, domain):
        letter = letter.lower()
        if letter == "s":
            return self.sender
        if letter == "l":
            return self.local
        if letter == "o":
            return self.sender_domain
        if letter == "d":
            return domain
        if letter == "h":
            return self.helo
        if letter == "v":
            return "in-addr" if self.ip.version == 4 else "ip6"
        if letter == "p":
            # No PTR validation is done (see ptr below); RFC 7208 7.3 says "unknown" then.
            return "unknown"
        if letter == "i":
            if self.ip.version == 4:
                return str(self.ip)
            return ".".join(self.ip.exploded.replace(":", ""))
        raise _PermError("macro letter %r is not allowed in a domain" % letter)

    def expand(self, spec, domain):
        """Expand the macros of a domain-spec (RFC 7208 7).

        Expanded: %{s} %{l} %{o} %{d} %{i} %{h}, with digit, r and delimiter
        transformers, plus %{v}, and %{p} as "unknown"; nothing else (c, r, t
        belong to exp= text, which this evaluator never builds).
        """
        def replace(match):
            letter, digits, reverse, delimiters, escape = match.groups()
            if escape:
                return {"%": "%", "_": " ", "-": "%20"}[escape]
            value = self.macro_value(letter, domain)
            parts = re.split("[%s]" % re.escape(delimiters or "."), value)
            if reverse:
                parts.reverse()
            if digits:
                parts = parts[-int(digits):]
            value = ".".join(parts)
            if letter.isupper():
                value = _url_quote(value, safe="")
            return value

        name = _MACRO_RE.sub(replace, spec).rstrip(".")
        while len(name) > 253 and "." in name:  # RFC 7208 7.3: drop labels from the left
            name = name.split(".", 1)[1]
        return normalise_name(name)


def _valid_domain(name):
    labels = name.split(".")
    return len(name) <= 253 and len(labels) > 1 and all(0 < len(label) <= 63 for label in labels)


def _network(address, term):
    prefix = term.cidr4 if address.version == 4 else term.cidr6
    if prefix is None:
        prefix = address.max_prefixlen
    return ipaddress.ip_network((address, prefix), strict=False)


def _matches(term, domain, ctx):
    """Whether one mechanism matches ctx.ip; raises _PermError / _TempError."""
    name = term.name
    if name == "all":
        return True
    if name in ("ip4", "ip6"):
        if ctx.ip.version != (4 if name == "ip4" else 6):
            return False
        return ctx.ip in _network(ipaddress.ip_address(term.value), term)
    ctx.count(term)
    target = ctx.expand(term.value, domain) if term.value else domain
    if not _valid_domain(target):
        raise _PermError("%s expands to the invalid name %r" % (term, target))
    if name == "include":
        sub = _check_host(target, ctx)
        if sub.result == "pass":
            return True
        if sub.result in ("fail", "softfail", "neutral"):
            return False
        if sub.result == "temperror":
            raise _TempError("include:%s: %s" % (target, sub.reason))
        raise _PermError("include:%s gave %s: %s" % (target, sub.result, sub.reason))
    if name == "ptr":
        # ptr is deprecated (RFC 7208 5.5) and its result depends on reverse DNS this
        # evaluator does not consult; it never matches here, so a record cannot pass
        # the harden gate because of it.
        return False
    if name == "exists":
        return bool(ctx.query(target, "A"))
    rdtype = "A" if ctx.ip.version == 4 else "AAAA"
    if name == "a":
        addresses = ctx.query(target, rdtype)
    else:  # mx
        hosts = [h for h in ctx.query(target, "MX") if h]
        if len(hosts) > MAX_MX_NAMES:
            raise _PermError("%s has %d MX names, more than %d" % (target, len(hosts), MAX_MX_NAMES))
        addresses = []
        for host in hosts:
            addresses.extend(ctx.query(host, rdtype, void_counts=False))
    return any(ctx.ip in _network(ipaddress.ip_address(a), term) for a in addresses)


def _check_host(domain, ctx, record_text=None):
    if not _valid_domain(domain):
        return SpfResult("none", domain, reason="%r is not a multi-label domain name" % domain)
    if record_text is None:
        try:
            values = ctx.lookup(domain, "TXT")
        except LookupFailure as err:
            return SpfResult("temperror", domain, reason=str(err))
        record_text, missing = find_spf(values, domain)
        if record_text is None:
            result = "none" if missing[0].check == "spf.missing" else "permerror"
            return SpfResult(result, domain, reason=missing[0].message)
    try:
        record = parse_spf(record_text, field="spf record at %s" % domain)
    except InputError as err:
        return SpfResult("permerror", domain, reason=str(err))
    try:
        for term in record.mechanisms:
            if _matches(term, domain, ctx):
                return SpfResult(term.result, domain, str(term), "%s matched" % term)
        if record.redirect is not None:
            ctx.count("redirect=%s" % record.redirect)
            target = ctx.expand(record.redirect, domain)
            sub = _check_host(target, ctx)
            if sub.result == "none":
                return SpfResult("permerror", target, "redirect=%s" % record.redirect,
                                 "redirect to a domain without SPF: %s" % sub.reason)
            return sub
    except _PermError as err:
        return SpfResult("permerror", domain, reason=str(err))
    except _TempError as err:
        return SpfResult("temperror", domain, reason=str(err))
    return SpfResult("neutral", domain, reason="no mechanism matched and there is no all")


def check_host(ip, domain, lookup, sender=None, helo=None, record=None):
    """RFC 7208 check_host(): may ``ip`` send mail as ``domain``? Returns an ``SpfResult``.

    ``sender`` defaults to postmaster@domain and ``helo`` to the domain; they only
    matter to macros. ``record`` evaluates that text as if it were published at
    ``domain`` (the harden gate checks a record before publishing it).
    """
    try:
        address = ipaddress.ip_address(ip.strip() if isinstance(ip, str) else ip)
    except ValueError:
        raise InputError("ip", "%r is not an IP address." % (ip,), "give the sending host's IPv4 or IPv6 address.")
    if address.version == 6 and address.ipv4_mapped:
        address = address.ipv4_mapped  # RFC 7208 5: ::ffff:a.b.c.d is evaluated as IPv4
    domain = normalise_name(domain)
    if not sender:
        sender = "postmaster@" + domain
    elif "@" not in sender:
        sender = "postmaster@" + sender
    elif sender.startswith("@"):
        sender = "postmaster" + sender
    ctx = _Evaluation(address, sender, normalise_name(helo) if helo else domain, lookup)
    return _check_host(domain, ctx, record_text=record)


def evaluate_spf(ip, domain, lookup, sender=None, helo=None, record=None):
    """The check_host() result for ``ip`` and ``domain``: one of ``RESULTS``."""
    return check_host(ip, domain, lookup, sender=sender, helo=helo, record=record).result
