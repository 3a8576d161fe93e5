# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which TXT values to add and remove at which names: pure, no I/O.

A wanted value that starts with a known version tag (``v=spf1``, ``v=DKIM1``,
``v=DMARC1``, ``v=STSv1``, ``v=TLSRPTv1``) owns that tag at its name: it replaces every TXT value there with
the same tag and never touches the others (site verifications and the like).
Any other value is only ensured present or absent, exactly.
"""

from __future__ import annotations

import re

from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError
from ansible_collections.mailauth.hardening.plugins.module_utils._records.tags import first_seen
from ansible_collections.mailauth.hardening.plugins.module_utils._records.txt import normalise_txt, split_txt

# Version tags and how a record starts with them. SPF: "v=spf1" then a space or the
# end (RFC 7208 4.5; "v=spf10" is not SPF). DKIM key records and DMARC allow blanks
# around "=" (RFC 6376 3.2, RFC 9989 tag syntax). Matched case-insensitively: a
# mis-cased copy is a broken duplicate of the same record, which the owner replaces.
OWNED_TAGS = (
    ("v=spf1", re.compile(r"v=spf1(?: |$)", re.IGNORECASE)),
    ("v=DKIM1", re.compile(r"[ \t]*v[ \t]*=[ \t]*DKIM1[ \t]*(?:;|$)", re.IGNORECASE)),
    ("v=DMARC1", re.compile(r"v[ \t]*=[ \t]*DMARC1[ \t]*(?:;|$)", re.IGNORECASE)),
    # MTA-STS (RFC 8461 3.1) and TLS-RPT (RFC 8460 3): a new id or new destinations replace the old
    # record, since two records at the name make senders ignore both.
    ("v=STSv1", re.compile(r"v=STSv1[ \t]*(?:;|$)", re.IGNORECASE)),
    ("v=TLSRPTv1", re.compile(r"v=TLSRPTv1[ \t]*(?:;|$)", re.IGNORECASE)),
)

# TXT RDATA is at most 65535 octets, one length octet per 255-octet string.
MAX_VALUE_OCTETS = 65535 - 65535 // 256
MAX_NAME_CHARS = 253
LABEL = re.compile(r"^[a-z0-9_]([a-z0-9_-]{0,62})$")
STATES = ("present", "absent")


def owned_tag(value):
    """The version tag a TXT value owns at its name, or None."""
    for tag, pattern in OWNED_TAGS:
        if pattern.match(value):
            return tag
    return None


def normalise_zone(zone, field="zone"):
    """A zone name as an absolute, lower-case name with a trailing dot."""
    if not isinstance(zone, str) or not zone.strip(" ."):
        raise InputError(field, "is empty.", "give the zone name, e.g. example.com.")
    name = zone.strip().lower()
    name = name if name.endswith(".") else name + "."
    _check_labels(name[:-1], field, zone)
    return name


def _check_labels(text, field, shown):
    if len(text) > MAX_NAME_CHARS:
        raise InputError(field, "%r is longer than %d characters." % (shown, MAX_NAME_CHARS),
                         "use a shorter name.")
    labels = text.split(".")
    for index, label in enumerate(labels):
        if label == "*" and index == 0:
            continue
        if not LABEL.match(label):
            raise InputError(
                field, "%r has an invalid label %r." % (shown, label),
                "labels are 1-63 letters, digits, '_' or '-' (not first), separated by single dots; "
                "'*' only as the first label.")


def absolute_name(name, zone, field):
    """Turn '@', a name relative to ``zone`` or an absolute 'name.' into 'name.zone.'.

    ``zone`` is absolute or None (then ``name`` must be absolute).
    """
    if not isinstance(name, str) or not name.strip():
        raise InputError(field, "is empty.", "give '@' for the zone apex, a relative name or an absolute name ending in '.'.")
    text = name.strip().lower()
    if text.endswith("."):
        full = text
    elif zone is None:
        raise InputError(field, "%r is relative but no zone is given." % name,
                         "set zone, or write the name absolute with a trailing dot.")
    elif text == "@":
        return zone
    elif text == zone[:-1] or text.endswith("." + zone[:-1]):
        # "example.com" in zone example.com would become example.com.example.com.
        raise InputError(field, "%r ends with the zone name but has no trailing dot." % name,
                         "write %r for the apex / an absolute name ending in '.', or the part before the zone."
                         % ("@" if text == zone[:-1] else text + "."))
    else:
        full = text + "." + zone
    if full == ".":
        raise InputError(field, "the root name is not a place for TXT records.", "give a name inside your zone.")
    _check_labels(full[:-1], field, name)
    if zone is not None and not (full == zone or full.endswith("." + zone)):
        raise InputError(field, "%r is outside zone %s." % (name, zone), "give a name inside the zone, or change zone.")
    return full


def check_value(value, field):
    """The value as a reader sees it (joined, quotes normalised); refuse what cannot be right."""
    if value is None:
        raise InputError(field, "is missing.", "give the TXT value, e.g. 'v=spf1 mx -all'.")
    if not isinstance(value, str):
        # A list or mapping would be published as its Python text, a number or boolean as its digits or True.
        raise InputError(field, "must be text, got %s %r." % (type(value).__name__, value),
                         "give one string and quote it in YAML (a list is not joined for you).")
    joined = normalise_txt(value) if value.strip().startswith('"') else value
    if not joined.strip():
        raise InputError(field, "is empty.", "give the TXT value, e.g. 'v=spf1 mx -all'.")
    if joined != joined.strip():
        raise InputError(field, "starts or ends with blanks.", "remove them; they become part of the record.")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in joined):
        raise InputError(field, "contains a line break or control character.",
                         "write the value on one line (a PEM key needs only its base64 body in p=).")
    octets = sum(len(s.encode("utf-8")) for s in split_txt(joined))
    if octets > MAX_VALUE_OCTETS:
        raise InputError(field, "is %d octets; a TXT record holds at most %d." % (octets, MAX_VALUE_OCTETS),
                         "shorten the value.")
    return joined


def check_ttl(ttl, field):
    if ttl is None:
        return None
    if isinstance(ttl, bool) or not isinstance(ttl, int) or not 0 <= ttl <= 2147483647:
        raise InputError(field, "must be a whole number of seconds from 0 to 2147483647, got %r." % (ttl,),
                         "give e.g. 3600.")
    return ttl


class Wanted(object):
    """One wanted TXT value at an absolute name, with the field it came from."""

    __slots__ = ("name", "value", "ttl", "field")

    def __init__(self, name, value, ttl, field):
        self.name = name
        self.value = value
        self.ttl = ttl
        self.field = field

    def __repr__(self):
        return "Wanted(%r, %r, ttl=%r)" % (self.name, self.value, self.ttl)


def wanted_records(records, zone=None, state="present", default_ttl=None, field="records", positions=None):
    """Validate the module's ``records`` list and return Wanted items, duplicates dropped.

    ``positions`` gives each record's index in the task's own list when ``records`` is a part of
    it (dns_record's TXT records), so every field named is the user's.

    Refuses, naming the field: bad names or values, a name outside the zone, two
    different TTLs at one name, and (for state=present) two values owning the same
    tag at one name.
    """
    if state not in STATES:
        raise InputError("state", "must be one of %s, got %r." % (", ".join(STATES), state))
    if not isinstance(records, list) or not records:
        raise InputError(field, "is empty.", "list at least one {name, value}.")
    zone = normalise_zone(zone) if zone else None
    default_ttl = check_ttl(default_ttl, "ttl")
    wanted = []
    seen = {}
    ttls = {}
    owners = {}
    for index, record in enumerate(records):
        where = "%s[%d]" % (field, index if positions is None else positions[index])
        if not isinstance(record, dict):
            raise InputError(where, "must be a mapping with name and value.", "write {name: '@', value: '...'}.")
        unknown = sorted(set(record) - {"name", "value", "ttl"})
        if unknown:
            raise InputError(where, "has unknown keys %s." % ", ".join(unknown), "use only name, value and ttl.")
        name = absolute_name(record.get("name"), zone, where + ".name")
        value = check_value(record.get("value"), where + ".value")
        ttl = check_ttl(record.get("ttl"), where + ".ttl")
        ttl = default_ttl if ttl is None else ttl
        if (name, value) in seen:
            continue
        seen[(name, value)] = where
        if ttl is not None:
            if ttls.get(name, (ttl, None))[0] != ttl:
                raise InputError(where + ".ttl", "is %d but %s gives %d for the same name %s; a TXT RRset has one TTL."
                                 % (ttl, ttls[name][1], ttls[name][0], name), "give the same ttl to every value at a name.")
            ttls.setdefault(name, (ttl, where + ".ttl"))
        tag = owned_tag(value)
        if tag and state == "present":
            other = owners.get((name, tag))
            if other:
                raise InputError(where + ".value", "is a second %s value at %s (%s is the first); one %s value "
                                 "per name owns that tag." % (tag, name, other, tag),
                                 "keep one of them.")
            owners[(name, tag)] = where + ".value"
        wanted.append(Wanted(name, value, ttl, where))
    return wanted


def names_of(wanted):
    """The distinct names in ``wanted``, in first-seen order."""
    return first_seen(item.name for item in wanted)


def plan_changes(current, wanted, state):
    """Compute the change at each name.

    ``current`` maps each wanted name to the joined TXT values there now.
    Returns {name: {"before", "after", "add", "remove", "ttl"}} for the names
    that change, in the order the names were first wanted. ``before`` and
    ``after`` are sorted: servers rotate RRset order, diffs should not.
    """
    changes = {}
    for name in names_of(wanted):
        before = sorted(current.get(name, []))
        here = [w for w in wanted if w.name == name]
        add = []
        remove = []
        if state == "present":
            values = [w.value for w in here]
            tags = set(owned_tag(v) for v in values) - {None}
            for old in before:
                if old not in values and owned_tag(old) in tags and old not in remove:
                    remove.append(old)
            add = [v for v in values if v not in before]
        else:
            values = set(w.value for w in here)
            remove = [v for v in first_seen(before) if v in values]
        if not add and not remove:
            continue
        after = sorted([v for v in before if v not in remove] + add)
        ttl = next((w.ttl for w in here if w.ttl is not None), None)
        changes[name] = {"before": before, "after": after, "add": add, "remove": remove, "ttl": ttl}
    return changes


def diff_of(changes):
    """Ansible diff entries, one per changed name, values one a line."""
    return [
        {
            "before_header": "%s TXT" % name,
            "after_header": "%s TXT" % name,
            "before": "".join(v + "\n" for v in change["before"]),
            "after": "".join(v + "\n" for v in change["after"]),
        }
        for name, change in changes.items()
    ]
