"""MTA-STS policy and record (RFC 8461); checkdmarc 6.0.4 parses what we build, as a judge."""
import pytest

from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError
from ansible_collections.mailauth.hardening.plugins.module_utils._records.mta_sts import (
    MAX_AGE_LIMIT, build_policy, build_txt, check_policy, find_txt, mx_matches, parse_policy, parse_txt,
    policy_id, policy_input, policy_url, site_input, txt_name)

checkdmarc_mta_sts = pytest.importorskip("checkdmarc.mta_sts")
MX = ["mx1.example.com", "mx2.example.com"]


def checks(findings):
    return [(f.check, f.severity) for f in findings]


def test_names():
    assert txt_name("Example.COM.") == "_mta-sts.example.com"
    assert policy_url("example.com") == "https://mta-sts.example.com/.well-known/mta-sts.txt"


@pytest.mark.parametrize("pattern, host, matches", [
    ("mx1.example.com", "MX1.example.com.", True), ("*.example.com", "mx1.example.com", True),
    ("*.example.com", "a.b.example.com", False), ("*.example.com", "example.com", False),
    ("mx1.example.com", "mx2.example.com", False),
])
def test_mx_matches_one_leftmost_label(pattern, host, matches):
    assert mx_matches(pattern, host) is matches


def test_input_defaults_to_the_domains_mx_hosts():
    assert policy_input("example.com", {}, MX) == {"mode": "testing", "max_age": 604800, "mx": MX}


def test_input_wildcard_covers_the_mx_hosts():
    assert policy_input("example.com", {"mode": "enforce", "mx": ["*.example.com"]}, MX)["mx"] == ["*.example.com"]


@pytest.mark.parametrize("spec, field", [
    ({"mode": "strict"}, "mta_sts.mode"),
    ({"max_age": MAX_AGE_LIMIT + 1}, "mta_sts.max_age"),
    ({"max_age": -1}, "mta_sts.max_age"),
    ({"max_age": "604800"}, "mta_sts.max_age"),
    ({"max_age": True}, "mta_sts.max_age"),
    ({"mx": ["mx1.example.com"]}, "mta_sts.mx"),  # mx2 is not covered
    ({"mx": ["not a host"]}, "mta_sts.mx[0]"),
    ({"mod": "testing"}, "mta_sts.mod"),
])
def test_input_refuses_with_the_field(spec, field):
    with pytest.raises(InputError) as err:
        policy_input("example.com", spec, MX)
    assert err.value.field == field and err.value.fix


def test_input_refuses_a_policy_with_no_mx():
    with pytest.raises(InputError) as err:
        policy_input("example.com", {"mode": "enforce"}, [])
    assert err.value.field == "mta_sts.mx"


def test_mode_none_needs_no_mx():
    assert policy_input("example.com", {"mode": "none"}, [])["mx"] == []


def test_policy_text_and_checkdmarc_agree():
    text = build_policy("enforce", MX, 86400)
    assert text == "version: STSv1\nmode: enforce\nmx: mx1.example.com\nmx: mx2.example.com\nmax_age: 86400\n"
    judged = checkdmarc_mta_sts.parse_mta_sts_policy(text)["policy"]
    assert judged["mode"] == "enforce" and judged["mx"] == MX and int(judged["max_age"]) == 86400
    assert parse_policy(text) == {"version": "STSv1", "mode": "enforce", "mx": MX, "max_age": 86400}


def test_id_changes_exactly_with_the_policy():
    one, two = build_policy("testing", MX, 604800), build_policy("enforce", MX, 604800)
    assert policy_id(one) == policy_id(build_policy("testing", MX, 604800))
    assert policy_id(one) != policy_id(two)
    record = build_txt(one)
    assert parse_txt(record)["id"] == policy_id(one) and len(policy_id(one)) == 32
    assert checkdmarc_mta_sts.parse_mta_sts_record(record)["tags"]["id"] == policy_id(one)


@pytest.mark.parametrize("text, field", [
    ("v=STSv1", "mta_sts_txt.id"), ("v=STSv1; id=abc-def", "mta_sts_txt.id"), ("id=abc; v=STSv1", "mta_sts_txt.v"),
    ("v=STSv2; id=abc", "mta_sts_txt.v"), ("v=STSv1; id=a; id=b", "mta_sts_txt.id"), ("v=STSv1; junk", "mta_sts_txt"),
    ("v=STSv1; id=" + "a" * 33, "mta_sts_txt.id"),
])
def test_txt_refuses(text, field):
    with pytest.raises(InputError) as err:
        parse_txt(text)
    assert err.value.field == field


