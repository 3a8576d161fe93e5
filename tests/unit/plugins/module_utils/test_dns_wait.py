"""Propagation wait: what each server must show, and the polling loop (fake clock)."""
import pytest

from ansible_collections.mailauth.hardening.plugins.module_utils._dns.errors import ProviderError
from ansible_collections.mailauth.hardening.plugins.module_utils._dns.providers.registry import provider_kind
from ansible_collections.mailauth.hardening.plugins.module_utils._dns.servers import Server, parse_server
from ansible_collections.mailauth.hardening.plugins.module_utils._dns.wait import expectations, wait_until_served
from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError
from ansible_collections.mailauth.hardening.plugins.module_utils._records.txt_changes import wanted_records


def test_expectations_include_replaced_values():
    wanted = wanted_records([{"name": "@", "value": "v=spf1 mx -all"}], "example.com")
    changes = {"example.com.": {"add": ["v=spf1 mx -all"], "remove": ["v=spf1 a ~all"]}}
    assert expectations(wanted, changes, "present") == {
        "example.com.": {"present": ["v=spf1 mx -all"], "absent": ["v=spf1 a ~all"]}}
    assert expectations(wanted, {}, "absent") == {"example.com.": {"present": [], "absent": ["v=spf1 mx -all"]}}


class Clock(object):
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += max(seconds, 0.01)


def test_wait_asks_until_every_server_serves_and_stops_asking_the_ones_that_do():
    clock = Clock()
    asked = []
    ready_at = {"ns1": 0, "ns2": 3}

    def lag(server, expect, timeout):
        asked.append(server.label)
        return None if clock.now >= ready_at[server.label] else "lacks it"

    servers = [Server("ns1", "192.0.2.1", 53), Server("ns2", "192.0.2.2", 53)]
    rounds = wait_until_served(servers, {}, timeout=10, interval=1, lag=lag, clock=clock, sleep=clock.sleep)
    assert rounds == 4
    assert asked.count("ns1") == 1 and asked.count("ns2") == 4


def test_wait_fails_naming_only_the_lagging_server():
    clock = Clock()
    servers = [Server("ns1.example.com.", "192.0.2.1", 53), Server("ns2.example.com.", "192.0.2.2", 5353)]

    def lag(server, expect, timeout):
        return "_dmarc.example.com. lacks 'v=DMARC1'" if server.host == "192.0.2.2" else None

    with pytest.raises(ProviderError) as err:
        wait_until_served(servers, {}, timeout=5, interval=1, lag=lag, clock=clock, sleep=clock.sleep)
    assert "ns2.example.com. (192.0.2.2:5353): _dmarc.example.com. lacks" in str(err.value)
    assert "1 of 2" in str(err.value) and "ns1" not in str(err.value)


@pytest.mark.parametrize("text, expected", [
    ("192.0.2.53", ("192.0.2.53", 53)),
    ("192.0.2.53:5353", ("192.0.2.53", 5353)),
    ("ns1.example.com:54", ("ns1.example.com", 54)),
    ("[2001:db8::53]:5353", ("2001:db8::53", 5353)),
    ("2001:db8::53", ("2001:db8::53", 53)),
])
def test_parse_server(text, expected):
    assert parse_server(text, 53, "server") == expected


@pytest.mark.parametrize("text", ["", "host:0", "host:99999", "host:abc"])
def test_parse_server_refuses(text):
    with pytest.raises(InputError):
        parse_server(text, 53, "server")


def test_provider_kind():
    assert provider_kind("rfc2136") == "rfc2136"
    assert provider_kind("plesk") == "plesk"
    assert provider_kind("cloudflare") == "lexicon"
    with pytest.raises(InputError):
        provider_kind("Cloud Flare")
