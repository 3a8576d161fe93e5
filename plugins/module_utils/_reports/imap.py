# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The messages of an IMAP folder, read only (EXAMINE, BODY.PEEK: nothing is marked seen), with imaplib."""

from __future__ import annotations

import imaplib
import re
import socket
import ssl

from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError

TLS_MODES = ("ssl", "starttls", "none")
LOOPBACK = ("localhost", "127.0.0.1", "::1")
_SIZE = re.compile(br"UID (\d+) RFC822\.SIZE (\d+)|RFC822\.SIZE (\d+) UID (\d+)")


class ImapFailure(Exception):
    """The server could not be reached or refused us; the text names the server, never the password."""


def check_settings(imap):
    """Fail on settings that cannot work before connecting (the field and the fix)."""
    if imap["tls"] == "none" and imap["host"] not in LOOPBACK:
        raise InputError("imap.tls", "none would send the password in clear to %s." % imap["host"],
                         "use ssl (port 993) or starttls (port 143); none is for a server on loopback only.")
    port = imap["port"] or (993 if imap["tls"] == "ssl" else 143)
    if not 0 < port < 65536:
        raise InputError("imap.port", "%d is not a port." % port, "use 1 to 65535.")
    return port


def _context(imap):
    context = ssl.create_default_context(cafile=imap.get("ca_file"))
    if not imap["validate_certs"]:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _connect(imap, port):
    if imap["tls"] == "ssl":
        return imaplib.IMAP4_SSL(imap["host"], port, ssl_context=_context(imap), timeout=imap["timeout"])
    conn = imaplib.IMAP4(imap["host"], port, timeout=imap["timeout"])
    if imap["tls"] == "starttls":
        conn.starttls(ssl_context=_context(imap))
    return conn


def _quoted(folder):
    return '"%s"' % folder.replace("\\", "\\\\").replace('"', '\\"')


def imap_messages(imap, max_size):
    """Yield ``(origin, bytes or None, size)`` for every message of the folder; None when over ``max_size``."""
    port = check_settings(imap)
    where = "imap://%s@%s:%d/%s" % (imap["user"], imap["host"], port, imap["folder"])
    try:
        conn = _connect(imap, port)
    except (OSError, socket.timeout, ssl.SSLError, imaplib.IMAP4.error) as err:
        raise ImapFailure("imap: cannot connect to %s:%d (tls %s): %s" % (imap["host"], port, imap["tls"], err))
    try:
        try:
            conn.login(imap["user"], imap["password"])
        except imaplib.IMAP4.error as err:
            raise ImapFailure("imap: %s:%d refused the login of %s: %s" % (imap["host"], port, imap["user"], _said(err)))
        status, data = conn.select(_quoted(imap["folder"]), readonly=True)
        if status != "OK":
            raise ImapFailure("imap: cannot open folder %r on %s: %s" % (imap["folder"], imap["host"], _said(data)))
        status, data = conn.uid("FETCH", "1:*", "(UID RFC822.SIZE)")
        sizes = []
        for item in data or []:
            line = item[0] if isinstance(item, tuple) else item
            match = _SIZE.search(line or b"")
            if match:
                uid, size = (match.group(1), match.group(2)) if match.group(1) else (match.group(4), match.group(3))
                sizes.append((int(uid), int(size)))
        for uid, size in sorted(sizes):
            origin = "%s;UID=%d" % (where, uid)
            if size > max_size:
                yield origin, None, size
                continue
            status, data = conn.uid("FETCH", str(uid), "(BODY.PEEK[])")
            body = next((item[1] for item in data or [] if isinstance(item, tuple)), None)
            yield origin, body, size
    except (OSError, socket.timeout, ssl.SSLError, imaplib.IMAP4.error) as err:
        raise ImapFailure("imap: reading %s failed: %s" % (where, _said(err)))
    finally:
        try:
            conn.logout()
        except (OSError, imaplib.IMAP4.error):
            pass


def _said(value):
    if isinstance(value, (list, tuple)):
        value = b" ".join(v for v in value if isinstance(v, bytes))
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return str(value)
