"""TLS-RPT record (RFC 8460); checkdmarc 6.0.4 parses what we build, as a judge."""
import pytest

from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError
from ansible_collections.mailauth.hardening.plugins.module_utils._records.tls_rpt import (
    build_txt, check_txt, parse_txt, rua_input, txt_name)

checkdmarc_tlsrpt = pytest.importorskip("checkdmarc.smtp_tls_reporting")


def checks(findings):
    return [(f.check, f.severity) for f in findings]


def test_name():
    assert txt_name("Example.com.") == "_smtp._tls.example.com"


def test_build_mailto_and_https_and_checkdmarc_agrees():
    record = build_txt(rua_input(["tls@Example.COM", "https://tlsrpt.example.com/v1"]))
    assert record == "v=TLSRPTv1; rua=mailto:tls@example.com,https://tlsrpt.example.com/v1"
    judged = checkdmarc_tlsrpt.parse_smtp_tls_reporting_record(record)
    assert judged["tags"]["rua"]["value"] == ["mailto:tls@example.com", "https://tlsrpt.example.com/v1"]
    assert parse_txt(record)["rua"] == ["mailto:tls@example.com", "https://tlsrpt.example.com/v1"]


@pytest.mark.parametrize("values, field", [
    ([], "tls_rpt.rua"), ("", "tls_rpt.rua[0]"), (["no-at-sign"], "tls_rpt.rua[0]"),
    (["https://"], "tls_rpt.rua[0]"), (["https://a.example.com/x,y"], "tls_rpt.rua[0]"),
    (["a@example.com", "mailto:a@example.com"], "tls_rpt.rua[1]"), (None, "tls_rpt.rua"),
])
def test_rua_refuses(values, field):
    with pytest.raises(InputError) as err:
        rua_input(values)
    assert err.value.field == field and err.value.fix


@pytest.mark.parametrize("text, field", [
    ("v=TLSRPTv1", "tls_rpt.rua"), ("rua=mailto:a@example.com; v=TLSRPTv1", "tls_rpt.v"),
    ("v=TLSRPTv1; rua=ftp://x", "tls_rpt.rua[0]"), ("v=TLSRPTv1; rua=a; rua=b", "tls_rpt.rua"),
])
def test_parse_refuses(text, field):
    with pytest.raises(InputError) as err:
        parse_txt(text)
    assert err.value.field == field


def test_check():
    assert check_txt("example.com", ["v=TLSRPTv1; rua=mailto:tls@example.com"]) == []
    assert checks(check_txt("example.com", [])) == [("tls_rpt.missing", "warning")]
    assert checks(check_txt("example.com", ["v=TLSRPTv1; rua=mailto:a@example.com"] * 2)) == [("tls_rpt.syntax", "error")]
    assert checks(check_txt("example.com", ["v=TLSRPTv1; rua=nope"])) == [("tls_rpt.syntax", "error")]
