# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Name servers: how they are written, and which ones are authoritative for a zone.

One place for the audit, the gates, the wait and the providers: ``parse_server`` reads
'host[:port]', ``authoritative_servers`` finds a zone's servers through any resolver callable
(``_records.lookup``), ``discovery_servers`` names the resolver a domain's own DNS settings point at.
"""

from __future__ import annotations

import ipaddress
import re
import socket

from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError
from ansible_collections.mailauth.hardening.plugins.module_utils._dns.errors import DiscoveryError, ProviderError
from ansible_collections.mailauth.hardening.plugins.module_utils._records.lookup import LookupFailure, normalise_name


class Server(object):
    """One address of one server: ``label`` its name (or how it was given), ``host`` an address."""

    __slots__ = ("label", "host", "port")

    def __init__(self, label, host, port):
        self.label = label
        self.host = host
        self.port = port

    def __str__(self):
        where = endpoint_text(self.host, self.port)
        return where if self.label in (None, where) else "%s (%s)" % (self.label, where)

    def __eq__(self, other):
        return isinstance(other, Server) and (self.label, self.host, self.port) == (other.label, other.host, other.port)

    def __hash__(self):
        return hash((self.label, self.host, self.port))

    def __repr__(self):
        return "Server(%r, %r, %r)" % (self.label, self.host, self.port)


def parse_server(text, default_port, field):
    """'host', 'host:port', '[v6]:port' or a bare IPv6 address -> (host, port)."""
    if not isinstance(text, str) or not text.strip():
        raise InputError(field, "is empty.", "give an address or host name, optionally with :port.")
    text = text.strip()
    match = re.match(r"^\[([0-9A-Fa-f:.]+)\](?::(\d+))?$", text)
    if match:
        host, port = match.group(1), match.group(2)
    elif text.count(":") == 1:
        host, port = text.split(":")
    else:
        host, port = text, None
    port = default_port if port is None else int(port) if port.isdigit() else -1
    if not host or not 0 < port < 65536:
        raise InputError(field, "%r is not host[:port] with a port from 1 to 65535." % text,
                         "write e.g. 192.0.2.53, 192.0.2.53:5353 or [2001:db8::53]:53.")
    return host, port


def endpoint_text(host, port):
    return "[%s]:%d" % (host, port) if ":" in host else "%s:%d" % (host, port)


def address_of(host, port, field="server"):
    """An IP address for ``host`` (dnspython sends only to addresses); an address is returned as it is."""
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, 0, socket.SOCK_DGRAM)
    except (OSError, UnicodeError) as exc:
        raise ProviderError("%s %s: cannot find its address (%s)." % (field, host, exc))
    return infos[0][4][0]


def explicit_servers(texts, port, field="wait_servers"):
    """Servers given by the user as 'host[:port]' texts, each at its address."""
    servers = []
    for index, text in enumerate(texts):
        host, server_port = parse_server(text, port, "%s[%d]" % (field, index))
        servers.append(Server(endpoint_text(host, server_port), address_of(host, server_port, field), server_port))
    return servers


def discovery_servers(dns, prefix=""):
    """The recursive servers a domain's own DNS settings name, as 'ip:port' texts, or None.

    Its ``nameservers``, else its rfc2136 primary (it serves the zone, so it answers for it).
    ``prefix`` is put before the option names in errors ("dns." for an inventory entry).
    """
    if dns.get("nameservers"):
        return list(dns["nameservers"])
    if dns.get("provider") == "rfc2136" and dns.get("server"):
        host, port = parse_server(dns["server"], dns.get("port") or 53, prefix + "server")
        return [endpoint_text(address_of(host, port, prefix + "server"), port)]
    return None


def in_zone(name, zone):
    name, zone = normalise_name(name), normalise_name(zone)
    return name == zone or name.endswith("." + zone)


def routed_lookup(zone, authoritative, recursive):
    """Names in ``zone`` go to one authoritative server; every other name (includes, report domains,
    DNSBLs) to the recursive resolver."""
    def lookup(name, rdtype):
        return (authoritative if in_zone(name, zone) else recursive)(name, rdtype)
    return lookup


def _why(err):
    """A lookup failure as a clause: its text without the final full stop."""
    return str(err).rstrip(". ")


def authoritative_servers(name, lookup, port=53, strict=False):
    """(zone, [Server]) for ``name``: the closest enclosing name with NS records and every address of each NS,
    asked through ``lookup`` (a recursive resolver callable). Server labels are absolute NS names.

    ``strict`` (the wait, which must see every server): ``name`` itself must be the zone, and every NS
    must have an address; otherwise an NS whose address lookup fails is skipped as long as one is left.
    Raises DiscoveryError.
    """
    labels = normalise_name(name).split(".")
    for start in range(1 if strict else len(labels) - 1):
        candidate = ".".join(labels[start:])
        try:
            names = lookup(candidate, "NS")
        except LookupFailure as err:
            raise DiscoveryError("finding the name servers of %s failed: %s." % (name, _why(err)))
        if not names:
            continue
        servers = []
        for ns in sorted(normalise_name(n) for n in names):
            addresses = []
            for rdtype in ("A", "AAAA"):
                try:
                    addresses += lookup(ns, rdtype)
                except LookupFailure as err:
                    if strict:
                        raise DiscoveryError("finding the address of name server %s failed: %s." % (ns, _why(err)))
            if strict and not addresses:
                raise DiscoveryError("name server %s of %s has no address." % (ns, candidate))
            servers += [Server(ns + ".", address, port) for address in addresses]
        if not servers:
            raise DiscoveryError("the name servers of %s (%s) have no addresses." % (candidate, ", ".join(names)))
        return candidate, servers
    raise DiscoveryError("no NS records found for %s." % name if strict else "no zone with NS records found for %s." % name)
