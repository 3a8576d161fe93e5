# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""DKIM private keys: generate, serialise, load, compare with what is wanted.

Pure functions; the dkim_key module does the file I/O.

File format (the one OpenDKIM 2.11 reads for both key types, checked by the tests):

- RSA: PKCS#1 PEM (``-----BEGIN RSA PRIVATE KEY-----``), what opendkim-genkey has always
  written. OpenDKIM reads it with PEM_read_bio_PrivateKey; dkimpy's ``dkim.sign()``
  reads it as well (it also reads PKCS#8 since 1.0; PKCS#1 works with every version).
- Ed25519: PKCS#8 PEM (``-----BEGIN PRIVATE KEY-----``), the only PEM form for Ed25519
  and what ``openssl genpkey -algorithm ed25519`` writes; OpenDKIM 2.11 signs with it.
  dkimpy does *not* read it: ``dkim.sign()`` wants the base64 of the raw 32-byte seed
  for ed25519-sha256 (what its dknewkey writes). ``dkimpy_private_key()`` derives that
  form from a loaded key for callers that sign with dkimpy.
"""

from __future__ import annotations

import base64
import re
import stat

from ansible_collections.mailauth.hardening.plugins.module_utils._records.dkim_record import (
    ED25519_BITS,
    KEY_TYPES,
    RSA_MIN_BITS,
    require_cryptography,
    key_bits_of,
    key_type_of,
)
from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError

try:
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.backends import default_backend
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
except ImportError:
    pass  # _dkim_record.HAS_CRYPTOGRAPHY reports it; the module fails with missing_required_lib

RSA_SIZES = (1024, 2048, 3072, 4096)
RSA_PUBLIC_EXPONENT = 65537
REGENERATE_CHOICES = ("never", "on_mismatch", "always")
KEEP, GENERATE, REPLACE = "keep", "generate", "replace"
# A PEM key of any supported size is well under this; a bigger file is not a key.
MAX_KEY_FILE_OCTETS = 64 * 1024


def check_wanted(key_type, bits):
    """Validate the wanted type and bits; return (key_type, bits) with 256 bits for ed25519."""
    if key_type not in KEY_TYPES:
        raise InputError("type", "unknown key type %r." % (key_type,), "use one of: %s." % ", ".join(KEY_TYPES))
    if key_type == "ed25519":
        return key_type, ED25519_BITS
    if bits not in RSA_SIZES:
        raise InputError("bits", "%r is not a supported RSA key size." % (bits,),
                         "use one of: %s." % ", ".join(str(s) for s in RSA_SIZES))
    return key_type, bits


def generate_private_key(key_type, bits=2048):
    """A new RSA (``bits`` bits) or Ed25519 private key object."""
    require_cryptography()
    key_type, bits = check_wanted(key_type, bits)
    if key_type == "rsa":
        return rsa.generate_private_key(public_exponent=RSA_PUBLIC_EXPONENT, key_size=bits,
                                        backend=default_backend())
    try:
        return ed25519.Ed25519PrivateKey.generate()
    except UnsupportedAlgorithm:
        raise InputError("type", "this host's cryptography/OpenSSL cannot make Ed25519 keys.",
                         "install python3-cryptography >= 2.6 with OpenSSL >= 1.1.1, or use type rsa.")


def private_key_pem(key):
    """PEM bytes of a private key, unencrypted: PKCS#1 for RSA, PKCS#8 for Ed25519."""
    key_format = (serialization.PrivateFormat.TraditionalOpenSSL if key_type_of(key) == "rsa"
                  else serialization.PrivateFormat.PKCS8)
    return key.private_bytes(serialization.Encoding.PEM, key_format, serialization.NoEncryption())


def dkimpy_private_key(key):
    """What ``dkim.sign(privkey=...)`` takes: PKCS#1 PEM for RSA, base64 raw seed for Ed25519."""
    if key_type_of(key) == "rsa":
        return private_key_pem(key)
    seed = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                             serialization.NoEncryption())
    return base64.b64encode(seed)


