# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The MTA side of the milter protocol (libmilter version 6), enough to pass one message through a
milter the way Postfix does and read back the headers it adds.

Used to test a DKIM signer before Postfix depends on it: connect as a local client, send one
message, collect the DKIM-Signature headers. The socket is handed in, so the packet code is pure;
the tests run it against the real dkimpy-milter and OpenDKIM.

Packets: a 4-octet length (network order) covering a 1-octet command and its data. Strings are
NUL-terminated. The MTA offers protocol flags 0, so the milter answers every command.
"""

from __future__ import annotations

import re
import struct

from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError

VERSION = 6
ALL_ACTIONS = 0x1FF  # add/change headers and recipients, body, quarantine, sender
MAX_PACKET = 1024 * 1024
# Replies that end a step, and what they mean for a message.
FINAL = {b"c": "continue", b"a": "accept", b"r": "reject", b"t": "tempfail", b"d": "discard", b"y": "replycode"}
PROGRESS, SKIP = b"p", b"s"
INSERT_HEADER, ADD_HEADER, CHANGE_HEADER = b"i", b"h", b"m"
_SOCKET = re.compile(r"^inet:(?P<host>\[[0-9A-Fa-f:.]+\]|[^:\[\]]+):(?P<port>\d{1,5})$|^unix:(?P<path>/.+)$")


class MilterError(Exception):
    """The milter broke the protocol or refused the message; the text says which step."""


def parse_socket(spec, field="milter"):
    """Postfix's milter address (``inet:HOST:PORT`` or ``unix:/PATH``) -> ("inet", (host, port)) or ("unix", path)."""
    match = _SOCKET.match(str(spec or ""))
    if not match:
        raise InputError(field, "%r is not a milter address." % (spec,),
                         "write inet:127.0.0.1:8892 or unix:/path/to/socket, as in smtpd_milters.")
    if match.group("path"):
        return "unix", match.group("path")
    port = int(match.group("port"))
    if not 0 < port < 65536:
        raise InputError(field, "port %d is out of range." % port, "use a port between 1 and 65535.")
    return "inet", (match.group("host").strip("[]"), port)


def packet(command, data=b""):
    """One packet: length, command octet, data."""
    return struct.pack("!I", len(data) + 1) + command + data


def cstrings(*values):
    """NUL-terminated strings, concatenated."""
    return b"".join(value.encode("utf-8") + b"\0" for value in values)


def macros(stage, values):
    """SMFIC_MACRO for the command octet ``stage``: name/value pairs."""
    return packet(b"D", stage + b"".join(cstrings(name, value) for name, value in sorted(values.items())))


def read_packet(recv):
    """(command, data) read with ``recv(n)`` (which returns at most n octets, b"" at the end)."""
    head = _read_exactly(recv, 4)
    (length,) = struct.unpack("!I", head)
    if not 0 < length <= MAX_PACKET:
        raise MilterError("the milter sent a packet of %d octets." % length)
    body = _read_exactly(recv, length)
    return body[:1], body[1:]


def _read_exactly(recv, size):
    chunks, left = [], size
    while left:
        chunk = recv(left)
        if not chunk:
            raise MilterError("the milter closed the connection.")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def header_change(command, data):
    """(index, name, value) of an insert/add/change-header reply; index None for add."""
    index = None
    if command in (INSERT_HEADER, CHANGE_HEADER):
        (index,) = struct.unpack("!I", data[:4])
        data = data[4:]
    parts = data.split(b"\0")
    if len(parts) < 3:
        raise MilterError("the milter sent a malformed header change.")
    return index, parts[0].decode("utf-8", "replace"), parts[1].decode("utf-8", "replace")


def apply_header_changes(headers, changes):
    """The header list after the milter's inserts and adds (changes of existing headers are kept out:
    a signer only adds). ``headers`` and the result are [(name, value)]."""
    result = list(headers)
    for command, index, name, value in changes:
        if command == INSERT_HEADER:
            result.insert(min(index, len(result)), (name, value))
        elif command == ADD_HEADER:
            result.append((name, value))
    return result


def render(headers, body):
    """The message as octets with CRLF line ends, as it would leave the MTA."""
    lines = ["%s: %s" % (name, value.replace("\r\n", "\n").replace("\n", "\r\n")) for name, value in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + body


class Session(object):
    """One SMTP-like session through a milter: ``send`` and ``recv`` are the connected socket's."""

    def __init__(self, sendall, recv):
        self.sendall, self.recv = sendall, recv

    def negotiate(self):
        self.sendall(packet(b"O", struct.pack("!III", VERSION, ALL_ACTIONS, 0)))
        command, data = read_packet(self.recv)
        if command != b"O" or len(data) < 12:
            raise MilterError("the milter did not answer the option negotiation.")
        version, actions, _protocol = struct.unpack("!III", data[:12])
        return version, actions

    def step(self, what, command, data=b""):
        """Send one command and read up to its final reply; a refusal raises MilterError naming ``what``."""
        self.sendall(packet(command, data))
        changes = []
        while True:
            reply, payload = read_packet(self.recv)
            if reply == PROGRESS:
                continue
            if reply in (INSERT_HEADER, ADD_HEADER, CHANGE_HEADER):
                changes.append((reply,) + header_change(reply, payload))
                continue
            if reply == SKIP or FINAL.get(reply) in ("continue", "accept"):
                return changes
            if reply in FINAL:
                raise MilterError("the milter answered %s to %s%s." % (
                    FINAL[reply], what, (": " + payload.decode("utf-8", "replace").strip("\0 ")) if payload else ""))
            # Recipient, body or sender changes: a signer sends none; ignore them here.
            if command != b"E":
                raise MilterError("the milter sent %r in reply to %s." % (reply, what))

    def message(self, sender, recipient, headers, body, connect_macros, client=("localhost", "127.0.0.1")):
        """Pass one message through; the header changes the milter made at the end of the message."""
        hostname, address = client
        self.negotiate()
        self.sendall(macros(b"C", connect_macros))
        self.step("the connection", b"C", cstrings(hostname) + b"4" + struct.pack("!H", 0) + cstrings(address))
        self.step("HELO", b"H", cstrings(hostname))
        self.sendall(macros(b"M", {"i": "PROBE", "{mail_addr}": sender}))
        self.step("MAIL FROM", b"M", cstrings("<%s>" % sender))
        self.sendall(macros(b"R", {"{rcpt_addr}": recipient}))
        self.step("RCPT TO", b"R", cstrings("<%s>" % recipient))
        self.step("DATA", b"T")
        for name, value in headers:
            self.step("the %s header" % name, b"L", cstrings(name, value))
        self.step("the end of the headers", b"N")
        self.step("the body", b"B", body)
        changes = self.step("the end of the message", b"E")
        self.sendall(packet(b"Q"))
        return changes
