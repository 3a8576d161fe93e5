# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The steps dns_txt and dns_record share: open each zone's provider, read and plan every zone
before anything is sent (so a refusal changes nothing anywhere), then apply each zone and read
its changes back.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from ansible_collections.mailauth.hardening.plugins.module_utils._dns.errors import NameConflict, ProviderError
from ansible_collections.mailauth.hardening.plugins.module_utils._records.rrset_changes import label

# Requests sent at once where their order does not matter (zone discovery, reading and updating the
# zones of an RFC 2136 server): each waits on the network. The Plesk CLI and hosted APIs go one at a time.
WORKERS = 4


class ZoneRunFailed(Exception):
    """A back end failed after planning: ``error`` the ProviderError, ``plan`` every change planned so
    far, ``applied`` what took effect before the failure."""

    def __init__(self, error, plan, applied):
        super().__init__(str(error))
        self.error = error
        self.plan = plan
        self.applied = applied


def at_once(function, items, one_at_a_time=False):
    """``[function(item)]`` in the order of ``items``, run side by side unless ``one_at_a_time``; the
    first failure in that order is raised, once every call has ended."""
    if one_at_a_time or len(items) < 2:
        return [function(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(WORKERS, len(items))) as pool:
        return list(pool.map(function, items))


def run_zones(zones, check_mode, open_zone, plan_zone, apply_zone, one_at_a_time=True):
    """Open each of ``zones`` ({zone: wanted items}) with ``open_zone(zone) -> provider`` (the registry's
    ``open_provider``), plan it with ``plan_zone(provider, items) -> changes``, then
    (unless ``check_mode``) apply each zone's changes with ``apply_zone(provider, changes) -> applied``.

    Every zone is read and planned before anything is sent, so a refusal changes nothing anywhere.
    Without ``one_at_a_time`` (RFC 2136: each update is atomic) zones are read and updated side by
    side; otherwise one at a time, and after a failure no further zone is changed.

    Returns (plan, applied), the plans of all zones merged. Bad input raised while planning
    (InputError) passes through; a ProviderError becomes ZoneRunFailed (the first failing zone's, in
    the order of ``zones``). Providers are always closed.
    """
    plan, applied, providers, failures = {}, [], {}, []

    def read_zone(zone):
        providers[zone] = open_zone(zone)
        return plan_zone(providers[zone], zones[zone])

    def write_zone(zone):
        changes = plans[zone]
        if not changes or check_mode or (one_at_a_time and failures):
            return []
        try:
            return apply_zone(providers[zone], changes)
        except ProviderError as exc:
            failures.append((list(zones).index(zone), exc))
            return exc.applied

    try:
        plans = dict(zip(zones, at_once(read_zone, list(zones), one_at_a_time)))
        for zone, done in zip(plans, at_once(write_zone, list(plans), one_at_a_time)):
            plan.update(plans[zone])
            applied += done
    except ProviderError as exc:
        raise ZoneRunFailed(exc, plan, applied)
    finally:
        for provider in providers.values():
            provider.close()
    if failures:
        raise ZoneRunFailed(min(failures, key=lambda failure: failure[0])[1], plan, applied)
    return plan, applied


def check_served(zone, changes, applied, read, shown=label):
    """Read every changed RRset back (``read((name, TYPE)) -> values``); raise ProviderError naming
    what the primary of ``zone`` does not serve, ``shown(key)`` naming each RRset.

    A server can accept a change and not apply it (BIND ignores a record next to a CNAME that
    appeared after our read); the error's ``applied`` is cut to what the read-back shows in effect.
    Entries in ``applied`` without a type are TXT (dns_txt's).
    """
    now, missing = {}, []
    for key, change in changes.items():
        try:
            now[key] = read(key)
        except NameConflict as conflict:
            now[key] = []
            missing.append(conflict.description)
        missing += ["%s lacks %r" % (shown(key), value) for value in change["add"] if value not in now[key]]
        missing += ["%s still has %r" % (shown(key), value) for value in change["remove"] if value in now[key]]
    if missing:
        served = [entry for entry in applied if (entry["value"] in now[(entry["name"], entry.get("type", "TXT"))])
                  == (entry["action"] == "add")]
        raise ProviderError("zone %s: the change was accepted, but the primary does not serve it: %s. Fix: look for a "
                            "CNAME or another edit at those names (the server's log says why), then run again."
                            % (zone, "; ".join(missing)), served)