def load_private_key(data, source="the key file"):
    """PEM bytes -> private key object; InputError naming ``path`` when it is not a usable key.

    Messages never quote the file's content.
    """
    require_cryptography()
    if len(data) > MAX_KEY_FILE_OCTETS:
        raise InputError("path", "%s is %d octets, too big to be a DKIM private key." % (source, len(data)),
                         "point path at the key file.")
    try:
        key = serialization.load_pem_private_key(data, password=None, backend=default_backend())
    except TypeError:
        raise InputError("path", "%s holds an encrypted private key; mail signers cannot read it." % source,
                         "store the key unencrypted with mode 0600, or replace it (regenerate: on_mismatch).")
    except (ValueError, UnsupportedAlgorithm):
        raise InputError("path", "%s does not hold a PEM private key (a dkimpy raw Ed25519 seed is not "
                         "read either: OpenDKIM needs PEM)." % source,
                         "point path at a PEM key, or replace it (regenerate: on_mismatch).")
    if not isinstance(key, (rsa.RSAPrivateKey, ed25519.Ed25519PrivateKey)):
        raise InputError("path", "%s holds a %s; DKIM keys are RSA or Ed25519." % (source, type(key).__name__),
                         "replace it (regenerate: on_mismatch).")
    return key


def describe_key(key):
    """(key_type, bits) of a key object: ('rsa', 2048) or ('ed25519', 256)."""
    return key_type_of(key), key_bits_of(key)


def mismatch_reason(key, key_type, bits):
    """Why ``key`` is not the wanted type/bits (None when it matches; bits are ignored for ed25519)."""
    key_type, bits = check_wanted(key_type, bits)
    have_type, have_bits = describe_key(key)
    if have_type != key_type:
        return "the key is %s, type asks for %s" % (have_type, key_type)
    if have_type == "rsa" and have_bits != bits:
        return "the key is %d-bit RSA, bits asks for %d" % (have_bits, bits)
    return None


def decide_action(existing, key_type, bits, regenerate, load_error=None):
    """What to do with the key file: (KEEP | GENERATE | REPLACE, reason).

    ``existing`` is the loaded key, or None when there is no file (``load_error`` is
    the InputError when a file exists but is not a usable key). ``regenerate`` never
    keeps any usable key, on_mismatch replaces a key of another type/bits (or an
    unusable file), always replaces every time.
    """
    if regenerate not in REGENERATE_CHOICES:
        raise InputError("regenerate", "unknown value %r." % (regenerate,),
                         "use one of: %s." % ", ".join(REGENERATE_CHOICES))
    check_wanted(key_type, bits)
    if existing is None and load_error is None:
        return GENERATE, "no key file yet"
    if regenerate == "always":
        return REPLACE, "regenerate is always"
    if load_error is not None:
        if regenerate == "on_mismatch":
            return REPLACE, "the file is not a usable key (%s)" % load_error.problem
        raise load_error
    reason = mismatch_reason(existing, key_type, bits)
    if reason and regenerate == "on_mismatch":
        return REPLACE, reason
    have_type, have_bits = describe_key(existing)
    if have_type == "rsa" and have_bits < RSA_MIN_BITS:
        raise InputError("path", "holds a %d-bit RSA key; RFC 8301 verifiers reject keys under %d bits."
                         % (have_bits, RSA_MIN_BITS), "set regenerate: on_mismatch to replace it.")
    if reason:
        return KEEP, "%s; kept because regenerate is never" % reason
    return KEEP, "the key matches"


