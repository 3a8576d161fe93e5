"""Unit tests of the audit logic (_audit) against static DNS tables."""
import base64

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from ansible_collections.mailauth.hardening.plugins.module_utils._audit import audit as _audit
from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError
from ansible_collections.mailauth.hardening.plugins.module_utils._records.lookup import LookupFailure, static_lookup
from ansible_collections.mailauth.hardening.plugins.module_utils._records.txt import split_txt

D = "example.com"
IP = "203.0.113.10"
GOOD_SPF = "v=spf1 ip4:203.0.113.10 -all"
GOOD_DMARC = "v=DMARC1; p=none; rua=mailto:aggregate@example.com"


def _spki_b64(key):
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode()


@pytest.fixture(scope="module")
def rsa2048():
    return _spki_b64(rsa.generate_private_key(65537, 2048).public_key())


@pytest.fixture(scope="module")
def rsa1024():
    return _spki_b64(rsa.generate_private_key(65537, 1024).public_key())


def _zone(**over):
    """A correct domain's DNS, with entries replaced or removed (None) by keyword name."""
    table = {
        "spf": ((D, "TXT"), [GOOD_SPF, "google-site-verification=abc"]),
        "dkim": (("s1._domainkey." + D, "TXT"), [over.pop("key_record", None) or "v=DKIM1; k=rsa; p=" + over.pop("key")]),
        "dmarc": (("_dmarc." + D, "TXT"), [GOOD_DMARC]),
    }
    for name, value in over.items():
        # A known entry gets new values; any other keyword adds ((name, rdtype), values).
        table[name] = (table[name][0], value) if name in table else value
    return static_lookup(dict(v for v in table.values() if v[1] is not None))


def _spec(key=None, **over):
    data = {"name": D, "sending_ips": [IP], "spf_all": "fail", "dmarc_policy": "none",
            "dkim": [{"selector": "s1", "public_key": key}] if key else []}
    data.update(over)
    return _audit.domain_spec(data, "domains[0]")


def _checks(audit, severities=("error", "warning")):
    return sorted(set(f.check for f in audit.findings if f.severity in severities))


def test_correct_domain_has_no_error_or_warning(rsa2048):
    audit = _audit.audit_domain(_spec(rsa2048), _zone(key=rsa2048))
    assert _checks(audit) == []
    # MTA-STS and TLS-RPT are checked only for a domain that says it publishes them
    assert audit.checked == set(c for c in _audit.CHECK_ORDER if not c.startswith(("mta_sts.", "tls_rpt."))) - {
        "dnsbl.listed"}


def test_wrapped_expected_key_compares_equal(rsa2048):
    wrapped = "\n".join(rsa2048[i:i + 64] for i in range(0, len(rsa2048), 64))
    audit = _audit.audit_domain(_spec(wrapped), _zone(key=rsa2048))
    assert _checks(audit) == []


@pytest.mark.parametrize("spf, check", [
    (None, "spf.missing"),
    ([GOOD_SPF, "v=spf1 mx -all"], "spf.multiple"),
    (["v=spf1 ip4:203.0.113.999 -all"], "spf.syntax"),
    (["v=spf1 ip4:203.0.113.10 ~all"], "spf.all"),
    (["v=spf1 ip4:203.0.113.10"], "spf.all"),
    (["v=spf1 ip4:198.51.100.1 -all"], "spf.sender"),
    (["v=spf1 " + " ".join("a:h%d.example.com" % i for i in range(11)) + " ip4:203.0.113.10 -all"], "spf.lookups"),
])
def test_spf_faults(rsa2048, spf, check):
    audit = _audit.audit_domain(_spec(rsa2048), _zone(key=rsa2048, spf=spf))
    assert check in _checks(audit)


def test_spf_lookups_counted_through_includes(rsa2048):
    table = {("_a.example.net", "TXT"): ["v=spf1 include:_b.example.net -all"],
             ("_b.example.net", "TXT"): ["v=spf1 " + " ".join("a:h%d.example.net" % i for i in range(9)) + " -all"]}
    lookup = _zone(key=rsa2048, spf=["v=spf1 include:_a.example.net ip4:203.0.113.10 -all"])
    combined = static_lookup(table)

    def both(name, rdtype):
        return combined(name, rdtype) or lookup(name, rdtype)

    audit = _audit.audit_domain(_spec(rsa2048), both)
    messages = [f.message for f in audit.findings if f.check == "spf.lookups" and f.severity == "error"]
    assert messages and "11 DNS lookups" in messages[0]


def test_spf_expected_softfail_accepts_softfail(rsa2048):
    audit = _audit.audit_domain(_spec(rsa2048, spf_all="softfail"),
                                _zone(key=rsa2048, spf=["v=spf1 ip4:203.0.113.10 ~all"]))
    assert _checks(audit) == []


