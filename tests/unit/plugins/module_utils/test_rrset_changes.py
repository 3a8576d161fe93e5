"""Wanted RRsets and their plans: TXT through txt_changes, other types own their RRset, CNAME alone."""
import pytest

from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError
from ansible_collections.mailauth.hardening.plugins.module_utils._records.rrset_changes import (
    diff_rrsets, keys_of, plan_rrsets, public_rrsets, wanted_rrsets)

D1 = "3 1 1 " + "a" * 64
D2 = "3 1 1 " + "b" * 64
TLSA = "_25._tcp.mx.example.com."


def rec(name, rtype, value, **extra):
    return dict({"name": name, "type": rtype, "value": value}, **extra)


def test_records_keep_their_order_fields_and_are_normalised():
    wanted = wanted_rrsets([rec("@", "TXT", "v=spf1 mx -all"), rec("_25._tcp.mx", "tlsa", D1.upper()),
                            rec("@", "MX", "10 MX.example.com."), rec("@", "TXT", "v=spf1 mx -all")], "example.com")
    assert [(w.name, w.rtype, w.value, w.field) for w in wanted] == [
        ("example.com.", "TXT", "v=spf1 mx -all", "records[0]"),
        (TLSA, "TLSA", D1, "records[1]"),
        ("example.com.", "MX", "10 mx.example.com.", "records[2]")]
    assert keys_of(wanted) == [("example.com.", "TXT"), (TLSA, "TLSA"), ("example.com.", "MX")]


def test_txt_errors_name_the_index_in_the_whole_list():
    with pytest.raises(InputError) as err:
        wanted_rrsets([rec("@", "A", "192.0.2.1"), rec("@", "TXT", "v=spf1 a -all"), rec("@", "TXT", "v=spf1 -all")],
                      "example.com")
    assert err.value.field == "records[2].value"


@pytest.mark.parametrize("records, field, words", [
    ([rec("mta-sts", "CNAME", "sts.example.net."), rec("mta-sts", "A", "192.0.2.1")], "records[1].name", "CNAME"),
    ([rec("mta-sts", "TXT", "x"), rec("mta-sts", "CNAME", "sts.example.net.")], "records[0].name", "CNAME"),
    ([rec("s1._domainkey", "CNAME", "a.example.net."), rec("s1._domainkey", "CNAME", "b.example.net.")],
     "records[1].value", "second CNAME"),
    ([rec("@", "MX", "10 mx.example.com.", ttl=60), rec("@", "MX", "20 mx2.example.com.", ttl=300)],
     "records[1].ttl", "one TTL"),
    ([rec("@", "SRV", "x")], "records[0].type", "record type"),
    ([{"name": "@", "type": "A", "value": "192.0.2.1", "prio": 1}], "records[0]", "unknown keys"),
    ([rec("www.other.org.", "A", "192.0.2.1")], "records[0].name", "outside zone"),
    ([rec("@", "TLSA", "3 1 1 abc")], "records[0].value", "not hex"),
])
def test_bad_input_is_refused_naming_the_field(records, field, words):
    with pytest.raises(InputError) as err:
        wanted_rrsets(records, "example.com")
    assert err.value.field == field and words in str(err.value), str(err.value)


def test_absent_may_list_a_cname_beside_other_records():
    wanted = wanted_rrsets([rec("x", "CNAME", "a.example.net."), rec("x", "A", "192.0.2.1")], "example.com", "absent")
    assert len(wanted) == 2


def test_present_makes_the_rrset_exactly_the_listed_values():
    wanted = wanted_rrsets([rec(TLSA, "TLSA", D2), rec("@", "MX", "10 mx.example.com.")], "example.com")
    current = {(TLSA, "TLSA"): [D1], ("example.com.", "MX"): ["10 mx.example.com."]}
    changes = plan_rrsets(current, wanted, "present")
    assert changes == {(TLSA, "TLSA"): {"before": [D1], "after": [D2], "add": [D2], "remove": [D1], "ttl": None}}
    assert public_rrsets(changes) == {TLSA + " TLSA": {"before": [D1], "after": [D2], "added": [D2], "removed": [D1]}}
    assert diff_rrsets(changes) == [{"before_header": TLSA + " TLSA", "after_header": TLSA + " TLSA",
                                     "before": D1 + "\n", "after": D2 + "\n"}]


def test_a_rollover_keeps_both_and_nothing_changes_when_served():
    wanted = wanted_rrsets([rec(TLSA, "TLSA", D1), rec(TLSA, "TLSA", D2)], "example.com", default_ttl=300)
    changes = plan_rrsets({(TLSA, "TLSA"): [D1]}, wanted, "present")
    assert changes[(TLSA, "TLSA")]["add"] == [D2] and changes[(TLSA, "TLSA")]["remove"] == []
    assert changes[(TLSA, "TLSA")]["ttl"] == 300
    assert plan_rrsets({(TLSA, "TLSA"): [D2, D1]}, wanted, "present") == {}


def test_absent_removes_only_the_listed_values():
    wanted = wanted_rrsets([rec("@", "MX", "20 old.example.com."), rec("@", "A", "192.0.2.9")], "example.com", "absent")
    current = {("example.com.", "MX"): ["10 mx.example.com.", "20 old.example.com."], ("example.com.", "A"): []}
    assert plan_rrsets(current, wanted, "absent") == {("example.com.", "MX"): {
        "before": ["10 mx.example.com.", "20 old.example.com."], "after": ["10 mx.example.com."], "add": [],
        "remove": ["20 old.example.com."], "ttl": None}}


def test_txt_keeps_its_tag_ownership_beside_other_types():
    wanted = wanted_rrsets([rec("@", "TXT", "v=spf1 mx -all"), rec("@", "A", "192.0.2.1")], "example.com")
    current = {("example.com.", "TXT"): ["google-site-verification=x", "v=spf1 a ~all"], ("example.com.", "A"): []}
    changes = plan_rrsets(current, wanted, "present")
    assert changes[("example.com.", "TXT")]["remove"] == ["v=spf1 a ~all"]
    assert changes[("example.com.", "TXT")]["after"] == ["google-site-verification=x", "v=spf1 mx -all"]
    assert changes[("example.com.", "A")]["add"] == ["192.0.2.1"]
