# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which name servers the harden gates ask about a domain, as ``views_for(plan)`` for ``_gates``.

Either exactly the given servers (every name goes to each), or every authoritative server of the
domain's zone, found through a recursive resolver: the given resolvers, else the domain's own
``dns.nameservers``, else its RFC 2136 server (which serves the zone), else the system's. Names
outside the zone (SPF includes) go to that resolver, as in mail_audit.
"""

from __future__ import annotations

import ipaddress

from ansible_collections.mailauth.hardening.plugins.module_utils._dns.servers import authoritative_servers, routed_lookup
from ansible_collections.mailauth.hardening.plugins.module_utils._dns.providers.base import parse_server
from ansible_collections.mailauth.hardening.plugins.module_utils._dns.query import address_of
from ansible_collections.mailauth.hardening.plugins.module_utils._dns.resolver import dns_lookup


def server_text(address, port):
    return "[%s]:%d" % (address, port) if ":" in address else "%s:%d" % (address, port)


def _discovery(dns):
    """The recursive servers a domain's own DNS settings name, as 'ip:port' texts, or None."""
    if dns.get("nameservers"):
        return list(dns["nameservers"])
    if dns.get("provider") == "rfc2136" and dns.get("server"):
        host, port = parse_server(dns["server"], dns.get("port") or 53, "dns.server")
        try:
            address = str(ipaddress.ip_address(host))
        except ValueError:
            address = address_of(host, port, "dns.server")
        return [server_text(address, port)]
    return None


def gate_views(nameservers=None, resolvers=None, port=53, timeout=5.0, lookup_factory=dns_lookup):
    """A ``views_for(plan)`` callable: ``[(server label, lookup)]`` for the plan's domain."""
    if nameservers:
        explicit = [(ns, lookup_factory([ns], timeout=timeout)) for ns in nameservers]
        return lambda plan: explicit
    recursive_by_servers, zones = {}, {}

    def views_for(plan):
        servers = resolvers or _discovery(plan.get("dns") or {})
        key = tuple(servers or ())
        if key not in recursive_by_servers:
            recursive_by_servers[key] = lookup_factory(list(key) or None, timeout=timeout)
        recursive = recursive_by_servers[key]
        zone, found = authoritative_servers(plan["name"], recursive)
        if zone not in zones:
            zones[zone] = [("%s (%s)" % (name, address),
                            routed_lookup(zone, lookup_factory([server_text(address, port)], timeout=timeout), recursive))
                           for name, address in found]
        return zones[zone]

    return views_for