def test_spf_expected_neutral_accepts_neutral(rsa2048):
    # validate_spf warns on ?all; with ?all expected the audit's own comparison replaces that note.
    audit = _audit.audit_domain(_spec(rsa2048, spf_all="neutral"),
                                _zone(key=rsa2048, spf=["v=spf1 ip4:203.0.113.10 ?all"]))
    assert _checks(audit) == []


def test_spf_all_followed_through_redirect(rsa2048):
    lookup = _zone(key=rsa2048, spf=["v=spf1 ip4:203.0.113.10 redirect=_spf.example.com"],
                   redirect=(("_spf.example.com", "TXT"), ["v=spf1 ~all"]))
    audit = _audit.audit_domain(_spec(rsa2048), lookup)
    [finding] = [f for f in audit.findings if f.check == "spf.all"]
    assert "redirect= at _spf.example.com" in finding.message and "~all" in finding.message


def test_spf_minus_a_is_warned(rsa2048):
    audit = _audit.audit_domain(_spec(rsa2048), _zone(key=rsa2048, spf=["v=spf1 ip4:203.0.113.10 -a"]))
    assert any(f.check == "spf.all" and "-a" in f.message for f in audit.findings)


@pytest.mark.parametrize("record, check", [
    (None, "dkim.missing"),
    ("v=DKIM1; k=rsa; p=", "dkim.missing"),
    ("v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA", "dkim.syntax"),
    ("v=DKIM2; k=rsa; p=abc", "dkim.syntax"),
])
def test_dkim_faults(rsa2048, record, check):
    lookup = _zone(key_record=record or "x", dkim=[record] if record else None)
    audit = _audit.audit_domain(_spec(rsa2048), lookup)
    assert check in _checks(audit)


def test_dkim_whitespace_in_p_is_syntax(rsa2048):
    broken = "v=DKIM1; k=rsa; p=" + rsa2048[:200] + " " + rsa2048[200:]
    audit = _audit.audit_domain(_spec(rsa2048), _zone(key_record=broken))
    assert _checks(audit) == ["dkim.syntax"]


def test_dkim_split_strings_are_joined_by_the_seam(rsa2048):
    # The lookup seam hands over joined values: a record split at 255 octets reads as one.
    joined = "".join(split_txt("v=DKIM1; k=rsa; p=" + rsa2048))
    audit = _audit.audit_domain(_spec(rsa2048), _zone(key_record=joined))
    assert _checks(audit) == []


def test_dkim_mismatch(rsa2048):
    other = _spki_b64(rsa.generate_private_key(65537, 2048).public_key())
    audit = _audit.audit_domain(_spec(other), _zone(key=rsa2048))
    assert _checks(audit) == ["dkim.mismatch"]


def test_dkim_weak_1024(rsa1024):
    audit = _audit.audit_domain(_spec(rsa1024), _zone(key=rsa1024))
    assert _checks(audit) == ["dkim.weak"]
    assert [f.severity for f in audit.findings if f.check == "dkim.weak"] == ["warning"]


def test_dkim_weak_512_is_an_error(rsa2048):
    modulus = (1 << 511) | 0x1F  # a public key only needs a modulus of the right size
    small = _spki_b64(rsa.RSAPublicNumbers(65537, modulus).public_key())
    spec = _audit.domain_spec({"name": D, "dkim": ["s1"]}, "d")
    audit = _audit.audit_domain(spec, _zone(key=small))
    assert [(f.check, f.severity) for f in audit.findings if f.check.startswith("dkim")] == [("dkim.weak", "error")]


def test_dkim_ed25519_and_expected_from_record():
    key = ed25519.Ed25519PrivateKey.generate().public_key()
    raw = base64.b64encode(key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)).decode()
    record = "v=DKIM1; k=ed25519; p=" + raw
    spec = _audit.domain_spec({"name": D, "dkim": [{"selector": "s1", "public_key": record}]}, "d")
    audit = _audit.audit_domain(spec, _zone(key_record=record))
    assert _checks(audit) == []


@pytest.mark.parametrize("dmarc, check", [
    (None, "dmarc.missing"),
    (["v=DMARC1; p=none", "v=DMARC1; p=reject"], "dmarc.syntax"),
    (["v=DMARC1; p=bogus"], "dmarc.syntax"),
    (["v=DMARC1; p=none; pct=50; rua=mailto:a@example.com"], "dmarc.obsolete"),
    (["v=DMARC1; p=reject; rua=mailto:a@example.com"], "dmarc.policy"),
    (["v=DMARC1; p=none; rua=mailto:a@reports.example.net"], "dmarc.report_auth"),
])
def test_dmarc_faults(rsa2048, dmarc, check):
    audit = _audit.audit_domain(_spec(rsa2048), _zone(key=rsa2048, dmarc=dmarc))
    assert check in _checks(audit)


