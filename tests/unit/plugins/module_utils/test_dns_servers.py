"""Unit tests of the authoritative-server discovery (_dns.servers) against static DNS tables."""
import pytest

from ansible_collections.mailauth.hardening.plugins.module_utils._dns import servers as _servers
from ansible_collections.mailauth.hardening.plugins.module_utils._dns.errors import DiscoveryError, ProviderError
from ansible_collections.mailauth.hardening.plugins.module_utils._dns.servers import Server
from ansible_collections.mailauth.hardening.plugins.module_utils._records.lookup import LookupFailure, static_lookup

TABLE = {("example.com", "NS"): ["ns2.example.com.", "ns1.example.com."],
         ("ns1.example.com", "A"): ["192.0.2.1"], ("ns2.example.com", "AAAA"): ["2001:db8::2"],
         ("other.net", "TXT"): ["outside"]}


def test_routed_lookup_and_authoritative_servers():
    recursive = static_lookup(TABLE)
    zone, servers = _servers.authoritative_servers("mail.example.com", recursive)
    assert zone == "example.com"
    assert servers == [Server("ns1.example.com.", "192.0.2.1", 53), Server("ns2.example.com.", "2001:db8::2", 53)]
    assert str(servers[1]) == "ns2.example.com. ([2001:db8::2]:53)"
    authoritative = static_lookup({("example.com", "TXT"): ["inside"]})
    lookup = _servers.routed_lookup(zone, authoritative, recursive)
    assert lookup("EXAMPLE.com.", "TXT") == ["inside"] and lookup("other.net", "TXT") == ["outside"]


def test_authoritative_servers_none_found():
    with pytest.raises(DiscoveryError) as err:
        _servers.authoritative_servers("example.com", static_lookup({}))
    assert "no zone with NS records found for example.com" in str(err.value)
    assert isinstance(err.value, ProviderError)  # the publish path reports it as any back end failure


def test_a_server_whose_address_fails_is_skipped_unless_strict():
    table = dict(TABLE)
    table[("ns2.example.com", "AAAA")] = LookupFailure("ns2.example.com", "AAAA", "SERVFAIL")
    _zone, servers = _servers.authoritative_servers("example.com", static_lookup(table), 5353)
    assert servers == [Server("ns1.example.com.", "192.0.2.1", 5353)]
    with pytest.raises(DiscoveryError) as err:
        _servers.authoritative_servers("example.com", static_lookup(table), strict=True)
    assert "ns2.example.com" in str(err.value)


def test_strict_wants_the_zone_itself_and_an_address_for_every_server():
    with pytest.raises(DiscoveryError) as err:
        _servers.authoritative_servers("mail.example.com", static_lookup(TABLE), strict=True)
    assert "no NS records found for mail.example.com" in str(err.value)
    table = dict(TABLE)
    del table[("ns2.example.com", "AAAA")]
    with pytest.raises(DiscoveryError) as err:
        _servers.authoritative_servers("example.com", static_lookup(table), strict=True)
    assert "name server ns2.example.com of example.com has no address" in str(err.value)


def test_discovery_servers_prefer_nameservers_then_the_rfc2136_primary():
    assert _servers.discovery_servers({"nameservers": ["192.0.2.9"], "provider": "rfc2136", "server": "192.0.2.1"}) == [
        "192.0.2.9"]
    assert _servers.discovery_servers({"provider": "rfc2136", "server": "[2001:db8::1]:5353"}) == ["[2001:db8::1]:5353"]
    assert _servers.discovery_servers({"provider": "plesk"}) is None


def test_address_of_keeps_an_address_and_names_the_field_when_a_name_has_none(monkeypatch):
    assert _servers.address_of("2001:db8::1", 53) == "2001:db8::1"

    def getaddrinfo(*args):
        raise OSError("Name or service not known")
    monkeypatch.setattr(_servers.socket, "getaddrinfo", getaddrinfo)
    with pytest.raises(ProviderError) as err:
        _servers.address_of("no-such-host.invalid", 53, "dns.server")
    assert str(err.value).startswith("dns.server no-such-host.invalid: cannot find its address")
