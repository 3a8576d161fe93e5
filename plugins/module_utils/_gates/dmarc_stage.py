# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""DMARC stage moves on evidence (issue 16): one stage up when the reports show the legitimate mail
aligned, one stage back when the mail reported under the current stage shows it failing.

``StageMoves`` is handed to ``_gates.dmarc_hold``: for each domain it may lower the stage to publish
(the step back) and it gives each pending raise its verdict, which ``_gates.dmarc_raise`` applies.
"""

from __future__ import annotations

from ansible_collections.mailauth.hardening.plugins.module_utils._records.dmarc import POLICIES
from ansible_collections.mailauth.hardening.plugins.module_utils._records.lookup import normalise_name


def next_stage(current, target):
    """One stage up from ``current``, never past ``target``."""
    return POLICIES[min(POLICIES.index(current) + 1, POLICIES.index(target))]


class StageMoves(object):
    """The evidence of each domain (``_dmarc_evidence.evidence`` entries) and the step-back threshold."""

    def __init__(self, entries, rollback_above, apply_rollback=True):
        self.entries = dict((entry["domain"], entry) for entry in entries)
        self.rollback_above = rollback_above
        self.apply_rollback = apply_rollback
        self.rollbacks = []

    def _entry(self, name):
        return self.entries.get(normalise_name(name))

    def target(self, name, current, target):
        """The stage to publish for ``name``: one below ``current`` when the reports show harm, else ``target``."""
        entry = self._entry(name)
        under = (entry or {}).get("by_policy", {}).get(current)
        if current == "none" or not under or not under["legitimate_messages"]:
            return target
        share = 100.0 * under["legitimate_failed"] / under["legitimate_messages"]
        if share <= self.rollback_above:
            return target
        back = POLICIES[POLICIES.index(current) - 1]
        failing = ["%s (%s): %s" % (s["address"], s["known_as"], " ".join(s["fixes"]))
                   for s in entry["sources"] if s["kind"] != "unknown" and s["failed"]]
        reason = ("%s steps back from p=%s to p=%s: under p=%s receivers reported %d of %d legitimate messages "
                  "(%.2f %%) failing DMARC, above mailauth_dmarc_rollback_above (%s %%). %s" % (
                      name, current, back, current, under["legitimate_failed"], under["legitimate_messages"], share,
                      self.rollback_above, "; ".join(failing[:3])))
        self.rollbacks.append({"name": name, "from": current, "to": back, "applied": self.apply_rollback,
                               "reason": reason.strip()})
        return back if self.apply_rollback else target

    def verdict(self, name, current, target):
        """What a pending raise needs from the reports: ``{ready, blockers, step}``."""
        entry = self._entry(name)
        if entry is None:
            return {"ready": False, "blockers": ["No evidence for %s was computed." % name], "step": current}
        return {"ready": entry["ready"], "blockers": entry["blockers"], "step": next_stage(current, target)}
