# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""DKIM key rotation on one host: its phases, their gates, and the state file it keeps.

Pure: callers pass the time and the state file's text; nothing here reads a clock or a
disk. One rotation replaces one selector (M3AAWG practice), in these phases:

  started    the new selector is chosen and its key made (on one host, copied to the others)
  published  its record is served by every authoritative server (the controller checked)
  signing    the SigningTable names the new selector; the overlap starts
  revoked    after the overlap the old record says "v=DKIM1; p=" (an empty p= revokes a key)
  removed    after the revocation hold the old record is gone
  done       the old private key is deleted (or kept, when asked)

A phase is recorded only after its work is done, so a run that stops anywhere repeats
that work next time (every step is idempotent) and never skips a gate.
"""

from __future__ import annotations

import calendar
import json
import re
import time

from ansible_collections.mailauth.hardening.plugins.module_utils._records.dkim_record import (
    KEY_TYPES, RSA_RECOMMENDED_BITS, dkim_dns_name)
from ansible_collections.mailauth.hardening.plugins.module_utils._dkim.signing import RSA_SIZES
from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError

STATE_VERSION = 1
PHASES = ("started", "published", "signing", "revoked", "removed", "done")
NO_ROTATION = "none"
REVOKED_RECORD = "v=DKIM1; p="
ED25519_BITS = 256
# What starts each phase's wait, and which setting says how long it is.
_WAITS = {"published": "publish_wait", "signing": "overlap", "revoked": "revoke_hold"}
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhdw]?)$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_DURATION_FIX = "write a number with s, m, h, d or w (7d, 12h, 30s); a bare number counts days."


# --- time -------------------------------------------------------------------------------------

def parse_duration(value, field):
    """Seconds from ``7d``, ``36h``, ``90m``, ``30s``, ``2w``; a bare number counts days."""
    if isinstance(value, bool) or value is None:
        raise InputError(field, "must be a duration, not %r." % (value,), _DURATION_FIX)
    if isinstance(value, (int, float)):
        number, unit = float(value), "d"
    else:
        match = _DURATION.match(str(value).strip().lower())
        if not match:
            raise InputError(field, "%r is not a duration." % (value,), _DURATION_FIX)
        number, unit = float(match.group(1)), match.group(2) or "d"
    if number < 0:
        raise InputError(field, "must not be negative (%r)." % (value,), _DURATION_FIX)
    return int(round(number * _UNIT_SECONDS[unit]))


def iso(epoch):
    return time.strftime(_TIME_FORMAT, time.gmtime(int(epoch)))


def epoch_of(text, field="state"):
    try:
        return calendar.timegm(time.strptime(text, _TIME_FORMAT))
    except (TypeError, ValueError):
        raise InputError(field, "%r is not a time like 2026-11-03T10:00:00Z." % (text,),
                         "restore the state file from a backup, or move it aside to start over.")


# --- the state file ---------------------------------------------------------------------------

def new_state():
    return {"version": STATE_VERSION, "domains": {}}


def _bad_state(field, problem):
    return InputError(field, problem, "restore the state file from a backup, or move it aside to start over "
                                      "(rotations in progress are then forgotten).")


def load_state(text, field="state_file"):
    """The state from the file's text (empty or None: a fresh state), checked."""
    if text is None or not text.strip():
        return new_state()
    try:
        state = json.loads(text)
    except ValueError as err:
        raise _bad_state(field, "is not JSON (%s)." % err)
    if not isinstance(state, dict) or state.get("version") != STATE_VERSION or \
            not isinstance(state.get("domains"), dict):
        raise _bad_state(field, "is not a version %d DKIM rotation state." % STATE_VERSION)
    for domain, rotations in state["domains"].items():
        if not isinstance(rotations, list):
            raise _bad_state(field, "domain %s holds no list of rotations." % domain)
        for index, rotation in enumerate(rotations):
            where = "%s: %s[%d]" % (field, domain, index)
            if not isinstance(rotation, dict) or rotation.get("phase") not in PHASES or \
                    not isinstance(rotation.get("at"), dict) or \
                    not all(isinstance(rotation.get(k), str) for k in ("old_selector", "new_selector")):
                raise _bad_state(field, "%s is not a rotation." % where)
            for phase in PHASES[:PHASES.index(rotation["phase"]) + 1]:
                epoch_of(rotation["at"].get(phase), where + ".at." + phase)
    return state


