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

from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError
from ansible_collections.mailauth.hardening.plugins.module_utils._dns.errors import ProviderError
from ansible_collections.mailauth.hardening.plugins.module_utils._dns.resolver import zone_for_name


class Provider(abc.ABC):
    """Reads the RRset of a type at a name, applies a change set, finds a name's zone, closes.

    ``TYPES`` are the record types the back end can write; ``check_types`` refuses the others
    before anything is read. TXT is the original interface: ``read(name)`` and ``apply(changes)``
    with changes keyed by name are ``read_rrset(name, "TXT")`` and ``apply_rrsets`` on TXT.
    """

    TYPES = ("TXT",)
    # Types a server keeps itself at a name (DNSSEC): never "other records" beside a CNAME.
    SERVER_TYPES = ("RRSIG", "NSEC", "NSEC3")

    def __init__(self, params, zone, adapter=None):
        self.params = params
        self.zone = zone
        self.adapter = adapter

    @classmethod
    def find_zone(cls, params, name, adapter=None):
        """The zone (absolute) that holds absolute ``name``; by default an SOA walk through
        ``nameservers`` (or the system resolver). Back ends that know better override it."""
        return zone_for_name(name, params)

    @classmethod
    def types_for(cls, params):
        """The record types this back end writes for the module's ``params``."""
        return cls.TYPES

    @classmethod
    def check_types(cls, params, wanted):
        """Refuse, before anything is asked, the first wanted record of a type the back end cannot write."""
        types = cls.types_for(params)
        for item in wanted:
            if item.rtype not in types:
                raise InputError(item.field + ".type", "provider %s cannot write %s records (it writes %s)."
                                 % (params.get("provider"), item.rtype, ", ".join(types)),
                                 "publish the %s records in a task of their own with provider rfc2136 or powerdns "
                                 "(or at the provider's own console)." % item.rtype)

    def check_wanted(self, item):
        """Refuse (InputError naming ``item.field``) a wanted value this back end would write wrongly;
        called for every value of a zone before anything is sent to any zone."""

    def read(self, name):
        """The TXT values at absolute ``name`` (see ``read_rrset``)."""
        return self.read_rrset(name, "TXT")

    def apply(self, changes):
        """Apply TXT changes keyed by name; the entries applied carry no type (dns_txt's result)."""
        try:
            done = self.apply_rrsets(dict(((name, "TXT"), change) for name, change in changes.items()))
        except ProviderError as exc:
            exc.applied = _untyped(exc.applied)
            raise
        return _untyped(done)

    @abc.abstractmethod
    def read_rrset(self, name, rtype):
        """The values of the ``rtype`` RRset at absolute ``name``, in the back end's order: TXT joined
        from its character-strings, other types in presentation format (``_records.rdata``
        normalises them). Raises NameConflict when ``rtype`` is not CNAME and the name holds a CNAME,
        or when the name lies below a delegation, since a record written there would be ignored or
        never served."""

    @abc.abstractmethod
    def types_at(self, name):
        """The record types at absolute ``name`` (upper case), except the server's own (DNSSEC);
        asked before a CNAME is added there."""

    @abc.abstractmethod
    def apply_rrsets(self, changes):
        """Apply ``_records.rrset_changes.plan_rrsets()`` output (keyed ``(name, TYPE)``) for RRsets
        read before, and return what was applied as ``[{"name", "type", "action": "add"|"remove",
        "value"}]``.

        The change set is applied as one atomic update where the back end can (RFC 2136: one UPDATE
        with prerequisites). On failure raise ProviderError whose ``applied`` lists what took effect
        before the failure (always empty for an atomic back end).
        """

    def close(self):
        """Release what the back end holds open (an API session)."""


def _untyped(entries):
    return [dict((k, v) for k, v in entry.items() if k != "type") for entry in entries]
