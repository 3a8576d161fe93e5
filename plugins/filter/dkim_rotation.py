# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""dkim_rotation_plan filter; a thin wrapper over _dkim_rotation_plan for the dkim_rotation role."""

from __future__ import annotations

import time

from ansible.errors import AnsibleFilterError

from ansible_collections.mailauth.hardening.plugins.module_utils._dkim import rotation_plan as plan
from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError

STEPS = ("starts", "keys", "dns", "switch", "finish")


def _plain(value):
    # Ansible hands templated data in as subclasses; plain copies keep the logic's type checks simple.
    if isinstance(value, dict):
        return dict((k, _plain(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def dkim_rotation_plan(reports, step, hosts, options=None, key_records=None):
    """One step of the fleet plan from the hosts' dkim_rotation results (a list in ``hosts`` order)."""
    if step not in STEPS:
        raise AnsibleFilterError("step: must be one of %s, not %r. Fix: name one of them." % (", ".join(STEPS), step))
    hosts = [str(h) for h in _plain(hosts)]
    reports = _plain(reports)
    if not isinstance(reports, list) or len(reports) != len(hosts):
        raise AnsibleFilterError("reports: %s report(s) for %d host(s). Fix: give one dkim_rotation result per host, "
                                 "in the order of the hosts." % (len(reports) if isinstance(reports, list) else "no",
                                                                 len(hosts)))
    by_host = dict(zip(hosts, reports))
    options = _plain(options or {})
    try:
        plan.check_reports(by_host, hosts)
        if step == "starts":
            return plan.start_requests(by_host, hosts, options, time.time())
        if step == "keys":
            return plan.key_plan(by_host, hosts)
        if step == "dns":
            return plan.dns_plan(by_host, hosts, dict(zip(hosts, _plain(key_records or [[]] * len(hosts)))), options)
        if step == "switch":
            return plan.switch_plan(by_host, hosts, options)
        return plan.finish_plan(by_host, hosts, options)
    except InputError as err:
        raise AnsibleFilterError(str(err))


class FilterModule(object):
    def filters(self):
        return {"dkim_rotation_plan": dkim_rotation_plan}
