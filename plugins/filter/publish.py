# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""dns_accounts filter; a thin wrapper over _publish.accounts for the roles' one publish path."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError
from ansible_collections.mailauth.hardening.plugins.module_utils._publish.accounts import dns_accounts as accounts


def _plain(value):
    # Ansible hands templated data in as subclasses; plain copies keep the logic's type checks simple.
    if isinstance(value, dict):
        return dict((str(k), _plain(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def dns_accounts(changes, domains, secret_names=None):
    """``[{domain, records, state?}]`` -> one dns_txt task's options and records per provider account."""
    try:
        return accounts(_plain(changes), _plain(domains), [str(n) for n in secret_names or []])
    except InputError as err:
        raise AnsibleFilterError(str(err))


class FilterModule(object):
    def filters(self):
        return {"dns_accounts": dns_accounts}
