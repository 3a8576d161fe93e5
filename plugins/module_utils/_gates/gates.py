# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The safety gates of harden: safety before policy.

- SPF: never publish a record that gives a host's own sending address fail, softfail or an error.
  ``~all`` counts too: softfail puts the host's own mail in spam folders and gives DMARC no SPF
  pass, which is as wrong as a fail when the address is our own.
- DMARC: never raise a domain's stage (none < quarantine < reject) while the audit sees SPF or
  DKIM failing for it. ``dmarc_hold`` keeps the published stage for the first publish; after the
  audit, ``dmarc_raise`` lets the raise through only for clean domains.
- Signing: never sign with a selector whose key record is not served by every authoritative server.

Pure: plans come from ``_harden_plan``, DNS answers from ``views_for(plan)``, which gives
``[(server label, lookup)]`` (see ``_records.lookup``); one answer per server, and every server must agree.
A gate that trips returns ``Trip``s; the module fails with them unless the gate's override is set.
"""

from __future__ import annotations

import ipaddress

from ansible_collections.mailauth.hardening.plugins.module_utils._records.dkim_record import inspect_dkim_record
from ansible_collections.mailauth.hardening.plugins.module_utils._records.dmarc import POLICIES, build_dmarc, find_dmarc, parse_dmarc
from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError
from ansible_collections.mailauth.hardening.plugins.module_utils._records.lookup import LookupFailure, normalise_name
from ansible_collections.mailauth.hardening.plugins.module_utils._records.spf import build_spf, check_host

GATES = ("spf", "dmarc", "signing")
OVERRIDES = dict((gate, "mailauth_gate_override_%s" % gate) for gate in GATES)
# check_host() results that must never meet one of the domain's own sending addresses.
SPF_TRIPPING_RESULTS = ("fail", "softfail", "permerror", "temperror")
# Audit checks whose errors mean receivers would see SPF or DKIM fail.
DMARC_BLOCKING_CHECKS = ("spf.", "dkim.", "dns.")  # dns.*: SPF or DKIM could not be read, so not known to pass
_SHOWN_VALUE = 60


class GateDnsError(Exception):
    """DNS did not answer a question a gate cannot decide without (which stage is published)."""


class Trip(object):
    """Why a gate stays closed: the domain, what it is about (address, selector, stage) and the reason."""

    __slots__ = ("gate", "domain", "subject", "message")

    def __init__(self, gate, domain, subject, message):
        self.gate = gate
        self.domain = domain
        self.subject = subject
        self.message = message

    def as_dict(self):
        return {"gate": self.gate, "domain": self.domain, "subject": self.subject, "message": self.message}

    def __repr__(self):
        return "Trip(%r, %r, %r)" % (self.gate, self.domain, self.subject)


def closed_message(gate, trips, proceeding=False):
    """The text a failing (or overridden) gate reports: every reason, then the override."""
    reasons = " | ".join(trip.message for trip in trips)
    if proceeding:
        return "%s gate: %s. Going ahead anyway because %s is true." % (gate.upper(), reasons, OVERRIDES[gate])
    return "%s gate closed: %s. To go ahead anyway, set %s: true." % (gate.upper(), reasons, OVERRIDES[gate])


def _shown(value):
    return value if len(value) <= _SHOWN_VALUE else value[:_SHOWN_VALUE] + "..."


def _publishes(plan, key):
    return plan.get("publish", True) and plan.get(key) is not None


# ---------------------------------------------------------------- SPF

def spf_text(settings, domain):
    """The SPF record the spf_record filter builds for a domain's ``spf`` settings."""
    if isinstance(settings, dict):
        unknown = sorted(set(settings) - {"mechanisms", "all"})
        if unknown:
            raise InputError("spf.%s of %s" % (unknown[0], domain), "is not an SPF setting.", "use mechanisms and all.")
        return build_spf(settings.get("mechanisms") or [], all=settings.get("all", "fail"))
    return build_spf(settings)


def _family(ip):
    return "ip4" if ipaddress.ip_address(ip).version == 4 else "ip6"


def _spf_fix(domain, ip, results):
    if results <= {"fail", "softfail"}:
        return ("add %s:%s (or a mechanism that covers it) to the spf.mechanisms of %s, or list the addresses "
                "that really send for it in its sending_ips" % (_family(ip), ip, domain))
    return ("make the record evaluate - at most 10 DNS lookups, every include: with an SPF record of its own - "
            "and every name server answer")


