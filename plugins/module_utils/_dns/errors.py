# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The DNS layer's errors, one type per kind of failure.

- bad input (an option, a server text): ``_core.errors.InputError``, raised before anything is asked;
- a recursive query through the resolver callable got no usable answer: ``_records.lookup.LookupFailure``
  (the record logic catches it, so it lives with the record logic);
- a request to one server or API failed (timeout, REFUSED, BADSIG, HTTP 403, a CLI exit code):
  ``ProviderError``;
- a name that cannot hold the record (CNAME, below a delegation): ``NameConflict``;
- a zone or its authoritative servers cannot be found: ``DiscoveryError``.
"""

from __future__ import annotations


class ProviderError(Exception):
    """A server or back end failed; the message names the server and the cause, never a secret.

    ``kind`` says what failed (a _dns.query.failure_kind() or an rcode such as REFUSED) so a
    back end can add the fix that names its own options; ``value`` is the TXT value a change
    failed on, so the module can name the record it came from. ``applied`` lists what a
    non-atomic back end applied before the failure.
    """

    def __init__(self, message, applied=None, kind=None, value=None):
        super().__init__(message)
        self.applied = list(applied or [])
        self.kind = kind
        self.value = value


class NameConflict(ProviderError):
    """A name that cannot hold a TXT value of its own: it holds a CNAME (``kind`` cname, ``target``
    its target), or lies below a delegation in the zone (``kind`` delegation, ``target`` the cut,
    ``servers`` its NS names). Raised by ``read``; the publish step refuses the record."""

    def __init__(self, name, kind, target, servers=None):
        what = "holds a CNAME to %s" % target if kind == "cname" else "is below the delegation %s" % target
        self.description = "%s %s" % (name, what)
        super().__init__(self.description + ".", kind=kind)
        self.name = name
        self.target = target
        self.servers = servers


class DiscoveryError(ProviderError):
    """The zone of a name, its name servers or their addresses could not be found.

    The message says what was asked of which resolver and why it failed; each caller adds the fix
    in its own options (``nameservers`` for the audit, ``wait_servers`` for the wait).
    """
