# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One TCP connection per server (and thread), reused for every request a task sends there.

A task that publishes hundreds of names reads each one and sends an update per zone: opening a
connection for each would cost a handshake per request. DNS over TCP carries many messages on one
connection (RFC 7766 6.2.1); a server closes an idle one after a while, so a request that finds its
kept connection closed is sent once more on a new one. Any other failure drops the connection (its
state is then unknown) and is raised.
"""

from __future__ import annotations

import socket
import threading

try:
    import dns.query
except ImportError:  # pragma: no cover - _dns.query.require_dnspython() reports it
    pass

_LOCAL = threading.local()
# What a kept connection closed by the server raises on its next use.
CLOSED = (EOFError, BrokenPipeError, ConnectionResetError, ConnectionAbortedError)


def _kept():
    if not hasattr(_LOCAL, "sockets"):
        _LOCAL.sockets = {}
    return _LOCAL.sockets


def _connect(host, port, timeout):
    sock = socket.create_connection((host, port), timeout=timeout)
    sock.setblocking(False)  # dnspython waits on the socket itself, within the request's timeout
    return sock


def drop(host, port):
    """Close the kept connection to host:port, if any."""
    sock = _kept().pop((host, port), None)
    if sock is not None:
        sock.close()


def _exchange(message, host, port, timeout):
    try:
        return dns.query.tcp(message, host, port=port, timeout=timeout, sock=_kept()[(host, port)])
    except Exception:
        drop(host, port)
        raise


def tcp(message, host, port, timeout):
    """Send ``message`` over the kept connection to host:port (made when there is none) and return the reply."""
    if (host, port) in _kept():
        try:
            return _exchange(message, host, port, timeout)
        except CLOSED:
            pass  # closed while kept: once more, on a new connection
    _kept()[(host, port)] = _connect(host, port, timeout)
    return _exchange(message, host, port, timeout)