@pytest.mark.parametrize("name", ["example.com._report._dmarc.reports.example.net", "*._report._dmarc.reports.example.net"])
def test_dmarc_report_auth_exact_or_wildcard(rsa2048, name):
    lookup = _zone(key=rsa2048, dmarc=["v=DMARC1; p=none; rua=mailto:a@reports.example.net"],
                   auth=((name, "TXT"), ["v=DMARC1"]))
    audit = _audit.audit_domain(_spec(rsa2048), lookup)
    assert _checks(audit) == []


def _dnsbl_zone(answer):
    table = {(D, "TXT"): [GOOD_SPF], ("_dmarc." + D, "TXT"): [GOOD_DMARC]}
    if answer:
        table[("10.113.0.203.zen.spamhaus.org", "A")] = [answer]
        table[("10.113.0.203.zen.spamhaus.org", "TXT")] = ["https://check.spamhaus.org/"]
    return static_lookup(table)


@pytest.mark.parametrize("answer, severity, words", [
    (None, None, None),
    ("127.0.0.2", "error", "is listed on zen.spamhaus.org"),
    ("127.255.255.254", "warning", "query refused by the DNSBL (public or open resolver?)"),
    ("127.255.255.255", "warning", "query refused by the DNSBL (public or open resolver?)"),
    ("127.255.255.252", "warning", "error code"),
    ("127.0.0.20", None, None),  # outside the reply filter
])
def test_dnsbl(answer, severity, words):
    sites = _audit.dnsbl_sites([{"zone": "zen.spamhaus.org", "reply": "127.0.0.[2..11]"}])
    spec = _audit.domain_spec({"name": D, "sending_ips": [IP]}, "d")
    audit = _audit.audit_domain(spec, _dnsbl_zone(answer), sites)
    found = [f for f in audit.findings if f.check == "dnsbl.listed"]
    if severity is None:
        assert found == []
    else:
        assert [f.severity for f in found] == [severity] and words in found[0].message
        assert "listed" not in found[0].message or severity == "error"


def test_dnsbl_query_name_ipv6():
    assert _audit.dnsbl_query_name("2001:db8::1", "bl.example").startswith("1.0.0.0.")
    assert _audit.dnsbl_query_name("2001:db8::1", "bl.example").endswith(".8.b.d.0.1.0.0.2.bl.example")


def test_lookup_failure_is_a_finding_not_a_crash(rsa2048):
    lookup = static_lookup({(D, "TXT"): LookupFailure, ("_dmarc." + D, "TXT"): [GOOD_DMARC],
                            ("s1._domainkey." + D, "TXT"): ["v=DKIM1; k=rsa; p=" + rsa2048]})
    audit = _audit.audit_domain(_spec(rsa2048), lookup)
    # Not a missing record: the record may be there. The SPF checks show as not run, not as passed.
    assert _checks(audit) == ["dns.unreachable"]
    assert "could not be read" in audit.findings[0].message and "not counted as missing" in audit.findings[0].message
    assert not any(check.startswith("spf.") for check in audit.checked)
    assert "dmarc.missing" in audit.checked


def test_a_cname_loop_is_its_own_finding(rsa2048):
    loop = LookupFailure("_dmarc." + D, "TXT", "the CNAME chain loops: _dmarc.%s -> _dmarc.%s" % (D, D), kind="cname_loop")
    lookup = static_lookup({(D, "TXT"): ["v=spf1 -all"], ("_dmarc." + D, "TXT"): loop,
                            ("s1._domainkey." + D, "TXT"): ["v=DKIM1; k=rsa; p=" + rsa2048]})
    audit = _audit.audit_domain(_spec(rsa2048), lookup)
    assert "dns.cname_loop" in _checks(audit) and "dmarc.missing" not in _checks(audit)
    assert not any(check.startswith("dmarc.") for check in audit.checked)


@pytest.mark.parametrize("data, field", [
    ({"name": "not a name"}, "domains[0].name"),
    ({"name": D, "sending_ips": ["300.1.1.1"]}, "domains[0].sending_ips[0]"),
    ({"name": D, "spf_all": "pass"}, "domains[0].spf_all"),
    ({"name": D, "dmarc_policy": "block"}, "domains[0].dmarc_policy"),
    ({"name": D, "dkim": [{"selector": "bad selector"}]}, "domains[0].dkim[0].selector"),
    ({"name": D, "dkim": [{"selector": "s1", "public_key": "not base64!"}]}, "domains[0].dkim[0].public_key"),
    ({"name": D, "colour": "red"}, "domains[0]"),
])
def test_bad_input_names_the_field(data, field):
    with pytest.raises(InputError) as err:
        _audit.domain_spec(data, "domains[0]")
    assert err.value.field == field


