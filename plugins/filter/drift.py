# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the drift playbook: results -> drift items -> report -> stats; thin wrappers over _drift."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.mailauth.hardening.plugins.module_utils._drift import drift as _drift


def drift_items(results, host, mask=None):
    """``{mailauth_result_NAME: registered result}`` of one host -> its drift items."""
    if not isinstance(results, dict):
        raise AnsibleFilterError("drift_items: expects a mapping of registered results, got %s."
                                 % type(results).__name__)
    return _drift.items_from_results(results, host, mask or ())


def drift_report(drift_by_host, checked, fixed_by_host=None, remediate=False, generated=None):
    """``{host: items}`` of the check (and of the fix) -> the drift report."""
    for name, value in (("drift_report", drift_by_host), ("fixed_by_host", fixed_by_host or {})):
        if not isinstance(value, dict):
            raise AnsibleFilterError("%s: expects a mapping of host -> drift items, got %s."
                                     % (name, type(value).__name__))
    return _drift.build_report(checked, drift_by_host, fixed_by_host, remediate, generated)


def drift_stats(report):
    """The drift report -> what set_stats publishes (totals and per host)."""
    return _drift.stats(report)


class FilterModule(object):
    def filters(self):
        return {"drift_items": drift_items, "drift_report": drift_report, "drift_stats": drift_stats}
