"""Unit tests of the authoritative-server discovery (_dns.servers) against static DNS tables."""
import pytest

from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError
from ansible_collections.mailauth.hardening.plugins.module_utils._dns import servers as _servers
from ansible_collections.mailauth.hardening.plugins.module_utils._records.lookup import static_lookup


def test_routed_lookup_and_authoritative_servers():
    recursive = static_lookup({("example.com", "NS"): ["ns2.example.com.", "ns1.example.com."],
                               ("ns1.example.com", "A"): ["192.0.2.1"], ("ns2.example.com", "AAAA"): ["2001:db8::2"],
                               ("other.net", "TXT"): ["outside"]})
    zone, servers = _servers.authoritative_servers("mail.example.com", recursive)
    assert zone == "example.com"
    assert servers == [("ns1.example.com", "192.0.2.1"), ("ns2.example.com", "2001:db8::2")]
    authoritative = static_lookup({("example.com", "TXT"): ["inside"]})
    lookup = _servers.routed_lookup(zone, authoritative, recursive)
    assert lookup("EXAMPLE.com.", "TXT") == ["inside"] and lookup("other.net", "TXT") == ["outside"]


def test_authoritative_servers_none_found():
    with pytest.raises(InputError) as err:
        _servers.authoritative_servers("example.com", static_lookup({}))
    assert err.value.field == "nameservers"
