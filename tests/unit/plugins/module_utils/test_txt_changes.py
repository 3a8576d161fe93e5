"""_txt_changes: names, values, prefix ownership and the change plan."""
import pytest

from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError
from ansible_collections.mailauth.hardening.plugins.module_utils._records.txt_changes import (
    absolute_name, check_value, diff_of, normalise_zone, owned_tag, plan_changes, wanted_records)

ZONE = "example.com."
SPF = "v=spf1 mx -all"
DMARC = "v=DMARC1; p=none; rua=mailto:agg@example.com"
DKIM = "v=DKIM1; k=rsa; p=" + "A" * 400


def plan(current, records, state="present", zone="example.com"):
    return plan_changes(current, wanted_records(records, zone, state), state)


@pytest.mark.parametrize("value, tag", [
    ("v=spf1 mx -all", "v=spf1"),
    ("v=spf1", "v=spf1"),
    ("V=SPF1 -all", "v=spf1"),
    ("v=spf10 -all", None),
    ("v=spf1-all", None),
    ("v=DKIM1; k=rsa; p=x", "v=DKIM1"),
    ("v = dkim1 ; p=x", "v=DKIM1"),
    ("v=DKIM1", "v=DKIM1"),
    ("v=DKIM10; p=x", None),
    ("k=rsa; p=x", None),
    ("v=DMARC1; p=none", "v=DMARC1"),
    ("v=dmarc1;p=reject", "v=DMARC1"),
    ("v=DMARC1", "v=DMARC1"),
    ("google-site-verification=abc", None),
    ("o=-", None),
    ("v=STSv1; id=abc", "v=STSv1"),
    ("v=STSv1 ;id=abc", "v=STSv1"),
    ("v=STSv10; id=abc", None),
    ("v=TLSRPTv1; rua=mailto:tls@example.com", "v=TLSRPTv1"),
    ("v=TLSRPTv1", "v=TLSRPTv1"),
    ("v=TLSRPTv2; rua=mailto:tls@example.com", None),
])
def test_owned_tag(value, tag):
    assert owned_tag(value) == tag


@pytest.mark.parametrize("name, expected", [
    ("@", "example.com."),
    ("_dmarc", "_dmarc.example.com."),
    ("S1._DomainKey", "s1._domainkey.example.com."),
    ("s1._domainkey.example.com.", "s1._domainkey.example.com."),
    ("example.com.", "example.com."),
    ("*._report._dmarc", "*._report._dmarc.example.com."),
])
def test_absolute_name(name, expected):
    assert absolute_name(name, ZONE, "records[0].name") == expected


@pytest.mark.parametrize("name, zone, words", [
    ("", ZONE, "is empty"),
    ("a..b", ZONE, "invalid label"),
    ("a b", ZONE, "invalid label"),
    ("-a", ZONE, "invalid label"),
    ("a.*", ZONE, "invalid label"),
    ("x" * 64, ZONE, "invalid label"),
    ("other.org.", ZONE, "outside zone"),
    ("notexample.com.", ZONE, "outside zone"),
    ("example.com", ZONE, "no trailing dot"),
    ("_dmarc.example.com", ZONE, "no trailing dot"),
    ("_dmarc", None, "no zone is given"),
])
def test_bad_names_name_the_field(name, zone, words):
    with pytest.raises(InputError) as err:
        absolute_name(name, zone, "records[2].name")
    assert err.value.field == "records[2].name"
    assert words in str(err.value)


def test_zone_is_normalised():
    assert normalise_zone("Example.COM") == "example.com."
    assert normalise_zone("example.com.") == "example.com."
    with pytest.raises(InputError):
        normalise_zone(" . ")


def test_values_are_joined_and_unquoted():
    assert check_value('"v=spf1 " "mx -all"', "v") == SPF
    assert check_value(SPF, "v") == SPF


@pytest.mark.parametrize("value, words", [
    ("", "is empty"),
    ("   ", "is empty"),
    (" v=spf1 -all", "blanks"),
    ("v=DKIM1; p=AB\nCD", "line break"),
    ("x" * 70000, "at most"),
    (5, "must be text"),
])
def test_bad_values_name_the_field(value, words):
    with pytest.raises(InputError) as err:
        check_value(value, "records[1].value")
    assert err.value.field == "records[1].value"
    assert words in str(err.value)


def test_two_values_owning_one_tag_at_a_name_are_refused():
    with pytest.raises(InputError) as err:
        wanted_records([{"name": "@", "value": SPF}, {"name": "@", "value": "v=spf1 a -all"}], "example.com")
    assert err.value.field == "records[1].value"
    assert "records[0].value" in str(err.value)


def test_same_tag_at_different_names_and_absent_state_are_fine():
    wanted_records([{"name": "@", "value": SPF}, {"name": "mail", "value": "v=spf1 a -all"}], "example.com")
    wanted_records([{"name": "@", "value": SPF}, {"name": "@", "value": "v=spf1 a -all"}], "example.com", "absent")


def test_identical_duplicates_are_dropped():
    wanted = wanted_records([{"name": "@", "value": SPF}, {"name": "example.com.", "value": SPF}], "example.com")
    assert len(wanted) == 1


