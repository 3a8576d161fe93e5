# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Requests to one server with dnspython (no recursion): reads and updates for the providers and the wait.

Every failure becomes a ProviderError whose message names the server and the
cause in words (timeout, refused connection, BADSIG, REFUSED, ...).
"""

from __future__ import annotations

from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import MissingLibrary
from ansible_collections.mailauth.hardening.plugins.module_utils._dns import connections
from ansible_collections.mailauth.hardening.plugins.module_utils._dns.errors import NameConflict, ProviderError
from ansible_collections.mailauth.hardening.plugins.module_utils._dns.servers import endpoint_text
from ansible_collections.mailauth.hardening.plugins.module_utils._records.lookup import seconds_text
from ansible_collections.mailauth.hardening.plugins.module_utils._records.rdata import normalise_rdata
from ansible_collections.mailauth.hardening.plugins.module_utils._records.txt import join_txt

try:
    import dns.exception
    import dns.flags
    import dns.message
    import dns.name
    import dns.query
    import dns.rcode
    import dns.rdatatype
    import dns.tsig
    HAS_DNSPYTHON = True
except ImportError:
    HAS_DNSPYTHON = False

RCODE_MEANING = {
    "REFUSED": "the server refused the request (not allowed for this key or client, or not authoritative for the zone)",
    "NOTAUTH": "the server is not authoritative for the zone, or did not accept the TSIG key",
    "NOTZONE": "a name is not inside the zone the update was sent for",
    "SERVFAIL": "the server failed to process the request",
    "FORMERR": "the server could not parse the request",
    "NOTIMP": "the server does not implement this request",
    "NXRRSET": "the records changed since they were read (a concurrent edit); nothing was changed",
    "YXRRSET": "the records changed since they were read (a concurrent edit); nothing was changed",
    "YXDOMAIN": "records appeared at a name that was empty when read (a concurrent edit); nothing was changed",
    "NXDOMAIN": "the name does not exist",
}


def require_dnspython():
    if not HAS_DNSPYTHON:
        raise MissingLibrary("dnspython")


def failure_kind(exc):
    """What went wrong, as a key callers map to their own fix: badsig, badkey, badtime, tsig,
    timeout, refused, network, closed or other."""
    kinds = ((dns.tsig.PeerBadSignature, "badsig"), (dns.tsig.PeerBadKey, "badkey"), (dns.tsig.PeerBadTime, "badtime"),
             (dns.tsig.PeerError, "tsig"), (dns.tsig.BadSignature, "badsig"), (dns.tsig.BadKey, "badsig"),
             (dns.exception.Timeout, "timeout"), (ConnectionRefusedError, "refused"), (OSError, "network"),
             (EOFError, "closed"))
    return next((kind for cls, kind in kinds if isinstance(exc, cls)), "other")


def describe_failure(exc, timeout, message=None):
    """A DNS or socket failure in words; never includes key material.

    ``message`` is the request that failed: a TSIG failure names its key and algorithm, since a
    server that has the key under another algorithm answers BADKEY as for an unknown name.
    """
    kind = failure_kind(exc)
    key = getattr(message, "keyname", None)
    algorithm = getattr(message, "keyalgorithm", None)
    used = "key %s with algorithm %s" % (key.to_text(omit_final_dot=True), algorithm.to_text(omit_final_dot=True)) \
        if key is not None and algorithm is not None else "the key"
    texts = {
        "badsig": "BADSIG: the TSIG signature made with %s does not verify (wrong key_secret or key_algorithm)" % used,
        "badkey": "BADKEY: the server has no TSIG %s (key_name and key_algorithm must both match the server's "
                  "key statement; a key known under another algorithm is unknown too)" % used,
        "badtime": "BADTIME: the server's clock and this machine's clock differ too much",
        "tsig": "the server reported a TSIG error (%s)" % type(exc).__name__,
        "timeout": "no answer within %s s (server down, firewalled, or wrong port)" % seconds_text(timeout),
        "refused": "connection refused (nothing listens on that port)",
        "network": "network error: %s" % (getattr(exc, "strerror", None) or type(exc).__name__),
        "closed": "the server closed the connection",
    }
    if kind == "badsig" and not isinstance(exc, dns.tsig.PeerError):
        return "the reply's TSIG signature does not verify (check key_secret and key_algorithm)"
    return texts.get(kind) or "%s: %s" % (type(exc).__name__, exc)


def describe_rcode(rcode_text):
    return "%s: %s" % (rcode_text, RCODE_MEANING.get(rcode_text, "the server answered with an error"))


def send(message, host, port, timeout, tcp=True, what="request"):
    """Send ``message`` to host:port and return the reply; failures become ProviderError."""
    require_dnspython()
    where = endpoint_text(host, port)
    try:
        if tcp:
            return connections.tcp(message, host, port, timeout)
        reply, _used_tcp = dns.query.udp_with_fallback(message, host, port=port, timeout=timeout)
        return reply
    except Exception as exc:  # noqa: BLE001 - every failure is reported by name below
        raise ProviderError("DNS server %s, %s: %s." % (where, what, describe_failure(exc, timeout, message)),
                            kind=failure_kind(exc))


def rrset_at(reply, name, rtype="TXT"):
    """([(value, rdata)], ttl or None) of the ``rtype`` RRset for ``name`` in a reply's answer: TXT
    values joined from their character-strings, other types as ``_records.rdata`` writes them."""
    qname = dns.name.from_text(name)
    wanted = dns.rdatatype.from_text(rtype)
    for rrset in reply.answer:
        if rrset.name == qname and rrset.rdtype == wanted:
            return [(join_txt(rdata.strings) if rtype == "TXT" else normalise_rdata(rtype, rdata.to_text()), rdata)
                    for rdata in rrset], rrset.ttl
    return [], None


def txt_at(reply, name):
    """([(joined value, rdata)], ttl or None) of the TXT RRset for ``name`` in a reply's answer."""
    return rrset_at(reply, name)


