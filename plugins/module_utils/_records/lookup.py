# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The DNS seam of the record logic.

A *resolver* here is any callable ``lookup(name, rdtype) -> list of str``:

- TXT: one string per record, its character-strings joined (``txt.join_txt``);
- A / AAAA: the addresses; MX: the exchange host names, lowest preference first;
- an empty list is a "void" answer (NXDOMAIN or NODATA, RFC 7208 4.6.4);
- a server failure or time-out raises ``LookupFailure``.

Names are normalised (lower case, no trailing dot). The SPF and DMARC logic only
ever talks to DNS through such a callable, so unit tests use ``static_lookup``.
"""

from __future__ import annotations

import re


class LookupFailure(Exception):
    """A query got no usable answer (SERVFAIL, REFUSED, time-out): a temporary error.

    ``kind`` is "unreachable" (no server gave a usable answer) or "cname_loop" (the name's CNAME
    chain leads back to itself, which servers answer with SERVFAIL).
    """

    def __init__(self, name, rdtype, cause, kind="unreachable"):
        self.name = name
        self.rdtype = rdtype
        self.cause = cause
        self.kind = kind
        super().__init__("DNS lookup of %s %s failed: %s" % (name, rdtype, cause))


_LABEL_RE = re.compile(r"^[A-Za-z0-9_](?:[A-Za-z0-9_\-]{0,61}[A-Za-z0-9_])?$")


def normalise_name(name):
    """Lower case, no surrounding blanks, no trailing dot."""
    return name.strip().rstrip(".").lower()


def is_hostname(name, min_labels=2):
    """A DNS name of letters, digits, - and _ (for _spf., _dmarc. names): 1-63 octets a label, 253 in all."""
    if not isinstance(name, str):
        return False
    name = name[:-1] if name.endswith(".") else name
    labels = name.split(".")
    return len(name) <= 253 and len(labels) >= min_labels and all(_LABEL_RE.match(label) for label in labels)


def seconds_text(value):
    """Seconds for people: 3, 0.5, 2.5 (a deadline's 2.9999985680000236 reads as 3)."""
    return ("%.1f" % value).rstrip("0").rstrip(".")


def static_lookup(table):
    """A resolver callable answering from ``{(name, rdtype): [values]}``; for tests.

    A missing key is a void answer. A value that is an exception (class or
    instance) makes the lookup raise ``LookupFailure``, as SERVFAIL would (a
    ``LookupFailure`` instance is raised as it is, with its kind).
    The callable records what it was asked in its ``queries`` list.
    """
    answers = {}
    for (name, rdtype), values in table.items():
        if isinstance(values, str):
            values = [values]
        answers[(normalise_name(name), rdtype.upper())] = values

    def lookup(name, rdtype):
        key = (normalise_name(name), rdtype.upper())
        lookup.queries.append(key)
        values = answers.get(key, [])
        if isinstance(values, LookupFailure):
            raise values
        if isinstance(values, BaseException) or (isinstance(values, type) and issubclass(values, BaseException)):
            raise LookupFailure(key[0], key[1], values)
        return list(values)

    lookup.queries = []
    return lookup
