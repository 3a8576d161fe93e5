"""Unit tests of the harden safety gates (_gates) against static DNS tables, one table per server."""
import base64

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ansible_collections.mailauth.hardening.plugins.module_utils._gates import gates as _gates
from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError
from ansible_collections.mailauth.hardening.plugins.module_utils._records.lookup import LookupFailure, static_lookup

D = "example.com"
IP = "203.0.113.10"
DNS = {"provider": "rfc2136", "zone": D}
BASE = {(D, "MX"): ["mx1.example.com"], ("mx1.example.com", "A"): [IP]}


def _key_b64():
    public = rsa.generate_private_key(65537, 2048).public_key()
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode()


KEY = _key_b64()
OTHER_KEY = _key_b64()
RECORD = "v=DKIM1; k=rsa; p=" + KEY


def plan(**over):
    value = {"name": D, "dns": DNS, "publish": True, "sending_ips": [IP], "spf": {"mechanisms": ["mx"], "all": "fail"},
             "dmarc": {"p": "reject", "rua": ["agg@example.com"]}, "hosts": ["mx1"], "paths": ["postfix"],
             "dkim_records": [{"domain": D, "selector": "s1", "dns_name": "s1._domainkey." + D, "record": RECORD,
                               "public_key": KEY, "hosts": ["mx1"], "path": "postfix"}]}
    value.update(over)
    return value


def with_base(table):
    merged = dict(BASE)
    merged.update(table)
    return merged


def views(*tables):
    """views_for answering with one static server per table, labelled ns1, ns2, ..."""
    servers = [("ns%d" % (index + 1), static_lookup(with_base(table))) for index, table in enumerate(tables)]
    return lambda _plan: servers


# ---------------------------------------------------------------- SPF

def test_spf_gate_passes_an_address_the_new_record_covers():
    checked, trips = _gates.spf_gate([plan()], views({}))
    assert trips == []
    assert checked == [{"domain": D, "record": "v=spf1 mx -all", "ip": IP, "server": "ns1", "result": "pass",
                        "reason": "mx matched"}]


def test_spf_gate_evaluates_the_record_about_to_be_published_not_the_one_served():
    served = {(D, "TXT"): ["v=spf1 ip4:203.0.113.10 -all"]}
    _checked, [trip] = _gates.spf_gate([plan(spf={"mechanisms": ["a"], "all": "fail"})], views(served))
    assert (trip.gate, trip.domain, trip.subject) == ("spf", D, IP)
    assert "'v=spf1 a -all', gives its own sending address 203.0.113.10 fail at ns1" in trip.message
    assert "add ip4:203.0.113.10" in trip.message


@pytest.mark.parametrize("spf, result", [
    ({"mechanisms": ["a"], "all": "softfail"}, "softfail"),
    ({"mechanisms": ["include:_spf.nowhere.example"], "all": "fail"}, "permerror"),
    (["ip4:198.51.100.1"], "fail"),
])
def test_spf_gate_trips_on_softfail_and_errors_too(spf, result):
    _checked, [trip] = _gates.spf_gate([plan(spf=spf)], views({}))
    assert "sending address 203.0.113.10 %s at ns1" % result in trip.message
    assert ("add ip4:203.0.113.10" in trip.message) == (result != "permerror")


def test_spf_gate_trips_on_temperror_naming_the_server_that_failed():
    _checked, [trip] = _gates.spf_gate([plan()], views({}, {(D, "MX"): LookupFailure}))
    assert "temperror at ns2" in trip.message and "at ns1" not in trip.message
    assert "every name server answer" in trip.message


def test_spf_gate_checks_every_address_and_v6():
    ips = [IP, "2001:db8::10"]
    _checked, trips = _gates.spf_gate([plan(sending_ips=ips)], views({}))
    assert [t.subject for t in trips] == ["2001:db8::10"]
    assert "add ip6:2001:db8::10" in trips[0].message