def test_conflicting_ttls_at_one_name_are_refused():
    with pytest.raises(InputError) as err:
        wanted_records([{"name": "@", "value": SPF, "ttl": 300}, {"name": "@", "value": "x", "ttl": 600}], "example.com")
    assert err.value.field == "records[1].ttl"


def test_bad_record_shapes():
    for records, field in [([], "records"), (["x"], "records[0]"), ([{"name": "@", "value": "x", "type": "A"}], "records[0]"),
                           ([{"name": "@", "value": "x", "ttl": -1}], "records[0].ttl")]:
        with pytest.raises(InputError) as err:
            wanted_records(records, "example.com")
        assert err.value.field == field


def test_spf_replaces_spf_and_keeps_foreign_values():
    current = {"example.com.": ["google-site-verification=abc", "v=spf1 mx ~all"]}
    changes = plan(current, [{"name": "@", "value": SPF}])
    assert changes == {"example.com.": {
        "before": ["google-site-verification=abc", "v=spf1 mx ~all"],
        "after": ["google-site-verification=abc", SPF],
        "add": [SPF], "remove": ["v=spf1 mx ~all"], "ttl": None}}


@pytest.mark.parametrize("name, old, new", [
    ("_mta-sts", "v=STSv1; id=0123abcd", "v=STSv1; id=4567ef01"),
    ("_smtp._tls", "v=TLSRPTv1; rua=mailto:old@example.com", "v=TLSRPTv1; rua=mailto:tls@example.com"),
])
def test_a_new_mta_sts_id_or_tls_rpt_destination_replaces_the_old_record(name, old, new):
    full = "%s.example.com." % name
    changes = plan({full: [old, "unrelated"]}, [{"name": name, "value": new}])
    assert changes[full]["remove"] == [old]
    assert changes[full]["after"] == sorted([new, "unrelated"])


def test_mis_cased_copy_of_an_owned_tag_is_replaced():
    changes = plan({"_dmarc.example.com.": ["V=DMARC1; p=reject"]}, [{"name": "_dmarc", "value": DMARC}])
    assert changes["_dmarc.example.com."]["remove"] == ["V=DMARC1; p=reject"]


def test_two_spf_records_collapse_into_one():
    current = {"example.com.": ["v=spf1 a -all", "v=spf1 mx -all", "x"]}
    changes = plan(current, [{"name": "@", "value": SPF}])
    assert changes["example.com."]["remove"] == ["v=spf1 a -all"]
    assert changes["example.com."]["add"] == []
    assert changes["example.com."]["after"] == ["v=spf1 mx -all", "x"]


def test_nothing_to_do_gives_no_change():
    current = {"example.com.": [SPF, "x"], "_dmarc.example.com.": [DMARC]}
    assert plan(current, [{"name": "@", "value": SPF}, {"name": "_dmarc", "value": DMARC}]) == {}


def test_long_values_compare_joined():
    joined = DKIM
    current = {"s1._domainkey.example.com.": [joined]}
    quoted = '"%s" "%s"' % (DKIM[:255], DKIM[255:])
    assert plan(current, [{"name": "s1._domainkey", "value": quoted}]) == {}


def test_unowned_values_are_only_added():
    current = {"example.com.": ["google-site-verification=abc"]}
    changes = plan(current, [{"name": "@", "value": "google-site-verification=def"}])
    assert changes["example.com."]["remove"] == []
    assert changes["example.com."]["after"] == ["google-site-verification=abc", "google-site-verification=def"]


def test_new_name_and_ttl():
    changes = plan({}, [{"name": "s1._domainkey", "value": DKIM, "ttl": 300}])
    assert changes["s1._domainkey.example.com."] == {"before": [], "after": [DKIM], "add": [DKIM], "remove": [], "ttl": 300}


def test_absent_removes_exactly_the_value():
    current = {"example.com.": ["v=spf1 a -all", "x"]}
    assert plan(current, [{"name": "@", "value": SPF}], "absent") == {}
    changes = plan(current, [{"name": "@", "value": "x"}], "absent")
    assert changes["example.com."]["remove"] == ["x"]
    assert changes["example.com."]["after"] == ["v=spf1 a -all"]


def test_absent_removes_every_copy_of_a_joined_value():
    current = {"example.com.": ["x", "x", "y"]}
    changes = plan(current, [{"name": "@", "value": "x"}], "absent")
    assert changes["example.com."]["remove"] == ["x"]
    assert changes["example.com."]["after"] == ["y"]


def test_names_without_zone_must_be_absolute():
    wanted = wanted_records([{"name": "_dmarc.example.org.", "value": DMARC}], None)
    assert wanted[0].name == "_dmarc.example.org."


def test_diff_is_one_entry_per_name():
    changes = plan({"example.com.": ["v=spf1 a -all"]}, [{"name": "@", "value": SPF}])
    assert diff_of(changes) == [{"before_header": "example.com. TXT", "after_header": "example.com. TXT",
                                 "before": "v=spf1 a -all\n", "after": SPF + "\n"}]