def parse_key_mode(mode):
    """The ``mode`` option as an int; refuse modes that would let others read or change the key.

    Only octal is accepted (``'0600'``, ``'0640'``, ``0o600``): a symbolic mode depends on
    the file's current mode, which is the wrong thing to rely on for a secret. YAML reads an
    unquoted ``600`` as the decimal number six hundred (octal 1130); such a number is refused
    with a message that says so, since its digits are what the user meant.
    """
    if isinstance(mode, bool):
        value = None
    elif isinstance(mode, int):
        value = mode
    elif isinstance(mode, str) and re.match(r"^(0o?)?[0-7]{3,4}$", mode.strip()):
        text = mode.strip()
        value = int(text[2:] if text.startswith("0o") else text, 8)
    else:
        value = None
    if value is None or not 0 <= value <= 0o7777:
        _refuse_mode(mode, None, "is not an octal file mode.", "quote an octal mode, e.g. '0600'.")
    if value & 0o7000:
        _refuse_mode(mode, value, "sets setuid/setgid/sticky bits on a key file.", "use '0600'.")
    if value & 0o007:
        _refuse_mode(mode, value, "lets every local user at the private key.",
                     "use '0600', or '0640' with group set to the signer's group.")
    if value & 0o020:
        _refuse_mode(mode, value, "lets the group change the private key.",
                     "use '0600', or '0640' with group set to the signer's group.")
    return value


def _refuse_mode(mode, value, problem, fix):
    """InputError for ``mode``; an unquoted YAML number whose digits look octal is named as such."""
    if isinstance(mode, int) and not isinstance(mode, bool) and re.match(r"^[0-7]{3,4}$", str(mode)):
        shown = "%04o, which %s" % (value, problem) if value is not None else "above 7777, no file mode at all."
        quoted = "%04d" % mode
        try:
            parse_key_mode(quoted)
            also = ""
        except InputError:
            also = " (as '%s' it would still be refused: a key file wants '0600', or '0640' with the signer's group)" \
                % quoted
        raise InputError("mode", "%d was read as a decimal number (YAML reads an unquoted %d as decimal, not "
                         "octal); as a mode that is %s" % (mode, mode, shown),
                         "quote the octal mode: mode: '%s'%s." % (quoted, also))
    shown = "%r" % (mode,) if value is None else "%04o" % value
    raise InputError("mode", "%s %s" % (shown, problem), fix)


# Kinds of node on the path to a key, as node_problem judges them.
KEY_FILE, KEY_DIRECTORY, ANCESTOR = "key file", "key directory", "directory"


def node_problem(kind, st_mode, uid, trusted, user_name, group_outsider):
    """Why one node on the key's path lets someone other than root or the key's owner change the key, or None.

    The rules of OpenDKIM's RequireSafeKeys (``dkimf_checkfsnode``, applied from / down to the
    key; it refuses the key with "key data is not secure"): owned by root or the key's owner
    (``trusted``, a set of uids); not writable by others; writable by the group only when the
    group holds no one else (``group_outsider()`` names another member, or gives None).
    Stricter in two points: a directory owned by anyone else is refused even without its
    owner's write bit (its owner can chmod it back), and the key file and its own directory
    may not be group-writable at all. A world-writable *sticky* ancestor such as /tmp is let
    through: nobody can rename our entries in it (OpenDKIM still refuses it; see
    ``opendkim_refuses``). ``user_name(uid)`` names an owner in the message.
    """
    if uid not in trusted:
        return "is owned by %s, not by root or the key's owner" % user_name(uid)
    if st_mode & stat.S_IWOTH:
        if kind == ANCESTOR and st_mode & stat.S_ISVTX:
            return None
        return "is writable by every user"
    if st_mode & stat.S_IWGRP:
        if kind != ANCESTOR:
            return "is writable by its group"
        outsider = group_outsider()
        if outsider:
            return "is writable by its group, which holds %s as well" % outsider
    return None


def opendkim_refuses(st_mode):
    """True for a node OpenDKIM's RequireSafeKeys refuses although node_problem lets it through."""
    return bool(st_mode & stat.S_IWOTH)


def node_fix(kind, node, problem, owner_hint):
    """How to mend what node_problem found at ``node``."""
    if kind == KEY_FILE:
        return ("delete %s so that a new key is made (then publish its record): anyone who could write it may "
                "have planted it; or, if you know the key is yours, %s" % (
                    node, "chown it to the key's owner%s" % owner_hint if "owned" in problem else "chmod go-w %s" % node))
    if "owned" in problem:
        return ("chown root %s and check the keys in it (its owner could have planted one), or keep the keys in a "
                "directory owned by root or by the key's owner%s" % (node, owner_hint))
    return "chmod go-w %s (or keep the keys where only root can write)" % node