def dump_state(state):
    return json.dumps(state, indent=2, sort_keys=True) + "\n"


# --- inputs -----------------------------------------------------------------------------------

def _same(a, b):
    # DNS names, and so selectors, compare case-insensitively.
    return str(a).lower() == str(b).lower()


def _key_spec(entry, field, default_type=None, default_bits=None):
    key_type = entry.get("type") or default_type or "rsa"
    if key_type not in KEY_TYPES:
        raise InputError(field + ".type", "unknown key type %r." % (key_type,), "use one of: %s." % ", ".join(KEY_TYPES))
    if key_type == "ed25519":
        return key_type, ED25519_BITS
    bits = entry.get("bits") or default_bits or RSA_RECOMMENDED_BITS
    if bits not in RSA_SIZES:
        raise InputError(field + ".bits", "%r is not a supported RSA key size." % (bits,),
                         "use one of: %s." % ", ".join(str(s) for s in RSA_SIZES))
    return key_type, bits


def selector_units(selectors, field="selectors"):
    """The inventory's keys (dkim_selectors filter output) as rotation units, validated."""
    if not isinstance(selectors, (list, tuple)):
        raise InputError(field, "must be a list of {domain, selector, type, bits}.")
    units = []
    for index, entry in enumerate(selectors):
        where = "%s[%d]" % (field, index)
        if not isinstance(entry, dict):
            raise InputError(where, "must be a mapping with domain, selector, type and bits.")
        try:
            dns_name = dkim_dns_name(entry.get("selector"), entry.get("domain"))
        except InputError as err:
            raise InputError("%s.%s" % (where, err.field), err.problem, err.fix)
        key_type, bits = _key_spec(entry, where)
        units.append({"domain": dns_name.split("._domainkey.", 1)[1].lower(), "selector": entry["selector"],
                      "type": key_type, "bits": bits})
    return units


def _unit_ref(entry, field):
    if not isinstance(entry, dict) or not entry.get("domain") or not entry.get("selector"):
        raise InputError(field, "must name a domain and a selector.")
    return str(entry["domain"]).rstrip(".").lower(), entry["selector"]


def _unit_of(units, domain, selector, field):
    for unit in units:
        if unit["domain"] == domain and _same(unit["selector"], selector):
            return unit
    raise InputError(field, "%s._domainkey.%s is not among the selectors." % (selector, domain),
                     "rotate only selectors the domain's dkim list in mailauth_domains names.")


# --- reading the state ------------------------------------------------------------------------

def _latest(rotations, selector):
    for rotation in reversed(rotations):
        if _same(rotation["old_selector"], selector) or _same(rotation["new_selector"], selector):
            return rotation
    return None


def find_rotation(state, domain, selector):
    """The rotation ``selector`` of ``domain`` stands for now, or None.

    The latest rotation whose old or new selector it is; once that one is done, the
    latest of its new selector, and so on: an inventory that still names a selector
    rotated away several times reaches the rotation of the key that signs now.
    """
    rotations = state["domains"].get(domain, [])
    found, name = None, selector
    for _step in range(len(rotations)):
        rotation = _latest(rotations, name)
        if rotation is None or rotation is found:
            break
        found, name = rotation, rotation["new_selector"]
        if rotation["phase"] != "done":
            break
    return found


def used_selectors(state, domain, key_files=()):
    """Selectors ``domain`` has had: every rotation's old and new, and every key file there."""
    used = set(s.lower() for s in key_files)
    for rotation in state["domains"].get(domain, []):
        used.update((rotation["old_selector"].lower(), rotation["new_selector"].lower()))
    return sorted(used)


def due_at(rotation, waits):
    """When the rotation may take its next step (epoch), or None when it may now (or never)."""
    setting = _WAITS.get(rotation["phase"])
    if setting is None:
        return None
    return epoch_of(rotation["at"][rotation["phase"]]) + waits[setting]


def next_phase(phase):
    if phase == NO_ROTATION:
        return None
    index = PHASES.index(phase)
    return PHASES[index + 1] if index + 1 < len(PHASES) else None


def _phase_text(rotation, waits, due):
    old, new, phase = rotation["old_selector"], rotation["new_selector"], rotation["phase"]
    since = rotation["at"][phase]
    when = "now" if due is None else iso(due)
    return {
        "started": "new selector %s chosen on %s; its key is published next." % (new, since),
        "published": "%s published on %s; signing switches from %s to %s %s." % (
            new, since, old, new, "now" if due is None else "after " + when),
        "signing": "signing with %s since %s; %s stays published for the overlap, revoked after %s." % (
            new, since, old, when),
        "revoked": "%s revoked (empty p=) on %s; its record is removed after %s." % (old, since, when),
        "removed": "record of %s removed on %s; its private key goes next." % (old, since),
        "done": "rotation from %s to %s done on %s." % (old, new, since),
    }[phase]