def test_merge_names_the_server_that_differs(rsa2048):
    good = _zone(key=rsa2048)
    lagging = _zone(key=rsa2048, dkim=None)
    spec = _spec(rsa2048)
    merged, _checked = _audit.merge_servers([("ns1", _audit.audit_domain(spec, good)),
                                             ("ns2", _audit.audit_domain(spec, lagging))])
    assert [(f["check"], f["message"][:16]) for f in merged if f["severity"] != "info"] == [
        ("dkim.missing", "[only on ns2] no")]
    assert all(not f["message"].startswith("[only") for f in merged if f["severity"] == "info")


def test_run_audit_summary_and_fail_on(rsa2048):
    spec_good = _spec(rsa2048)
    spec_bad = _audit.domain_spec({"name": "broken.example", "sending_ips": [IP], "dkim": ["s1"]}, "d")
    good = _zone(key=rsa2048)
    views = {D: [("ns", good)], "broken.example": [("ns", static_lookup({}))]}
    result = _audit.run_audit([spec_good, spec_bad], views.get, fail_on="error")
    assert result["ok"] is False
    grid = result["summary"]["grid"]
    assert grid[D]["spf.missing"] == "ok" and grid[D]["dnsbl.listed"] == "skipped"
    assert grid["broken.example"]["spf.missing"] == "error" and grid["broken.example"]["spf.sender"] == "skipped"
    assert result["summary"]["counts"]["error"] == 3  # spf.missing, dkim.missing, dmarc.missing
    assert _audit.run_audit([spec_good], views.get, fail_on="warning")["ok"] is True
    assert all(set(f) == {"domain", "check", "severity", "message", "fix"} for f in result["findings"])


DQS_KEY = "abcdefghijklmnopqrstuvwxyz"


@pytest.mark.parametrize("answer", ["127.0.0.2", "127.255.255.254", "127.255.255.252", LookupFailure])
def test_dnsbl_findings_never_show_a_dqs_key(answer):
    sites = _audit.dnsbl_sites(["zen.spamhaus.org=127.0.0.[2..11]"], dqs_key=DQS_KEY)
    assert sites[0].zone == DQS_KEY + ".zen.dq.spamhaus.net"
    name = "10.113.0.203.%s.zen.dq.spamhaus.net" % DQS_KEY
    table = {(D, "TXT"): [GOOD_SPF], ("_dmarc." + D, "TXT"): [GOOD_DMARC],
             (name, "A"): answer if answer is LookupFailure else [answer]}
    spec = _audit.domain_spec({"name": D, "sending_ips": [IP]}, "d")
    [found] = [f for f in _audit.audit_domain(spec, static_lookup(table), sites).findings if f.check == "dnsbl.listed"]
    assert "********.zen.dq.spamhaus.net" in found.message + found.fix
    assert DQS_KEY not in found.message + found.fix


# ---------------------------------------------------------------- MTA-STS and TLS-RPT

STS = ("_mta-sts." + D, "TXT")
TLSRPT = ("_smtp._tls." + D, "TXT")


@pytest.mark.parametrize("records, found", [
    ({STS: ["v=STSv1; id=20261202"], TLSRPT: ["v=TLSRPTv1; rua=mailto:tls@example.com"]}, []),
    ({TLSRPT: ["v=TLSRPTv1; rua=mailto:tls@example.com"]}, ["mta_sts.missing"]),
    ({STS: ["v=STSv1; id=2026-12"], TLSRPT: ["v=TLSRPTv1; rua=tls@example.com"]}, ["mta_sts.syntax", "tls_rpt.syntax"]),
    ({STS: ["v=STSv1; id=a", "v=STSv1; id=b"]}, ["mta_sts.syntax", "tls_rpt.missing"]),
])
def test_transport_security_records(rsa2048, records, found):
    audit = _audit.audit_domain(_spec(rsa2048, mta_sts=True, tls_rpt=True), _zone(key=rsa2048, **{
        "extra%d" % n: item for n, item in enumerate(records.items())}))
    assert _checks(audit) == found
    assert {"mta_sts.missing", "mta_sts.syntax", "tls_rpt.missing", "tls_rpt.syntax"} <= audit.checked


def test_transport_security_flag_must_be_a_boolean(rsa2048):
    with pytest.raises(InputError) as err:
        _spec(rsa2048, tls_rpt="yes")
    assert err.value.field == "domains[0].tls_rpt"


def test_unreadable_tls_rpt_is_not_missing(rsa2048):
    audit = _audit.audit_domain(_spec(rsa2048, tls_rpt=True), _zone(key=rsa2048, broken=(
        TLSRPT, LookupFailure("_smtp._tls.example.com", "TXT", "timed out"))))
    assert "tls_rpt.missing" not in _checks(audit) and "tls_rpt.missing" not in audit.checked