def spf_gate(plans, views_for):
    """Evaluate each domain's SPF record, as it is about to be published, for each sending address.

    Returns ``(checked, trips)``: every evaluation ``{domain, record, ip, server, result, reason}``
    and a Trip per address that would get fail, softfail, permerror or temperror on some server.
    """
    checked, trips = [], []
    for plan in plans:
        if not _publishes(plan, "spf") or not plan.get("sending_ips"):
            continue
        record = spf_text(plan["spf"], plan["name"])
        views = views_for(plan)
        for ip in plan["sending_ips"]:
            bad, results = [], set()
            for label, lookup in views:
                outcome = check_host(ip, plan["name"], lookup, record=record)
                checked.append({"domain": plan["name"], "record": record, "ip": ip, "server": label,
                                "result": outcome.result, "reason": outcome.reason})
                if outcome.result in SPF_TRIPPING_RESULTS:
                    bad.append("%s at %s (%s)" % (outcome.result, label, outcome.reason))
                    results.add(outcome.result)
            if bad:
                trips.append(Trip("spf", plan["name"], ip, "%s: the SPF record about to be published, %r, gives its "
                                  "own sending address %s %s; fix: %s" % (plan["name"], record, ip, "; ".join(bad),
                                                                          _spf_fix(plan["name"], ip, results))))
    return checked, trips


# ---------------------------------------------------------------- DMARC

def stage_rank(stage):
    return POLICIES.index(stage)


def _dmarc_settings(plan):
    settings = dict(plan["dmarc"]) if isinstance(plan["dmarc"], dict) else None
    if settings is None:
        raise InputError("dmarc of %s" % plan["name"], "must be a mapping of DMARC tags.", "write e.g. {p: none}.")
    build_dmarc(**settings)  # refuses bad tags before anything is published
    return settings, settings.get("p") or "none"


def published_stage(name, views):
    """(highest p= any server serves at _dmarc.NAME or None, {server: what it serves}).

    The highest, because a stage one server already serves is already out there: holding below it
    would lower the domain's policy on every other server.
    """
    stage, seen = None, {}
    for label, lookup in views:
        try:
            values = lookup("_dmarc." + name, "TXT")
        except LookupFailure as err:
            raise GateDnsError("nameservers: the DMARC gate cannot read _dmarc.%s from %s (%s); without it the gate "
                               "cannot tell whether publishing would raise the domain's DMARC stage, so it stays "
                               "closed. Fix: make the name servers answer (or give nameservers or resolvers that "
                               "do), then run again." % (name, label, err))
        text, _missing = find_dmarc(values, name)
        seen[label] = text
        if text is None:
            continue
        try:
            served = parse_dmarc(text).get("p") or "none"
        except InputError:
            served = "none"  # receivers ignore a record they cannot parse
        if stage is None or stage_rank(served) > stage_rank(stage):
            stage = served
    return stage, seen


def _audit_spec(plan, stage):
    keys = [{"selector": r["selector"], "public_key": r["public_key"]} for r in plan.get("dkim_records") or []]
    return {"name": plan["name"], "sending_ips": list(plan.get("sending_ips") or []), "dkim": keys,
            "dmarc_policy": stage}


def dmarc_hold(plans, views_for, moves=None):
    """The plans to publish now, with DMARC never above the published stage; and the raises pending.

    Returns ``(plans, pending, published)``. A lower or equal stage goes through at once; a higher
    one is held at the published stage (none when there is no record) and listed in ``pending`` as
    ``{name, dns, dmarc, target, held, published, audit}``; ``audit`` is the mail_audit domain
    entry that decides it. ``published`` maps each domain to the stage DNS served before.
    With ``moves`` (``_dmarc_stage.StageMoves``, from the DMARC reports) a domain whose legitimate
    mail fails under its current stage steps back one stage, and each pending raise carries the
    reports' verdict (``evidence``) for ``dmarc_raise``.
    """
    out, pending, published = [], [], {}
    for plan in plans:
        if not _publishes(plan, "dmarc"):
            out.append(plan)
            continue
        settings, target = _dmarc_settings(plan)
        stage, _seen = published_stage(plan["name"], views_for(plan))
        published[plan["name"]] = stage
        current = stage or "none"
        if moves is not None:
            target = moves.target(plan["name"], current, target)
        held = target if stage_rank(target) <= stage_rank(current) else current
        out.append(dict(plan, dmarc=dict(settings, p=held)))
        if held != target:
            pending.append({"name": plan["name"], "dns": plan["dns"], "dmarc": settings, "target": target,
                            "held": held, "published": stage, "audit": _audit_spec(plan, held)})
            if moves is not None:
                pending[-1]["evidence"] = moves.verdict(plan["name"], current, target)
    return out, pending, published