@pytest.mark.parametrize("text, field", [
    ("mode: enforce\nmx: a.example.com\nmax_age: 1\n", "mta_sts_policy.version"),
    ("version: STSv1\nmode: on\nmx: a.example.com\nmax_age: 1\n", "mta_sts_policy.mode"),
    ("version: STSv1\nmode: enforce\nmax_age: 86400\n", "mta_sts_policy.mx"),
    ("version: STSv1\nmode: enforce\nmx: a.example.com\nmax_age: 31557601\n", "mta_sts_policy.max_age"),
    ("version: STSv1\nmode: enforce\nmode: testing\nmx: a.example.com\nmax_age: 1\n", "mta_sts_policy.mode"),
])
def test_policy_parse_refuses(text, field):
    with pytest.raises(InputError) as err:
        parse_policy(text)
    assert err.value.field == field


def test_policy_parse_takes_crlf_and_ignores_extensions():
    text = "version: STSv1\r\nmode: testing\r\nmx: *.example.com\r\nmax_age: 604800\r\next: x\r\n"
    assert parse_policy(text)["mx"] == ["*.example.com"]


def test_find_txt():
    assert checks(find_txt(["google-site-verification=x"], "example.com")[1]) == [("mta_sts.missing", "warning")]
    assert checks(find_txt(["v=STSv1; id=a", "v=STSv1; id=b"], "example.com")[1]) == [("mta_sts.syntax", "error")]
    assert find_txt(["other", "v=STSv1; id=a"], "example.com") == ("v=STSv1; id=a", [])


def test_check_clean_enforce_policy():
    policy = build_policy("enforce", MX, 604800)
    assert check_policy("example.com", build_txt(policy), policy, MX) == []


def test_check_names_the_uncovered_mx_and_a_stale_id():
    policy = build_policy("enforce", ["mx1.example.com"], 604800)
    findings = check_policy("example.com", "v=STSv1; id=old1", policy, MX)
    assert checks(findings) == [("mta_sts.policy", "error"), ("mta_sts.id", "warning")]
    assert "mx2.example.com" in findings[0].message


def test_check_testing_and_short_max_age():
    testing = build_policy("testing", MX, 604800)
    assert checks(check_policy("example.com", build_txt(testing), testing, MX)) == [("mta_sts.policy", "info")]
    short = build_policy("enforce", MX, 600)
    assert checks(check_policy("example.com", build_txt(short), short, MX)) == [("mta_sts.policy", "warning")]


def test_check_without_a_fetched_policy_checks_the_txt_only():
    assert check_policy("example.com", "v=STSv1; id=abc", None, MX) == []
    assert checks(check_policy("example.com", "v=STSv1", None, MX)) == [("mta_sts.syntax", "error")]
    assert checks(check_policy("example.com", "v=STSv1; id=a", "nonsense", MX)) == [("mta_sts.policy", "error")]


SITE = {"mode": "enforce", "mx": ["mx1.example.com"], "certificate": "/etc/ssl/sts.pem", "key": "/etc/ssl/sts.key"}


def test_a_site_serves_the_policy_its_record_names():
    site = site_input("example.com", dict(SITE))
    assert site["policy"] == "version: STSv1\nmode: enforce\nmx: mx1.example.com\nmax_age: 604800\n"
    assert site["record"] == "v=STSv1; id=%s" % policy_id(site["policy"])
    assert (site["certificate"], site["key"]) == ("/etc/ssl/sts.pem", "/etc/ssl/sts.key")
    assert site_input("example.com", dict(SITE, max_age=86400))["record"] != site["record"]


@pytest.mark.parametrize("change, field", [
    ({"certificate": "sts.pem"}, "mta_sts.certificate"),
    ({"key": None}, "mta_sts.key"),
    ({"port": 443}, "mta_sts.port"),
    ({"mx": []}, "mta_sts.mx"),
    ({"mode": "strict"}, "mta_sts.mode"),
])
def test_a_bad_site_setting_is_named(change, field):
    spec = dict(SITE)
    spec.update(change)
    spec = dict((k, v) for k, v in spec.items() if v is not None)
    with pytest.raises(InputError) as err:
        site_input("example.com", spec)
    assert err.value.field == field
