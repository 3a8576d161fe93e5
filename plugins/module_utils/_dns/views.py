# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which name servers answer for a domain, as ``[(server label, resolver callable)]``: the audit's and the gates' view.

Either exactly the given servers (every name goes to each), or every authoritative server of the
domain's zone, found through a recursive resolver. Names outside the zone (SPF includes, report
domains, DNSBLs) go to that resolver. A RecordingLookup remembers answers, so servers can be compared.
"""

from __future__ import annotations

from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError
from ansible_collections.mailauth.hardening.plugins.module_utils._dns.errors import DiscoveryError
from ansible_collections.mailauth.hardening.plugins.module_utils._dns.resolver import dns_lookup
from ansible_collections.mailauth.hardening.plugins.module_utils._dns.servers import authoritative_servers, endpoint_text, routed_lookup
from ansible_collections.mailauth.hardening.plugins.module_utils._records.lookup import LookupFailure, normalise_name


class RecordingLookup(object):
    """Wraps a resolver: remembers each answer (and failure) so repeats are free and servers can be compared."""

    def __init__(self, lookup):
        self.lookup = lookup
        self.answers = {}

    def __call__(self, name, rdtype):
        key = (normalise_name(name), rdtype.upper())
        if key not in self.answers:
            try:
                self.answers[key] = sorted(self.lookup(*key))
            except LookupFailure as err:
                self.answers[key] = err
        answer = self.answers[key]
        if isinstance(answer, LookupFailure):
            raise answer
        return list(answer)


def disagreements(recorders):
    """``{label: RecordingLookup}`` -> the names every server was asked and answered differently."""
    labels = sorted(recorders)
    if len(labels) < 2:
        return []
    common = set(recorders[labels[0]].answers)
    for label in labels[1:]:
        common &= set(recorders[label].answers)
    found = []
    for key in sorted(common):
        shown = dict((label, _shown(recorders[label].answers[key])) for label in labels)
        if len(set(repr(v) for v in shown.values())) > 1:
            found.append({"name": key[0], "type": key[1], "answers": shown})
    return found


def _shown(answer):
    return "lookup failed: %s" % answer.cause if isinstance(answer, LookupFailure) else list(answer)


class Views(object):
    """``views(domain, through=None)`` -> ``[(label, lookup)]`` for the servers to ask about ``domain``.

    ``nameservers``: ask exactly these. Otherwise the zone's authoritative servers (at ``port``), found
    through ``through`` (recursive servers the caller chose for this domain), else ``resolvers``, else the
    system's resolver. With ``record`` every lookup is a RecordingLookup and ``disagreements()`` compares
    the servers of each zone. ``asked`` maps each domain to the labels of the servers it was asked of.
    """

    def __init__(self, nameservers=None, resolvers=None, port=53, timeout=5.0, record=False, lookup_factory=dns_lookup):
        self.port = port
        self.timeout = timeout
        self.factory = lookup_factory
        self.wrap = RecordingLookup if record else (lambda lookup: lookup)
        self.resolvers = resolvers
        self.groups = []  # {label: lookup} per set of servers compared with each other
        self.asked = {}
        self.explicit = None
        self.recursive = {}
        self.zones = {}
        if nameservers:
            lookup_factory(nameservers, timeout=timeout)  # refuses a bad entry, naming it
            self.explicit = [(ns, self.wrap(lookup_factory([ns], timeout=timeout))) for ns in nameservers]
            self.groups.append(dict(self.explicit))
        elif resolvers:
            self._recursive(resolvers)  # refuses a bad entry before any domain is asked

    def _recursive(self, servers):
        key = tuple(servers or ())
        if key not in self.recursive:
            self.recursive[key] = self.wrap(self.factory(list(key) or None, timeout=self.timeout, field="resolvers"))
        return self.recursive[key]

    def _authoritative(self, domain, through):
        recursive = self._recursive(through or self.resolvers)
        try:
            zone, servers = authoritative_servers(domain, recursive, self.port)
        except DiscoveryError as err:
            raise InputError("nameservers", str(err), "check the domain name and the resolver, or give nameservers "
                             "explicitly.")
        if zone not in self.zones:
            recorders = dict(("%s (%s)" % (normalise_name(server.label), server.host),
                              self.wrap(self.factory([endpoint_text(server.host, server.port)], timeout=self.timeout)))
                             for server in servers)
            self.groups.append(recorders)
            self.zones[zone] = [(label, routed_lookup(zone, recorders[label], recursive)) for label in sorted(recorders)]
        return self.zones[zone]

    def __call__(self, domain, through=None):
        views = self.explicit if self.explicit is not None else self._authoritative(domain, through)
        self.asked[domain] = [label for label, _lookup in views]
        return views

    def disagreements(self):
        """The names the servers of one group were all asked and answered differently (record mode)."""
        found = []
        for group in self.groups:
            found.extend(disagreements(group))
        return found
