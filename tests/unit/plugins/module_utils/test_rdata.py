"""Values of TLSA, CNAME, MX, A and AAAA: checked, normalised, refused naming the field and the fix."""
import pytest

from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError
from ansible_collections.mailauth.hardening.plugins.module_utils._records.rdata import (
    check_rdata, check_type, normalise_rdata)

SHA256 = "0B9FA5A59EED715C26C1020C711B4F6EC42D58B0015E14337A39DAD301C5AFC3"
SHA512 = "ab" * 64


@pytest.mark.parametrize("rtype, value, expected", [
    ("A", " 192.0.2.25 ", "192.0.2.25"),
    ("AAAA", "2001:0DB8:0000::0025", "2001:db8::25"),
    ("CNAME", "STS.Example.NET.", "sts.example.net."),
    ("MX", "10   MX1.example.com.", "10 mx1.example.com."),
    ("MX", "0 .", "0 ."),
    ("TLSA", "3 1 1 " + SHA256, "3 1 1 " + SHA256.lower()),
    ("TLSA", "3 1 1 " + SHA256[:32] + " " + SHA256[32:], "3 1 1 " + SHA256.lower()),
    ("TLSA", "2 0 2 " + SHA512, "2 0 2 " + SHA512),
    ("TLSA", "3 0 0 30820122", "3 0 0 30820122"),
])
def test_values_are_normalised(rtype, value, expected):
    assert check_rdata(rtype, value, "records[0].value") == expected


@pytest.mark.parametrize("rtype, value, words", [
    ("A", "2001:db8::1", "AAAA record"),
    ("A", "192.0.2.256", "IPv4"),
    ("AAAA", "192.0.2.1", "A record"),
    ("CNAME", "sts.example.net", "trailing dot"),
    ("CNAME", "bad name!.", "not a host name"),
    ("MX", "mx1.example.com.", "PREFERENCE HOST."),
    ("MX", "10 mx1.example.com", "trailing dot"),
    ("MX", "70000 mx.example.com.", "0 to 65535"),
    ("MX", "10 .", "0 ."),
    ("TLSA", "3 1 1", "USAGE SELECTOR MATCHING DATA"),
    ("TLSA", "4 1 1 " + SHA256, "usage 4"),
    ("TLSA", "3 2 1 " + SHA256, "selector 2"),
    ("TLSA", "3 1 3 " + SHA256, "matching type 3"),
    ("TLSA", "3 1 1 " + SHA256[:-2], "needs 64"),
    ("TLSA", "3 1 2 " + SHA256, "needs 128"),
    ("TLSA", "3 1 1 " + "g" * 64, "not hex"),
    ("TLSA", "3 0 0 abc", "not hex"),
])
def test_bad_values_are_refused_naming_the_field_and_the_fix(rtype, value, words):
    with pytest.raises(InputError) as err:
        check_rdata(rtype, value, "records[2].value")
    assert err.value.field == "records[2].value"
    assert words in str(err.value) and err.value.fix


@pytest.mark.parametrize("value", [None, "", 10, ["a"]])
def test_missing_or_non_text_values_are_refused(value):
    with pytest.raises(InputError) as err:
        check_rdata("A", value, "records[1].value")
    assert err.value.field == "records[1].value"


def test_types():
    assert check_type("tlsa", "records[0].type") == "TLSA"
    with pytest.raises(InputError) as err:
        check_type("SRV", "records[3].type")
    assert err.value.field == "records[3].type" and "TXT, TLSA, CNAME, MX, A, AAAA" in err.value.fix


def test_what_a_server_returns_compares_equal_and_odd_text_is_kept():
    assert normalise_rdata("TLSA", "3 1 1 " + SHA256[:20] + " " + SHA256[20:]) == "3 1 1 " + SHA256.lower()
    assert normalise_rdata("MX", "whatever") == "whatever"