def unit_status(state, unit, now, waits, key_files=None):
    """What one inventory selector's rotation looks like now, for people and for the playbook."""
    rotation = find_rotation(state, unit["domain"], unit["selector"])
    status = dict(unit, phase=NO_ROTATION, old_selector=unit["selector"], new_selector=None, new_type=None,
                  new_bits=None, next=None, due=False, due_at=None, since=None, stale_inventory=False,
                  new_key_present=None, message="no rotation; %s signs." % unit["selector"])
    if rotation is None:
        return status
    due = due_at(rotation, waits)
    stale = rotation["phase"] == "done" and not _same(unit["selector"], rotation["new_selector"])
    message = _phase_text(rotation, waits, due)
    if stale:
        message += (" mailauth_domains names %s, which stands for %s now: harden and rotate_dkim read this state, "
                    "so the inventory may stay as it is." % (unit["selector"], rotation["new_selector"]))
    status.update(phase=rotation["phase"], old_selector=rotation["old_selector"],
                  new_selector=rotation["new_selector"], new_type=rotation["type"], new_bits=rotation["bits"],
                  next=next_phase(rotation["phase"]), since=rotation["at"][rotation["phase"]],
                  due=next_phase(rotation["phase"]) is not None and (due is None or now >= due),
                  due_at=iso(due) if due is not None else None, stale_inventory=stale, message=message)
    if key_files is not None:
        status["new_key_present"] = rotation["new_selector"].lower() in set(s.lower() for s in key_files)
    return status


def host_keys(state, units):
    """The keys the host holds (``key_domains``, as mailauth_domains) and signs with.

    Before the switch the host holds the old and the new key and signs with the old one;
    from the switch on it signs with the new one, and the old key leaves the KeyTable
    (its file stays until the rotation is done).
    """
    holds, signs = {}, []

    def hold(domain, selector, key_type, bits):
        keys = holds.setdefault(domain, [])
        if not any(_same(k["selector"], selector) for k in keys):
            keys.append({"selector": selector, "type": key_type, "bits": bits})

    def sign(domain, selector):
        if not any(s["domain"] == domain and _same(s["selector"], selector) for s in signs):
            signs.append({"domain": domain, "selector": selector})

    for unit in units:
        rotation = find_rotation(state, unit["domain"], unit["selector"])
        if rotation is None:
            hold(unit["domain"], unit["selector"], unit["type"], unit["bits"])
            sign(unit["domain"], unit["selector"])
            continue
        if PHASES.index(rotation["phase"]) < PHASES.index("signing"):
            hold(unit["domain"], rotation["old_selector"], rotation.get("old_type", unit["type"]),
                 rotation.get("old_bits", unit["bits"]))
            sign(unit["domain"], rotation["old_selector"])
        else:
            sign(unit["domain"], rotation["new_selector"])
        hold(unit["domain"], rotation["new_selector"], rotation["type"], rotation["bits"])
    key_domains = [{"name": domain, "dkim": keys} for domain, keys in holds.items()]
    return key_domains, signs


# --- changing the state -----------------------------------------------------------------------