def dmarc_raise(pending, findings, audited):
    """The pending raises the audit allows, and a Trip for each domain it sees SPF or DKIM failing.

    ``audited`` names the domains the audit covered: a domain it never checked stays held (it has
    no findings, which is not the same as a clean audit). Returns ``(allowed, trips)``;
    ``allowed`` are ``{name, dns, dmarc}`` entries to publish.
    """
    allowed, trips = [], []
    covered = set(normalise_name(domain) for domain in audited)
    for entry in pending:
        name = normalise_name(entry["name"])
        if name not in covered:
            trips.append(Trip("dmarc", entry["name"], "p=%s" % entry["target"], (
                "%s stays at p=%s instead of p=%s: the audit did not check it, so nothing shows that its SPF and "
                "DKIM pass; audit it (give the raise step the summary of an audit that covers it) and run again"
                % (entry["name"], entry["held"], entry["target"]))))
            continue
        failing = [f for f in findings or [] if normalise_name(f.get("domain") or "") == name
                   and f.get("severity") == "error" and str(f.get("check", "")).startswith(DMARC_BLOCKING_CHECKS)]
        if failing:
            seen = "; ".join("%s: %s" % (f["check"], f.get("message", "")) for f in failing)
            trips.append(Trip("dmarc", entry["name"], "p=%s" % entry["target"], (
                "%s stays at p=%s instead of p=%s: the audit sees SPF or DKIM failing (%s), so receivers would %s "
                "the domain's own mail; fix what the audit names and run again"
                % (entry["name"], entry["held"], entry["target"], seen,
                   "reject" if entry["target"] == "reject" else "quarantine"))))
            continue
        evidence = entry.get("evidence")
        if evidence is not None and not evidence["ready"]:
            trips.append(Trip("dmarc", entry["name"], "p=%s" % evidence["step"], (
                "%s stays at p=%s instead of p=%s: the DMARC reports do not show its legitimate mail aligned yet: %s "
                "Fix the sources named (or list a legitimate one in mailauth_dmarc_legitimate_sources), or wait for "
                "more reports, and run again" % (entry["name"], entry["held"], evidence["step"], " ".join(evidence["blockers"])))))
            continue
        allowed.append(raise_entry(entry, evidence["step"] if evidence else None))
    return allowed, trips


def raise_entry(entry, stage=None):
    """The dns_records domain entry that publishes a pending raise (to ``stage``, else the target): only DMARC."""
    return {"name": entry["name"], "dns": entry["dns"], "dmarc": dict(entry["dmarc"], p=stage or entry["target"])}


# ---------------------------------------------------------------- signing

def _same_key(served, expected):
    if served == expected:
        return True
    try:
        one, other = inspect_dkim_record(served, strict=True), inspect_dkim_record(expected)
    except InputError:
        return False
    return bool(one.public_key) and (one.key_type, one.public_key) == (other.key_type, other.public_key)


def _served(values):
    keys = [v for v in values if v.lower().startswith("v=dkim1")]
    if not keys:
        return "no DKIM key record"
    return "a different key (%s)" % ", ".join(repr(_shown(v)) for v in keys)


def signing_gate(plans, views_for):
    """Which hosts may sign with which selectors: those whose key every server serves.

    Only keys of the Postfix path count (Plesk signs on its own). Returns ``(selectors, trips)``:
    ``{host: [{domain, selector}]}`` of the visible keys, and a Trip per key some server lacks
    (with the override, ``all_selectors`` gives every key instead).
    """
    selectors, trips = {}, []
    for plan in plans:
        records = [r for r in plan.get("dkim_records") or [] if r.get("path", "postfix") == "postfix"]
        if not records:
            continue
        views = views_for(plan)
        for record in records:
            lacking = []
            for label, lookup in views:
                try:
                    values = lookup(record["dns_name"], "TXT")
                except LookupFailure as err:
                    lacking.append("%s gives no answer (%s)" % (label, err))
                    continue
                if not any(_same_key(value, record["record"]) for value in values):
                    lacking.append("%s serves %s" % (label, _served(values)))
            if lacking:
                trips.append(Trip("signing", record["domain"], record["selector"], (
                    "selector %s of %s (host %s): its key record %s is not visible on every authoritative "
                    "server yet: %s; signing with it now would make receivers fail DKIM. Wait until every "
                    "server serves it (mailauth_dns_wait: true waits) and run again"
                    % (record["selector"], record["domain"], ", ".join(record["hosts"]), record["dns_name"],
                       "; ".join(lacking)))))
                continue
            _add_selector(selectors, record)
    return selectors, trips


def all_selectors(plans):
    """Every Postfix-path key of every host, visible or not (the signing gate's override)."""
    selectors = {}
    for plan in plans:
        for record in plan.get("dkim_records") or []:
            if record.get("path", "postfix") == "postfix":
                _add_selector(selectors, record)
    return selectors


def _add_selector(selectors, record):
    for host in record["hosts"]:
        selectors.setdefault(host, []).append({"domain": record["domain"], "selector": record["selector"]})
