# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the dns_txt and dns_txt_wait modules do, without AnsibleModule.

Argument specs shared by both modules (an action group passes the same provider
options to each), and the steps: validate, group names by zone, read, plan,
apply, wait.
"""

from __future__ import annotations

from ansible_collections.mailauth.hardening.plugins.module_utils._dns_providers import (
    ProviderError, find_zone, open_provider)
from ansible_collections.mailauth.hardening.plugins.module_utils._errors import InputError
from ansible_collections.mailauth.hardening.plugins.module_utils._owned_names import check_owned_names
from ansible_collections.mailauth.hardening.plugins.module_utils._txt_changes import (
    names_of, normalise_zone, plan_changes, wanted_records)

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
    records=dict(type="list", elements="dict", required=True, options=dict(
        name=dict(type="str", required=True),
        value=dict(type="str", required=True),
        ttl=dict(type="int"),
    )),
    state=dict(type="str", default="present", choices=["present", "absent"]),
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


def _records(params):
    # The argument spec fills absent suboptions with None: drop them for validation.
    return [dict((k, v) for k, v in record.items() if v is not None) for record in params["records"]]


def wanted_by_zone(params, run_command=None):
    """Validate the records and group them {zone: [Wanted]}; the zone is found when not given.

    With ``domain`` (dns_txt only) every name must be one of that domain's own, checked before any
    query is sent.
    """
    wanted = wanted_records(_records(params), params.get("zone"), params["state"], params.get("ttl"))
    if params.get("domain") is not None:
        check_owned_names(wanted, params["domain"])
    if params.get("zone"):
        return {normalise_zone(params["zone"]): wanted}
    zones = {}
    found = {}
    for item in wanted:
        if item.name not in found:
            found[item.name] = find_zone(params, item.name, run_command)
        zones.setdefault(found[item.name], []).append(item)
    return zones


def public_changes(changes):
    """The per-name result users see: before, after, added, removed."""
    out = {}
    for name, change in changes.items():
        out[name] = {"before": change["before"], "after": change["after"],
                     "added": change["add"], "removed": change["remove"]}
    return out


def publish(params, check_mode, run_command=None):
    """Ensure the records; return {changed, changes, applied, zones} with internal ``plan``.

    Raises InputError before anything is touched, TaskError (with what was applied) after.
    """
    if not params.get("provider"):
        raise InputError("provider", "is required.", "set provider (rfc2136, plesk or a dns-lexicon provider name), "
                         "for example once for the group with module_defaults.")
    zones = wanted_by_zone(params, run_command)
    plan = {}
    applied = []
    for zone, wanted in zones.items():
        provider = None
        try:
            provider = open_provider(params, zone, run_command)
            current = dict((name, provider.read(name)) for name in names_of(wanted))
            changes = plan_changes(current, wanted, params["state"])
            if changes and not check_mode:
                applied += provider.apply(changes)
            plan.update(changes)
        except ProviderError as exc:
            applied += exc.applied
            raise TaskError(str(exc), {"changed": bool(applied), "changes": public_changes(plan), "applied": applied})
        finally:
            if provider is not None:
                provider.close()
    return {"changed": bool(plan), "changes": public_changes(plan), "applied": applied,
            "zones": list(zones), "plan": plan, "wanted": zones}


def wait_for_servers(params, zones, plan, resolver_servers=None):
    """Wait until every authoritative server of each zone serves the outcome; return the servers asked."""
    from ansible_collections.mailauth.hardening.plugins.module_utils._dns_query import resolver_for
    from ansible_collections.mailauth.hardening.plugins.module_utils._dns_wait import (
        authoritative_servers, expectations, explicit_servers, wait_until_served)
    timeout = params.get("timeout") or 10
    asked = []
    for zone, wanted in zones.items():
        if params.get("wait_servers"):
            servers = explicit_servers(params["wait_servers"], params["wait_port"])
        else:
            through = params.get("nameservers") or resolver_servers or []
            servers = authoritative_servers(zone, resolver_for(through, timeout), params["wait_port"])
        expect = expectations(wanted, dict((n, c) for n, c in plan.items() if n in names_of(wanted)), params["state"])
        wait_until_served(servers, expect, params["wait_timeout"], params["wait_interval"])
        asked += [str(server) for server in servers if str(server) not in asked]
    return asked


def discovery_servers(params):
    """Where to look up a zone's NS set when nameservers is not given: the rfc2136 server."""
    if params.get("provider") == "rfc2136" and params.get("server"):
        from ansible_collections.mailauth.hardening.plugins.module_utils._dns_providers import parse_server
        from ansible_collections.mailauth.hardening.plugins.module_utils._dns_query import endpoint_text
        return [endpoint_text(*parse_server(params["server"], params.get("port") or 53, "server"))]
    return []
