# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The authoritative servers of a zone, found through a resolver callable (``_records.lookup``)."""

from __future__ import annotations

from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError
from ansible_collections.mailauth.hardening.plugins.module_utils._records.lookup import LookupFailure, normalise_name


def _why(err):
    """A lookup failure as a clause: its text without the final full stop."""
    return str(err).rstrip(". ")


def in_zone(name, zone):
    name, zone = normalise_name(name), normalise_name(zone)
    return name == zone or name.endswith("." + zone)


def routed_lookup(zone, authoritative, recursive):
    """Names in ``zone`` go to one authoritative server; every other name (includes, report domains,
    DNSBLs) to the recursive resolver."""
    def lookup(name, rdtype):
        return (authoritative if in_zone(name, zone) else recursive)(name, rdtype)
    return lookup


def authoritative_servers(domain, lookup):
    """(zone, [(server name, address)]) of ``domain``: the closest enclosing name with NS records.

    ``lookup`` is a recursive resolver. Raises InputError when no zone is found.
    """
    labels = normalise_name(domain).split(".")
    for start in range(len(labels) - 1):
        candidate = ".".join(labels[start:])
        try:
            names = lookup(candidate, "NS")
        except LookupFailure as err:
            raise InputError("nameservers", "finding the name servers of %s failed: %s." % (domain, _why(err)),
                             "give nameservers explicitly, or check the resolver.")
        if not names:
            continue
        servers = []
        for ns in sorted(normalise_name(n) for n in names):
            for rdtype in ("A", "AAAA"):
                try:
                    servers.extend((ns, address) for address in lookup(ns, rdtype))
                except LookupFailure:
                    continue
        if not servers:
            raise InputError("nameservers", "the name servers of %s (%s) have no addresses."
                             % (candidate, ", ".join(names)), "give nameservers explicitly.")
        return candidate, servers
    raise InputError("nameservers", "no zone with NS records found for %s." % domain,
                     "check the domain name, or give nameservers explicitly.")
