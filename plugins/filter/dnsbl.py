# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The dnsbl_sites filter: inventory DNSBL data -> Postfix items; a thin wrapper over _dnsbl."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.mailauth.hardening.plugins.module_utils._records import dnsbl as _dnsbl
from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError

MODES = ("postscreen", "reject_rbl_client")


def dnsbl_sites(entries, mode="postscreen", threshold=1, dqs_key=None, field="mailauth_dnsbl", threshold_field=None):
    """``[{zone, reply, weight, dqs_key}|"zone=filter*weight", ...]`` -> postscreen sites or restrictions."""
    if mode not in MODES:
        raise AnsibleFilterError("mode: must be one of %s, not %r. Fix: name one of them." % (", ".join(MODES), mode))
    # Ansible hands templated data in as subclasses; plain copies keep _dnsbl's type checks simple.
    entries = [dict(e) if isinstance(e, dict) else e for e in entries] if isinstance(entries, list) else entries
    try:
        if mode == "postscreen":
            return _dnsbl.postscreen_sites(entries, threshold, field, dqs_key or None, threshold_field)
        return _dnsbl.rbl_restrictions(entries, field, dqs_key or None)
    except InputError as err:
        raise AnsibleFilterError(str(err))


class FilterModule(object):
    def filters(self):
        return {"dnsbl_sites": dnsbl_sites}
