# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""DNSBL sites for Postfix: postscreen ``zone[=filter][*weight]`` and ``reject_rbl_client``.

Parsing, validation and building of the entries Postfix reads in
``postscreen_dnsbl_sites`` and in smtpd restrictions. No library knows this
syntax (it is Postfix's own ip_match notation), so it is written here.

Safety rule (see standards.md, DNSBL): Spamhaus answers queries that reach it
through public or open resolvers with 127.255.255.254 (and 127.255.255.255 for
excessive use). An entry without a reply filter counts any answer as "listed",
so such a server would reject or score all of its mail. Every Spamhaus entry
must carry a filter, and the filter must not match those error codes.
"""

from __future__ import annotations

import collections
import re

from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError
from ansible_collections.mailauth.hardening.plugins.module_utils._records.tags import first_seen

# Spamhaus answers that are errors, not listings (public resolver, typo in a DQS
# zone, excessive use).
SPAMHAUS_ERROR_CODES = ("127.255.255.252", "127.255.255.254", "127.255.255.255")
SPAMHAUS_ZEN_FILTER = "127.0.0.[2..11]"
# Domain-based lists: they list names, not client addresses, so postscreen and
# reject_rbl_client (which look up the client IP) cannot use them.
SPAMHAUS_DOMAIN_LISTS = ("dbl", "zrd")
OTHER_DOMAIN_LISTS = ("multi.surbl.org", "multi.uribl.com")

_LABEL = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$")
_DQS_KEY = re.compile(r"^[a-z0-9]{8,63}$")
# A Spamhaus DQS key is the first label of KEY.zen.dq.spamhaus.net (or .com): a secret wherever it shows.
DQS_KEY_IN_NAME = re.compile(r"\b[A-Za-z0-9]+(?=\.[A-Za-z0-9-]+\.dq\.spamhaus\.(?:net|com)\b)")
MASK = "********"
_SITE = re.compile(r"^(?P<zone>[^=*\s]+)(?:=(?P<reply>[^*\s]+))?(?:\*(?P<weight>[+-]?\d+))?$")
_OCTET_ELEMENT = re.compile(r"^(\d{1,3})(?:\.\.(\d{1,3}))?$")

RESTRICTION_BLOCK = "reject_rbl_client"
RESTRICTION_ALLOW = "permit_dnswl_client"


def mask_dqs(value):
    """``value`` (text, or lists and mappings of it) with every DQS key in a zone name replaced by ********."""
    if isinstance(value, str):
        return DQS_KEY_IN_NAME.sub(MASK, value)
    if isinstance(value, dict):
        return dict((key, MASK if key == "dqs_key" and value[key] else mask_dqs(item)) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return [mask_dqs(item) for item in value]
    return value


def dqs_keys(value):
    """Every DQS key in ``value``: ``dqs_key`` entries of mappings and first labels of DQS zone names.

    Modules add them to ``no_log_values``, so Ansible masks them in the result and its invocation.
    """
    found = set()
    if isinstance(value, str):
        found.update(DQS_KEY_IN_NAME.findall(value))
    elif isinstance(value, dict):
        for key, item in value.items():
            if key == "dqs_key" and item:
                found.add(str(item).strip())
                found.add(str(item).strip().lower())
            else:
                found.update(dqs_keys(item))
    elif isinstance(value, (list, tuple)):
        for item in value:
            found.update(dqs_keys(item))
    return found


def _refusal(field, problem, fix=None):
    """InputError for a DNSBL entry, with any DQS key in it masked: the message reaches every log."""
    return InputError(field, mask_dqs(problem), mask_dqs(fix) if fix else fix)


class DnsblSite(collections.namedtuple("DnsblSite", "zone reply weight")):
    """One DNSBL (weight > 0) or allowlist (weight < 0) site; ``reply`` is a filter or None."""

    __slots__ = ()

    @property
    def allowlist(self):
        return self.weight < 0

    @property
    def shown(self):
        """The zone as messages and reports show it: a DQS key masked."""
        return mask_dqs(self.zone)

    def postscreen(self):
        """The ``postscreen_dnsbl_sites`` item: ``zone[=filter][*weight]`` (weight 1 is Postfix's default)."""
        text = self.zone
        if self.reply:
            text += "=" + self.reply
        if self.weight != 1:
            text += "*%d" % self.weight
        return text

    def restriction(self):
        """The smtpd restriction: ``reject_rbl_client`` for a blocklist, ``permit_dnswl_client`` for an allowlist."""
        name = RESTRICTION_ALLOW if self.allowlist else RESTRICTION_BLOCK
        return "%s %s" % (name, self.zone + ("=" + self.reply if self.reply else ""))


def _octet_values(part, field):
    """The set of values one filter octet matches: ``N``, ``[N..M]`` or ``[A;B;N..M]``."""
    if part.startswith("[") and part.endswith("]"):
        elements = part[1:-1].split(";")
    elif "[" in part or "]" in part:
        raise _refusal(field, "unbalanced brackets in the reply filter octet %r." % part,
                       "write a range as [2..11] or a list as [2;3;4].")
    else:
        elements = [part]
    values = set()
    for element in elements:
        match = _OCTET_ELEMENT.match(element)
        if not match:
            raise _refusal(field, "%r is not an octet, a range N..M or a list A;B in the reply filter." % element,
                           "use numbers 0-255, e.g. 127.0.0.[2..11] or 127.0.0.[2;3;4].")
        low = int(match.group(1))
        high = int(match.group(2)) if match.group(2) is not None else low
        if low > 255 or high > 255:
            raise _refusal(field, "octet value %r is above 255 in the reply filter." % element, "use 0-255.")
        if low > high:
            raise _refusal(field, "range %r in the reply filter runs backwards." % element,
                           "write the lower bound first, e.g. [2..11].")
        values.update(range(low, high + 1))
    return values


def parse_filter(text, field="reply"):
    """Validate a reply filter such as ``127.0.0.[2..11]`` and return its octet value sets."""
    if not isinstance(text, str) or not text:
        raise _refusal(field, "the reply filter is empty.", "give one, e.g. 127.0.0.[2..11].")
    # Split on dots outside brackets: "[2..11]" itself contains dots.
    octets, depth, current = [], 0, ""
    for ch in text:
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        if ch == "." and depth == 0:
            octets.append(current)
            current = ""
        else:
            current += ch
    octets.append(current)
    if len(octets) != 4 or any(not o for o in octets):
        raise _refusal(field, "reply filter %r does not have four octets." % text,
                       "write it like an IPv4 address, e.g. 127.0.0.[2..11].")
    return [_octet_values(o, field) for o in octets]


def filter_matches(reply, address):
    """True when the reply filter (text) matches the IPv4 ``address``."""
    octet_sets = parse_filter(reply)
    return all(int(value) in allowed for value, allowed in zip(address.split("."), octet_sets))


def _check_zone(zone, field):
    zone = zone.lower().rstrip(".")
    labels = zone.split(".")
    if len(labels) < 2 or len(zone) > 253 or not all(_LABEL.match(label) for label in labels):
        raise _refusal(field, "%r is not a DNS zone name." % zone, "give the list's zone, e.g. zen.spamhaus.org.")
    return zone


def is_spamhaus(zone):
    return zone == "spamhaus.org" or zone.endswith(".spamhaus.org") or zone.endswith(".spamhaus.net")


def _spamhaus_list(zone):
    """``zen`` for zen.spamhaus.org and KEY.zen.dq.spamhaus.net; None for other zones."""
    if zone.endswith(".dq.spamhaus.net"):
        return zone[:-len(".dq.spamhaus.net")].split(".")[-1]
    if zone.endswith(".spamhaus.org"):
        return zone[:-len(".spamhaus.org")]
    return None


def dqs_zone(zone, key, field):
    """``zen.spamhaus.org`` + key -> ``KEY.zen.dq.spamhaus.net`` (Spamhaus Data Query Service)."""
    key = str(key).strip().lower()
    if not _DQS_KEY.match(key):
        raise _refusal(field + ".dqs_key", "the Spamhaus DQS key must be the letters and digits of your account's key.",
                       "copy the key from the Spamhaus DQS portal.")
    if zone.endswith(".dq.spamhaus.net"):
        raise _refusal(field + ".zone", "give the public zone name (e.g. zen.spamhaus.org) together with dqs_key, "
                       "not a DQS zone that already holds a key.", "write zone: zen.spamhaus.org.")
    if not zone.endswith(".spamhaus.org"):
        raise _refusal(field + ".dqs_key", "dqs_key applies to Spamhaus zones only, not %r." % zone,
                       "drop dqs_key or use a *.spamhaus.org zone.")
    return "%s.%s.dq.spamhaus.net" % (key, zone[:-len(".spamhaus.org")])


def _check_site(site, field):
    """The safety rules every site follows, whatever syntax it came in."""
    zone = site.zone
    if _spamhaus_list(zone) in SPAMHAUS_DOMAIN_LISTS or zone in OTHER_DOMAIN_LISTS:
        raise _refusal(field, "%s is a domain blocklist; postscreen and reject_rbl_client look up client "
                       "addresses." % zone, "use an IP list such as zen.spamhaus.org here; domain lists belong "
                       "in reject_rhsbl_sender/reject_rhsbl_helo.")
    if site.weight == 0:
        raise _refusal(field, "a weight of 0 makes %s count for nothing." % zone,
                       "use a positive weight for a blocklist, a negative one for an allowlist.")
    if site.reply:
        parse_filter(site.reply, field)
    if is_spamhaus(zone):
        if not site.reply:
            raise _refusal(
                field,
                "%s has no reply filter. Spamhaus answers queries that come through public or open resolvers "
                "with 127.255.255.254 (127.255.255.255 for excessive use); without a filter Postfix counts "
                "that answer as listed and rejects all mail." % zone,
                "add the filter of listed addresses, e.g. %s=%s." % (zone, SPAMHAUS_ZEN_FILTER))
        for code in SPAMHAUS_ERROR_CODES:
            if filter_matches(site.reply, code):
                raise _refusal(field, "the filter %s of %s matches the Spamhaus error answer %s, which a public "
                               "resolver gets for every query." % (site.reply, zone, code),
                               "narrow it to the listing codes, e.g. %s." % SPAMHAUS_ZEN_FILTER)
    return site


def parse_site(text, field="site"):
    """Parse a postscreen entry ``zone[=filter][*weight]``."""
    if not isinstance(text, str):
        raise _refusal(field, "a DNSBL site must be text or a mapping, got %s." % type(text).__name__)
    match = _SITE.match(text.strip())
    if not match:
        raise _refusal(field, "%r is not a DNSBL site." % text,
                       "write zone[=filter][*weight], e.g. zen.spamhaus.org=127.0.0.[2..11]*3.")
    weight = int(match.group("weight")) if match.group("weight") is not None else 1
    site = DnsblSite(_check_zone(match.group("zone"), field), match.group("reply"), weight)
    return _check_site(site, field)


def parse_restriction(text, field="restriction"):
    """Parse ``reject_rbl_client zone[=filter]`` or ``permit_dnswl_client zone[=filter]``."""
    words = text.split() if isinstance(text, str) else []
    if len(words) != 2 or words[0] not in (RESTRICTION_BLOCK, RESTRICTION_ALLOW):
        raise _refusal(field, "%r is not a DNSBL restriction." % (text,),
                       "write reject_rbl_client zone[=filter] or permit_dnswl_client zone[=filter].")
    if "*" in words[1]:
        raise _refusal(field, "smtpd restrictions take no weight (%r)." % words[1],
                       "drop the *weight; weights belong to postscreen_dnsbl_sites.")
    site = parse_site(words[1], field)
    return site._replace(weight=-1 if words[0] == RESTRICTION_ALLOW else 1)


def build_site(entry, field="site", dqs_key=None):
    """A site from inventory data: a postscreen string, or ``{zone, reply, weight, dqs_key}``.

    ``dqs_key`` (a Spamhaus DQS account key) moves public Spamhaus zones of entries
    that carry no key of their own to the Data Query Service.
    """
    if isinstance(entry, str):
        site = parse_site(entry, field)
        if dqs_key and site.zone.endswith(".spamhaus.org"):
            site = _check_site(site._replace(zone=dqs_zone(site.zone, dqs_key, field)), field)
        return site
    if not isinstance(entry, dict):
        raise _refusal(field, "a DNSBL site must be text or a mapping, got %s." % type(entry).__name__)
    unknown = sorted(set(entry) - {"zone", "reply", "weight", "dqs_key"})
    if unknown:
        raise _refusal(field, "unknown key(s) %s." % ", ".join(unknown), "use zone, reply, weight and dqs_key.")
    if not entry.get("zone"):
        raise _refusal(field + ".zone", "the zone is missing.", "give the list's zone, e.g. zen.spamhaus.org.")
    zone = _check_zone(str(entry["zone"]), field + ".zone")
    key = entry.get("dqs_key") or (dqs_key if zone.endswith(".spamhaus.org") else None)
    if key:
        zone = dqs_zone(zone, key, field)
    weight = entry.get("weight", 1)
    if isinstance(weight, bool) or not isinstance(weight, int):
        try:
            weight = int(str(weight))
        except ValueError:
            raise _refusal(field + ".weight", "%r is not a whole number." % (weight,),
                           "use e.g. 3 for a blocklist, -2 for an allowlist.")
    reply = entry.get("reply")
    reply = str(reply).strip() if reply not in (None, "") else None
    return _check_site(DnsblSite(zone, reply, weight), field)


def build_sites(entries, field="mailauth_dnsbl", dqs_key=None):
    if not isinstance(entries, (list, tuple)):
        raise _refusal(field, "must be a list of sites.", "write a YAML list.")
    return [build_site(entry, "%s[%d]" % (field, index), dqs_key) for index, entry in enumerate(entries)]


def postscreen_sites(entries, threshold=1, field="mailauth_dnsbl", dqs_key=None, threshold_field=None):
    """``postscreen_dnsbl_sites`` items; refuse a threshold the blocklists can never reach."""
    sites = build_sites(entries, field, dqs_key)
    check_threshold(sites, threshold, threshold_field or field + "_threshold")
    return [site.postscreen() for site in sites]


def rbl_restrictions(entries, field="mailauth_dnsbl", dqs_key=None):
    """smtpd restriction items: allowlists (``permit_dnswl_client``) first, then ``reject_rbl_client``.

    Weights do not exist in this mode: any listing rejects, any allowlisting permits.
    """
    sites = build_sites(entries, field, dqs_key)
    allow = [site.restriction() for site in sites if site.allowlist]
    block = [site.restriction() for site in sites if not site.allowlist]
    return first_seen(allow) + first_seen(block)


def check_threshold(sites, threshold, field="mailauth_dnsbl_threshold"):
    try:
        threshold = int(threshold)
    except (TypeError, ValueError):
        raise _refusal(field, "%r is not a whole number." % (threshold,), "use e.g. 3.")
    if threshold < 1:
        raise _refusal(field, "a threshold below 1 blocks every client.", "use 1 or more.")
    reachable = sum(site.weight for site in sites if site.weight > 0)
    if sites and reachable < threshold:
        raise _refusal(field, "the blocklists' weights add up to %d, below the threshold %d, "
                       "so no client can ever be blocked." % (reachable, threshold),
                       "lower the threshold or raise the weights.")
    return threshold
