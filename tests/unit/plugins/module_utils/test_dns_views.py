"""The servers the audit and the gates ask (_dns.views), with static DNS tables for resolvers."""
import pytest

from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError
from ansible_collections.mailauth.hardening.plugins.module_utils._dns import views
from ansible_collections.mailauth.hardening.plugins.module_utils._records.lookup import LookupFailure, static_lookup

D = "example.com"
RECURSIVE = {("example.com", "NS"): ["ns2.example.com.", "ns1.example.com."],
             ("ns1.example.com", "A"): ["192.0.2.1"], ("ns2.example.com", "AAAA"): ["2001:db8::2"],
             ("other.net", "TXT"): ["outside"]}
SERVERS = {"192.0.2.1:53": {("example.com", "TXT"): ["v=spf1 -all"]},
           "[2001:db8::2]:53": {("example.com", "TXT"): ["v=spf1 ~all"]}}


class Factory(object):
    """lookup_factory(servers, timeout, field): a static table per server, the recursive one for None."""

    def __init__(self, port=53):
        self.calls = []
        self.port = port

    def __call__(self, servers, timeout=5.0, field="nameservers"):
        self.calls.append((tuple(servers or ()), field))
        if not servers or servers == ["192.0.2.53"]:
            return static_lookup(RECURSIVE)
        if len(servers) > 1:
            return None  # the check of every entry at once
        return static_lookup(SERVERS.get(servers[0], {}))


def test_disagreements_list_each_answer():
    one, two = views.RecordingLookup(static_lookup({(D, "TXT"): ["a"]})), views.RecordingLookup(static_lookup({}))
    one(D, "TXT")
    two(D, "TXT")
    assert views.disagreements({"ns1": one, "ns2": two}) == [
        {"name": D, "type": "TXT", "answers": {"ns1": ["a"], "ns2": []}}]


def test_recording_lookup_caches_failures():
    inner = static_lookup({(D, "TXT"): LookupFailure})
    recorder = views.RecordingLookup(inner)
    for _attempt in range(2):
        with pytest.raises(LookupFailure):
            recorder(D, "TXT")
    assert inner.queries == [(D, "TXT")]


def test_views_ask_every_authoritative_server_and_route_other_names_to_the_resolver():
    factory = Factory()
    v = views.Views(resolvers=["192.0.2.53"], record=True, lookup_factory=factory)
    found = v("mail.example.com")
    assert [label for label, _lookup in found] == ["ns1.example.com (192.0.2.1)", "ns2.example.com (2001:db8::2)"]
    assert [lookup(D, "TXT") for _label, lookup in found] == [["v=spf1 -all"], ["v=spf1 ~all"]]
    assert found[0][1]("other.net", "TXT") == ["outside"]
    assert v("example.com") is found  # one zone, one set of servers
    labels = [label for label, _lookup in found]
    assert v.asked == {"mail.example.com": labels, "example.com": labels}
    assert v.disagreements() == [{"name": D, "type": "TXT", "answers": {
        "ns1.example.com (192.0.2.1)": ["v=spf1 -all"], "ns2.example.com (2001:db8::2)": ["v=spf1 ~all"]}}]
    assert factory.calls[0] == (("192.0.2.53",), "resolvers")  # built, and so checked, before any domain


def test_views_take_the_callers_resolver_for_a_domain():
    factory = Factory()
    v = views.Views(lookup_factory=factory)
    v(D, through=["192.0.2.53"])
    assert factory.calls[0] == (("192.0.2.53",), "resolvers")


def test_explicit_nameservers_are_asked_as_given():
    factory = Factory()
    v = views.Views(nameservers=["192.0.2.1:53", "[2001:db8::2]:53"], lookup_factory=factory)
    assert [label for label, _lookup in v(D)] == ["192.0.2.1:53", "[2001:db8::2]:53"]
    assert factory.calls[0] == (("192.0.2.1:53", "[2001:db8::2]:53"), "nameservers")


def test_no_zone_is_bad_input_naming_nameservers():
    v = views.Views(lookup_factory=lambda servers, timeout=5.0, field="nameservers": static_lookup({}))
    with pytest.raises(InputError) as err:
        v("nowhere.example")
    assert err.value.field == "nameservers" and "no zone with NS records" in str(err.value)
