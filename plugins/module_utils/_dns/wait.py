# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Wait until every authoritative server of a zone serves the wanted TXT values.

The servers are the zone's NS set with their addresses, found through a resolver,
or an explicit list. Each is asked directly, without recursion, so a lagging
secondary is seen even when a resolver already has the new value.
"""

from __future__ import annotations

import time

from ansible_collections.mailauth.hardening.plugins.module_utils._dns.errors import DiscoveryError, ProviderError
from ansible_collections.mailauth.hardening.plugins.module_utils._dns.query import query_txt
from ansible_collections.mailauth.hardening.plugins.module_utils._dns.resolver import resolver_for, resolver_lookup, resolver_text
from ansible_collections.mailauth.hardening.plugins.module_utils._dns.servers import authoritative_servers
from ansible_collections.mailauth.hardening.plugins.module_utils._records.lookup import seconds_text


def expectations(wanted, changes, state):
    """{name: {"present": [...], "absent": [...]}} that every server must show."""
    expect = {}
    for item in wanted:
        entry = expect.setdefault(item.name, {"present": [], "absent": []})
        entry["present" if state == "present" else "absent"].append(item.value)
    for name, change in changes.items():
        if state == "present":
            expect[name]["absent"].extend(v for v in change["remove"] if v not in expect[name]["absent"])
    return expect


def zone_servers(zone, through, timeout, port):
    """Every address of every NS of ``zone``, looked up through the recursive servers ``through`` (or the system's)."""
    resolver = resolver_for(through, timeout)
    try:
        return authoritative_servers(zone, resolver_lookup(resolver), port, strict=True)[1]
    except DiscoveryError as exc:
        raise DiscoveryError("%s, asked through %s. Fix: check nameservers, or give wait_servers to name the servers."
                             % (str(exc).rstrip("."), resolver_text(resolver)))


def lag_at(server, expect, timeout):
    """What ``server`` does not serve yet, in words; None when it serves everything."""
    problems = []
    for name, want in expect.items():
        try:
            pairs, _ttl = query_txt(server.host, server.port, name, timeout)
        except ProviderError as exc:
            return str(exc)
        values = [joined for joined, _rdata in pairs]
        problems += ["%s lacks %r" % (name, v) for v in want["present"] if v not in values]
        problems += ["%s still has %r" % (name, v) for v in want["absent"] if v in values]
    return "; ".join(problems) or None


def wait_until_served(servers, expect, timeout, interval=2.0, lag=lag_at, clock=time.monotonic, sleep=time.sleep):
    """Poll until no server lags; raise ProviderError naming every lagging server at the timeout.

    Returns the number of polling rounds it took.
    """
    deadline = clock() + timeout
    pending = list(servers)
    rounds = 0
    while True:
        rounds += 1
        remaining = max(deadline - clock(), 0.5)
        lagging = []
        for server in pending:
            problem = lag(server, expect, min(5.0, remaining))
            if problem:
                lagging.append((server, problem))
        pending = [server for server, _problem in lagging]
        if not pending:
            return rounds
        if clock() >= deadline:
            raise ProviderError("after %s s, %d of %d authoritative servers do not serve the wanted TXT values: %s. "
                                "Fix: make the lagging servers serve the zone (a secondary that does not transfer "
                                "it, a wrong wait_servers or wait_port?), or raise wait_timeout."
                                % (seconds_text(timeout), len(lagging), len(servers),
                                   " | ".join("%s: %s" % (server, str(problem).rstrip(".")) for server, problem in lagging)))
        sleep(min(interval, max(deadline - clock(), 0)))
