# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The resolver callable of ``_records.lookup`` on dnspython: ``dns_lookup()``.

The record logic never imports this file; modules and features build a resolver here
and hand it down.
"""

from __future__ import annotations

import ipaddress

from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError
from ansible_collections.mailauth.hardening.plugins.module_utils._records.lookup import (
    LookupFailure, normalise_name, seconds_text)
from ansible_collections.mailauth.hardening.plugins.module_utils._records.txt import join_txt

try:
    import dns.exception
    import dns.nameserver
    import dns.rdatatype
    import dns.resolver
    HAS_DNSPYTHON = True
except ImportError:  # pragma: no cover - reported by the module that needs it
    HAS_DNSPYTHON = False


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
