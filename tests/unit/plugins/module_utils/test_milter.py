"""The MTA side of the milter protocol: packets, and one message through a scripted milter.

The real milters (dkimpy-milter, OpenDKIM) are exercised in tests/system/test_dkim_signer_check.py;
here a socket pair with a scripted peer pins the framing and the reply handling.
"""
import socket
import struct
import threading

import pytest

from ansible_collections.mailauth.hardening.plugins.module_utils._hosts import milter as _milter
from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError


@pytest.mark.parametrize("spec, parsed", [
    ("inet:127.0.0.1:8892", ("inet", ("127.0.0.1", 8892))),
    ("inet:[::1]:8891", ("inet", ("::1", 8891))),
    ("inet:localhost:10", ("inet", ("localhost", 10))),
    ("unix:/run/dkimpy-milter/dkimpy-milter.sock", ("unix", "/run/dkimpy-milter/dkimpy-milter.sock")),
])
def test_milter_addresses_as_in_smtpd_milters(spec, parsed):
    assert _milter.parse_socket(spec) == parsed


@pytest.mark.parametrize("spec", ["127.0.0.1:8892", "inet:127.0.0.1", "inet:127.0.0.1:99999", "local:/x", ""])
def test_bad_milter_addresses_name_the_field(spec):
    with pytest.raises(InputError) as info:
        _milter.parse_socket(spec)
    assert info.value.field == "milter"


def test_packets_are_length_command_data():
    assert _milter.packet(b"O", b"xy") == b"\0\0\0\x03Oxy"
    assert _milter.cstrings("a", "bc") == b"a\0bc\0"
    assert _milter.macros(b"C", {"j": "mx", "{daemon_name}": "d"}) == _milter.packet(b"D", b"Cj\0mx\0{daemon_name}\0d\0")


def test_header_changes_apply_like_postfix():
    changes = [(b"i", 0, "DKIM-Signature", "v=1; a=rsa-sha256"), (b"i", 0, "DKIM-Signature", "v=1; a=ed25519-sha256"),
               (b"h", None, "X-Added", "1"), (b"m", 1, "Subject", "")]
    headers = _milter.apply_header_changes([("From", "a@b"), ("Subject", "s")], changes)
    assert [h[1] for h in headers] == ["v=1; a=ed25519-sha256", "v=1; a=rsa-sha256", "a@b", "s", "1"]
    assert _milter.render([("A", "1\n 2")], b"body\r\n") == b"A: 1\r\n 2\r\n\r\nbody\r\n"
    assert _milter.header_change(b"i", struct.pack("!I", 3) + b"N\0V\0") == (3, "N", "V")


def scripted_milter(sock, replies):
    """Answer each command with the next scripted reply packets; record the commands seen."""
    seen = []

    def serve():
        while True:
            try:
                command, data = _milter.read_packet(sock.recv)
            except _milter.MilterError:
                return
            seen.append(command)
            if command in (b"D", b"Q"):
                continue
            for reply in replies.get(command, [(b"c", b"")]):
                sock.sendall(_milter.packet(*reply))
    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return seen, thread


def run_session(replies):
    mta, milter = socket.socketpair()
    seen, thread = scripted_milter(milter, replies)
    try:
        session = _milter.Session(mta.sendall, mta.recv)
        return session.message("a@b.test", "c@b.test", [("From", "<a@b.test>")], b"x\r\n", {"j": "mx"}), seen
    finally:
        mta.close()
        thread.join(5)
        milter.close()


def test_one_message_through_a_milter_that_inserts_a_header():
    insert = (b"i", struct.pack("!I", 0) + b"DKIM-Signature\0v=1\0")
    changes, seen = run_session({b"O": [(b"O", struct.pack("!III", 6, 0x1FF, 0))],
                                 b"E": [(b"p", b""), insert, (b"c", b"")]})
    assert changes == [(b"i", 0, "DKIM-Signature", "v=1")]
    assert seen == [b"O", b"D", b"C", b"H", b"D", b"M", b"D", b"R", b"T", b"L", b"N", b"B", b"E", b"Q"]


def test_a_tempfail_names_the_step():
    with pytest.raises(_milter.MilterError) as info:
        run_session({b"O": [(b"O", struct.pack("!III", 6, 0x1FF, 0))], b"N": [(b"t", b"")]})
    assert "tempfail to the end of the headers" in str(info.value)


def test_a_milter_that_does_not_negotiate_is_refused():
    with pytest.raises(_milter.MilterError) as info:
        run_session({b"O": [(b"c", b"")]})
    assert "option negotiation" in str(info.value)
