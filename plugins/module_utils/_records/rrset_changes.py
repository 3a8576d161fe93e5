# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which records of which types to add and remove at which names (dns_record): pure, no I/O.

Ownership:

- TXT keeps the rules of ``txt_changes`` (a value with a version tag owns that tag at its name,
  other TXT values are only ensured present or absent), computed by ``txt_changes`` itself;
- every other type owns its whole RRset at a name, and only where the task names it: with
  state=present the RRset becomes exactly the listed values, with state=absent the listed values
  are removed and the rest stays;
- a CNAME is alone at its name (RFC 1034 3.6.2): a task wanting a CNAME and anything else at one
  name is refused here, a name that already holds other records is refused by the publish step.

Changes are keyed by ``(name, TYPE)``; users see them as ``"name TYPE"``.
"""

from __future__ import annotations

from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError
from ansible_collections.mailauth.hardening.plugins.module_utils._records.rdata import check_rdata, check_type
from ansible_collections.mailauth.hardening.plugins.module_utils._records.tags import first_seen
from ansible_collections.mailauth.hardening.plugins.module_utils._records.txt_changes import (
    STATES, Wanted, absolute_name, check_ttl, normalise_zone, plan_changes, wanted_records)

KEYS = ("name", "type", "value", "ttl")


class TypedWanted(Wanted):
    """A wanted value of a record type at an absolute name, with the field it came from."""

    __slots__ = ("rtype",)

    def __init__(self, name, rtype, value, ttl, field):
        super().__init__(name, value, ttl, field)
        self.rtype = rtype

    @property
    def key(self):
        return (self.name, self.rtype)

    def __repr__(self):
        return "TypedWanted(%r, %r, %r, ttl=%r)" % (self.name, self.rtype, self.value, self.ttl)


def _typed(records, field):
    """[(index, TYPE, record without its type)], each record a mapping with known keys."""
    out = []
    for index, record in enumerate(records):
        where = "%s[%d]" % (field, index)
        if not isinstance(record, dict):
            raise InputError(where, "must be a mapping with name, type and value.",
                             "write {name: mta-sts, type: CNAME, value: 'sts.example.net.'}.")
        unknown = sorted(set(record) - set(KEYS))
        if unknown:
            raise InputError(where, "has unknown keys %s." % ", ".join(unknown), "use only %s." % ", ".join(KEYS))
        rtype = check_type(record.get("type"), where + ".type")
        out.append((index, rtype, dict((k, v) for k, v in record.items() if k != "type")))
    return out


def _other(index, record, rtype, zone, default_ttl, field):
    where = "%s[%d]" % (field, index)
    ttl = check_ttl(record.get("ttl"), where + ".ttl")
    return TypedWanted(absolute_name(record.get("name"), zone, where + ".name"), rtype,
                       check_rdata(rtype, record.get("value"), where + ".value"),
                       default_ttl if ttl is None else ttl, where)


def _check_rrsets(wanted, state):
    """One TTL per RRset; a CNAME alone at its name and one CNAME value per name (state=present)."""
    ttls = {}
    for item in wanted:
        if item.rtype == "TXT" or item.ttl is None:
            continue  # txt_changes checked the TXT TTLs
        first = ttls.setdefault(item.key, item)
        if first.ttl != item.ttl:
            raise InputError(item.field + ".ttl", "is %d but %s gives %d for %s %s; an RRset has one TTL."
                             % (item.ttl, first.field + ".ttl", first.ttl, item.name, item.rtype),
                             "give the same ttl to every %s value at a name." % item.rtype)
    if state != "present":
        return
    cnames = {}
    for item in wanted:
        if item.rtype == "CNAME":
            if item.name in cnames:
                raise InputError(item.field + ".value", "is a second CNAME at %s (%s is the first); a name holds "
                                 "one CNAME." % (item.name, cnames[item.name].field + ".value"), "keep one of them.")
            cnames[item.name] = item
    for item in wanted:
        cname = cnames.get(item.name)
        if cname is not None and item.rtype != "CNAME":
            raise InputError(item.field + ".name", "%s is wanted with a CNAME (%s) and a %s record; a name with a "
                             "CNAME holds no other record (RFC 1034 3.6.2)." % (item.name, cname.field, item.rtype),
                             "publish the %s record at the CNAME's target %s instead, or drop the CNAME."
                             % (item.rtype, cname.value))


def wanted_rrsets(records, zone=None, state="present", default_ttl=None, field="records"):
    """Validate dns_record's ``records`` ({name, type, value, ttl}) and return TypedWanted items in
    their order, duplicates dropped. Refuses, naming the field and the fix, before any query."""
    if state not in STATES:
        raise InputError("state", "must be one of %s, got %r." % (", ".join(STATES), state))
    if not isinstance(records, list) or not records:
        raise InputError(field, "is empty.", "list at least one {name, type, value}.")
    zone = normalise_zone(zone) if zone else None
    default_ttl = check_ttl(default_ttl, "ttl")
    typed = _typed(records, field)
    txt = [(index, record) for index, rtype, record in typed if rtype == "TXT"]
    items = []
    if txt:
        items += [TypedWanted(w.name, "TXT", w.value, w.ttl, w.field) for w in wanted_records(
            [record for _index, record in txt], zone, state, default_ttl, field, [index for index, _r in txt])]
    seen = set((w.key, w.value) for w in items)
    for index, rtype, record in typed:
        if rtype != "TXT":
            item = _other(index, record, rtype, zone, default_ttl, field)
            if (item.key, item.value) not in seen:
                seen.add((item.key, item.value))
                items.append(item)
    order = dict(("%s[%d]" % (field, index), index) for index, _rtype, _record in typed)
    items.sort(key=lambda item: order[item.field])
    _check_rrsets(items, state)
    return items


def keys_of(wanted):
    """The distinct (name, TYPE) in ``wanted``, in first-seen order."""
    return first_seen(item.key for item in wanted)


def plan_rrsets(current, wanted, state):
    """The change of each RRset: {(name, TYPE): {"before", "after", "add", "remove", "ttl"}} for the
    RRsets that change, in the order first wanted. ``current`` maps every wanted (name, TYPE) to the
    normalised values there now (TXT joined). ``before``/``after`` are sorted."""
    changes = {}
    for key in keys_of(wanted):
        here = [w for w in wanted if w.key == key]
        if key[1] == "TXT":
            change = plan_changes({key[0]: current.get(key, [])}, here, state).get(key[0])
        else:
            change = _plan_owned(sorted(current.get(key, [])), [w.value for w in here], state)
            if change is not None:
                change["ttl"] = next((w.ttl for w in here if w.ttl is not None), None)
        if change is not None:
            changes[key] = change
    return changes


def _plan_owned(before, values, state):
    """A type whose RRset the task owns: present makes it exactly ``values``, absent removes them."""
    if state == "present":
        add = [v for v in values if v not in before]
        remove = [v for v in before if v not in values]
    else:
        add, remove = [], [v for v in before if v in values]
    if not add and not remove:
        return None
    return {"before": before, "after": sorted([v for v in before if v not in remove] + add), "add": add,
            "remove": remove}


def label(key):
    """How users see an RRset: 'mta-sts.example.com. CNAME'."""
    return "%s %s" % key


def public_rrsets(changes):
    """The result users see, keyed 'name TYPE': before, after, added, removed."""
    return dict((label(key), {"before": c["before"], "after": c["after"], "added": c["add"], "removed": c["remove"]})
                for key, c in changes.items())


def diff_rrsets(changes):
    """Ansible diff entries, one per changed RRset (header 'name TYPE'), values one a line."""
    return [{"before_header": label(key), "after_header": label(key),
             "before": "".join(v + "\n" for v in c["before"]), "after": "".join(v + "\n" for v in c["after"])}
            for key, c in changes.items()]
