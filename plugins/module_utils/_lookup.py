# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The DNS seam of the record logic.

A *resolver* here is any callable ``lookup(name, rdtype) -> list of str``:

- TXT: one string per record, its character-strings joined (``_txt.join_txt``);
- A / AAAA: the addresses; MX: the exchange host names, lowest preference first;
- an empty list is a "void" answer (NXDOMAIN or NODATA, RFC 7208 4.6.4);
- a server failure or time-out raises ``LookupFailure``.

Names are normalised (lower case, no trailing dot). The SPF and DMARC logic only
ever talks to DNS through such a callable, so unit tests use ``static_lookup``.
"""

from __future__ import annotations

import ipaddress
import re

from ansible_collections.mailauth.hardening.plugins.module_utils._errors import InputError
from ansible_collections.mailauth.hardening.plugins.module_utils._txt import join_txt

try:
    import dns.exception
    import dns.nameserver
    import dns.rdatatype
    import dns.resolver
    HAS_DNSPYTHON = True
except ImportError:  # pragma: no cover - reported by the module that needs it
    HAS_DNSPYTHON = False


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


def _nameserver(text, port, field="nameservers"):
    """One ``Do53Nameserver`` from "ip", "ip:port", "[ipv6]" or "[ipv6]:port"."""
    if not isinstance(text, str):
        raise InputError(field, "must be text, got %s." % type(text).__name__, "give e.g. 192.0.2.53.")
    host, host_port = text.strip(), port
    if host.startswith("["):
        host, sep, rest = host[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            raise InputError(field, "%r is not IP, IP:PORT or [IPv6]:PORT." % text, "give e.g. [2001:db8::53]:53.")
        if rest:
            host_port = rest[1:]
    elif host.count(":") == 1:
        host, host_port = host.split(":")
    try:
        address = str(ipaddress.ip_address(host))
    except ValueError:
        raise InputError(field, "%r is not an IP address." % text,
                         "give name servers as IP addresses, e.g. 192.0.2.53 or 192.0.2.53:5353.")
    try:
        host_port = int(host_port)
    except (TypeError, ValueError):
        host_port = -1
    if not 0 < host_port < 65536:
        raise InputError(field, "%r has no valid port." % text, "use a port from 1 to 65535.")
    return dns.nameserver.Do53Nameserver(address, port=host_port)


def seconds_text(value):
    """Seconds for people: 3, 0.5, 2.5 (a deadline's 2.9999985680000236 reads as 3)."""
    return ("%.1f" % value).rstrip("0").rstrip(".")


def _cname_loop(name, responses):
    """The looping CNAME chain from ``name`` in any of ``responses`` ("a -> b -> a"), or None."""
    for response in responses:
        targets = {}
        for rrset in getattr(response, "answer", None) or []:
            if rrset.rdtype == dns.rdatatype.CNAME:
                targets[normalise_name(rrset.name.to_text())] = normalise_name(rrset[0].target.to_text())
        chain = [name]
        while chain[-1] in targets:
            chain.append(targets[chain[-1]])
            if chain[-1] in chain[:-1]:
                return " -> ".join(chain)
    return None


def _failure(name, rdtype, err, timeout):
    """A dnspython failure as a LookupFailure whose cause reads as words (seconds rounded)."""
    errors = (getattr(err, "kwargs", None) or {}).get("errors") or []
    loop = _cname_loop(name, [entry[4] for entry in errors if len(entry) > 4])
    if loop:
        return LookupFailure(name, rdtype, "the CNAME chain loops: %s" % loop, kind="cname_loop")
    if isinstance(err, dns.exception.Timeout):
        return LookupFailure(name, rdtype, "no answer within %s s from %s" % (
            seconds_text(timeout), ", ".join(sorted(set(str(entry[0]) for entry in errors))) or "the name servers"))
    if isinstance(err, dns.resolver.NoNameservers) and errors:
        return LookupFailure(name, rdtype, "; ".join("%s answered %s" % (entry[0], entry[3]) for entry in errors))
    return LookupFailure(name, rdtype, err)


def _answer_values(rdtype, rrset):
    if rrset is None:
        return []
    if rdtype == "TXT":
        # Undecodable octets become U+FFFD instead of aborting the whole lookup.
        return [join_txt([s.decode("utf-8", "replace") for s in rdata.strings]) for rdata in rrset]
    if rdtype in ("A", "AAAA"):
        return [rdata.address for rdata in rrset]
    if rdtype == "MX":
        ordered = sorted(rrset, key=lambda rdata: rdata.preference)
        return [normalise_name(rdata.exchange.to_text()) for rdata in ordered]
    return [rdata.to_text() for rdata in rrset]


def dns_lookup(nameservers=None, port=53, timeout=5.0, field="nameservers"):
    """A resolver callable on dnspython.

    ``nameservers``: IP addresses (``"ip:port"`` and ``"[ipv6]:port"`` accepted);
    ``None`` uses the system's resolver configuration. ``timeout`` bounds each
    lookup as a whole, retries included. ``field`` names the option in errors.
    """
    if not HAS_DNSPYTHON:
        raise InputError(field, "the dnspython library is not installed.", "install dnspython >= 2.0.")
    if nameservers:
        if isinstance(nameservers, str):
            nameservers = [nameservers]
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = [_nameserver(ns, port, "%s[%d]" % (field, index)) for index, ns in enumerate(nameservers)]
    else:
        try:
            resolver = dns.resolver.Resolver(configure=True)
        except dns.exception.DNSException as err:
            raise InputError(field, "no system resolver configuration (%s)." % err,
                             "give name servers explicitly.")
        if port != 53:
            resolver.port = port
    resolver.lifetime = float(timeout)
    resolver.timeout = float(timeout)

    def lookup(name, rdtype):
        name = normalise_name(name)
        rdtype = rdtype.upper()
        try:
            answer = resolver.resolve(name + ".", rdtype, search=False, raise_on_no_answer=False)
        except dns.resolver.NXDOMAIN:
            return []
        except dns.exception.DNSException as err:
            raise _failure(name, rdtype, err, timeout)
        return _answer_values(rdtype, answer.rrset)

    return lookup


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
