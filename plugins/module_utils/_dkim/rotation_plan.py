# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""DKIM key rotation across a fleet: what the controller decides from every host's report.

Pure. A domain is often signed by several hosts with one shared key per selector, and its
DNS is changed once, from the controller. So the controller reads each host's rotation
report (the dkim_rotation module's result) and decides, per domain and selector:

- which new selector a rotation gets (given, or made from a pattern) and which hosts join it;
- which host makes the new key and which hosts get a copy of it;
- what goes into DNS (the new record; the revocation; the removal), and which hosts then
  record that phase - only when every host that signs for the domain is ready;
- which hosts switch their SigningTable to the new selector.

A phase's gate is the slowest host: a rotation is as far as its least advanced host.
"""

from __future__ import annotations

import time

from ansible_collections.mailauth.hardening.plugins.module_utils._records.dkim_record import dkim_dns_name
from ansible_collections.mailauth.hardening.plugins.module_utils._dkim.rotation import (
    NO_ROTATION, PHASES, REVOKED_RECORD)
from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError, kind_of

DEFAULT_PATTERNS = {"rsa": "s%Y%m", "ed25519": "e%Y%m"}
_SUFFIXES = "abcdefghijklmnopqrstuvwxyz"


def _index(phase):
    return -1 if phase == NO_ROTATION else PHASES.index(phase)


def _allowed(phase, stop_after):
    """Whether this run may take a rotation to ``phase`` (mailauth_dkim_rotation_stop_after)."""
    if stop_after not in PHASES:
        raise InputError("mailauth_dkim_rotation_stop_after", "%r is not a phase." % (stop_after,),
                         "use one of: %s." % ", ".join(PHASES))
    return PHASES.index(phase) <= PHASES.index(stop_after)


# What the plan reads of each dkim_rotation result (its rotations[] entries).
STATUS_KEYS = ("domain", "selector", "type", "phase", "old_selector", "new_selector", "new_type", "new_bits",
               "next", "due", "due_at", "since", "stale_inventory")
_REPORTS_FIX = "pass the registered results of the dkim_rotation module, one per host, as they are."


def check_reports(reports, hosts):
    """InputError naming the entry when a report is not a dkim_rotation result (the plan would guess)."""
    for index, host in enumerate(hosts):
        report = reports.get(host)
        field = "reports[%d] (%s)" % (index, host)
        if not isinstance(report, dict) or not isinstance(report.get("rotations", []), list):
            raise InputError(field, "is %s without a rotations list, not a dkim_rotation result."
                             % kind_of(report), _REPORTS_FIX)
        for number, status in enumerate(report.get("rotations", [])):
            missing = [key for key in STATUS_KEYS if not isinstance(status, dict) or key not in status]
            if missing:
                raise InputError("%s.rotations[%d]" % (field, number), "lacks %s." % ", ".join(missing),
                                 _REPORTS_FIX)


def _units(reports, hosts):
    """{(domain, selector lower): [(host, status)]} over the hosts, in host order."""
    units = {}
    for host in hosts:
        for status in (reports.get(host) or {}).get("rotations", []):
            units.setdefault((status["domain"], status["selector"].lower()), []).append((host, status))
    return units


def _rotation_key(status):
    """Statuses of one rotation share the old selector and the new one."""
    return (status["domain"], status["old_selector"].lower(), (status["new_selector"] or "").lower())


def generate_selector(pattern, now, taken, field="mailauth_dkim_rotation_selector_patterns"):
    """``pattern`` through strftime (UTC), with a letter appended while the name is taken."""
    try:
        base = time.strftime(pattern, time.gmtime(now))
    except (TypeError, ValueError) as err:
        raise InputError(field, "%r is not a strftime pattern (%s)." % (pattern, err),
                         "use letters, digits, hyphens and strftime codes (the default is s%Y%m).")
    taken = set(s.lower() for s in taken)
    for candidate in [base] + [base + letter for letter in _SUFFIXES]:
        if candidate.lower() not in taken:
            try:
                dkim_dns_name(candidate, "example.com")
            except InputError as err:
                raise InputError(field, "%r makes the selector %r: %s" % (pattern, candidate, err.problem),
                                 "use letters, digits and hyphens (the default is s%Y%m).")
            return candidate
    raise InputError(field, "%s and %s%s-%s%s are all taken." % (base, base, _SUFFIXES[0], base, _SUFFIXES[-1]),
                     "give the new selector in mailauth_dkim_rotation_new_selectors.")


def _given(new_selectors, domain, selector):
    for entry in new_selectors or []:
        if str(entry.get("domain", "")).rstrip(".").lower() == domain and \
                str(entry.get("selector", "")).lower() == selector:
            return entry
    return None


def _refuse_second_start(options, domain, selector, running):
    """A start asked for while the selector's rotation runs: the same request again, or a second rotation.

    The same request (its new selector given again, or a start that was cut short before
    publishing) carries on; anything else would be a second rotation, which is refused.
    """
    if not options.get("start") or (options.get("domains") and domain not in options["domains"]):
        return
    status = running[0][1]
    given = (_given(options.get("new_selectors"), domain, selector) or {}).get("new_selector")
    furthest = max(_index(s["phase"]) for _h, s in running)
    if given and given.lower() == status["new_selector"].lower():
        return
    if not given and furthest == PHASES.index("started"):
        return
    raise InputError("mailauth_dkim_rotation_start", "the rotation of %s from %s to %s is not finished (phase %s "
                     "since %s); a second rotation%s is refused." % (
                         domain, status["old_selector"], status["new_selector"], status["phase"], status["since"],
                         " (to %s)" % given if given else ""),
                     "run the playbook without mailauth_dkim_rotation_start until the rotation reports done "
                     "(next: %s%s), then start the next one." % (
                         status["next"], " after " + status["due_at"] if status.get("due_at") else ""))


def start_requests(reports, hosts, options, now):
    """{host: [start requests for the dkim_rotation module]}.

    Hosts join a rotation another host already runs (same new selector); a new rotation
    starts only when asked (``options['start']``), for every host that signs with the
    selector at once. Hosts that disagree, or join after the switch, are refused.
    """
    requests = dict((host, []) for host in hosts)
    chosen = {}
    inventory = {}
    for (domain, _selector), statuses in _units(reports, hosts).items():
        inventory.setdefault(domain, set()).update(s["selector"].lower() for _h, s in statuses)
    for (domain, selector), statuses in _units(reports, hosts).items():
        running = [(h, s) for h, s in statuses if s["phase"] not in (NO_ROTATION, "done")]
        if running:
            targets = sorted(set(s["new_selector"] for _h, s in running))
            if len(targets) > 1:
                raise InputError("hosts", "the hosts rotate %s of %s to different selectors: %s." % (
                    selector, domain, ", ".join("%s -> %s" % (h, s["new_selector"]) for h, s in running)),
                    "finish or undo the rotation on the hosts that differ (their state files).")
            host, status = running[0]
            _refuse_second_start(options, domain, selector, running)
            joiners = [h for h, s in statuses if s["phase"] in (NO_ROTATION, "done") and not (
                s["phase"] == "done" and s["new_selector"].lower() == status["new_selector"].lower())]
            furthest = max(_index(s["phase"]) for _h, s in running)
            if joiners and furthest >= PHASES.index("signing"):
                raise InputError("hosts", "%s sign(s) %s with %s but joined the rotation to %s after %s switched "
                                 "signing." % (", ".join(joiners), domain, selector, status["new_selector"], host),
                                 "copy %s's key %s.private to them and list %s for them in mailauth_domains."
                                 % (host, status["new_selector"], status["new_selector"]))
            for joiner, joiner_status in statuses:
                if joiner in joiners:
                    requests[joiner].append({"domain": domain, "selector": joiner_status["selector"],
                                             "new_selector": status["new_selector"], "type": status["new_type"],
                                             "bits": status["new_bits"]})
            continue
        if not options.get("start") or (options.get("domains") and domain not in options["domains"]):
            continue
        status = statuses[0][1]
        given = _given(options.get("new_selectors"), domain, selector) or {}
        # After a finished rotation the key that signs now is its new one, whatever the inventory names.
        new_type = given.get("type") or (status["new_type"] if status["phase"] == "done" else status["type"])
        new = given.get("new_selector")
        if not new:
            taken = set(inventory[domain]) | set(chosen.get(domain, ()))
            for host in hosts:
                taken.update(((reports.get(host) or {}).get("used_selectors") or {}).get(domain, ()))
            patterns = dict(DEFAULT_PATTERNS, **(options.get("patterns") or {}))
            new = generate_selector(patterns.get(new_type, DEFAULT_PATTERNS["rsa"]), now, taken)
        chosen.setdefault(domain, set()).add(new.lower())
        request = {"domain": domain, "selector": status["selector"], "new_selector": new}
        request.update((k, given[k]) for k in ("type", "bits") if given.get(k))
        for host, _status in statuses:
            requests[host].append(dict(request))
    return requests


def _rotations(reports, hosts):
    """{(domain, old, new): [(host, status)]} for rotations under way (not none), in host order."""
    rotations = {}
    for host in hosts:
        for status in (reports.get(host) or {}).get("rotations", []):
            if status["phase"] != NO_ROTATION:
                entry = rotations.setdefault(_rotation_key(status), [])
                if host not in [h for h, _s in entry]:
                    entry.append((host, status))
    return rotations


def _key_path(report, domain, selector):
    return "%s/%s/%s.private" % ((report.get("keys_dir") or "").rstrip("/"), domain, selector)


def _has_file(report, domain, selector):
    return selector.lower() in set(s.lower() for s in ((report.get("key_files") or {}).get(domain) or ()))


def _refuse_a_host_that_missed_a_switch(reports, hosts):
    """A host without a rotation of a selector another host has switched away from would sign with a retired key."""
    for (domain, _selector), statuses in _units(reports, hosts).items():
        switched = [(h, s) for h, s in statuses if _index(s["phase"]) >= PHASES.index("signing")]
        missing = [h for h, s in statuses if s["phase"] == NO_ROTATION]
        if switched and missing:
            host, status = switched[0]
            raise InputError("hosts", "%s of %s was rotated to %s on %s (phase %s), but %s hold(s) no record of that "
                             "rotation and would sign with the retired %s." % (
                                 status["selector"], domain, status["new_selector"], host, status["phase"],
                                 ", ".join(missing), status["selector"]),
                             "copy %s's state file (mailauth_dkim_rotation_state_file) to %s and run again: the "
                             "key of %s is then copied to %s too." % (
                                 host, ", ".join(missing), status["new_selector"], ", ".join(missing)))


def key_plan(reports, hosts):
    """{host: {make: key_domains this host may create keys for, copies: [{domain, selector, source, source_path,
    source_holds}]}}.

    One selector, one key: every key the hosts hold (their reports' key_domains) is made once, on
    the first host that already has its file or else the first host that holds it, and copied to
    the others that lack it, so that every host signs with the key whose record is published.
    ``source_holds`` tells whether the source has the key already (in check mode nothing is made).
    """
    _refuse_a_host_that_missed_a_switch(reports, hosts)
    plan = dict((host, {"make": [], "copies": []}) for host in hosts)
    holders = {}
    for host in hosts:
        for entry in (reports.get(host) or {}).get("key_domains", []):
            for key in entry["dkim"]:
                holders.setdefault((entry["name"], key["selector"].lower()), []).append((host, key["selector"]))
    copied = set()
    for (domain, _lower), held in holders.items():
        with_file = [h for h, selector in held if _has_file(reports[h], domain, selector)]
        source = (with_file or [held[0][0]])[0]
        for host, selector in held:
            if host != source and host not in with_file:
                copied.add((host, domain, selector.lower()))
                plan[host]["copies"].append({
                    "domain": domain, "selector": selector, "source": source,
                    "source_path": _key_path(reports[source], domain, selector), "source_holds": bool(with_file)})
    for host in hosts:
        for entry in (reports.get(host) or {}).get("key_domains", []):
            keys = [k for k in entry["dkim"] if (host, entry["name"], k["selector"].lower()) not in copied]
            if keys:
                plan[host]["make"].append({"name": entry["name"], "dkim": keys})
    return plan


def _public_keys(key_records, host, domain, selector):
    for record in (key_records or {}).get(host) or []:
        if str(record.get("domain", "")).lower() == domain and str(record.get("selector", "")).lower() == selector:
            return record
    return None


def _record_name(selector, domain):
    # Absolute: the domain may sit below its zone (mail.example.com in example.com).
    return "%s._domainkey.%s." % (selector, domain)


def dns_plan(reports, hosts, key_records, options):
    """What the controller publishes per domain, and which phases the hosts then record.

    Returns ``{dns: [{domain, state (present or absent), records: [{name, value}]}],
    advance: {host: [...]}, notes: [...]}``: at most one present and one absent change per
    domain. A step is taken only when every host of the rotation is ready for it.
    """
    stop_after = options.get("stop_after") or "done"
    dns, advance, notes = {}, dict((host, []) for host in hosts), []

    def move(statuses, phase):
        for host, status in statuses:
            if _index(status["phase"]) < PHASES.index(phase):
                advance[host].append({"domain": status["domain"], "selector": status["selector"], "phase": phase})

    for (domain, old, new), statuses in _rotations(reports, hosts).items():
        first = statuses[0][1]
        slowest = min(_index(s["phase"]) for _h, s in statuses)
        waiting = [s for _h, s in statuses if s["phase"] == PHASES[slowest] and not s["due"]]
        label = "%s: %s -> %s" % (domain, first["old_selector"], first["new_selector"])
        if slowest == PHASES.index("started") and _allowed("published", stop_after):
            records = [(h, _public_keys(key_records, h, domain, new)) for h, _s in statuses]
            missing = [h for h, r in records if not r or not r.get("record")]
            if missing:
                notes.append("%s: no key on %s yet (check mode makes none); nothing to publish." % (
                    label, ", ".join(missing)))
                continue
            if len(set(r["public_key"] for _h, r in records)) > 1:
                raise InputError("hosts", "%s: the hosts hold different keys for %s: %s." % (
                    label, first["new_selector"], ", ".join("%s p=%s..." % (h, r["public_key"][:24]) for h, r in records)),
                    "keep the key of one host and copy it to the others (or remove the copies and run again).")
            entry = dns.setdefault(domain, {"domain": domain, "present": [], "absent": []})
            entry["present"].append({"name": _record_name(first["new_selector"], domain), "value": records[0][1]["record"]})
            move(statuses, "published")
        elif slowest == PHASES.index("signing") and _allowed("revoked", stop_after):
            if waiting:
                notes.append("%s: overlap runs until %s." % (label, max(s["due_at"] for s in waiting)))
                continue
            entry = dns.setdefault(domain, {"domain": domain, "present": [], "absent": []})
            entry["present"].append({"name": _record_name(first["old_selector"], domain), "value": REVOKED_RECORD})
            move(statuses, "revoked")
        elif slowest == PHASES.index("revoked") and _allowed("removed", stop_after):
            if waiting:
                notes.append("%s: revoked record stays until %s." % (label, max(s["due_at"] for s in waiting)))
                continue
            entry = dns.setdefault(domain, {"domain": domain, "present": [], "absent": []})
            entry["absent"].append({"name": _record_name(first["old_selector"], domain), "value": REVOKED_RECORD})
            move(statuses, "removed")
    changes = [{"domain": entry["domain"], "state": state, "records": entry[state]}
               for entry in dns.values() for state in ("present", "absent") if entry[state]]
    return {"dns": changes, "advance": advance, "notes": notes}


def switch_plan(reports, hosts, options):
    """{host: {switch: [advance requests to signing], signing_selectors: [...]}}.

    A rotation switches when every host of it has recorded the publication and its wait
    after publishing is over on each; all its hosts switch in the same run.
    """
    stop_after = options.get("stop_after") or "done"
    switching = set()
    for key, statuses in _rotations(reports, hosts).items():
        slowest = min(_index(s["phase"]) for _h, s in statuses)
        ready = all(s["due"] for _h, s in statuses if s["phase"] == "published")
        if slowest == PHASES.index("published") and ready and _allowed("signing", stop_after):
            switching.add(key)
    plan = {}
    for host in hosts:
        report = reports.get(host) or {}
        switch, signing = [], []
        moving = {}
        for status in report.get("rotations", []):
            if status["phase"] == "published" and _rotation_key(status) in switching:
                switch.append({"domain": status["domain"], "selector": status["selector"], "phase": "signing"})
                moving[(status["domain"], status["old_selector"].lower())] = status["new_selector"]
        for entry in report.get("signing_selectors", []):
            selector = moving.get((entry["domain"], entry["selector"].lower()), entry["selector"])
            if not any(s["domain"] == entry["domain"] and s["selector"].lower() == selector.lower() for s in signing):
                signing.append({"domain": entry["domain"], "selector": selector})
        plan[host] = {"switch": switch, "signing_selectors": signing}
    return plan


def finish_plan(reports, hosts, options):
    """{host: {advance: [to done], delete: [old key files]}} for rotations whose old record is gone."""
    plan = {}
    for host in hosts:
        report = reports.get(host) or {}
        finished = [s for s in report.get("rotations", []) if s["phase"] == "removed"]
        if not _allowed("done", options.get("stop_after") or "done"):
            finished = []
        plan[host] = {
            "advance": [{"domain": s["domain"], "selector": s["selector"], "phase": "done"} for s in finished],
            "delete": [_key_path(report, s["domain"], s["old_selector"]) for s in finished
                       if options.get("remove_old_key", True)],
        }
    return plan
