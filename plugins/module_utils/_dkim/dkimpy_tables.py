# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""dkimpy-milter's KeyTable, KeyTableEd25519 and SigningTable from the keys to sign with. Pure.

What dkimpy-milter 1.2.3 (Debian 12) does with them, read in its source and tried on the real milter:

- The SigningTable maps ``*@DOMAIN`` to a key name; the first matching line wins, so a message gets
  at most one RSA and one Ed25519 signature. The same key name is looked up in both key tables
  (``NAME DOMAIN:SELECTOR:KEYFILE``).
- A key name missing from either table makes every message of that domain fail (KeyError, 451).
  A domain without a key of one type therefore gets an entry whose key file is ``/dev/null``: an
  empty key, which it skips.
- A table file with no entry is not read as a table and the milter fails at start (or on every
  message, for the SigningTable), so each table ends with an entry for ``mailauth.invalid``
  (RFC 2606), a domain no mail comes from.
- Ed25519 key files hold the base64 raw seed (dkim_key's ``dkimpy_path``), RSA the PEM key.
"""

from __future__ import annotations

NO_KEY = "/dev/null"
NO_DOMAIN = "mailauth.invalid"
TYPES = ("rsa", "ed25519")
SUFFIX = {"rsa": ".private", "ed25519": ".dkimpy"}


def key_path(key_dir, key):
    """Where dkimpy-milter reads the key: the PEM for RSA, the raw seed beside it for Ed25519."""
    return "%s/%s/%s%s" % (key_dir.rstrip("/"), key["domain"], key["selector"], SUFFIX[key["type"]])


def dkimpy_tables(keys, key_dir):
    """{signing, rsa, ed25519, keys, left_out} for the keys to sign with (dkim_signing_selectors output).

    ``signing`` is [(pattern, key name)]; ``rsa`` and ``ed25519`` are [(key name, domain, selector,
    key file)], one per signing domain (selector ``-`` and ``/dev/null`` where it has no key of that
    type); ``keys`` the keys signed with, ``left_out`` further keys of a type a domain already
    signs with (the first in inventory order wins).
    """
    chosen, left_out, domains = {}, [], []
    for key in keys:
        domain = key["domain"].lower()
        if domain not in domains:
            domains.append(domain)
        slot = (domain, key["type"])
        if slot in chosen:
            left_out.append(key)
        else:
            chosen[slot] = key
    tables = {"signing": [("*@%s" % d, d) for d in domains] + [("*@%s" % NO_DOMAIN, NO_DOMAIN)],
              "keys": [key for key in keys if key not in left_out], "left_out": left_out}
    for key_type in TYPES:
        rows = []
        for domain in domains:
            key = chosen.get((domain, key_type))
            rows.append((domain, domain, key["selector"], key_path(key_dir, key)) if key else (domain, domain, "-", NO_KEY))
        rows.append((NO_DOMAIN, NO_DOMAIN, "-", NO_KEY))
        tables[key_type] = rows
    return tables
