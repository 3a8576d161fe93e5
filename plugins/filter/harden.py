# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The harden_plan filter: every host's domains, keys and addresses -> one plan per domain; a thin wrapper over _harden_plan."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError
from ansible_collections.mailauth.hardening.plugins.module_utils._plan.harden_plan import harden_plan as _harden_plan


def harden_plan(hosts):
    """``[{host, path, domains, dkim_keys, sending_ips}]`` -> ``[plan per domain]``."""
    try:
        return _harden_plan(hosts)
    except InputError as err:
        raise AnsibleFilterError(str(err))


class FilterModule(object):
    def filters(self):
        return {"harden_plan": harden_plan}
