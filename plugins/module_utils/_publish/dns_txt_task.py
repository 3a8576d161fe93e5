# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the dns_txt and dns_txt_wait modules do, without AnsibleModule.

Argument specs shared by both modules (an action group passes the same provider
options to each), and the steps: check the options and records, judge the values
with the record logic, group names by zone, read every zone (refusing names that
hold a CNAME), plan, apply, read back, wait.
"""

from __future__ import annotations

from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError, check_port, check_seconds
from ansible_collections.mailauth.hardening.plugins.module_utils._dns.errors import NameConflict
from ansible_collections.mailauth.hardening.plugins.module_utils._dns.providers.registry import find_zone, open_provider, provider_kind
from ansible_collections.mailauth.hardening.plugins.module_utils._dns.servers import discovery_servers, explicit_servers
from ansible_collections.mailauth.hardening.plugins.module_utils._dns.wait import expectations, wait_until_served, zone_servers
from ansible_collections.mailauth.hardening.plugins.module_utils._publish.zone_run import (
    ZoneRunFailed, at_once, check_served, run_zones)
from ansible_collections.mailauth.hardening.plugins.module_utils._records.owned_names import check_owned_names
from ansible_collections.mailauth.hardening.plugins.module_utils._records.txt_changes import (
    names_of, normalise_zone, plan_changes, wanted_records)
from ansible_collections.mailauth.hardening.plugins.module_utils._records.txt_validate import record_findings

TSIG_ALGORITHMS = ["hmac-sha256", "hmac-sha512", "hmac-sha384", "hmac-sha224", "hmac-sha1", "hmac-md5",
                   "hmac-sha256-128", "hmac-sha384-192", "hmac-sha512-256"]

PROVIDER_ARGS = dict(
    provider=dict(type="str"),
    server=dict(type="str"),
    port=dict(type="int", default=53),
    protocol=dict(type="str", default="tcp", choices=["tcp", "udp"]),
    key_name=dict(type="str", no_log=False),
    key_secret=dict(type="str", no_log=True),
    key_algorithm=dict(type="str", default="hmac-sha256", choices=TSIG_ALGORITHMS, no_log=False),
    timeout=dict(type="float", default=10.0),
    provider_options=dict(type="dict", no_log=True),
    plesk_command=dict(type="str", default="plesk"),
    nameservers=dict(type="list", elements="str"),
)

RECORD_ARGS = dict(
    zone=dict(type="str"),
    # value is raw and checked by txt_changes.check_value: Ansible would turn a list, a mapping or
    # a boolean into its Python text and publish that, and its own messages do not say which record.
    records=dict(type="list", elements="dict", required=True, options=dict(
        name=dict(type="str", required=True),
        value=dict(type="raw"),
        ttl=dict(type="int"),
        # One task may carry several domains' records (the roles publish once per provider account):
        # each record then names its own domain (ownership) and, when known, its zone (no discovery).
        domain=dict(type="str"),
        zone=dict(type="str"),
    )),
    state=dict(type="str", default="present", choices=["present", "absent"]),
)

# What dns_txt and dns_record share beyond the provider and the records (doc fragment dns_provider.publish).
PUBLISH_ARGS = dict(
    ttl=dict(type="int"),
    domain=dict(type="str"),
    validate=dict(type="bool", default=True),
)

WAIT_ARGS = dict(
    wait_timeout=dict(type="int", default=300),
    wait_interval=dict(type="float", default=2.0),
    wait_servers=dict(type="list", elements="str"),
    wait_port=dict(type="int", default=53),
)


class TaskError(Exception):
    """A failure after some work: ``result`` holds what is known (changes, applied)."""

    def __init__(self, message, result):
        super().__init__(message)
        self.result = result


PER_RECORD = ("domain", "zone")


def _records(params):
    # The argument spec fills absent suboptions with None: drop them for validation.
    return [dict((k, v) for k, v in record.items() if v is not None) for record in params["records"]]


def _record_of(item, records):
    """The record (as given) a Wanted item came from: its field is ``records[N]``."""
    return records[int(item.field[len("records["):-1])]


def check_options(params):
    """Refuse numbers no server could be blamed for: ports, timeouts, intervals (each named)."""
    check_port("port", params.get("port"))
    check_port("wait_port", params.get("wait_port"))
    check_seconds("timeout", params.get("timeout"))
    check_seconds("wait_timeout", params.get("wait_timeout"), allow_zero=True)
    check_seconds("wait_interval", params.get("wait_interval"))


def check_owners(wanted, records, domain=None):
    """Every record with a domain (its own ``domain``, else the task's) must be at one of that domain's names."""
    by_domain = {}
    for item in wanted:
        record = _record_of(item, records)
        owner = record.get("domain", domain)
        if owner is not None:
            field = item.field + ".domain" if "domain" in record else "domain"
            by_domain.setdefault((owner, field), []).append(item)
    for (owner, field), items in by_domain.items():
        check_owned_names(items, owner, field=field)


def checked_records(params):
    """The options and records checked, as Wanted items; nothing asked of any server yet.

    Every record with a ``domain`` (its own, else the task's) must be at one of that domain's own names.
    """
    check_options(params)
    records = _records(params)
    txt = [dict((k, v) for k, v in record.items() if k not in PER_RECORD) for record in records]
    wanted = wanted_records(txt, params.get("zone"), params["state"], params.get("ttl"))
    check_owners(wanted, records, params.get("domain"))
    return wanted


def record_zone(item, records, zone):
    """The zone a record says it is in (else the task's ``zone``, else None); its name must be inside it."""
    given = _record_of(item, records).get("zone")
    if given is None:
        return normalise_zone(zone) if zone else None
    field = item.field + ".zone"
    found = normalise_zone(given, field)
    if item.name != found and not item.name.endswith("." + found):
        raise InputError(field, "%s is not inside zone %s." % (item.name, found),
                         "give the zone the name is in, or leave zone out to have it found.")
    return found


def discover_zones(params, names, adapter=None):
    """{name: zone} for absolute ``names``, asked at once (except through the Plesk CLI: one at a time)."""
    return dict(zip(names, at_once(lambda name: find_zone(params, name, adapter), names, adapter is not None)))


def wanted_by_zone(params, adapter=None, wanted=None):
    """Validate the records (unless ``wanted`` is given) and group them {zone: [Wanted]}; a zone is
    the record's ``zone``, else the task's, else found, once per name (``adapter``: the host adapter
    the back end runs on, see providers.base)."""
    wanted = checked_records(params) if wanted is None else wanted
    records = _records(params)
    given = dict((id(item), record_zone(item, records, params.get("zone"))) for item in wanted)
    found = discover_zones(params, names_of([item for item in wanted if given[id(item)] is None]), adapter)
    zones = {}
    for item in wanted:
        zones.setdefault(given[id(item)] or found[item.name], []).append(item)
    return zones


def public_changes(changes):
    """The per-name result users see: before, after, added, removed."""
    out = {}
    for name, change in changes.items():
        out[name] = {"before": change["before"], "after": change["after"],
                     "added": change["add"], "removed": change["remove"]}
    return out


def conflict_error(conflict, wanted, rtype="TXT"):
    """A NameConflict as bad input, naming the first record at that name."""
    field = next(item.field for item in wanted if item.name == conflict.name) + ".name"
    if conflict.kind == "cname":
        return InputError(field, "%s holds a CNAME to %s, and a name with a CNAME holds no other record (RFC 1034 "
                          "3.6.2): a %s value there is ignored (BIND logs \"attempt to add non-CNAME alongside "
                          "CNAME ignored\") or breaks the name, and is never served."
                          % (conflict.name, conflict.target, rtype),
                          "remove the CNAME at %s to publish the value there, or change the record at its target "
                          "%s (receivers follow the CNAME)." % (conflict.name, conflict.target))
    return InputError(field, "%s is below the delegation %s (NS %s): the zone would store the %s value but never "
                      "serve it." % (conflict.name, conflict.target, conflict.servers, rtype),
                      "publish it in the zone %s at that zone's primary (set zone and server for it)." % conflict.target)


def read_current(provider, wanted, state):
    """{name: TXT values} for every wanted name; a name that cannot hold TXT is refused for state=present."""
    current = {}
    for name in names_of(wanted):
        try:
            current[name] = provider.read(name)
        except NameConflict as conflict:
            if state == "present":
                raise conflict_error(conflict, wanted)
            current[name] = []  # a CNAME or a delegated name has no TXT of its own here: nothing to remove
    return current


def verify_served(provider, changes, applied):
    """Read every changed name back from the primary; raise ProviderError naming what it does not serve
    (``zone_run.check_served``)."""
    check_served(provider.zone, dict(((name, "TXT"), change) for name, change in changes.items()), applied,
                 lambda key: provider.read(key[0]), lambda key: key[0])


def apply_verified(provider, changes):
    """Apply a zone's changes and read them back (``verify_served``); what was applied."""
    done = provider.apply(changes)
    verify_served(provider, changes, done)
    return done


def require_provider(params):
    if not params.get("provider"):
        raise InputError("provider", "is required.", "set provider (rfc2136, plesk or a dns-lexicon provider name), "
                         "for example once for the group with module_defaults.")


def publish(params, check_mode, adapter=None):
    """Ensure the records; return {changed, changes, applied, zones, findings} with internal ``plan``.

    Raises InputError before anything is touched, TaskError (with what was applied) after.
    """
    require_provider(params)
    wanted = checked_records(params)
    findings = record_findings(wanted, params["state"], params.get("validate", True))
    zones = wanted_by_zone(params, adapter, wanted)
    try:
        plan, applied = run_zones(zones, check_mode, lambda zone: open_provider(params, zone, adapter),
                                  lambda provider, items: plan_changes(read_current(provider, items, params["state"]),
                                                                       items, params["state"]), apply_verified,
                                  one_at_a_time=provider_kind(params["provider"]) != "rfc2136")
    except ZoneRunFailed as failed:
        raise TaskError(_named(str(failed.error), failed.error, wanted),
                        {"changed": bool(failed.applied), "changes": public_changes(failed.plan),
                         "applied": failed.applied})
    return {"changed": bool(plan), "changes": public_changes(plan), "applied": applied,
            "zones": list(zones), "plan": plan, "wanted": zones, "findings": findings}


def _named(message, exc, wanted):
    """Start a back end's failure with the record it failed on, when it says which value that was."""
    fields = [item.field + ".value" for item in wanted if exc.value is not None and item.value == exc.value]
    return "%s: %s" % (fields[0], message) if fields else message


def wait_for_servers(params, zones, plan):
    """Wait until every authoritative server of each zone serves the outcome; return the servers asked.

    The servers: wait_servers, else each zone's NS set found through nameservers, else through the
    rfc2136 primary (it answers for its zones), else through the system resolver.
    """
    timeout = params.get("timeout") or 10
    asked = []
    for zone, wanted in zones.items():
        if params.get("wait_servers"):
            servers = explicit_servers(params["wait_servers"], params["wait_port"])
        else:
            servers = zone_servers(zone, discovery_servers(params) or [], timeout, params["wait_port"])
        expect = expectations(wanted, dict((n, c) for n, c in plan.items() if n in names_of(wanted)), params["state"])
        wait_until_served(servers, expect, params["wait_timeout"], params["wait_interval"])
        asked += [str(server) for server in servers if str(server) not in asked]
    return asked
