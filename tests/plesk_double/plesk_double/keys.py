"""DKIM keys the way Plesk keeps them: /etc/domainkeys/DOMAIN/SELECTOR, PEM RSA 2048 [seen].

The key is made with the cryptography package when it is importable, otherwise with the
openssl command (a Debian lab container has openssl through ca-certificates, not cryptography).
Both write the traditional "BEGIN RSA PRIVATE KEY" PEM [guess: which PEM flavour Plesk writes].
"""

import base64
import os
import subprocess

from plesk_double import env
from plesk_double.env import DoubleError

SELECTOR = "default"
BITS = 2048


def key_path(domain, selector=SELECTOR):
    return os.path.join(env.root(), "etc", "domainkeys", domain, selector)


def ensure_key(domain):
    """Create the domain's key unless one is there already (an existing key is kept)."""
    path = key_path(domain)
    if os.path.exists(path):
        return path
    os.makedirs(os.path.dirname(path), mode=0o750, exist_ok=True)
    pem = _generate_pem()
    fd = os.open(path + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o400)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    os.replace(path + ".tmp", path)
    return path


def _generate_pem():
    try:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
    except ImportError:
        return _openssl(["genrsa", "-traditional", str(BITS)])
    key = rsa.generate_private_key(public_exponent=65537, key_size=BITS)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption())


def public_key_b64(path):
    """Base64 of the DER SubjectPublicKeyInfo: the p= value Plesk publishes."""
    try:
        from cryptography.hazmat.primitives import serialization
    except ImportError:
        der = _openssl(["pkey", "-in", path, "-pubout", "-outform", "DER"])
    else:
        with open(path, "rb") as handle:
            key = serialization.load_pem_private_key(handle.read(), password=None)
        der = key.public_key().public_bytes(serialization.Encoding.DER,
                                            serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode("ascii")


def _openssl(args):
    try:
        proc = subprocess.run(["openssl"] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    except OSError as err:
        raise DoubleError("Unable to create DKIM key: neither python3 cryptography nor openssl is available (%s)" % err)
    if proc.returncode != 0:
        raise DoubleError("Unable to create DKIM key: openssl %s failed: %s"
                          % (args[0], proc.stderr.decode("utf-8", "replace").strip()))
    return proc.stdout
