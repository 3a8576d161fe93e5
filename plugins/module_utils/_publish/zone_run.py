# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The steps dns_txt and dns_record share: open each zone's provider, read and plan every zone
before anything is sent (so a refusal changes nothing anywhere), then apply each zone and read
its changes back.
"""

from __future__ import annotations

from ansible_collections.mailauth.hardening.plugins.module_utils._dns.errors import NameConflict, ProviderError
from ansible_collections.mailauth.hardening.plugins.module_utils._records.rrset_changes import label


class ZoneRunFailed(Exception):
    """A back end failed after planning: ``error`` the ProviderError, ``plan`` every change planned so
    far, ``applied`` what took effect before the failure."""

    def __init__(self, error, plan, applied):
        super().__init__(str(error))
        self.error = error
        self.plan = plan
        self.applied = applied


def run_zones(zones, check_mode, open_zone, plan_zone, apply_zone):
    """Open each of ``zones`` ({zone: wanted items}) with ``open_zone(zone) -> provider`` (the registry's
    ``open_provider``), plan it with ``plan_zone(provider, items) -> changes``, then
    (unless ``check_mode``) apply each zone's changes with ``apply_zone(provider, changes) -> applied``.

    Returns (plan, applied), the plans of all zones merged. Bad input raised while planning
    (InputError) passes through; a ProviderError becomes ZoneRunFailed. Providers are always closed.
    """
    plan, applied, providers = {}, [], {}
    try:
        plans = {}
        for zone, items in zones.items():
            providers[zone] = open_zone(zone)
            plans[zone] = plan_zone(providers[zone], items)
        for zone, changes in plans.items():
            plan.update(changes)
            if changes and not check_mode:
                applied += apply_zone(providers[zone], changes)
    except ProviderError as exc:
        raise ZoneRunFailed(exc, plan, applied + exc.applied)
    finally:
        for provider in providers.values():
            provider.close()
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
