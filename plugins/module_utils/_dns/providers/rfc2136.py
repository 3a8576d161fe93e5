# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""RFC 2136 dynamic update with dnspython: TSIG, TCP or UDP, any port.

All changes for a zone go in ONE update message. Each touched RRset carries a
prerequisite (RFC 2136 2.4): the exact RRset read before, or "no such RRset"
when there was none, and a new CNAME "name not in use". If anything else edits
those records between our read and our update, the server answers
NXRRSET/YXRRSET/YXDOMAIN and applies nothing.
(dns-lexicon's ddns provider cannot do this; see /work/shared/lab.md.)
"""

from __future__ import annotations

import base64
import binascii

from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError
from ansible_collections.mailauth.hardening.plugins.module_utils._dns.errors import NameConflict, ProviderError
from ansible_collections.mailauth.hardening.plugins.module_utils._dns.providers.base import Provider
from ansible_collections.mailauth.hardening.plugins.module_utils._dns.query import (
    describe_rcode, query_rrset, query_types, require_dnspython, send)
from ansible_collections.mailauth.hardening.plugins.module_utils._dns.resolver import resolver_for, zone_for_name
from ansible_collections.mailauth.hardening.plugins.module_utils._dns.servers import address_of, endpoint_text, parse_server
from ansible_collections.mailauth.hardening.plugins.module_utils._records.txt import split_txt

try:
    import dns.exception
    import dns.name
    import dns.rcode
    import dns.rdata
    import dns.rdataclass
    import dns.rdataset
    import dns.rdatatype
    import dns.rdtypes.ANY.TXT
    import dns.tsig
    import dns.update
except ImportError:
    pass  # _dns.query.require_dnspython() reports it

DEFAULT_TTL = 3600
# What to do about each kind of failure (_dns.query.failure_kind() or the rcode), in this back end's options.
FIXES = {
    "timeout": "check server and port (is the primary up and reachable from here?), or raise timeout.",
    "refused": "check server and port: nothing accepts DNS there.",
    "network": "check server and port.",
    "closed": "check server, port and protocol.",
    "badsig": "check key_secret and key_algorithm against the server's key statement.",
    "badkey": "check key_name and key_algorithm against the server's key statement (both must match).",
    "badtime": "set this machine's and the server's clocks right (NTP).",
    "REFUSED": "check zone and server (the zone's primary), and give key_name and key_secret of a key the zone's "
               "allow-update or update-policy accepts.",
    "NOTAUTH": "check zone and server (the zone's primary), and that the server accepts key_name.",
    "NOTZONE": "check zone.",
    "SERVFAIL": "see the server's log.",
    "NXRRSET": "run the task again: it reads the records anew.",
    "YXRRSET": "run the task again: it reads the records anew.",
    "YXDOMAIN": "run the task again: it reads the records anew.",
}
ALGORITHMS = ("hmac-sha256", "hmac-sha512", "hmac-sha384", "hmac-sha224", "hmac-sha1", "hmac-md5",
              "hmac-sha256-128", "hmac-sha384-192", "hmac-sha512-256")


def tsig_key(params):
    """(keyring, key name, algorithm) from key_name/key_secret/key_algorithm, or Nones."""
    name, secret = params.get("key_name"), params.get("key_secret")
    algorithm = (params.get("key_algorithm") or "hmac-sha256").lower()
    if not name and not secret:
        return None, None, None
    if not name or not secret:
        missing, given = ("key_name", "key_secret") if secret else ("key_secret", "key_name")
        raise InputError(missing, "is empty but %s is set." % given, "give both key_name and key_secret, or neither.")
    if algorithm not in ALGORITHMS:
        raise InputError("key_algorithm", "%r is not a TSIG algorithm." % algorithm, "use one of %s." % ", ".join(ALGORITHMS))
    try:
        # Strict decoding: the lenient default would drop stray characters and sign with a wrong key.
        base64.b64decode(secret, validate=True)
    except (binascii.Error, ValueError):
        # Never echo the secret or the decoder's message about it.
        raise InputError("key_secret", "is not valid base64.", "paste the secret exactly as tsig-keygen printed it.")
    try:
        key = dns.tsig.Key(name, secret, dns.tsig.HMAC_MD5 if algorithm == "hmac-md5" else algorithm)
    except dns.exception.DNSException:
        raise InputError("key_name", "%r is not a valid key name." % name, "use the key's name from the server's key statement.")
    return {key.name: key}, key.name, key.algorithm


class Rfc2136Provider(Provider):
    """Reads RRsets at the primary server and updates them atomically."""

    TYPES = ("TXT", "TLSA", "CNAME", "MX", "A", "AAAA")

    def __init__(self, params, zone, adapter=None):
        super().__init__(params, zone, adapter)
        require_dnspython()
        if not params.get("server"):
            raise InputError("server", "is required for provider rfc2136.", "give the primary server's address.")
        host, port = parse_server(params["server"], params.get("port") or 53, "server")
        self.host = address_of(host, port)
        self.port = port
        self.tcp = (params.get("protocol") or "tcp") == "tcp"
        self.timeout = params.get("timeout") or 10
        self.keyring, self.keyname, self.keyalgorithm = tsig_key(params)
        self.where = endpoint_text(self.host, self.port)
        self._read = {}  # (name, TYPE): ([(value, rdata)], ttl) as read

    def _asking(self, call, *args, **extra):
        try:
            return call(self.host, self.port, *args, timeout=self.timeout, tcp=self.tcp, keyring=self.keyring,
                        keyname=self.keyname, keyalgorithm=self.keyalgorithm, **extra)
        except NameConflict:
            raise
        except ProviderError as exc:
            raise self.with_fix(exc)

    def read_rrset(self, name, rtype):
        """The ``rtype`` values at ``name``, asked of the primary (signed when a key is given)."""
        pairs, ttl = self._asking(query_rrset, name, rtype, conflicts=True)
        self._read[(name, rtype)] = (pairs, ttl)
        return [value for value, _rdata in pairs]

    def types_at(self, name):
        return self._asking(query_types, name) - set(self.SERVER_TYPES)

    def with_fix(self, exc, rcode=None):
        """``exc`` with the fix for its kind, in this back end's options."""
        kind = rcode or exc.kind
        fix = FIXES.get(kind)
        if kind == "REFUSED" and not self.keyring:
            fix = "the request was sent unsigned: give key_name and key_secret (and check zone and server)."
        return ProviderError("%s Fix: %s" % (exc, fix) if fix else str(exc), exc.applied, kind)

    def update_message(self, changes):
        """The one UPDATE for all ``changes`` ((name, TYPE) keys), with exact-RRset prerequisites; and
        what it applies."""
        update = dns.update.UpdateMessage(self.zone, keyring=self.keyring, keyname=self.keyname,
                                          keyalgorithm=self.keyalgorithm)
        applied = []
        for (name, rtype), change in changes.items():
            if (name, rtype) not in self._read:
                raise ProviderError("internal: %s %s was not read before the update." % (name, rtype))
            pairs, ttl = self._read[(name, rtype)]
            owner = dns.name.from_text(name)
            if pairs:
                update.present(owner, dns.rdataset.from_rdata_list(0, [rdata for _value, rdata in pairs]))
            elif rtype == "CNAME":
                update.absent(owner)  # a CNAME only where nothing is: the name must still be empty
            else:
                update.absent(owner, rtype)
            for value, rdata in pairs:
                if value in change["remove"]:
                    update.delete(owner, rdata)
            applied += [{"name": name, "type": rtype, "action": "remove", "value": v} for v in change["remove"]]
            new_ttl = change.get("ttl")
            new_ttl = (ttl if pairs else DEFAULT_TTL) if new_ttl is None else new_ttl
            for value in change["add"]:
                update.add(owner, new_ttl, rdata_of(rtype, value))
                applied.append({"name": name, "type": rtype, "action": "add", "value": value})
        return update, applied

    def apply_rrsets(self, changes):
        if not changes:
            return []
        update, applied = self.update_message(changes)
        try:
            reply = send(update, self.host, self.port, self.timeout, tcp=self.tcp, what="update of zone %s" % self.zone)
        except ProviderError as exc:
            raise self.with_fix(exc)
        rcode = dns.rcode.to_text(reply.rcode())
        if rcode != "NOERROR":
            raise self.with_fix(ProviderError("DNS server %s, update of zone %s: %s."
                                              % (self.where, self.zone, describe_rcode(rcode))), rcode)
        return applied

    @classmethod
    def find_zone(cls, params, name, adapter=None):
        """SOA walk for ``name`` at the rfc2136 server itself (it is authoritative)."""
        require_dnspython()
        if not params.get("server"):
            raise InputError("server", "is required for provider rfc2136.", "give the primary server's address.")
        timeout = params.get("timeout") or 10
        resolver = resolver_for([endpoint_text(*parse_server(params["server"], params.get("port") or 53, "server"))],
                                timeout, field="server")
        keyring, keyname, keyalgorithm = tsig_key(params)
        if keyring:
            resolver.use_tsig(keyring, keyname=keyname, algorithm=keyalgorithm)
        return zone_for_name(name, params, resolver=resolver)


def rdata_of(rtype, value):
    """The rdata of a value as ``_records`` writes it (TXT split into character-strings)."""
    if rtype == "TXT":
        return txt_rdata(value)
    return dns.rdata.from_text(dns.rdataclass.IN, rtype, value)


def txt_rdata(value):
    """A TXT rdata for ``value``, split into character-strings of at most 255 octets."""
    return dns.rdtypes.ANY.TXT.TXT(dns.rdataclass.IN, dns.rdatatype.TXT,
                                   [s.encode("utf-8") for s in split_txt(value)])
