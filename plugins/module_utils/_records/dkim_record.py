# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""DKIM key records (RFC 6376 3.6.1, RFC 8301, RFC 8463): build, parse, inspect.

The record published at ``SELECTOR._domainkey.DOMAIN`` is ``v=DKIM1; k=rsa; p=BASE64``.
For ``k=rsa`` the ``p=`` value is a DER SubjectPublicKeyInfo (what OpenDKIM and every
common verifier read); for ``k=ed25519`` it is the raw 32-byte public key.

Whitespace inside ``p=``: RFC 6376 allows folding whitespace in a base64 value and
verifiers strip it, so ``inspect_dkim_record`` strips it too and still decodes the key.
As published, though, a blank inside ``p=`` almost always means a broken copy (two TXT
strings pasted with a space, a wrapped PEM body), and is often next to a real break.
So it is reported, not hidden: ``whitespace_in_p`` is true and a warning says so, and
``strict=True`` turns it into an InputError. Records this collection builds never
contain it.

Key work uses ``cryptography``; the tag-list parser is written here because the
libraries that have one (dkimpy) keep it private and raise without naming the tag.
"""

from __future__ import annotations

import base64
import binascii
import re
import traceback

from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError
from ansible_collections.mailauth.hardening.plugins.module_utils._core.findings import Finding
from ansible_collections.mailauth.hardening.plugins.module_utils._records.txt import join_txt, normalise_txt

try:
    from cryptography.hazmat.backends import default_backend
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
except ImportError:
    HAS_CRYPTOGRAPHY = False
    CRYPTOGRAPHY_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_CRYPTOGRAPHY = True
    CRYPTOGRAPHY_IMPORT_ERROR = None

KEY_TYPES = ("rsa", "ed25519")
RSA_MIN_BITS = 1024          # RFC 8301 3.2: signers MUST use, verifiers MUST NOT accept less
RSA_RECOMMENDED_BITS = 2048  # RFC 8301 3.2: signers SHOULD use at least this
RSA_MAX_VERIFIED_BITS = 4096  # RFC 8301 3.2: verifiers MUST handle keys up to this size
ED25519_KEY_OCTETS = 32      # RFC 8463 4.2: p= is the raw public key
ED25519_BITS = 256

_TAG_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_BASE64_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")
_WHITESPACE = re.compile(r"\s")
# RFC 6376 selector / RFC 5321 sub-domain: Let-dig [Ldh-str], at most 63 octets.
_LABEL = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
_MAX_NAME_OCTETS = 253


def require_cryptography():
    if not HAS_CRYPTOGRAPHY:
        raise InputError("cryptography", "the Python library cryptography is not installed.",
                         "install python3-cryptography (or pip install cryptography).")


# --- names -------------------------------------------------------------------------------

_EXAMPLES = {"DKIM selector": "s202611", "domain name": "example.com"}


def _check_labels(field, name, what):
    if not isinstance(name, str) or not name:
        raise InputError(field, "must be a non-empty %s." % what, "give one, e.g. %s." % _EXAMPLES[what])
    labels = name.split(".")
    for label in labels:
        if not _LABEL.match(label):
            raise InputError(field, "%r is not a valid %s: label %r must be 1-63 letters, digits or "
                             "hyphens, not starting or ending with a hyphen." % (name, what, label),
                             "write it with letters, digits and hyphens only, e.g. %s (an internationalised "
                             "name as its xn-- A-label)." % _EXAMPLES[what])
    return labels


def validate_selector(selector):
    """Return the selector if it is a valid DKIM selector (RFC 6376 3.1), else raise."""
    _check_labels("selector", selector, "DKIM selector")
    return selector


def validate_domain(domain):
    """Return the domain without a trailing dot if it is a valid host name, else raise."""
    if isinstance(domain, str) and domain.endswith(".") and len(domain) > 1:
        domain = domain[:-1]
    _check_labels("domain", domain, "domain name")
    return domain


def dkim_dns_name(selector, domain):
    """``SELECTOR._domainkey.DOMAIN`` after validating both parts."""
    name = "%s._domainkey.%s" % (validate_selector(selector), validate_domain(domain))
    if len(name) > _MAX_NAME_OCTETS:
        raise InputError("selector", "%s is %d octets; a DNS name holds at most %d."
                         % (name, len(name), _MAX_NAME_OCTETS), "use a shorter selector.")
    return name


# --- public keys -------------------------------------------------------------------------

def key_type_of(key):
    """'rsa' or 'ed25519' for a cryptography private or public key object."""
    require_cryptography()
    if isinstance(key, (rsa.RSAPrivateKey, rsa.RSAPublicKey)):
        return "rsa"
    if isinstance(key, (ed25519.Ed25519PrivateKey, ed25519.Ed25519PublicKey)):
        return "ed25519"
    raise InputError("key", "is a %s; DKIM keys are RSA or Ed25519." % type(key).__name__,
                     "use an RSA or Ed25519 key.")


def key_bits_of(key):
    """RSA modulus size, or 256 for Ed25519."""
    return key.key_size if key_type_of(key) == "rsa" else ED25519_BITS


def public_key_b64(key):
    """The ``p=`` value for a private or public key object.

    RSA: base64 of the DER SubjectPublicKeyInfo. Ed25519: base64 of the raw 32-byte
    public key (RFC 8463 4.2).
    """
    return _p_value_of(key)


# build_dkim_record's parameter is also called public_key_b64: it calls this name.
def _p_value_of(key):
    key_type = key_type_of(key)
    public = key.public_key() if hasattr(key, "public_key") else key
    if key_type == "rsa":
        data = public.public_bytes(serialization.Encoding.DER,
                                   serialization.PublicFormat.SubjectPublicKeyInfo)
    else:
        data = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(data).decode("ascii")


def _decode_p(field, value):
    """base64 text (no whitespace) -> bytes, naming ``field`` on failure."""
    bad = sorted(set(value) - _BASE64_ALPHABET)
    if bad:
        hint = " (TXT quoting pasted into the value?)" if '"' in bad or "\\" in bad else ""
        raise InputError(field, "contains characters that are not base64: %s%s."
                         % (" ".join(repr(ch) for ch in bad), hint),
                         "publish the public key's base64 text exactly, nothing else.")
    if len(value) % 4:
        raise InputError(field, "is truncated or damaged: %d base64 characters is not a multiple of 4."
                         % len(value), "copy the whole public key again.")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as err:
        raise InputError(field, "is not valid base64 (%s)." % err, "copy the whole public key again.")


def _load_spki(data):
    """DER SubjectPublicKeyInfo -> public key, or None when it is not exactly that."""
    try:
        key = serialization.load_der_public_key(data, backend=default_backend())
    except (ValueError, TypeError):
        return None
    try:
        again = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    except (ValueError, TypeError):
        return None
    # cryptography also accepts a bare PKCS#1 RSAPublicKey; OpenDKIM does not.
    return key if again == data else None


def decode_public_key(key_type, data, field="p"):
    """Raw ``p=`` bytes -> (public key object, bits); InputError names ``field`` or ``k``."""
    require_cryptography()
    if key_type == "rsa":
        key = _load_spki(data)
        if key is None:
            if len(data) == ED25519_KEY_OCTETS:
                raise InputError("k", "says rsa (or is absent, which means rsa) but p= holds 32 octets, "
                                 "the size of an Ed25519 key.", "publish k=ed25519 for an Ed25519 key.")
            raise InputError(field, "does not parse as a DER SubjectPublicKeyInfo RSA key (%d octets); "
                             "it is truncated or damaged." % len(data), "copy the whole public key again.")
        if isinstance(key, ed25519.Ed25519PublicKey):
            raise InputError("k", "says rsa but p= holds an Ed25519 key.",
                             "publish k=ed25519 and the raw 32-byte key (RFC 8463).")
        if not isinstance(key, rsa.RSAPublicKey):
            raise InputError(field, "holds a %s; DKIM uses RSA or Ed25519." % type(key).__name__,
                             "publish an RSA or Ed25519 key.")
        if key.key_size < RSA_MIN_BITS:
            raise InputError(field, "is a %d-bit RSA key; RFC 8301 requires at least %d bits and "
                             "verifiers reject shorter keys." % (key.key_size, RSA_MIN_BITS),
                             "generate a %d-bit key." % RSA_RECOMMENDED_BITS)
        return key, key.key_size
    if key_type == "ed25519":
        if len(data) == ED25519_KEY_OCTETS:
            try:
                return ed25519.Ed25519PublicKey.from_public_bytes(data), ED25519_BITS
            except ValueError as err:
                raise InputError(field, "is not an Ed25519 public key (%s)." % err, "copy the whole public key again.")
        key = _load_spki(data)
        if isinstance(key, ed25519.Ed25519PublicKey):
            raise InputError(field, "holds an Ed25519 SubjectPublicKeyInfo; RFC 8463 publishes the raw "
                             "32-byte key.", "publish base64 of the 32 raw public key octets.")
        if isinstance(key, rsa.RSAPublicKey):
            raise InputError("k", "says ed25519 but p= holds an RSA key.", "publish k=rsa for an RSA key.")
        raise InputError(field, "is %d octets; an Ed25519 public key is %d (truncated or damaged)."
                         % (len(data), ED25519_KEY_OCTETS), "copy the whole public key again.")
    raise InputError("k", "unknown key type %r." % key_type, "use one of: %s." % ", ".join(KEY_TYPES))


# --- building ----------------------------------------------------------------------------

def build_dkim_record(key_type, public_key_b64, testing=False):
    """The TXT value for a DKIM public key: ``v=DKIM1; k=rsa; p=...``.

    ``public_key_b64`` is the ``p=`` value (whitespace, e.g. from a wrapped copy, is
    removed) or a PEM public key; an empty value builds a revocation record. The key
    is decoded and checked against ``key_type`` so a broken record is never built.
    ``testing`` adds ``t=y`` (RFC 6376 3.6.1: verifiers must not treat failures as
    more severe than an unsigned message).
    """
    kind = key_type.lower() if isinstance(key_type, str) else key_type
    if kind not in KEY_TYPES:
        raise InputError("key_type", "unknown DKIM key type %r." % (key_type,),
                         "use one of: %s." % ", ".join(KEY_TYPES))
    if not isinstance(public_key_b64, str):
        raise InputError("public_key", "must be base64 text, got %s." % type(public_key_b64).__name__)
    value = public_key_b64.strip()
    if value.startswith("-----BEGIN"):
        require_cryptography()
        try:
            key = serialization.load_pem_public_key(value.encode("ascii"), backend=default_backend())
        except (ValueError, TypeError, UnicodeEncodeError):
            raise InputError("public_key", "is PEM text that does not hold a public key.",
                             "pass the public key (-----BEGIN PUBLIC KEY-----) or its base64 p= value.")
        if key_type_of(key) != kind:
            raise InputError("public_key", "is an %s key but key_type is %s." % (key_type_of(key), kind),
                             "set key_type to %s." % key_type_of(key))
        value = _p_value_of(key)
    value = _WHITESPACE.sub("", value)
    if value:
        decode_public_key(kind, _decode_p("public_key", value), field="public_key")
    tags = ["v=DKIM1", "k=%s" % kind]
    if testing:
        tags.append("t=y")
    tags.append("p=%s" % value)
    return "; ".join(tags)


# --- parsing -----------------------------------------------------------------------------

def _record_text(text):
    """Accept the joined value, a list of TXT strings, or quoted presentation text."""
    if isinstance(text, (list, tuple)):
        return join_txt(text)
    if not isinstance(text, str):
        raise InputError("record", "must be text, got %s." % type(text).__name__)
    if text.lstrip().startswith('"'):
        return normalise_txt(text)
    return text


def parse_dkim_record(text):
    """Tag-list (RFC 6376 3.2) -> dict of tag name -> value, in record order.

    Values lose surrounding whitespace only; tag names are case-sensitive. A trailing
    ``;`` and empty segments are tolerated; a duplicate tag invalidates the record.
    """
    text = _record_text(text)
    if not text.strip():
        raise InputError("record", "is empty.", "publish v=DKIM1; k=...; p=...")
    tags = {}
    for spec in text.split(";"):
        if not spec.strip():
            continue
        if "=" not in spec:
            raise InputError("record", "segment %r is not tag=value." % spec.strip()[:40],
                             "separate tags with ';' and write each as name=value.")
        name, value = spec.split("=", 1)
        name = name.strip()
        if not _TAG_NAME.match(name):
            raise InputError("record", "%r is not a valid tag name." % name[:40],
                             "tag names are a letter followed by letters, digits or '_'.")
        if name in tags:
            raise InputError(name, "appears twice; RFC 6376 3.2 makes the whole record invalid.",
                             "keep one %s= tag." % name)
        tags[name] = value.strip()
    return tags


class DkimKeyRecord(object):
    """What a DKIM key record says, after checking it."""

    __slots__ = ("tags", "version", "key_type", "bits", "public_key", "public_key_b64", "revoked",
                 "testing", "strict_subdomains", "hash_algorithms", "service_types",
                 "whitespace_in_p", "warnings")

    def __init__(self, **fields):
        for name in self.__slots__:
            setattr(self, name, fields.get(name))

    def as_dict(self):
        """JSON-friendly form (the key as base64, not bytes)."""
        result = dict((name, getattr(self, name)) for name in self.__slots__ if name != "public_key")
        result["tags"] = dict(self.tags)
        return result

    def __repr__(self):
        return "DkimKeyRecord(key_type=%r, bits=%r, revoked=%r, testing=%r)" % (
            self.key_type, self.bits, self.revoked, self.testing)


def _colon_list(value):
    return [item.strip() for item in value.split(":") if item.strip()]


def inspect_dkim_record(text, strict=False):
    """Parse and check a DKIM key record; return a DkimKeyRecord or raise InputError.

    Errors name the tag at fault (``v``, ``k``, ``h``, ``s``, ``p``, or ``record`` for
    the syntax). Things that work but deserve attention go to ``warnings``. With
    ``strict``, whitespace inside ``p=`` is an error instead of a warning.
    """
    tags = parse_dkim_record(text)
    warnings = []

    version = tags.get("v")
    if version is not None:
        if list(tags)[0] != "v":
            raise InputError("v", "must be the first tag when present (RFC 6376 3.6.1).",
                             "start the record with v=DKIM1.")
        if version.upper() != "DKIM1":
            raise InputError("v", "is %r; a DKIM key record has v=DKIM1." % version,
                             "publish v=DKIM1 (or check the record is at SELECTOR._domainkey).")
        if version != "DKIM1":
            warnings.append("v=%s: some verifiers (dkimpy) only accept upper-case DKIM1." % version)

    key_type = tags.get("k", "rsa")
    if key_type.lower() not in KEY_TYPES:
        raise InputError("k", "unknown key type %r." % key_type, "use k=rsa or k=ed25519.")
    if key_type != key_type.lower():
        warnings.append("k=%s: some verifiers only accept lower case." % key_type)
    key_type = key_type.lower()

    hash_algorithms = None
    if "h" in tags:
        hash_algorithms = [h.lower() for h in _colon_list(tags["h"])]
        if "sha256" not in hash_algorithms:
            raise InputError("h", "allows %s but not sha256; RFC 8301 retired sha1, so no signature "
                             "made with this key verifies." % (":".join(hash_algorithms) or "nothing"),
                             "remove h= or publish h=sha256.")
        if "sha1" in hash_algorithms:
            warnings.append("h= lists sha1, which RFC 8301 forbids; h=sha256 is enough.")

    service_types = None
    if "s" in tags:
        service_types = [s.lower() for s in _colon_list(tags["s"])]
        if "*" not in service_types and "email" not in service_types:
            raise InputError("s", "is %r; the key is not for email, so verifiers ignore it." % tags["s"],
                             "remove s= or publish s=email.")

    flags = [f.lower() for f in _colon_list(tags.get("t", ""))]

    if "p" not in tags:
        raise InputError("p", "is missing; every DKIM key record needs p= (empty p= revokes).",
                         "publish p=<base64 public key>.")
    raw = tags["p"]
    whitespace_in_p = bool(_WHITESPACE.search(raw))
    if whitespace_in_p:
        if strict:
            raise InputError("p", "contains whitespace inside the base64 value (usually a broken copy).",
                             "publish the base64 text as one unbroken value.")
        warnings.append("p= contains whitespace; RFC 6376 lets verifiers strip it, but it usually "
                        "means a broken copy: publish the value unbroken.")
    value = _WHITESPACE.sub("", raw)

    public_key = b""
    bits = None
    if value:
        public_key = _decode_p("p", value)
        _key, bits = decode_public_key(key_type, public_key)
        if key_type == "rsa" and bits < RSA_RECOMMENDED_BITS:
            warnings.append("p= is a %d-bit RSA key; RFC 8301 says signers should use at least %d bits."
                            % (bits, RSA_RECOMMENDED_BITS))
        if key_type == "rsa" and bits > RSA_MAX_VERIFIED_BITS:
            warnings.append("p= is a %d-bit RSA key; verifiers need only handle up to %d bits."
                            % (bits, RSA_MAX_VERIFIED_BITS))

    return DkimKeyRecord(
        tags=tags, version=version, key_type=key_type, bits=bits, public_key=public_key,
        public_key_b64=value, revoked=not value, testing="y" in flags,
        strict_subdomains="s" in flags, hash_algorithms=hash_algorithms,
        service_types=service_types, whitespace_in_p=whitespace_in_p, warnings=warnings)


# --- validation ------------------------------------------------------------------------

_RSA_TOO_SMALL = re.compile(r"is a (\d+)-bit RSA key")
_SHOWN_ELSEWHERE = ("p= contains whitespace", "p= is a ")  # warnings the findings below state themselves


def validate_dkim_record(text, where=None):
    """Findings about one key record's text, without DNS: what mail_audit reports and dns_txt refuses.

    ``where`` (the record's name) starts each message. An empty ``p=`` (a revoked selector) is no
    finding here: publishing one is how a selector is retired; the audit judges it for signing.
    """
    prefix = "%s: " % where if where else ""
    try:
        record = inspect_dkim_record(text)
    except InputError as err:
        too_small = _RSA_TOO_SMALL.search(err.problem or "")
        if err.field == "p" and too_small:
            return [Finding("dkim.weak", "error", "%sthe RSA key has %s bits; verifiers reject keys under %d bits "
                            "(RFC 8301)." % (prefix, too_small.group(1), RSA_MIN_BITS),
                            "generate a %d-bit key under a new selector and rotate to it." % RSA_RECOMMENDED_BITS)]
        return [Finding("dkim.syntax", "error", "%s%s" % (prefix, err), err.fix)]
    findings = []
    if record.whitespace_in_p:
        findings.append(Finding("dkim.syntax", "error", "%sp= contains whitespace, the usual sign of a broken copy "
                                "(two strings pasted with a blank, a wrapped key)." % prefix,
                                "publish the base64 key as one unbroken value (the collection splits it into TXT "
                                "strings for you)."))
    if record.testing:
        findings.append(Finding("dkim.syntax", "info", "%st=y: receivers treat the domain as testing DKIM." % prefix,
                                "remove t=y once signatures verify."))
    if record.key_type == "rsa" and record.bits is not None and record.bits < RSA_RECOMMENDED_BITS:
        findings.append(Finding("dkim.weak", "warning", "%sthe RSA key has %d bits; RFC 8301 says at least %d."
                                % (prefix, record.bits, RSA_RECOMMENDED_BITS),
                                "rotate to a %d-bit key under a new selector." % RSA_RECOMMENDED_BITS))
    for warning in record.warnings:
        if not warning.startswith(_SHOWN_ELSEWHERE) or "verifiers need only" in warning:
            findings.append(Finding("dkim.syntax", "warning", prefix + warning, "publish the record as the collection "
                                    "builds it (the dkim_record filter)."))
    return findings
