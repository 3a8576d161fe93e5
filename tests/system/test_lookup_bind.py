"""dns_lookup against a real BIND: TXT (multi-string), A, AAAA, MX, void answers, failures.

Starts a throwaway `named -g` on 127.0.0.1 and a free port (tests/system/dns_servers.py).
"""
import pytest

from ansible_collections.mailauth.hardening.plugins.module_utils._dns.resolver import dns_lookup
from ansible_collections.mailauth.hardening.plugins.module_utils._records.lookup import LookupFailure
from ansible_collections.mailauth.hardening.plugins.module_utils._records.spf import count_lookups, evaluate_spf
from dns_servers import free_port, run_named, zone_text

ZONE = "example.test"
LONG_KEY = "A" * 300
RECORDS = [
    '@ IN TXT "v=spf1 mx a -all"',
    '@ IN TXT "google-site-verification=abc"',
    "@ IN A 192.0.2.10",
    "@ IN AAAA 2001:db8::10",
    "@ IN MX 20 MX2.example.test.",
    "@ IN MX 10 mx1.example.test.",
    "mx1 IN A 192.0.2.21",
    "mx2 IN A 192.0.2.22",
    'sel._domainkey IN TXT "v=DKIM1; k=rsa; p=%s" "%s"' % (LONG_KEY[:200], LONG_KEY[200:]),
    "only-a IN A 192.0.2.30",
]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with run_named({ZONE: zone_text(ZONE, RECORDS)}, allow_update=False,
                   directory=tmp_path_factory.mktemp("named-lookup")) as named:
        yield named


@pytest.fixture
def lookup(server):
    return dns_lookup([server.address], timeout=5.0)


def test_txt_a_aaaa_mx(lookup):
    assert sorted(lookup("Example.Test.", "TXT")) == ["google-site-verification=abc", "v=spf1 mx a -all"]
    assert lookup("example.test", "A") == ["192.0.2.10"]
    assert lookup("example.test", "AAAA") == ["2001:db8::10"]
    assert lookup("example.test", "mx") == ["mx1.example.test", "mx2.example.test"]


def test_multi_string_txt_is_joined(lookup):
    assert lookup("sel._domainkey.example.test", "TXT") == ["v=DKIM1; k=rsa; p=" + LONG_KEY]


def test_void_answers(lookup):
    assert lookup("nothing.example.test", "TXT") == []   # NXDOMAIN
    assert lookup("only-a.example.test", "TXT") == []    # NODATA
    assert lookup("only-a.example.test", "MX") == []


def test_port_given_separately(server):
    assert dns_lookup([server.host], port=server.port)("example.test", "A") == ["192.0.2.10"]


def test_refused_is_a_lookup_failure(lookup):
    with pytest.raises(LookupFailure) as err:
        lookup("elsewhere.invalid", "TXT")   # not authoritative, no recursion: REFUSED
    assert err.value.name == "elsewhere.invalid"


def test_no_server_is_a_lookup_failure():
    with pytest.raises(LookupFailure):
        dns_lookup(["127.0.0.1:%d" % free_port()], timeout=1.0)("example.test", "A")


def test_spf_logic_over_real_dns(lookup):
    assert evaluate_spf("192.0.2.22", ZONE, lookup) == "pass"
    assert evaluate_spf("192.0.2.99", ZONE, lookup) == "fail"
    result = count_lookups(ZONE, lookup)
    assert (result.total, result.void, result.ok) == (2, 0, True)
