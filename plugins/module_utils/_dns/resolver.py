# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Recursive resolution with dnspython, for the audit, the gates, the wait and the providers.

``dns_lookup()`` is the resolver callable of ``_records.lookup`` (the record logic never imports
this file: modules and features build a resolver here and hand it down); ``resolver_for()`` is a
dnspython Resolver for the providers (lexicon's zone check) and ``zone_for_name()`` the SOA walk.
A failed lookup raises LookupFailure; a zone that cannot be found, DiscoveryError.
"""

from __future__ import annotations

import ipaddress

from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError
from ansible_collections.mailauth.hardening.plugins.module_utils._dns.errors import DiscoveryError
from ansible_collections.mailauth.hardening.plugins.module_utils._dns.query import describe_failure, require_dnspython
from ansible_collections.mailauth.hardening.plugins.module_utils._dns.servers import address_of, parse_server
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
    return resolver_lookup(resolver)


def resolver_lookup(resolver):
    """The resolver callable asking a dnspython ``resolver`` (its lifetime bounds each lookup)."""
    timeout = resolver.lifetime

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


def resolver_for(servers, timeout, field="nameservers"):
    """A dnspython resolver asking ``servers`` ('host[:port]' strings, names allowed), or the system's when empty."""
    require_dnspython()
    if not servers:
        resolver = dns.resolver.Resolver()
    else:
        resolver = dns.resolver.Resolver(configure=False)
        nameservers = []
        for index, text in enumerate(servers):
            host, port = parse_server(text, 53, "%s[%d]" % (field, index))
            nameservers.append(dns.nameserver.Do53Nameserver(address_of(host, port, field), port))
        resolver.nameservers = nameservers
    resolver.lifetime = timeout
    resolver.timeout = timeout
    return resolver


def resolver_text(resolver):
    return ", ".join(str(ns) for ns in resolver.nameservers) or "the system resolver"


def zone_for_name(name, params, resolver=None):
    """The zone holding absolute ``name`` by SOA walk through ``nameservers`` (or the system resolver)."""
    resolver = resolver or resolver_for(params.get("nameservers"), params.get("timeout") or 10)
    try:
        return dns.resolver.zone_for_name(name, resolver=resolver, lifetime=resolver.lifetime).to_text().lower()
    except Exception as exc:  # noqa: BLE001 - reported by name
        raise DiscoveryError("finding the zone of %s through %s: %s." % (name, resolver_text(resolver),
                                                                         resolver_failure(exc, resolver)))


def resolver_failure(exc, resolver):
    """A dnspython resolver's failure in words (seconds rounded)."""
    if isinstance(exc, dns.resolver.NoNameservers):
        return "no server gave a usable answer (%s)" % exc
    if isinstance(exc, dns.resolver.NoRootSOA):
        return "no zone found up to the root"
    if isinstance(exc, dns.resolver.NXDOMAIN):
        return "the name does not exist"
    if isinstance(exc, dns.resolver.LifetimeTimeout):
        return "no answer within %s s" % seconds_text(resolver.lifetime)
    return describe_failure(exc, resolver.lifetime)
