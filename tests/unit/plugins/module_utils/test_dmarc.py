"""DMARC policy records (RFC 9989) and report authorisation names."""
import pytest

from ansible_collections.mailauth.hardening.plugins.module_utils._records.dmarc import (
    REPORT_AUTH_RECORD, build_dmarc, find_dmarc, organisational_domain, parse_dmarc, report_auth_name,
    report_auth_names, report_destinations, validate_dmarc)
from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError


def checks(findings):
    return [(f.check, f.severity) for f in findings]


# ---------------------------------------------------------------- build

def test_build_default_keeps_p():
    assert build_dmarc() == "v=DMARC1; p=none"
    assert build_dmarc(p=None) == "v=DMARC1; p=none"


def test_build_mission_example():
    assert build_dmarc(p="none", rua=["aggregate@example.com"], ruf=["mailto:forensics@example.com"], fo="1") == \
        "v=DMARC1; p=none; rua=mailto:aggregate@example.com; ruf=mailto:forensics@example.com; fo=1"


def test_build_rfc9989_tags_and_order():
    text = build_dmarc(p="Reject", sp="quarantine", np="reject", psd="n", t="y", adkim="s", aspf="r",
                       rua=["a@example.com", "MAILTO:b@Reports.Example.net"], ruf="f@example.com", fo=["1", "d"])
    assert text == ("v=DMARC1; p=reject; sp=quarantine; np=reject; psd=n; t=y; adkim=s; aspf=r; "
                    "rua=mailto:a@example.com,mailto:b@reports.example.net; ruf=mailto:f@example.com; fo=1:d")
    assert parse_dmarc(text)["rua"] == ["mailto:a@example.com", "mailto:b@reports.example.net"]


@pytest.mark.parametrize("kwargs, tag", [
    ({"t": True}, "t=y"), ({"t": False}, "t=n"), ({"psd": "u"}, "psd=u"), ({"fo": 0}, "fo=0"),
    ({"fo": "d:s"}, "fo=d:s"), ({"fo": "0:s"}, "fo=0:s"),
    ({"rua": "a@example.com,b@example.com"}, "rua=mailto:a@example.com,mailto:b@example.com"),
])
def test_build_value_forms(kwargs, tag):
    assert tag in build_dmarc(**kwargs).split("; ")


@pytest.mark.parametrize("name, value", [("pct", 50), ("rf", "afrf"), ("ri", 86400)])
def test_build_refuses_tags_rfc9989_removed(name, value):
    with pytest.raises(InputError) as err:
        build_dmarc(p="quarantine", **{name: value})
    assert err.value.field == "dmarc.%s" % name
    assert "RFC 9989 removed %s" % name in str(err.value)


@pytest.mark.parametrize("kwargs, field, words", [
    ({"p": "maybe"}, "dmarc.p", "'maybe'"),
    ({"p": "quarantine", "sp": "block"}, "dmarc.sp", "none or quarantine or reject"),
    ({"np": "yes"}, "dmarc.np", "'yes'"),
    ({"adkim": "relaxed"}, "dmarc.adkim", "r or s"),
    ({"aspf": "x"}, "dmarc.aspf", "r or s"),
    ({"t": "maybe"}, "dmarc.t", "y or n"),
    ({"psd": "x"}, "dmarc.psd", "y or n or u"),
    ({"fo": "2"}, "dmarc.fo", "'2'"),
    ({"fo": "0:1"}, "dmarc.fo", "0 and 1"),
    ({"fo": "d:d"}, "dmarc.fo", "repeats"),
    ({"fo": 1.5}, "dmarc.fo", "got 1.5"),
    ({"rua": ["not-an-address"]}, "dmarc.rua[0]", "not-an-address"),
    ({"rua": ["a@example.com", "a@example.com"]}, "dmarc.rua[1]", "twice"),
    ({"ruf": ["ok@example.com", "x@localhost"]}, "dmarc.ruf[1]", "x@localhost"),
    ({"ruf": ["a,b@example.com"]}, "dmarc.ruf[0]", "a,b@example.com"),
    ({"ruf": [None]}, "dmarc.ruf[0]", "None"),
    ({"foo": "bar"}, "dmarc.foo", "not a DMARC tag"),
])
def test_build_bad_input_names_the_field(kwargs, field, words):
    with pytest.raises(InputError) as err:
        build_dmarc(**kwargs)
    assert err.value.field == field
    assert str(err.value).startswith(field + ":")
    assert words in str(err.value)


# ---------------------------------------------------------------- parse

def test_parse():
    record = parse_dmarc("v=DMARC1;p=Quarantine ; rua = mailto:a@example.com, mailto:b@example.net!10m ;"
                         " fo=1:D; np=reject; t=y; psd=y; future=1;")
    assert record == {"v": "DMARC1", "p": "quarantine", "rua": ["mailto:a@example.com", "mailto:b@example.net!10m"],
                      "fo": "1:d", "np": "reject", "t": "y", "psd": "y"}


def test_parse_minimal_and_obsolete_kept():
    assert parse_dmarc("v=DMARC1") == {"v": "DMARC1"}
    assert parse_dmarc("v=DMARC1; p=none; pct=20; rf=afrf; ri=3600") == {
        "v": "DMARC1", "p": "none", "pct": "20", "rf": "afrf", "ri": "3600"}


