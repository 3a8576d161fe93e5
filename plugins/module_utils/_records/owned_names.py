# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which DNS names belong to a mail domain, and refusing every other: pure, no I/O.

A domain's mail-authentication records live only at its own names: its apex,
``SELECTOR._domainkey.D`` (and ``_domainkey.D`` for the legacy ``o=-``), ``_dmarc.D``,
``SENDER._report._dmarc.D``, ``_mta-sts.D``, ``mta-sts.D``, ``_smtp._tls.D`` and
``_25._tcp.MX`` for each of its MX hosts. A domain below its zone (mail.example.com in
zone example.com) thus never writes the zone's apex or ``_dmarc``: they are the parent's.
"""

from __future__ import annotations

from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError
from ansible_collections.mailauth.hardening.plugins.module_utils._records.txt_changes import normalise_zone

# Names exactly the domain's: (prefix before the domain, what it is).
EXACT = (
    ("", "apex"),
    ("_domainkey.", "legacy DomainKeys policy"),
    ("_dmarc.", "DMARC record"),
    ("_mta-sts.", "MTA-STS record"),
    ("mta-sts.", "MTA-STS policy host"),
    ("_smtp._tls.", "TLS-RPT record"),
)
# Trees of the domain: one or more labels, then the suffix before the domain (a selector may
# hold dots, RFC 6376 3.1; a report sender is a domain name or '*').
BELOW = (
    ("_domainkey.", "DKIM key record"),
    ("_report._dmarc.", "DMARC report authorisation"),
)
SHOWN = ("{d}", "SELECTOR._domainkey.{d}", "_domainkey.{d}", "_dmarc.{d}", "SENDER._report._dmarc.{d}",
         "_mta-sts.{d}", "mta-sts.{d}", "_smtp._tls.{d}")


def owner_domain(domain, field="domain"):
    """``domain`` as an absolute, lower-case name; refuses what is not a domain name."""
    name = normalise_zone(domain, field)
    if name.startswith("*."):
        raise InputError(field, "%r is a wildcard, not a domain." % domain, "give the mail domain, e.g. example.com.")
    return name


def name_kind(name, domain, mx_hosts=()):
    """What absolute ``name`` is for absolute ``domain`` (e.g. 'DMARC record'), or None when it is not its own.

    ``mx_hosts`` are the domain's MX host names (absolute): ``_25._tcp.MX`` is its DANE TLSA name.
    """
    for prefix, kind in EXACT:
        if name == prefix + domain:
            return kind
    for suffix, kind in BELOW:
        tail = "." + suffix + domain
        if name.endswith(tail) and len(name) > len(tail):
            return kind
    if any(name == "_25._tcp." + host for host in mx_hosts):
        return "DANE TLSA name of an MX"
    return None


def own_names_text(domain, mx_hosts=()):
    """The domain's own names, as a message lists them."""
    shown = [pattern.format(d=domain) for pattern in SHOWN]
    return ", ".join(shown + ["_25._tcp.%s" % host for host in mx_hosts])


def check_owned_names(wanted, domain, mx_hosts=(), field="domain"):
    """Refuse the first of ``wanted`` (txt_changes.Wanted items) at a name that is not ``domain``'s own.

    Returns the domain, absolute. The failure names the record (``records[3].name``), the domain and the fix.
    """
    owner = owner_domain(domain, field)
    hosts = [owner_domain(host, "%s MX host" % field) for host in mx_hosts]
    for item in wanted:
        if name_kind(item.name, owner, hosts) is None:
            problem = ("%s is not one of the names of domain %s (%s); a record there could replace another domain's, "
                       "such as the zone apex's SPF or DMARC of a parent domain."
                       % (item.name, owner.rstrip("."), own_names_text(owner, hosts)))
            raise InputError(item.field + ".name", problem,
                             "write the record at one of these names, absolute with a trailing dot (e.g. _dmarc.%s), "
                             "or publish it with the domain it belongs to as %s." % (owner, field))
    return owner