def start(state, unit, request, now, field="start"):
    """Record a rotation of ``unit`` to ``request['new_selector']``; False when it is already under way.

    A second rotation of a selector whose rotation is not done is refused, and so is a
    selector the domain had before (receivers may still cache its old or revoked record).
    """
    domain, old = unit["domain"], unit["selector"]
    new = request.get("new_selector")
    try:
        dkim_dns_name(new, domain)
    except InputError as err:
        raise InputError(field + ".new_selector", err.problem, err.fix)
    rotation = find_rotation(state, domain, old)
    if rotation is not None and rotation["phase"] != "done":
        if _same(rotation["new_selector"], new):
            return False
        problem = "the rotation of %s from %s to %s is not finished (phase %s since %s); a second rotation (to %s) " \
                  "is refused." % (domain, rotation["old_selector"], rotation["new_selector"], rotation["phase"],
                                   rotation["at"][rotation["phase"]], new)
        raise InputError(field, problem,
                         "let the running rotation finish first: run the playbook without starting a rotation "
                         "until it reports done, then start the next one.")
    current = {"selector": old, "type": unit["type"], "bits": unit["bits"]}
    if rotation is not None:
        # Done: the key that signs now is the rotation's new one, whatever the inventory names. Asking for
        # that rotation again (the inventory names a retired selector) is the same request: nothing to do.
        if _same(rotation["new_selector"], new) and not _same(old, new):
            return False
        current = {"selector": rotation["new_selector"], "type": rotation["type"], "bits": rotation["bits"]}
    if _same(new, current["selector"]) or new.lower() in used_selectors(state, domain):
        raise InputError(field + ".new_selector", "%s was used before for %s; selectors are never reused, as "
                         "receivers may still cache its old or revoked record." % (new, domain),
                         "choose a selector %s has never had." % domain)
    default_bits = max(current["bits"], RSA_RECOMMENDED_BITS) if current["type"] == "rsa" else None
    key_type, bits = _key_spec(request, field, current["type"], default_bits)
    state["domains"].setdefault(domain, []).append({
        "old_selector": current["selector"], "old_type": current["type"], "old_bits": current["bits"],
        "new_selector": new, "type": key_type, "bits": bits, "phase": "started", "at": {"started": iso(now)}})
    return True


def advance(state, domain, selector, phase, now, waits, field="advance"):
    """Record that the rotation of ``selector`` reached ``phase``; False when it already had.

    Only the next phase can be recorded, and only once its wait is over.
    """
    if phase not in PHASES[1:]:
        raise InputError(field + ".phase", "%r is not a phase a rotation moves to." % (phase,),
                         "use one of: %s." % ", ".join(PHASES[1:]))
    rotation = find_rotation(state, domain, selector)
    if rotation is None:
        raise InputError(field, "no rotation of %s._domainkey.%s is recorded on this host." % (selector, domain),
                         "start the rotation first.")
    current = rotation["phase"]
    if PHASES.index(phase) <= PHASES.index(current):
        return False
    if PHASES.index(phase) != PHASES.index(current) + 1:
        raise InputError(field, "the rotation of %s to %s is in phase %s; it reaches %s only after %s."
                         % (domain, rotation["new_selector"], current, phase, next_phase(current)),
                         "do the work of %s and record it first (the rotate_dkim playbook does each phase in turn)."
                         % next_phase(current))
    due = due_at(rotation, waits)
    if due is not None and now < due:
        raise InputError(field, "the rotation of %s to %s may reach %s only after %s (phase %s since %s)."
                         % (domain, rotation["new_selector"], phase, iso(due), current, rotation["at"][current]),
                         "run again after %s." % iso(due))
    rotation["phase"] = phase
    rotation["at"][phase] = iso(now)
    return True


def apply(state, selectors, starts, advances, now, waits):
    """Check every request, then apply the starts and the advances to ``state``; return what changed.

    Everything is checked before anything changes: a refused request leaves ``state`` as it was.
    """
    units = selector_units(selectors)
    work = json.loads(json.dumps(state))
    changed = []
    for index, request in enumerate(starts or []):
        field = "start[%d]" % index
        unit = _unit_of(units, *_unit_ref(request, field), field=field)
        if start(work, unit, request, now, field):
            changed.append({"domain": unit["domain"], "selector": unit["selector"], "phase": "started"})
    for index, request in enumerate(advances or []):
        field = "advance[%d]" % index
        domain, selector = _unit_ref(request, field)
        if advance(work, domain, selector, request.get("phase"), now, waits, field):
            changed.append({"domain": domain, "selector": selector, "phase": request["phase"]})
    state.clear()
    state.update(work)
    return units, changed


def report(state, units, now, waits, key_files=None):
    """Everything the module returns about the host's rotations."""
    key_files = key_files or {}
    key_domains, signing = host_keys(state, units)
    domains = sorted(set(u["domain"] for u in units))
    return {
        "rotations": [unit_status(state, unit, now, waits, key_files.get(unit["domain"], [])
                                  if unit["domain"] in key_files else None) for unit in units],
        "key_domains": key_domains,
        "signing_selectors": signing,
        "used_selectors": dict((d, used_selectors(state, d, key_files.get(d, ()))) for d in domains),
        # Which keys exist on the host: the controller picks the host a shared key is copied from.
        "key_files": dict((d, sorted(key_files[d])) for d in domains if d in key_files),
    }