@pytest.mark.parametrize("text, field, words", [
    ("v=DMARC1; p=none; p=reject", "dmarc.p", "more than once"),
    ("v=DMARC1; p=none; RUA=mailto:a@example.com; rua=mailto:b@example.com", "dmarc.rua", "more than once"),
    ("p=none; v=DMARC1", "dmarc.v", "start with v=DMARC1"),
    ("v=dmarc1; p=none", "dmarc.v", "case-sensitive"),
    ("v=DMARC2; p=none", "dmarc.v", "'DMARC2'"),
    ("v=DMARC1; p=block", "dmarc.p", "'block'"),
    ("v=DMARC1; p=none; adkim=x", "dmarc.adkim", "'x'"),
    ("v=DMARC1; p=none fo=1", "dmarc.p", "'none fo=1'"),
    ("v=DMARC1; p", "dmarc", "'p' is not a tag=value"),
    ("v=DMARC1; p=none; rua=a@example.com", "dmarc.rua", "not a URI"),
    ("v=DMARC1; p=none; fo=0:1", "dmarc.fo", "0 and 1"),
    ("", "dmarc", "empty"),
])
def test_parse_errors_name_the_tag(text, field, words):
    with pytest.raises(InputError) as err:
        parse_dmarc(text)
    assert err.value.field == field
    assert words in str(err.value)


# ---------------------------------------------------------------- validate and find

@pytest.mark.parametrize("text, expected", [
    ("v=DMARC1; p=reject; rua=mailto:a@example.com", []),
    ("v=DMARC1; p=none; rua=mailto:a@example.com", [("dmarc.policy", "info")]),
    ("v=DMARC1; p=quarantine; rua=mailto:a@example.com; pct=50",
     [("dmarc.obsolete", "warning")]),
    ("v=DMARC1; p=reject; rua=mailto:a@example.com; pct=50; rf=afrf; ri=86400",
     [("dmarc.obsolete", "warning")] * 3),
    ("v=DMARC1; rua=mailto:a@example.com", [("dmarc.policy", "warning")]),
    ("v=DMARC1; p=reject; np=reject; t=y; psd=n; rua=mailto:a@example.com", [("dmarc.policy", "info")]),
    ("v=DMARC1; p=reject", [("dmarc.policy", "info")]),
    ("v=DMARC1; p=reject; rua=mailto:a@example.com; fo=1", [("dmarc.syntax", "info")]),
    ("v=DMARC1; p=reject; rua=mailto:a@example.com; rue=mailto:b@example.com", [("dmarc.syntax", "info")]),
    ("v=DMARC1; p=none; p=reject", [("dmarc.syntax", "error")]),
    ("p=reject; v=DMARC1", [("dmarc.syntax", "error")]),
    ("v=DMARC1; p=maybe", [("dmarc.syntax", "error")]),
    ("", [("dmarc.missing", "error")]),
    (None, [("dmarc.missing", "error")]),
])
def test_validate(text, expected):
    assert checks(validate_dmarc(text)) == expected


def test_validate_obsolete_message_explains():
    (finding,) = validate_dmarc("v=DMARC1; p=reject; rua=mailto:a@example.com; pct=10")
    assert "RFC 9989 removed pct" in finding.message
    assert finding.fix == "remove pct."


def test_find_dmarc():
    assert find_dmarc(["v=DMARC1; p=none", "other"]) == ("v=DMARC1; p=none", [])
    record, findings = find_dmarc(["v=DMARC1; p=none", "v=DMARC1; p=reject"], "example.com")
    assert record is None and checks(findings) == [("dmarc.syntax", "error")]
    assert "_dmarc.example.com" in findings[0].message
    assert checks(find_dmarc(["v=DMARC10"])[1]) == [("dmarc.missing", "error")]


# ---------------------------------------------------------------- report authorisation

@pytest.mark.parametrize("name, org", [
    ("example.com", "example.com"), ("mail.example.com", "example.com"), ("a.b.example.co.uk", "example.co.uk"),
    ("example.co.uk", "example.co.uk"), ("Shop.Example.COM.AU.", "example.com.au"), ("com", "com"),
])
def test_organisational_domain(name, org):
    assert organisational_domain(name) == org


def test_report_destinations():
    record = ("v=DMARC1; p=none; rua=mailto:agg@example.com,mailto:dmarc@Reports.Provider.net!10m,"
              "mailto:x@sub.example.com; ruf=mailto:f@provider.net?subject=dmarc,https://ignored.example.org/r,"
              "mailto:g%40h@other.example.co.uk")
    assert report_destinations("mail.example.com", record) == [
        "other.example.co.uk", "provider.net", "reports.provider.net"]
    assert report_destinations("example.com", {"rua": ["mailto:a@example.com"]}) == []
    assert report_destinations("example.com", "v=DMARC1; p=none") == []


def test_report_destinations_co_uk_is_not_one_domain():
    record = "v=DMARC1; p=none; rua=mailto:a@other.co.uk"
    assert report_destinations("example.co.uk", record) == ["other.co.uk"]


def test_report_auth_names():
    assert REPORT_AUTH_RECORD == "v=DMARC1"
    assert report_auth_name("Example.com.", "reports.provider.net") == "example.com._report._dmarc.reports.provider.net"
    assert report_auth_names("example.com", "provider.net") == [
        "example.com._report._dmarc.provider.net", "*._report._dmarc.provider.net"]


@pytest.mark.parametrize("domain, destination, field", [
    ("example com", "provider.net", "domain"),
    ("example.com", "provider", "destination"),
    ("example.com", "", "destination"),
    (None, "provider.net", "domain"),
])
def test_report_auth_name_bad_input(domain, destination, field):
    with pytest.raises(InputError) as err:
        report_auth_names(domain, destination)
    assert err.value.field == field
