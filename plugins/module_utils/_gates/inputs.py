# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the harden gates are given, checked before they ask DNS anything: a gate must never pass
because its input was not what it expected.

A gate skips what a plan says needs no check (a domain that publishes no SPF, sends from no
address, has no key yet). So a plan that lacks the keys the gate reads, an empty list, or a
mapping of another shape (the inventory's ``mailauth_domains`` instead of the harden_plan
filter's plans) would make it check nothing and pass: those fail here, naming the entry, what
it lacks and what to pass instead. Pure.
"""

from __future__ import annotations

import ipaddress

from ansible_collections.mailauth.hardening.plugins.module_utils._records.dmarc import POLICIES
from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError, kind_of
from ansible_collections.mailauth.hardening.plugins.module_utils._records.lookup import is_hostname

# What every plan of the harden_plan filter carries, and what each gate reads of it.
PLAN_KEYS = ("name", "dns", "publish", "sending_ips", "dkim_records")
RECORD_KEYS = ("domain", "selector", "dns_name", "record", "hosts")
PENDING_KEYS = ("name", "dns", "dmarc", "target", "held")
FINDING_KEYS = ("domain", "check", "severity")
PLANS_FIX = ('pass the plans of the harden_plan filter (domains: "{{ mailauth_plan }}"), not the inventory\'s '
             'mailauth_domains')
PENDING_FIX = 'pass the pending list of the hold step (domains: "{{ hold.pending }}")'


def _a(kind):
    return kind if kind in ("null", "text") else "a " + kind


def _mapping(value, field, fix):
    if not isinstance(value, dict):
        raise InputError(field, "is %s, not a mapping." % _a(kind_of(value)), fix + ".")
    return value


def _has(value, keys, field, what, fix):
    missing = [key for key in keys if key not in value]
    if missing:
        raise InputError(field, "lacks %s, so it is not %s and the gate could not check it (a gate that checks "
                         "nothing would pass)." % (", ".join(missing), what), fix + ".")


def _name(value, field):
    if not isinstance(value, str) or not is_hostname(value):
        raise InputError(field, "%r is not a domain name." % (value,), "give the domain, e.g. example.com.")


def _list(value, field, elements):
    if not isinstance(value, list):
        raise InputError(field, "is %s, not a list of %s." % (_a(kind_of(value)), elements),
                         "write a YAML list (an empty one when there are none).")
    return value


def _check_record(record, field):
    _mapping(record, field, "give each DKIM record as the harden_plan filter makes it")
    _has(record, RECORD_KEYS, field, "a DKIM record of the harden_plan filter", PLANS_FIX)
    for key in ("domain", "selector", "dns_name", "record"):
        if not isinstance(record[key], str) or not record[key]:
            raise InputError("%s.%s" % (field, key), "must be non-empty text, not %r." % (record[key],), PLANS_FIX + ".")
    hosts = _list(record["hosts"], field + ".hosts", "host names")
    if not hosts or not all(isinstance(host, str) and host for host in hosts):
        raise InputError(field + ".hosts", "must name the hosts that sign with the key.", PLANS_FIX + ".")


def check_plan(plan, field):
    """One plan of the harden_plan filter (the SPF, DMARC hold and signing gates)."""
    _mapping(plan, field, PLANS_FIX)
    _has(plan, PLAN_KEYS, field, "a plan of the harden_plan filter", PLANS_FIX)
    _name(plan["name"], field + ".name")
    _mapping(plan["dns"], field + ".dns", "give the domain's dns settings as a mapping")
    if not isinstance(plan["publish"], bool):
        raise InputError(field + ".publish", "must be true or false, not %r." % (plan["publish"],), PLANS_FIX + ".")
    for index, ip in enumerate(_list(plan["sending_ips"], field + ".sending_ips", "IP addresses")):
        try:
            ipaddress.ip_address(ip if isinstance(ip, str) else "")
        except ValueError:
            raise InputError("%s.sending_ips[%d]" % (field, index), "%r is not an IP address." % (ip,),
                             "give the domain's outbound IPv4 or IPv6 addresses.")
    for index, record in enumerate(_list(plan["dkim_records"], field + ".dkim_records", "DKIM records")):
        _check_record(record, "%s.dkim_records[%d]" % (field, index))
    if plan.get("dmarc") is not None:
        _mapping(plan["dmarc"], field + ".dmarc", "write the DMARC tags as a mapping, e.g. {p: none}")


def check_pending(entry, field):
    """One pending raise of the DMARC hold step (the raise step)."""
    _mapping(entry, field, PENDING_FIX)
    _has(entry, PENDING_KEYS, field, "a pending raise of the DMARC hold step", PENDING_FIX)
    _name(entry["name"], field + ".name")
    _mapping(entry["dns"], field + ".dns", PENDING_FIX)
    _mapping(entry["dmarc"], field + ".dmarc", PENDING_FIX)
    for key in ("target", "held"):
        if entry[key] not in POLICIES:
            raise InputError("%s.%s" % (field, key), "%r is not a DMARC stage." % (entry[key],),
                             "use one of %s (%s)." % (", ".join(POLICIES), PENDING_FIX))


def check_findings(findings):
    for index, finding in enumerate(_list(findings, "findings", "findings")):
        field = "findings[%d]" % index
        _mapping(finding, field, "pass the findings of mail_audit as they are")
        _has(finding, FINDING_KEYS, field, "a mail_audit finding", "pass the findings of mail_audit as they are")


def audited_domains(summary):
    """The domains the audit covered: the rows of mail_audit's summary grid."""
    if summary is None:
        raise InputError("summary", "the raise step needs the summary of the audit, or a domain the audit never "
                         "checked would look as clean as one it found nothing wrong with.",
                         'pass summary: "{{ audit.summary }}" of the same mail_audit run as findings.')
    grid = _mapping(summary, "summary", "pass the summary of mail_audit as it is").get("grid")
    return set(_mapping(grid, "summary.grid", "pass the summary of mail_audit as it is"))


def check_gate_input(gate, step, domains):
    """Raise InputError, naming the entry, when ``domains`` is not what this gate decides on."""
    raising = gate == "dmarc" and step == "raise"
    if not isinstance(domains, list) or not domains:
        raise InputError("domains", "is empty, so the %s gate would check nothing and pass." % gate,
                         (PENDING_FIX if raising else PLANS_FIX) + "; leave the gate out when there is nothing "
                         "to decide.")
    for index, entry in enumerate(domains):
        (check_pending if raising else check_plan)(entry, "domains[%d]" % index)
