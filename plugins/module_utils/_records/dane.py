# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""DANE for SMTP (RFC 7672, RFC 7671): ``_25._tcp.MX`` TLSA ``3 1 1`` records and their key rollover.

Only DANE-EE(3) SPKI(1) SHA-256(1) is published: it survives a certificate renewal that keeps the
key, and names no CA. A rollover never breaks delivery: the next key's TLSA is published beside the
current one, the certificate with the new key goes in only after the TTL has passed since then, and
the old TLSA goes after the switch. No DNS here.
"""

from __future__ import annotations

import hashlib
import re

from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError
from ansible_collections.mailauth.hardening.plugins.module_utils._core.findings import Finding
from ansible_collections.mailauth.hardening.plugins.module_utils._records.lookup import is_hostname, normalise_name

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
except ImportError:
    pass  # _dkim_record.HAS_CRYPTOGRAPHY reports it; the module fails with missing_required_lib

USAGE, SELECTOR, MATCHING = 3, 1, 1
_TLSA_RE = re.compile(r"^\s*(\d+)\s+(\d+)\s+(\d+)\s+([0-9A-Fa-f\s]+)$")


def tlsa_name(mx, port=25):
    return "_%d._tcp.%s" % (port, normalise_name(mx))


def spki_digest(spki_der):
    """SHA-256 of a DER SubjectPublicKeyInfo, in lower-case hex (the data of a ``3 1 1`` record)."""
    return hashlib.sha256(spki_der).hexdigest()


def certificate_digest(pem):
    """The ``3 1 1`` data for a PEM certificate (its public key's SPKI digest)."""
    cert = x509.load_pem_x509_certificate(pem if isinstance(pem, bytes) else pem.encode("ascii"))
    return spki_digest(cert.public_key().public_bytes(serialization.Encoding.DER,
                                                      serialization.PublicFormat.SubjectPublicKeyInfo))


def build_tlsa(digest):
    return "%d %d %d %s" % (USAGE, SELECTOR, MATCHING, digest.lower())


def parse_tlsa(text):
    """``(usage, selector, matching, data)`` of a TLSA value in presentation form; None if it is not one."""
    match = _TLSA_RE.match(text or "")
    if not match:
        return None
    return int(match.group(1)), int(match.group(2)), int(match.group(3)), re.sub(r"\s", "", match.group(4)).lower()


def _digest(field, value):
    if not isinstance(value, str) or not re.match(r"^[0-9A-Fa-f]{64}$", value):
        raise InputError(field, "is not a SHA-256 digest (64 hex digits).",
                         "give the certificate (cert_path), from which the digest is computed.")
    return value.lower()


def owned_mx(mx, domains, field="dane.mx"):
    """An MX host whose ``_25._tcp`` name the inventory may write: the domain's own name or below it."""
    host = normalise_name(mx) if isinstance(mx, str) else mx
    if not isinstance(host, str) or not is_hostname(host):
        raise InputError(field, "%r is not a host name." % (mx,), "give the MX host as in the MX record.")
    if not any(host == d or host.endswith("." + d) for d in (normalise_name(x) for x in domains)):
        raise InputError(field, "%s is outside %s: its TLSA records belong to whoever runs that name." %
                         (host, ", ".join(domains)),
                         "publish DANE only for MX hosts under your own domains, or let the MX's operator do it.")
    return host


def plan(mx, current, published, signed, next_digest=None, next_visible_seconds=None, ttl=3600):
    """What the TLSA RRset at ``_25._tcp.MX`` should hold, and whether the next certificate may go in.

    ``current``/``next_digest``: SPKI digests of the installed and the coming key; ``published``: the
    TLSA values there now; ``next_visible_seconds``: how long the next key's TLSA has been visible on
    every authoritative server (None: not yet). Returns ``{name, records, install_next, reason}``.
    """
    name = tlsa_name(mx)
    if not signed:
        raise InputError("dane", "the zone of %s is not DNSSEC-signed: senders ignore TLSA there, so it would "
                         "do nothing." % name, "sign the zone first, or set dane: false for this domain.")
    current = _digest("dane.current", current)
    records = [build_tlsa(current)]
    if next_digest:
        next_digest = _digest("dane.next", next_digest)
        if next_digest != current:
            records.append(build_tlsa(next_digest))
    install_next, reason = False, "no next key"
    if len(records) == 2:
        if next_visible_seconds is None:
            reason = "the next key's TLSA is not yet visible on every authoritative server"
        elif next_visible_seconds < ttl:
            reason = "the next key's TLSA has been visible %ds, under the TTL of %ds" % (next_visible_seconds, ttl)
        else:
            install_next, reason = True, "the next key's TLSA has been visible for the TTL"
    stale = sorted(set(v for v in (normalise_tlsa(p) for p in published) if v) - set(records))
    return {"name": name, "records": records, "install_next": install_next, "reason": reason, "stale": stale}


def normalise_tlsa(text):
    parsed = parse_tlsa(text)
    return "%d %d %d %s" % parsed if parsed else None


def check_tlsa(mx, published, presented_digest, signed, validated):
    """Findings about one MX's DANE as seen from outside: signed and validating, a TLSA matching the key."""
    name = tlsa_name(mx)
    values = [v for v in (normalise_tlsa(p) for p in published or []) if v]
    if not values:
        return [Finding("dane.missing", "info", "no TLSA at %s: senders use opportunistic TLS." % name,
                        "publish %s TLSA 3 1 1 <SPKI digest> on a signed zone." % name)] if signed else []
    if not signed or not validated:
        return [Finding("dane.unsigned", "error", "TLSA at %s, but the answer is not DNSSEC-validated: senders "
                        "ignore it." % name, "sign the zone and publish its DS at the parent.")]
    if presented_digest is None:
        return [Finding("dane.mismatch", "error", "%s did not present a certificate on port 25 (STARTTLS failed): "
                        "DANE senders defer mail to it." % mx, "enable STARTTLS with the certificate the TLSA names.")]
    if build_tlsa(presented_digest) not in values:
        return [Finding("dane.mismatch", "error", "no TLSA at %s matches the key %s presents: DANE senders refuse "
                        "to deliver." % (name, mx), "publish %s, or install the certificate the TLSA names."
                        % build_tlsa(presented_digest))]
    return []
