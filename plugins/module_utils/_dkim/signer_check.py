# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Does a DKIM signer sign as it should? The test message per domain, the signatures it came back
with, and what is wrong with them. Pure: the module passes the message through the milter and hands
in a verifier (dkimpy's, with the public keys the host holds instead of DNS).
"""

from __future__ import annotations

import re

from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError

ALGORITHMS = {"rsa": "rsa-sha256", "ed25519": "ed25519-sha256"}
SENDER = "mailauth-probe"
_TAG = re.compile(r"(?:^|;)\s*([a-z]+)\s*=\s*([^;]*)")


def expected_signatures(keys, field="keys"):
    """{domain: {(selector, algorithm)}} from ``[{domain, selector, type, record}]``, validated."""
    if not isinstance(keys, (list, tuple)) or not keys:
        raise InputError(field, "must list the keys the signer should sign with.",
                         "give [{domain, selector, type, record}], one per selector.")
    wanted = {}
    for index, key in enumerate(keys):
        where = "%s[%d]" % (field, index)
        if not isinstance(key, dict):
            raise InputError(where, "must be a mapping.", "give domain, selector, type and record.")
        for name in ("domain", "selector", "record"):
            if not key.get(name):
                raise InputError("%s.%s" % (where, name), "is missing.", "give domain, selector, type and record.")
        if key.get("type", "rsa") not in ALGORITHMS:
            raise InputError(where + ".type", "unknown key type %r." % (key.get("type"),), "use rsa or ed25519.")
        domain = str(key["domain"]).rstrip(".").lower()
        wanted.setdefault(domain, set()).add((str(key["selector"]), ALGORITHMS[key.get("type", "rsa")]))
    return wanted


def records_by_name(keys):
    """{SELECTOR._domainkey.DOMAIN.: record}, what the verifier looks up instead of DNS."""
    return dict(("%s._domainkey.%s." % (key["selector"], str(key["domain"]).rstrip(".").lower()),
                 str(key["record"])) for key in keys)


def probe_message(domain, marker):
    """(sender, recipient, headers, body) of the test message from ``domain``; the body says what it is."""
    sender = "%s@%s" % (SENDER, domain)
    headers = [("From", "<%s>" % sender), ("To", "<postmaster@%s>" % domain),
               ("Subject", "mailauth.hardening signer check %s" % marker),
               ("Date", "Thu, 01 Jan 2026 00:00:00 +0000"), ("Message-ID", "<%s@%s>" % (marker, domain))]
    body = b"A test message to check the DKIM signer; it is never sent.\r\n"
    return sender, "postmaster@%s" % domain, headers, body


def signature_tags(value):
    """{tag: value} of a DKIM-Signature value, whitespace removed from values (folded headers)."""
    return dict((tag, re.sub(r"\s+", "", text)) for tag, text in _TAG.findall(value.replace("\r\n", " ").replace("\n", " ")))


def found_signatures(headers):
    """[(index, d, s, a)] of the DKIM-Signature headers in ``headers`` (index among those headers)."""
    found = []
    for name, value in headers:
        if name.lower() == "dkim-signature":
            tags = signature_tags(value)
            found.append((len(found), tags.get("d", "").lower(), tags.get("s", ""), tags.get("a", "")))
    return found


def judge(domain, wanted, found, verify):
    """(signatures, problems) for one domain: what came back, each verified with ``verify(index)``."""
    signatures, problems = [], []
    seen = set()
    for index, d, selector, algorithm in found:
        verified = bool(verify(index)) if d == domain else False
        signatures.append({"domain": d, "selector": selector, "algorithm": algorithm, "verified": verified})
        seen.add((selector, algorithm))
        if d != domain:
            problems.append("%s: a signature for d=%s, not for the domain." % (domain, d))
        elif (selector, algorithm) not in wanted:
            problems.append("%s: an unexpected %s signature with selector %s." % (domain, algorithm, selector))
        elif not verified:
            problems.append("%s: the %s signature with selector %s does not verify against the host's key."
                            % (domain, algorithm, selector))
    for selector, algorithm in sorted(wanted - seen):
        problems.append("%s: no %s signature with selector %s." % (domain, algorithm, selector))
    return signatures, problems
