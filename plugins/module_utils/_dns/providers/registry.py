# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which back end serves a provider name: rfc2136, plesk, or dns-lexicon for every other name.

Each back end is imported only when chosen, so a Plesk host needs neither dnspython nor
dns-lexicon. The imports are written out (no importlib): Ansible finds the module_utils a
module needs by reading its import statements.
"""

from __future__ import annotations

import re

from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError
from ansible_collections.mailauth.hardening.plugins.module_utils._dns.providers.base import Provider


def _rfc2136():
    from ansible_collections.mailauth.hardening.plugins.module_utils._dns.providers.rfc2136 import Rfc2136Provider
    return Rfc2136Provider


def _plesk():
    from ansible_collections.mailauth.hardening.plugins.module_utils._dns.providers.plesk import PleskProvider
    return PleskProvider


def _lexicon():
    from ansible_collections.mailauth.hardening.plugins.module_utils._dns.providers.lexicon import LexiconProvider
    return LexiconProvider


BACKENDS = {"rfc2136": _rfc2136, "plesk": _plesk, "lexicon": _lexicon}
BUILTIN = ("rfc2136", "plesk")


def provider_kind(name):
    """'rfc2136', 'plesk' or 'lexicon' (every other name is a dns-lexicon provider)."""
    if not isinstance(name, str) or not re.match(r"^[a-z0-9_]+$", name or ""):
        raise InputError("provider", "%r is not a provider name." % (name,),
                         "use rfc2136, plesk or a dns-lexicon provider name such as powerdns or cloudflare.")
    return name if name in BUILTIN else "lexicon"


def provider_class(name):
    """The Provider subclass for provider ``name``."""
    return BACKENDS[provider_kind(name)]()


def open_provider(params, zone, adapter=None):
    """The back end for ``params['provider']`` serving ``zone`` (absolute, trailing dot)."""
    return provider_class(params.get("provider"))(params, zone, adapter)


def find_zone(params, name, adapter=None):
    """The zone (absolute) that holds absolute ``name``, asked the way the back end knows best
    (through ``nameservers`` or the system resolver when no provider is given)."""
    cls = provider_class(params["provider"]) if params.get("provider") else Provider
    return cls.find_zone(params, name, adapter)