def name_conflict(reply, name, rtype="TXT"):
    """NameConflict when an authoritative reply shows that ``name`` can hold no ``rtype`` record of its
    own: it holds a CNAME (RFC 1034 3.6.2; not a conflict when ``rtype`` is CNAME), or it lies below
    a delegation (a referral)."""
    qname = dns.name.from_text(name)
    for rrset in reply.answer:
        if rrset.name == qname and rrset.rdtype == dns.rdatatype.CNAME and rtype != "CNAME":
            raise NameConflict(name, "cname", rrset[0].target.to_text())
    if not reply.flags & dns.flags.AA and not reply.answer:
        cuts = [rrset for rrset in reply.authority if rrset.rdtype == dns.rdatatype.NS]
        if cuts:
            raise NameConflict(name, "delegation", cuts[0].name.to_text(),
                               ", ".join(sorted(rdata.target.to_text() for rdata in cuts[0])))


def query_txt(host, port, name, timeout, tcp=False, keyring=None, keyname=None, keyalgorithm=None, conflicts=False):
    """Ask host:port for the TXT values at ``name`` without recursion: ([(joined, rdata)], ttl).

    With ``conflicts`` the reply is first checked with ``name_conflict`` (a name whose TXT cannot
    be written there); a CNAME loop's SERVFAIL is then reported as the CNAME it starts with.
    """
    return query_rrset(host, port, name, "TXT", timeout, tcp=tcp, keyring=keyring, keyname=keyname,
                       keyalgorithm=keyalgorithm, conflicts=conflicts)


def _ask(host, port, name, rtype, timeout, tcp, keyring, keyname, keyalgorithm):
    """The reply of host:port to a non-recursive ``rtype`` query at ``name``, and its rcode text."""
    require_dnspython()
    message = dns.message.make_query(name, rtype)
    message.flags &= ~dns.flags.RD
    if keyring:
        message.use_tsig(keyring, keyname=keyname, algorithm=keyalgorithm)
    reply = send(message, host, port, timeout, tcp=tcp, what="reading %s at %s" % (rtype, name))
    return reply, dns.rcode.to_text(reply.rcode())


def _refused(host, port, name, rtype, rcode):
    where = endpoint_text(host, port)
    return ProviderError("DNS server %s, reading %s at %s: %s." % (where, rtype, name, describe_rcode(rcode)), kind=rcode)


def query_rrset(host, port, name, rtype, timeout, tcp=False, keyring=None, keyname=None, keyalgorithm=None,
                conflicts=False):
    """Ask host:port for the ``rtype`` RRset at ``name`` without recursion: ([(value, rdata)], ttl)
    (see ``rrset_at``); ``conflicts`` as for ``query_txt``."""
    reply, rcode = _ask(host, port, name, rtype, timeout, tcp, keyring, keyname, keyalgorithm)
    if conflicts:
        name_conflict(reply, name, rtype)
    if rcode == "NXDOMAIN":
        return [], None
    if rcode != "NOERROR":
        raise _refused(host, port, name, rtype, rcode)
    return rrset_at(reply, name, rtype)


def query_types(host, port, name, timeout, tcp=True, keyring=None, keyname=None, keyalgorithm=None):
    """The record types at ``name`` on host:port (an ANY query without recursion), upper case;
    NameConflict below a delegation."""
    reply, rcode = _ask(host, port, name, "ANY", timeout, tcp, keyring, keyname, keyalgorithm)
    name_conflict(reply, name, "CNAME")
    if rcode == "NXDOMAIN":
        return set()
    if rcode != "NOERROR":
        raise _refused(host, port, name, "ANY", rcode)
    qname = dns.name.from_text(name)
    return set(dns.rdatatype.to_text(rrset.rdtype) for rrset in reply.answer if rrset.name == qname)