def test_spf_gate_skips_domains_not_published_or_without_spf_or_senders():
    plans = [plan(publish=False, spf={"mechanisms": [], "all": "fail"}), plan(spf=None),
             plan(sending_ips=[], spf={"mechanisms": [], "all": "fail"})]
    assert _gates.spf_gate(plans, views({})) == ([], [])


def test_spf_gate_refuses_bad_settings_naming_the_field():
    with pytest.raises(InputError) as err:
        _gates.spf_gate([plan(spf={"mechanisms": ["mx"], "qualifier": "-"})], views({}))
    assert err.value.field == "spf.qualifier of example.com"
    with pytest.raises(InputError):
        _gates.spf_gate([plan(spf={"mechanisms": ["ipv4:1.2.3.4"]})], views({}))


# ---------------------------------------------------------------- DMARC hold and raise

def dmarc_table(*records):
    return {("_dmarc." + D, "TXT"): list(records)}


def test_a_fresh_domain_is_held_at_none_and_its_raise_waits_for_the_audit():
    plans, [pending], published = _gates.dmarc_hold([plan()], views({}))
    assert plans[0]["dmarc"] == {"p": "none", "rua": ["agg@example.com"]}
    assert published == {D: None}
    assert (pending["target"], pending["held"], pending["published"]) == ("reject", "none", None)
    assert pending["dmarc"] == {"p": "reject", "rua": ["agg@example.com"]} and pending["dns"] == DNS
    assert pending["audit"] == {"name": D, "sending_ips": [IP], "dkim": [{"selector": "s1", "public_key": KEY}],
                                "dmarc_policy": "none"}


def test_a_raise_from_quarantine_is_held_at_quarantine():
    plans, [pending], _published = _gates.dmarc_hold([plan()], views(dmarc_table("v=DMARC1; p=quarantine")))
    assert plans[0]["dmarc"]["p"] == "quarantine" and pending["held"] == "quarantine"


@pytest.mark.parametrize("served, target", [
    ("v=DMARC1; p=reject", "reject"),      # already there: the second run changes nothing
    ("v=DMARC1; p=reject", "none"),        # lowering is always safe
    ("v=DMARC1; p=quarantine", "none"),
])
def test_same_or_lower_stages_go_through_at_once(served, target):
    plans, pending, _published = _gates.dmarc_hold([plan(dmarc={"p": target})], views(dmarc_table(served)))
    assert plans[0]["dmarc"] == {"p": target} and pending == []


def test_the_highest_stage_any_server_serves_counts():
    plans, pending, published = _gates.dmarc_hold(
        [plan()], views(dmarc_table("v=DMARC1; p=reject"), dmarc_table("v=DMARC1; p=none")))
    assert published == {D: "reject"} and pending == [] and plans[0]["dmarc"]["p"] == "reject"


def test_an_unparsable_record_counts_as_none_and_p_defaults_to_none():
    plans, [pending], _published = _gates.dmarc_hold([plan()], views(dmarc_table("v=DMARC1; p=rejected")))
    assert pending["held"] == "none"
    plans, pending, _published = _gates.dmarc_hold([plan(dmarc={"rua": ["a@example.com"]})], views({}))
    assert pending == [] and plans[0]["dmarc"]["p"] == "none"


def test_hold_fails_when_a_server_cannot_say_what_it_publishes():
    with pytest.raises(_gates.GateDnsError) as err:
        _gates.dmarc_hold([plan()], views({("_dmarc." + D, "TXT"): LookupFailure}))
    assert "cannot read _dmarc.example.com from ns1" in str(err.value)


def test_hold_refuses_bad_dmarc_settings_and_leaves_unpublished_domains_alone():
    with pytest.raises(InputError) as err:
        _gates.dmarc_hold([plan(dmarc={"p": "none", "pct": 50})], views({}))
    assert err.value.field == "dmarc.pct"
    untouched = plan(publish=False)
    assert _gates.dmarc_hold([untouched], views({})) == ([untouched], [], {})


def pending_entry():
    return _gates.dmarc_hold([plan()], views({}))[1][0]


