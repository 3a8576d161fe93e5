"""The DNS seam: static_lookup for tests, dns_lookup's name server parsing and answer shaping."""
import dns.message
import dns.rdataclass
import dns.rdatatype
import dns.resolver
import dns.rrset
import pytest

from ansible_collections.mailauth.hardening.plugins.module_utils._dns import resolver as _lookup
from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError
from ansible_collections.mailauth.hardening.plugins.module_utils._dns.resolver import dns_lookup
from ansible_collections.mailauth.hardening.plugins.module_utils._records.lookup import LookupFailure, is_hostname, normalise_name, static_lookup


def test_normalise_name():
    assert normalise_name(" Example.COM. ") == "example.com"


@pytest.mark.parametrize("name, ok", [
    ("example.com", True), ("_dmarc.example.com.", True), ("a-b.example", True),
    ("localhost", False), ("-a.example", False), ("a..example", False), ("a b.example", False),
    ("x" * 64 + ".example", False), (None, False),
])
def test_is_hostname(name, ok):
    assert is_hostname(name) is ok


def test_static_lookup_answers_void_and_records_queries():
    lookup = static_lookup({("Example.com.", "txt"): "v=spf1 -all", ("example.com", "MX"): ["mx.example.com"]})
    assert lookup("EXAMPLE.com", "TXT") == ["v=spf1 -all"]
    assert lookup("example.com.", "mx") == ["mx.example.com"]
    assert lookup("missing.example.com", "A") == []
    assert lookup.queries == [("example.com", "TXT"), ("example.com", "MX"), ("missing.example.com", "A")]


@pytest.mark.parametrize("failure", [TimeoutError, OSError("SERVFAIL")])
def test_static_lookup_failure(failure):
    lookup = static_lookup({("example.com", "TXT"): failure})
    with pytest.raises(LookupFailure) as err:
        lookup("example.com", "TXT")
    assert (err.value.name, err.value.rdtype) == ("example.com", "TXT")
    assert "example.com TXT" in str(err.value)


def test_static_lookup_returns_copies():
    lookup = static_lookup({("example.com", "A"): ["192.0.2.1"]})
    lookup("example.com", "A").append("x")
    assert lookup("example.com", "A") == ["192.0.2.1"]


@pytest.mark.parametrize("servers, expected", [
    (["192.0.2.53"], [("192.0.2.53", 53)]),
    ("192.0.2.53:5353", [("192.0.2.53", 5353)]),
    (["2001:db8::53", "[2001:db8::54]:5300", "[::1]"], [("2001:db8::53", 53), ("2001:db8::54", 5300), ("::1", 53)]),
])
def test_dns_lookup_nameservers(servers, expected, monkeypatch):
    made = []
    real = _lookup._nameserver

    def record(text, port, field):
        server = real(text, port, field)
        made.append((server.address, server.port))
        return server

    monkeypatch.setattr(_lookup, "_nameserver", record)
    assert callable(dns_lookup(servers))
    assert made == expected


@pytest.mark.parametrize("server, words", [
    ("ns1.example.com", "not an IP address"),
    ("192.0.2.53:0", "no valid port"),
    ("192.0.2.53:dns", "no valid port"),
    ("[2001:db8::1", "not IP"),
    ("[2001:db8::1]x", "not IP"),
])
def test_dns_lookup_bad_nameserver(server, words):
    with pytest.raises(InputError) as err:
        dns_lookup(["192.0.2.1", server])
    assert err.value.field == "nameservers[1]"
    assert words in str(err.value)


def _rrset(rdtype, *texts):
    return dns.rrset.from_text("x.example.", 60, dns.rdataclass.IN, dns.rdatatype.from_text(rdtype), *texts)


def test_answer_values_shapes():
    txt = _rrset("TXT", '"v=DKIM1; k=rsa; " "p=AAAA"', '"second"')
    assert sorted(_lookup._answer_values("TXT", txt)) == ["second", "v=DKIM1; k=rsa; p=AAAA"]
    mx = _rrset("MX", "20 MX2.Example.com.", "10 mx1.example.com.")
    assert _lookup._answer_values("MX", mx) == ["mx1.example.com", "mx2.example.com"]
    assert _lookup._answer_values("A", _rrset("A", "192.0.2.1")) == ["192.0.2.1"]
    assert _lookup._answer_values("AAAA", _rrset("AAAA", "2001:db8::1")) == ["2001:db8::1"]
    assert _lookup._answer_values("TXT", None) == []
    assert _lookup._answer_values("TXT", _rrset("TXT", '"caf\\195\\169" "\\255"')) == ["caf\u00e9\ufffd"]


def _response(*lines):
    message = dns.message.make_response(dns.message.make_query("_dmarc.example.com.", "TXT"))
    message.answer = [dns.rrset.from_text(name, 60, "IN", "CNAME", target) for name, target in lines]
    return message


def test_a_cname_loop_is_its_own_failure():
    loop = _response(("_dmarc.example.com.", "x.example.com."), ("x.example.com.", "_dmarc.example.com."))
    err = dns.resolver.NoNameservers(request=dns.message.make_query("_dmarc.example.com.", "TXT"),
                                     errors=[("Do53:192.0.2.53@53", False, 53, "SERVFAIL", loop)])
    failure = _lookup._failure("_dmarc.example.com", "TXT", err, 5)
    assert failure.kind == "cname_loop"
    assert "_dmarc.example.com -> x.example.com -> _dmarc.example.com" in str(failure)
    chain = _response(("_dmarc.example.com.", "x.example.com."))
    err = dns.resolver.NoNameservers(request=dns.message.make_query("_dmarc.example.com.", "TXT"),
                                     errors=[("Do53:192.0.2.53@53", False, 53, "SERVFAIL", chain)])
    failure = _lookup._failure("_dmarc.example.com", "TXT", err, 5)
    assert failure.kind == "unreachable" and "answered SERVFAIL" in str(failure)


def test_a_timeout_is_unreachable_with_its_seconds_rounded():
    err = dns.resolver.LifetimeTimeout(timeout=2.9999985680000236, errors=[])
    failure = _lookup._failure("example.com", "TXT", err, 2.9999985680000236)
    assert failure.kind == "unreachable" and "no answer within 3 s" in str(failure)
