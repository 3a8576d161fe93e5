# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which DKIM keys a host holds and which of them it may sign with, from inventory data.

Pure. The dkim role turns the result into OpenDKIM's KeyTable (every key) and
SigningTable (only the selectors whose public key is published: signing with a
key nobody can look up yet makes every receiver see a broken signature).
"""

from __future__ import annotations

from ansible_collections.mailauth.hardening.plugins.module_utils._records.dkim_record import (
    KEY_TYPES,
    dkim_dns_name,
)
from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError, kind_of

RSA_SIZES = (1024, 2048, 3072, 4096)


def _renamed(err, field):
    """The same error, with the path of the inventory field instead of the bare option name."""
    return InputError(field, err.problem, err.fix)


def _selector_entries(domain, field):
    """A domain's ``dkim``: one mapping or a list of them (several selectors, dual signing)."""
    dkim = domain.get("dkim")
    if dkim is None:
        return []
    if isinstance(dkim, dict):
        return [(field + ".dkim", dkim)]
    if isinstance(dkim, (list, tuple)):
        return [("%s.dkim[%d]" % (field, index), entry) for index, entry in enumerate(dkim)]
    raise InputError(field + ".dkim", "must be a mapping or a list of mappings with selector, type, bits, not %s."
                     % kind_of(dkim), "write e.g. dkim: [{selector: s202611, type: rsa, bits: 2048}].")


def dkim_selectors(domains, field="mailauth_domains"):
    """Every DKIM key the inventory wants: ``[{domain, selector, type, bits, dns_name}]``, validated."""
    if not isinstance(domains, (list, tuple)):
        raise InputError(field, "must be a list of domains.", "write a YAML list of {name, dkim, ...}.")
    keys, seen = [], set()
    for index, domain in enumerate(domains):
        domain_field = "%s[%d]" % (field, index)
        if not isinstance(domain, dict) or not domain.get("name"):
            raise InputError(domain_field + ".name", "every domain needs a name.", "give it, e.g. name: example.com.")
        for entry_field, entry in _selector_entries(domain, domain_field):
            if not isinstance(entry, dict):
                raise InputError(entry_field, "must be a mapping with selector, type and bits.",
                                 "write e.g. {selector: s202611, type: rsa, bits: 2048}.")
            unknown = sorted(set(entry) - {"selector", "type", "bits"})
            if unknown:
                raise InputError(entry_field, "unknown key(s) %s." % ", ".join(unknown), "use selector, type, bits.")
            try:
                dns_name = dkim_dns_name(entry.get("selector"), str(domain["name"]))
            except InputError as err:
                where = entry_field + ".selector" if err.field == "selector" else domain_field + ".name"
                raise _renamed(err, where)
            key_type = entry.get("type", "rsa")
            if key_type not in KEY_TYPES:
                raise InputError(entry_field + ".type", "unknown key type %r." % (key_type,),
                                 "use one of: %s." % ", ".join(KEY_TYPES))
            bits = entry.get("bits", 2048)
            if key_type == "rsa" and bits not in RSA_SIZES:
                raise InputError(entry_field + ".bits", "%r is not a supported RSA key size." % (bits,),
                                 "use one of: %s." % ", ".join(str(s) for s in RSA_SIZES))
            if dns_name.lower() in seen:
                raise InputError(entry_field + ".selector", "%s is listed twice." % dns_name, "list each selector once.")
            seen.add(dns_name.lower())
            keys.append({"domain": dns_name.split("._domainkey.", 1)[1], "selector": entry["selector"],
                         "type": key_type, "bits": bits if key_type == "rsa" else 256, "dns_name": dns_name})
    return keys


def _safe_name(entry, field):
    """``{domain, selector}`` (a dkim_key or dns_txt result works too) or ``SELECTOR._domainkey.DOMAIN``."""
    if isinstance(entry, str):
        if "._domainkey." not in entry:
            raise InputError(field, "%r is not SELECTOR._domainkey.DOMAIN." % entry,
                             "give {domain: ..., selector: ...} or the record's DNS name.")
        return entry.rstrip(".").lower()
    if isinstance(entry, dict) and entry.get("domain") and entry.get("selector"):
        return ("%s._domainkey.%s" % (entry["selector"], str(entry["domain"]).rstrip("."))).lower()
    raise InputError(field, "must name a domain and a selector.", "give {domain: ..., selector: ...}.")


def signing_selectors(safe, keys, field="mailauth_dkim_signing_selectors", key_types=None):
    """The keys to sign with: those of ``keys`` listed in ``safe`` (published, visible everywhere).

    A safe selector the host holds no key for is an error: the SigningTable would
    point OpenDKIM at a key that does not exist. ``key_types`` (e.g. ``["rsa"]``) keeps only keys
    the signer can use: OpenDKIM 2.11 signs with the one algorithm of its configuration, and an
    Ed25519 key in its SigningTable makes it fail every message (EVP_PKEY_get1_RSA).
    """
    if not isinstance(safe, (list, tuple)):
        raise InputError(field, "must be a list of selectors.", "write a YAML list of {domain, selector}.")
    by_name = {key["dns_name"].lower(): key for key in keys}
    wanted = set()
    for index, entry in enumerate(safe):
        name = _safe_name(entry, "%s[%d]" % (field, index))
        if name not in by_name:
            raise InputError("%s[%d]" % (field, index), "%s has no key on this host." % name,
                             "add the selector to the domain's dkim list in mailauth_domains, or drop it here.")
        wanted.add(name)
    return [key for key in keys if key["dns_name"].lower() in wanted
            and (key_types is None or key["type"] in key_types)]
