# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""dkim_selectors and dkim_signing_selectors filters; thin wrappers over _dkim_signing."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.mailauth.hardening.plugins.module_utils._dkim import signing as _dkim_signing
from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError


def _plain(value):
    # Ansible hands templated data in as subclasses; plain copies keep the type checks simple.
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def dkim_selectors(domains, field="mailauth_domains"):
    """mailauth_domains -> every DKIM key wanted: [{domain, selector, type, bits, dns_name}]."""
    try:
        return _dkim_signing.dkim_selectors(_plain(domains), field)
    except InputError as err:
        raise AnsibleFilterError(str(err))


def dkim_signing_selectors(keys, safe, field="mailauth_dkim_signing_selectors", key_types=None):
    """The keys (dkim_selectors output) whose selector is in ``safe`` and whose type is in ``key_types``
    (all types when not given); a safe selector without a key fails."""
    try:
        return _dkim_signing.signing_selectors(_plain(safe), _plain(keys), field, _plain(key_types))
    except InputError as err:
        raise AnsibleFilterError(str(err))


class FilterModule(object):
    def filters(self):
        return {"dkim_selectors": dkim_selectors, "dkim_signing_selectors": dkim_signing_selectors}
