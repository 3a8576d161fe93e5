# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one interface every DNS back end offers (RFC 2136, Plesk, dns-lexicon).

A provider serves one zone. Every back end is built the same way, ``cls(params, zone, adapter)``:
``params`` the module's provider options (doc fragment dns_provider), ``zone`` absolute with its
trailing dot, ``adapter`` the host adapter a back end runs its commands through (the Plesk CLI,
``_hosts.plesk.PleskCli``), else None. The registry (``registry.py``) picks the class.
"""

from __future__ import annotations

import abc

from ansible_collections.mailauth.hardening.plugins.module_utils._dns.resolver import zone_for_name


class Provider(abc.ABC):
    """Reads the TXT RRset at a name, applies a change set, finds a name's zone, closes."""

    def __init__(self, params, zone, adapter=None):
        self.params = params
        self.zone = zone
        self.adapter = adapter

    @classmethod
    def find_zone(cls, params, name, adapter=None):
        """The zone (absolute) that holds absolute ``name``; by default an SOA walk through
        ``nameservers`` (or the system resolver). Back ends that know better override it."""
        return zone_for_name(name, params)

    @abc.abstractmethod
    def read(self, name):
        """The TXT values at absolute ``name``, each joined from its character-strings, in the order
        the back end lists them. Raises NameConflict when the name holds a CNAME (or lies below a
        delegation), since a TXT written there would be ignored or never served."""

    @abc.abstractmethod
    def apply(self, changes):
        """Apply ``_records.txt_changes.plan_changes()`` output for names read before, and return what
        was applied as ``[{"name", "action": "add"|"remove", "value"}]``.

        The change set is applied as one atomic update where the back end can (RFC 2136: one UPDATE
        with prerequisites). On failure raise ProviderError whose ``applied`` lists what took effect
        before the failure (always empty for an atomic back end).
        """

    def close(self):
        """Release what the back end holds open (an API session)."""