def test_raise_goes_through_when_the_audit_is_clean():
    findings = [{"domain": D, "check": "dmarc.report_auth", "severity": "warning", "message": "x"},
                {"domain": D, "check": "spf.all", "severity": "info", "message": "y"},
                {"domain": "other.example", "check": "dkim.missing", "severity": "error", "message": "z"}]
    allowed, trips = _gates.dmarc_raise([pending_entry()], findings, [D, "other.example"])
    assert trips == []
    assert allowed == [{"name": D, "dns": DNS, "dmarc": {"p": "reject", "rua": ["agg@example.com"]}}]


@pytest.mark.parametrize("check", ["dkim.missing", "dkim.mismatch", "spf.sender", "spf.lookups", "dns.unreachable"])
def test_raise_trips_on_spf_or_dkim_errors_naming_what_the_audit_saw(check):
    findings = [{"domain": "Example.COM", "check": check, "severity": "error", "message": "what was seen"}]
    allowed, [trip] = _gates.dmarc_raise([pending_entry()], findings, [D])
    assert allowed == []
    assert (trip.gate, trip.domain, trip.subject) == ("dmarc", D, "p=reject")
    assert "stays at p=none instead of p=reject" in trip.message
    assert "%s: what was seen" % check in trip.message


def test_raise_holds_a_domain_the_audit_did_not_check():
    allowed, [trip] = _gates.dmarc_raise([pending_entry()], [], ["other.example"])
    assert allowed == [] and "the audit did not check it" in trip.message


# ---------------------------------------------------------------- signing

def key_table(*values):
    return {("s1._domainkey." + D, "TXT"): list(values)}


def test_signing_gate_lets_a_key_every_server_serves_through():
    selectors, trips = _gates.signing_gate([plan()], views(key_table(RECORD), key_table("v=DKIM1; p=" + KEY)))
    assert trips == [] and selectors == {"mx1": [{"domain": D, "selector": "s1"}]}


@pytest.mark.parametrize("served, seen", [
    ((), "ns2 serves no DKIM key record"),
    (("v=DKIM1; k=rsa; p=" + OTHER_KEY,), "ns2 serves a different key ('v=DKIM1; k=rsa; p=MII"),
    (("v=DKIM1; k=rsa; p=" + KEY[:100] + " " + KEY[100:],), "ns2 serves a different key"),
])
def test_signing_gate_trips_when_one_server_lags(served, seen):
    selectors, [trip] = _gates.signing_gate([plan()], views(key_table(RECORD), key_table(*served)))
    assert selectors == {}
    assert (trip.gate, trip.domain, trip.subject) == ("signing", D, "s1")
    assert "selector s1 of example.com (host mx1)" in trip.message and seen in trip.message
    assert "ns1" not in trip.message


def test_signing_gate_names_a_server_that_does_not_answer():
    _selectors, [trip] = _gates.signing_gate([plan()], views({("s1._domainkey." + D, "TXT"): LookupFailure}))
    assert "ns1 gives no answer" in trip.message


def test_signing_gate_ignores_plesk_keys_and_override_lists_every_postfix_key():
    plesk = dict(plan()["dkim_records"][0], selector="default", path="plesk", hosts=["p1"])
    plans = [plan(dkim_records=plan()["dkim_records"] + [plesk])]
    selectors, [trip] = _gates.signing_gate(plans, views({}))
    assert selectors == {} and trip.subject == "s1"
    assert _gates.all_selectors(plans) == {"mx1": [{"domain": D, "selector": "s1"}]}


def test_closed_message_names_every_reason_and_the_override():
    trips = [_gates.Trip("spf", D, IP, "first"), _gates.Trip("spf", D, "192.0.2.1", "second")]
    assert _gates.closed_message("spf", trips) == \
        "SPF gate closed: first | second. To go ahead anyway, set mailauth_gate_override_spf: true."
    assert _gates.closed_message("signing", trips[:1], proceeding=True) == \
        "SIGNING gate: first. Going ahead anyway because mailauth_gate_override_signing is true."
