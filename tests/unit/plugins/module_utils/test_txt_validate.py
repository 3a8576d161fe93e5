"""dns_txt's judgement of values with a known tag: the record logic's own validators, before sending."""
import pytest

from ansible_collections.mailauth.hardening.plugins.module_utils._dkim.keys import generate_private_key
from ansible_collections.mailauth.hardening.plugins.module_utils._records.dkim_record import public_key_b64
from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError
from ansible_collections.mailauth.hardening.plugins.module_utils._records.txt_changes import wanted_records
from ansible_collections.mailauth.hardening.plugins.module_utils._records.txt_validate import record_findings

ED = public_key_b64(generate_private_key("ed25519", None))
TWELVE = "v=spf1 %s -all" % " ".join("include:i%d.example.net" % n for n in range(12))


def wanted(*pairs):
    return wanted_records([{"name": name, "value": value} for name, value in pairs], "example.com")


@pytest.mark.parametrize("value, words", [
    ("v=DMARC1; p=rejetc", "'rejetc' is not none or quarantine or reject"),
    (TWELVE, "12 DNS lookups (counted from its text, without DNS"),
    ("v=spf1 ip4:999.1.1.1 +all include:", "'999.1.1.1' is not an IPv4 address"),
    ("v=spf1 mx +all", "+all lets every host"),
    ("v=DKIM1; k=ed25519; p=%s %s" % (ED[:20], ED[20:]), "p= contains whitespace"),
    ("v=DKIM1; k=dsa; p=AAAA", "unknown key type 'dsa'"),
    ("v=STSv1; id=2026-12-02", "is not 1-32 letters and digits"),
    ("v=STSv1;", "is not 1-32 letters and digits"),
    ("v=TLSRPTv1; rua=tls@example.com", "is not a mailto: or https: URI"),
    ("v=TLSRPTv1", "the record has no rua"),
])
def test_errors_refuse_naming_the_record_the_problem_and_the_fix(value, words):
    with pytest.raises(InputError) as err:
        record_findings(wanted(("@", "v=spf1 mx -all"), ("x", value)), "present")
    assert err.value.field == "records[1].value"
    assert words in err.value.problem
    assert "validate: false" in err.value.fix


def test_warnings_are_returned_with_their_field():
    found = record_findings(wanted(("_dmarc", "v=DMARC1; p=none; pct=50")), "present")
    assert [(f["field"], f["check"], f["severity"]) for f in found] == [("records[0].value", "dmarc.obsolete", "warning")]
    assert found[0]["fix"] == "remove pct."


def test_validate_false_returns_the_errors_instead():
    found = record_findings(wanted(("_dmarc", "v=DMARC1; p=rejetc")), "present", enabled=False)
    assert [(f["check"], f["severity"]) for f in found] == [("dmarc.syntax", "error")]
    assert "Fix:" not in found[0]["message"]  # the fix is in its own key


def test_removing_a_broken_record_is_always_possible():
    assert record_findings(wanted(("_dmarc", "v=DMARC1; p=rejetc")), "absent") == []


def test_other_values_and_report_authorisations():
    assert record_findings(wanted(("@", "google-site-verification=x"), ("@", "v=STSv1; id=1")), "present") == []
    assert record_findings(wanted(("client.example._report._dmarc", "v=DMARC1")), "present") == []
    with pytest.raises(InputError):
        record_findings(wanted(("client.example._report._dmarc", "v=DMARC1; p=x")), "present")
