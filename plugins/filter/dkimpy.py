# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The dkimpy_tables filter: the keys to sign with -> dkimpy-milter's tables; a thin wrapper over _dkimpy_tables."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.mailauth.hardening.plugins.module_utils._dkim import dkimpy_tables as _dkimpy_tables


def dkimpy_tables(keys, key_dir):
    """[{domain, selector, type, ...}] (dkim_signing_selectors output) -> {signing, rsa, ed25519, keys, left_out}."""
    if not isinstance(keys, list) or not all(isinstance(k, dict) and {"domain", "selector", "type"} <= set(k) for k in keys):
        raise AnsibleFilterError("dkimpy_tables: the input must be the keys dkim_signing_selectors returns.")
    if not key_dir:
        raise AnsibleFilterError("dkimpy_tables: key_dir is empty; give the directory of the keys.")
    return _dkimpy_tables.dkimpy_tables([dict(k) for k in keys], str(key_dir))


class FilterModule(object):
    def filters(self):
        return {"dkimpy_tables": dkimpy_tables}
