# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one small interface every DNS back end offers, and how to pick one.

A provider serves one zone and does two things:

- ``read(name)`` returns the TXT values at an absolute name, each joined from
  its character-strings, in the order the back end lists them; it raises
  NameConflict when the name holds a CNAME (or lies below a delegation), since
  a TXT written there would be ignored or never served;
- ``apply(changes)`` applies ``txt_changes.plan_changes()`` output for names
  it has read, and returns what it applied as a list of
  ``{"name", "action": "add"|"remove", "value"}``.

On failure ``apply`` raises ProviderError; its ``applied`` lists what was
applied before the failure (always empty for RFC 2136, whose update is atomic).
Back ends live in ``_provider_<name>.py`` and are imported only when chosen, so
a Plesk host needs neither dnspython nor dns-lexicon.
"""

from __future__ import annotations

import re

from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError

BUILTIN = ("rfc2136", "plesk")


class ProviderError(Exception):
    """A back end failed; the message names the server and the cause, never a secret.

    ``kind`` says what failed (a _dns.query.failure_kind() or an rcode such as REFUSED) so a
    back end can add the fix that names its own options; ``value`` is the TXT value a change
    failed on, so the module can name the record it came from.
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


def parse_server(text, default_port, field):
    """'host', 'host:port', '[v6]:port' or a bare IPv6 address -> (host, port)."""
    if not isinstance(text, str) or not text.strip():
        raise InputError(field, "is empty.", "give an address or host name, optionally with :port.")
    text = text.strip()
    match = re.match(r"^\[([0-9A-Fa-f:.]+)\](?::(\d+))?$", text)
    if match:
        host, port = match.group(1), match.group(2)
    elif text.count(":") == 1:
        host, port = text.split(":")
    else:
        host, port = text, None
    port = default_port if port is None else int(port) if port.isdigit() else -1
    if not host or not 0 < port < 65536:
        raise InputError(field, "%r is not host[:port] with a port from 1 to 65535." % text,
                         "write e.g. 192.0.2.53, 192.0.2.53:5353 or [2001:db8::53]:53.")
    return host, port


def provider_kind(name):
    """'rfc2136', 'plesk' or 'lexicon' (every other name is a dns-lexicon provider)."""
    if not isinstance(name, str) or not re.match(r"^[a-z0-9_]+$", name or ""):
        raise InputError("provider", "%r is not a provider name." % (name,),
                         "use rfc2136, plesk or a dns-lexicon provider name such as powerdns or cloudflare.")
    return name if name in BUILTIN else "lexicon"


def open_provider(params, zone, run_command=None):
    """The back end for ``params['provider']`` serving ``zone`` (absolute, trailing dot).

    ``params`` holds the module's provider options (see doc fragment dns_provider);
    ``run_command(argv) -> (rc, stdout, stderr)`` is needed by the plesk back end.
    """
    kind = provider_kind(params.get("provider"))
    if kind == "rfc2136":
        from ansible_collections.mailauth.hardening.plugins.module_utils._dns.providers.rfc2136 import Rfc2136Provider
        return Rfc2136Provider(params, zone)
    if kind == "plesk":
        from ansible_collections.mailauth.hardening.plugins.module_utils._dns.providers.plesk import PleskProvider
        return PleskProvider(params, zone, run_command)
    from ansible_collections.mailauth.hardening.plugins.module_utils._dns.providers.lexicon import LexiconProvider
    return LexiconProvider(params, zone)


def find_zone(params, name, run_command=None):
    """The zone (absolute) that holds absolute ``name``, asked the way the back end knows best
    (through ``nameservers`` or the system resolver when no provider is given)."""
    kind = provider_kind(params["provider"]) if params.get("provider") else "lexicon"
    if kind == "rfc2136":
        from ansible_collections.mailauth.hardening.plugins.module_utils._dns.providers.rfc2136 import find_zone as find
        return find(params, name)
    if kind == "plesk" and run_command is not None:
        from ansible_collections.mailauth.hardening.plugins.module_utils._dns.providers.plesk import find_zone as find
        return find(params, name, run_command)
    from ansible_collections.mailauth.hardening.plugins.module_utils._dns.query import zone_for_name
    return zone_for_name(name, params)
