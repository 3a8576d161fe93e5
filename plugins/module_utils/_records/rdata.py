# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Values of the record types beyond TXT, checked and written one way: pure, no I/O.

Each value is given in presentation format (as in a zone file) and comes back normalised, so a
value read from any back end compares equal to the same value given by a user:

- A, AAAA: an address (``ipaddress``), AAAA in its compressed form;
- CNAME: an absolute target with its trailing dot, lower case;
- MX: ``PREFERENCE HOST.`` (0-65535, absolute host), or ``0 .`` (null MX, RFC 7505);
- TLSA: ``USAGE SELECTOR MATCHING DATA`` (RFC 6698: usage 0-3, selector 0-1, matching 0-2), the
  data in lower-case hex without blanks: 64 digits for SHA-256 (matching 1), 128 for SHA-512 (2).

TXT values are ``txt_changes.check_value``'s; this file knows no TXT.
"""

from __future__ import annotations

import ipaddress
import re

from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError
from ansible_collections.mailauth.hardening.plugins.module_utils._records.lookup import is_hostname

TYPES = ("TXT", "TLSA", "CNAME", "MX", "A", "AAAA")
DIGEST_DIGITS = {1: 64, 2: 128}
_HEX = re.compile(r"^[0-9a-f]+$")


def _text(value, field, example):
    if not isinstance(value, str) or not value.strip():
        raise InputError(field, "is missing." if value is None or isinstance(value, str) else
                         "must be text, got %s %r." % (type(value).__name__, value),
                         "give one string (quote it in YAML), e.g. %s." % example)
    return value.strip()


def _host(text, field, what, example):
    """An absolute host name, lower case with its trailing dot."""
    if not text.endswith("."):
        raise InputError(field, "%s %r is relative." % (what, text),
                         "write it absolute with a trailing dot (%r), e.g. %s." % (text + ".", example))
    if not is_hostname(text, min_labels=1) or text == ".":
        raise InputError(field, "%s %r is not a host name." % (what, text),
                         "give a name of letters, digits, '-' and '_' labels, e.g. %s." % example)
    return text.lower()


def check_a(value, field):
    text = _text(value, field, "192.0.2.25")
    try:
        return str(ipaddress.IPv4Address(text))
    except ValueError:
        raise InputError(field, "%r is not an IPv4 address." % text,
                         "give a dotted IPv4 address, e.g. 192.0.2.25 (an IPv6 address is an AAAA record).")


def check_aaaa(value, field):
    text = _text(value, field, "2001:db8::25")
    try:
        return ipaddress.IPv6Address(text).compressed
    except ValueError:
        raise InputError(field, "%r is not an IPv6 address." % text,
                         "give an IPv6 address, e.g. 2001:db8::25 (an IPv4 address is an A record).")


def check_cname(value, field):
    return _host(_text(value, field, "mta-sts.example.net."), field, "the CNAME target", "mta-sts.example.net.")


def check_mx(value, field):
    text = _text(value, field, "'10 mx1.example.com.'")
    parts = text.split()
    if len(parts) != 2 or not parts[0].isdigit():
        raise InputError(field, "%r is not 'PREFERENCE HOST.'." % text, "write e.g. '10 mx1.example.com.'.")
    preference = int(parts[0])
    if preference > 65535:
        raise InputError(field, "preference %d is over 65535." % preference, "give a preference from 0 to 65535.")
    if parts[1] == ".":
        if preference != 0:
            raise InputError(field, "a null MX ('.') has preference %d." % preference,
                             "write '0 .' (RFC 7505), or give a host.")
        return "0 ."
    return "%d %s" % (preference, _host(parts[1], field, "the MX host", "'10 mx1.example.com.'"))


def check_tlsa(value, field):
    text = _text(value, field, "'3 1 1 <sha256 hex>'")
    parts = text.split(None, 3)
    if len(parts) != 4 or not all(p.isdigit() for p in parts[:3]):
        raise InputError(field, "%r is not 'USAGE SELECTOR MATCHING DATA'." % text,
                         "write e.g. '3 1 1 <SHA-256 of the certificate's public key, 64 hex digits>' (DANE-EE).")
    usage, selector, matching = (int(p) for p in parts[:3])
    for name, number, top, meaning in (("usage", usage, 3, "0 PKIX-TA, 1 PKIX-EE, 2 DANE-TA, 3 DANE-EE"),
                                       ("selector", selector, 1, "0 full certificate, 1 SubjectPublicKeyInfo"),
                                       ("matching type", matching, 2, "0 exact, 1 SHA-256, 2 SHA-512")):
        if number > top:
            raise InputError(field, "%s %d is not defined (0-%d)." % (name, number, top),
                             "use %s; for SMTP DANE write '3 1 1 <sha256 hex>'." % meaning)
    data = re.sub(r"\s", "", parts[3]).lower()
    if not _HEX.match(data) or len(data) % 2:
        raise InputError(field, "the data is not hex (an even number of digits 0-9, a-f).",
                         "give the digest in hex, as 'openssl x509 -pubkey | openssl pkey -pubin -outform DER | "
                         "sha256sum' prints it.")
    digits = DIGEST_DIGITS.get(matching)
    if digits and len(data) != digits:
        raise InputError(field, "the data has %d hex digits; matching type %d (%s) needs %d."
                         % (len(data), matching, "SHA-256" if matching == 1 else "SHA-512", digits),
                         "give the whole digest, or the matching type of the digest you have.")
    return "%d %d %d %s" % (usage, selector, matching, data)


CHECKS = {"A": check_a, "AAAA": check_aaaa, "CNAME": check_cname, "MX": check_mx, "TLSA": check_tlsa}


def check_type(rtype, field):
    """The record type in upper case; refuses the types this collection does not publish."""
    text = rtype.strip().upper() if isinstance(rtype, str) else rtype
    if text not in TYPES:
        raise InputError(field, "%r is not a record type this module publishes." % (rtype,),
                         "use one of %s." % ", ".join(TYPES))
    return text


def check_rdata(rtype, value, field):
    """``value`` of a non-TXT ``rtype`` checked and normalised (see the module docstring)."""
    return CHECKS[rtype](value, field)


def normalise_rdata(rtype, text):
    """A value as a back end returned it, written as ``check_rdata`` writes it; unchanged when it
    cannot be parsed (it is then only ever removed or kept, never equal to a wanted value)."""
    try:
        return check_rdata(rtype, text, "rdata")
    except InputError:
        return text
