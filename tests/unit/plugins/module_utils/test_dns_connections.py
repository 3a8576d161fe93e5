"""One TCP connection kept per server: reused, made anew once when the server closed it, dropped on failure."""
import dns.exception
import pytest

from ansible_collections.mailauth.hardening.plugins.module_utils._dns import connections


class Sock(object):
    made = 0

    def __init__(self):
        Sock.made += 1
        self.number = Sock.made
        self.closed = False

    def close(self):
        self.closed = True


@pytest.fixture
def wire(monkeypatch):
    """Fake connections and a fake dnspython exchange; ``wire['fail']`` lists what the next sends raise."""
    state = {"fail": [], "sent": []}
    Sock.made = 0
    monkeypatch.setattr(connections, "_LOCAL", type("Local", (), {})())
    monkeypatch.setattr(connections, "_connect", lambda host, port, timeout: Sock())

    def tcp(message, host, port=53, timeout=None, sock=None):
        state["sent"].append((message, sock.number))
        if state["fail"]:
            raise state["fail"].pop(0)
        return "reply to %s" % message

    monkeypatch.setattr(connections.dns.query, "tcp", tcp)
    return state


def test_requests_to_one_server_share_a_connection_others_get_their_own(wire):
    assert connections.tcp("q1", "192.0.2.1", 53, 5) == "reply to q1"
    connections.tcp("q2", "192.0.2.1", 53, 5)
    connections.tcp("q3", "192.0.2.2", 53, 5)
    assert wire["sent"] == [("q1", 1), ("q2", 1), ("q3", 2)]


def test_a_kept_connection_the_server_closed_is_made_anew_once(wire):
    connections.tcp("q1", "192.0.2.1", 53, 5)
    wire["fail"] = [EOFError()]
    assert connections.tcp("q2", "192.0.2.1", 53, 5) == "reply to q2"
    assert wire["sent"] == [("q1", 1), ("q2", 1), ("q2", 2)]


def test_a_new_connection_closing_is_raised(wire):
    wire["fail"] = [EOFError()]
    with pytest.raises(EOFError):
        connections.tcp("q1", "192.0.2.1", 53, 5)
    assert wire["sent"] == [("q1", 1)]


def test_any_other_failure_drops_the_connection_and_is_raised(wire):
    connections.tcp("q1", "192.0.2.1", 53, 5)
    wire["fail"] = [dns.exception.Timeout()]
    with pytest.raises(dns.exception.Timeout):
        connections.tcp("q2", "192.0.2.1", 53, 5)
    connections.tcp("q3", "192.0.2.1", 53, 5)
    assert wire["sent"] == [("q1", 1), ("q2", 1), ("q3", 2)]
