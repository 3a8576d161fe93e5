# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the dns_record module does, without AnsibleModule: RRsets of TXT, TLSA, CNAME, MX, A, AAAA.

The options, the zone grouping and the TXT checks are dns_txt's (``dns_txt_task``); the steps are
``zone_run``'s. What is added: the record types (``_records.rrset_changes``), the types a back end
can write (refused before anything is asked), and the CNAME rule against what the zone holds.
"""

from __future__ import annotations

from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError
from ansible_collections.mailauth.hardening.plugins.module_utils._dns.errors import NameConflict
from ansible_collections.mailauth.hardening.plugins.module_utils._dns.providers.registry import open_provider, provider_class, provider_kind
from ansible_collections.mailauth.hardening.plugins.module_utils._publish.dns_txt_task import (
    TaskError, _named, check_options, conflict_error, require_provider, wanted_by_zone)
from ansible_collections.mailauth.hardening.plugins.module_utils._publish.zone_run import ZoneRunFailed, check_served, run_zones
from ansible_collections.mailauth.hardening.plugins.module_utils._records.owned_names import check_owned_names
from ansible_collections.mailauth.hardening.plugins.module_utils._records.rdata import TYPES
from ansible_collections.mailauth.hardening.plugins.module_utils._records.rrset_changes import (
    keys_of, plan_rrsets, public_rrsets, wanted_rrsets)
from ansible_collections.mailauth.hardening.plugins.module_utils._records.txt_validate import record_findings

RECORD_ARGS = dict(
    zone=dict(type="str"),
    # value is raw and checked by the record logic, which names the record (see dns_txt_task.RECORD_ARGS).
    records=dict(type="list", elements="dict", required=True, options=dict(
        name=dict(type="str", required=True),
        type=dict(type="str", required=True, choices=list(TYPES)),
        value=dict(type="raw"),
        ttl=dict(type="int"),
    )),
    state=dict(type="str", default="present", choices=["present", "absent"]),
    mx_hosts=dict(type="list", elements="str", default=[]),
)


def checked_rrsets(params):
    """The options and records checked, as TypedWanted items; nothing asked of any server yet."""
    check_options(params)
    records = [dict((k, v) for k, v in record.items() if v is not None) for record in params["records"]]
    wanted = wanted_rrsets(records, params.get("zone"), params["state"], params.get("ttl"))
    if params.get("domain") is not None:
        check_owned_names(wanted, params["domain"], params.get("mx_hosts") or ())
    provider_class(params["provider"]).check_types(params, wanted)
    return wanted


def cname_beside_records(item, types):
    """A CNAME wanted at a name that holds other records, as bad input."""
    return InputError(item.field + ".name", "%s holds %s records, and a name with a CNAME holds no other record "
                      "(RFC 1034 3.6.2); the server would refuse or ignore the CNAME." % (item.name, ", ".join(sorted(types))),
                      "remove the %s records at %s first (state: absent), or point another name at %s."
                      % ("/".join(sorted(types)), item.name, item.value))


def read_rrsets(provider, wanted, state):
    """{(name, TYPE): values} for every wanted RRset; refuses (state=present) a record at a name with a
    CNAME or below a delegation, and a CNAME at a name that holds other records."""
    for item in wanted:
        provider.check_wanted(item)
    current = {}
    for key in keys_of(wanted):
        first = next(item for item in wanted if item.key == key)
        try:
            current[key] = provider.read_rrset(*key)
            if key[1] == "CNAME" and state == "present":
                others = provider.types_at(key[0]) - {"CNAME"}
                if others:
                    raise cname_beside_records(first, others)
        except NameConflict as conflict:
            if state == "present":
                raise conflict_error(conflict, [first], key[1])
            current[key] = []  # nothing of that type of its own there: nothing to remove
    return current


def _apply(provider, changes):
    """Apply a zone's changes and read them back; what was applied."""
    done = provider.apply_rrsets(changes)
    check_served(provider.zone, changes, done, lambda key: provider.read_rrset(*key))
    return done


def publish(params, check_mode, adapter=None):
    """Ensure the RRsets; return {changed, changes, applied, zones, findings} and the internal ``plan``.

    Raises InputError before anything is touched, TaskError (with what was applied) after.
    """
    require_provider(params)
    wanted = checked_rrsets(params)
    findings = record_findings([item for item in wanted if item.rtype == "TXT"], params["state"],
                               params.get("validate", True))
    zones = wanted_by_zone(params, adapter, wanted)
    state = params["state"]
    try:
        plan, applied = run_zones(zones, check_mode, lambda zone: open_provider(params, zone, adapter),
                                  lambda provider, items: plan_rrsets(read_rrsets(provider, items, state), items, state),
                                  _apply, one_at_a_time=provider_kind(params["provider"]) != "rfc2136")
    except ZoneRunFailed as failed:
        raise TaskError(_named(str(failed.error), failed.error, wanted),
                        {"changed": bool(failed.applied), "changes": public_rrsets(failed.plan),
                         "applied": failed.applied})
    return {"changed": bool(plan), "changes": public_rrsets(plan), "applied": applied, "zones": list(zones),
            "plan": plan, "findings": findings}
