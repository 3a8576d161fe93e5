"""DKIM key records: build, parse, inspect, and names; checked against dkimpy where it has a say."""
import base64

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from ansible_collections.mailauth.hardening.plugins.module_utils._records.dkim_record import (
    build_dkim_record,
    dkim_dns_name,
    inspect_dkim_record,
    parse_dkim_record,
    public_key_b64,
    validate_dkim_record,
    validate_domain,
    validate_selector,
)
from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError
from ansible_collections.mailauth.hardening.plugins.module_utils._records.txt import quote_txt, split_txt


@pytest.fixture(scope="module")
def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def ed_key():
    return ed25519.Ed25519PrivateKey.generate()


@pytest.fixture(scope="module")
def rsa_p(rsa_key):
    return public_key_b64(rsa_key)


@pytest.fixture(scope="module")
def ed_p(ed_key):
    return public_key_b64(ed_key)


def small_rsa_public_key(bits=512):
    """An RSA public key below RFC 8301's minimum (cryptography no longer generates one)."""
    return rsa.RSAPublicNumbers(65537, (1 << (bits - 1)) | 0x30003).public_key()


def field_of(call, *args, **kwargs):
    with pytest.raises(InputError) as info:
        call(*args, **kwargs)
    assert str(info.value).startswith(info.value.field + ": ")
    return info.value.field


# --- public_key_b64 ---------------------------------------------------------------------

def test_rsa_p_is_der_subject_public_key_info(rsa_key, rsa_p):
    der = base64.b64decode(rsa_p)
    assert der == rsa_key.public_key().public_bytes(serialization.Encoding.DER,
                                                    serialization.PublicFormat.SubjectPublicKeyInfo)
    assert public_key_b64(rsa_key.public_key()) == rsa_p


def test_ed25519_p_is_the_raw_32_octets(ed_key, ed_p):
    assert len(base64.b64decode(ed_p)) == 32
    assert public_key_b64(ed_key.public_key()) == ed_p


def test_public_key_b64_refuses_other_key_types():
    assert field_of(public_key_b64, ec.generate_private_key(ec.SECP256R1())) == "key"


# --- build ------------------------------------------------------------------------------

def test_build_rsa(rsa_p):
    assert build_dkim_record("rsa", rsa_p) == "v=DKIM1; k=rsa; p=" + rsa_p


def test_build_ed25519_testing(ed_p):
    assert build_dkim_record("ed25519", ed_p, testing=True) == "v=DKIM1; k=ed25519; t=y; p=" + ed_p


def test_build_accepts_wrapped_base64_and_pem(rsa_key, rsa_p):
    wrapped = "\n".join(rsa_p[i:i + 64] for i in range(0, len(rsa_p), 64))
    assert build_dkim_record("RSA", wrapped) == "v=DKIM1; k=rsa; p=" + rsa_p
    pem = rsa_key.public_key().public_bytes(serialization.Encoding.PEM,
                                            serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    assert build_dkim_record("rsa", pem) == "v=DKIM1; k=rsa; p=" + rsa_p


def test_build_empty_key_is_a_revocation():
    assert build_dkim_record("rsa", "") == "v=DKIM1; k=rsa; p="
    assert inspect_dkim_record(build_dkim_record("rsa", "")).revoked


@pytest.mark.parametrize("key_type, make_p, field", [
    ("dsa", lambda rsa_p, ed_p: rsa_p, "key_type"),
    ("rsa", lambda rsa_p, ed_p: ed_p, "k"),
    ("ed25519", lambda rsa_p, ed_p: rsa_p, "k"),
    ("rsa", lambda rsa_p, ed_p: rsa_p[:-4], "public_key"),
    ("rsa", lambda rsa_p, ed_p: rsa_p[:-1], "public_key"),
    ("rsa", lambda rsa_p, ed_p: '"' + rsa_p, "public_key"),
    ("ed25519", lambda rsa_p, ed_p: ed_p[:-8] + "====", "public_key"),
])
def test_build_refuses_broken_keys(rsa_p, ed_p, key_type, make_p, field):
    assert field_of(build_dkim_record, key_type, make_p(rsa_p, ed_p)) == field


def test_build_refuses_pem_of_the_other_type(ed_key):
    pem = ed_key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    assert field_of(build_dkim_record, "rsa", pem) == "public_key"


def test_build_refuses_short_rsa():
    assert field_of(build_dkim_record, "rsa", public_key_b64(small_rsa_public_key())) == "public_key"


# --- dkimpy agrees with what we build -----------------------------------------------------

def test_dkimpy_reads_our_records_like_we_do(rsa_p, ed_p):
    for key_type, p, bits in (("rsa", rsa_p, 2048), ("ed25519", ed_p, 256)):
        record = build_dkim_record(key_type, p)
        _pk, keysize, ktag, _tlsrpt = dkim.evaluate_pk(b"s._domainkey.example.com", record.encode())
        assert (ktag.decode(), keysize) == (key_type, bits)
        assert inspect_dkim_record(record).bits == bits


def test_2048_bit_record_needs_two_strings_that_join_back(rsa_p):
    record = build_dkim_record("rsa", rsa_p)
    strings = split_txt(record)
    assert len(strings) == 2 and all(len(s.encode()) <= 255 for s in strings)
    assert "".join(strings) == record


# --- parse ------------------------------------------------------------------------------

def test_parse_keeps_order_and_strips_fws():
    assert list(parse_dkim_record(" v = DKIM1 ;k=rsa;  p=AB CD ; ").items()) == [
        ("v", "DKIM1"), ("k", "rsa"), ("p", "AB CD")]


def test_parse_accepts_strings_and_presentation_form(rsa_p):
    record = build_dkim_record("rsa", rsa_p)
    assert parse_dkim_record(split_txt(record))["p"] == rsa_p
    assert parse_dkim_record(quote_txt(record))["p"] == rsa_p


@pytest.mark.parametrize("text, field", [
    ("", "record"),
    ("   ", "record"),
    ("v=DKIM1; k=rsa; junk; p=AAAA", "record"),
    ("v=DKIM1; 1k=rsa; p=AAAA", "record"),
    ("v=DKIM1; p=AAAA; p=BBBB", "p"),
])
def test_parse_errors_name_the_field(text, field):
    assert field_of(parse_dkim_record, text) == field


# --- inspect ----------------------------------------------------------------------------

def test_inspect_rsa(rsa_p):
    info = inspect_dkim_record("v=DKIM1; k=rsa; p=" + rsa_p)
    assert (info.key_type, info.bits, info.revoked, info.testing) == ("rsa", 2048, False, False)
    assert info.public_key == base64.b64decode(rsa_p)
    assert info.warnings == [] and not info.whitespace_in_p
    assert info.as_dict()["public_key_b64"] == rsa_p


def test_inspect_k_defaults_to_rsa_and_v_is_optional(rsa_p):
    info = inspect_dkim_record("p=" + rsa_p)
    assert (info.key_type, info.version, info.bits) == ("rsa", None, 2048)


def test_inspect_ed25519(ed_p):
    info = inspect_dkim_record("v=DKIM1; k=ed25519; p=" + ed_p)
    assert (info.key_type, info.bits) == ("ed25519", 256)
    assert len(info.public_key) == 32


def test_inspect_revoked():
    info = inspect_dkim_record("v=DKIM1; k=rsa; p=")
    assert info.revoked and info.bits is None and info.public_key == b""


def test_inspect_testing_and_strict_flags(ed_p):
    info = inspect_dkim_record("v=DKIM1; k=ed25519; t=y:s; p=" + ed_p)
    assert info.testing and info.strict_subdomains
    assert not inspect_dkim_record("v=DKIM1; k=ed25519; t=s; p=" + ed_p).testing


def test_whitespace_inside_p_is_reported_and_strict_refuses_it(rsa_p):
    broken = "v=DKIM1; k=rsa; p=%s %s" % (rsa_p[:200], rsa_p[200:])
    info = inspect_dkim_record(broken)
    assert info.whitespace_in_p and info.bits == 2048
    assert any("whitespace" in w for w in info.warnings)
    assert field_of(inspect_dkim_record, broken, strict=True) == "p"


def test_quotes_pasted_into_p_are_named(rsa_p):
    broken = 'v=DKIM1; k=rsa; p=%s" "%s' % (rsa_p[:200], rsa_p[200:])
    with pytest.raises(InputError) as info:
        inspect_dkim_record(broken)
    assert info.value.field == "p" and "quoting" in info.value.problem


@pytest.mark.parametrize("cut", [1, 2, 3, 4, 8, 100])
def test_truncated_p_is_detected_as_is_by_dkimpy(rsa_p, cut):
    record = "v=DKIM1; k=rsa; p=" + rsa_p[:-cut]
    assert field_of(inspect_dkim_record, record) == "p"
    # dkimpy fails too (with binascii.Error, a ValueError, when the padding is off).
    with pytest.raises((dkim.KeyFormatError, ValueError)):
        dkim.evaluate_pk(b"s._domainkey.example.com", record.encode())


def test_truncated_ed25519_p(ed_p):
    assert field_of(inspect_dkim_record, "v=DKIM1; k=ed25519; p=" + ed_p[:-8]) == "p"


def test_short_rsa_key_is_refused_and_1024_warned():
    assert field_of(inspect_dkim_record, "k=rsa; p=" + public_key_b64(small_rsa_public_key())) == "p"
    ok = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    info = inspect_dkim_record("k=rsa; p=" + public_key_b64(ok))
    assert info.bits == 1024 and any("2048" in w for w in info.warnings)


def test_bare_pkcs1_rsa_public_key_is_refused(rsa_key):
    pkcs1 = rsa_key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    assert field_of(inspect_dkim_record, "k=rsa; p=" + base64.b64encode(pkcs1).decode()) == "p"


def test_ed25519_spki_is_refused(ed_key):
    spki = ed_key.public_key().public_bytes(serialization.Encoding.DER,
                                            serialization.PublicFormat.SubjectPublicKeyInfo)
    assert field_of(inspect_dkim_record, "k=ed25519; p=" + base64.b64encode(spki).decode()) == "p"
    assert field_of(inspect_dkim_record, "k=rsa; p=" + base64.b64encode(spki).decode()) == "k"


def test_ec_key_under_k_rsa_is_refused():
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    spki = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert field_of(inspect_dkim_record, "k=rsa; p=" + base64.b64encode(spki).decode()) == "p"


@pytest.mark.parametrize("template, field", [
    ("v=DKIM2; k=rsa; p={rsa}", "v"),
    ("v=spf1 -all", "v"),
    ("k=rsa; v=DKIM1; p={rsa}", "v"),
    ("v=DKIM1; k=dsa; p={rsa}", "k"),
    ("v=DKIM1; k=rsa; p={ed}", "k"),
    ("v=DKIM1; k=ed25519; p={rsa}", "k"),
    ("v=DKIM1; k=rsa; h=sha1; p={rsa}", "h"),
    ("v=DKIM1; k=rsa; h=; p={rsa}", "h"),
    ("v=DKIM1; k=rsa; s=tlsrpt; p={rsa}", "s"),
    ("v=DKIM1; k=rsa", "p"),
    ("v=DKIM1; k=rsa; p=@@@@", "p"),
    ("v=DKIM1; k=rsa; p={rsa}; p={rsa}", "p"),
])
def test_malformed_records_name_the_field(rsa_p, ed_p, template, field):
    assert field_of(inspect_dkim_record, template.format(rsa=rsa_p, ed=ed_p)) == field


def test_accepted_but_warned(rsa_p):
    info = inspect_dkim_record("v=DKIM1; k=rsa; h=sha1:sha256; s=email:*; n=hello; p=" + rsa_p)
    assert info.hash_algorithms == ["sha1", "sha256"] and info.service_types == ["email", "*"]
    assert any("sha1" in w for w in info.warnings)
    assert any("upper-case" in w for w in inspect_dkim_record("v=dkim1; p=" + rsa_p).warnings)


# --- names ------------------------------------------------------------------------------

def test_dns_name():
    assert dkim_dns_name("s202611", "example.com.") == "s202611._domainkey.example.com"
    assert dkim_dns_name("a.b", "xn--mller-kva.de") == "a.b._domainkey.xn--mller-kva.de"
    assert validate_domain("example.com.") == "example.com"
    assert validate_selector("2026-q1") == "2026-q1"


@pytest.mark.parametrize("selector, domain, field", [
    ("", "example.com", "selector"),
    ("bad_sel", "example.com", "selector"),
    ("-x", "example.com", "selector"),
    ("x-", "example.com", "selector"),
    ("a..b", "example.com", "selector"),
    ("s 1", "example.com", "selector"),
    ("x" * 64, "example.com", "selector"),
    (None, "example.com", "selector"),
    ("s1", "", "domain"),
    ("s1", "exa mple.com", "domain"),
    ("s1", "müller.de", "domain"),
    ("s1", "_dmarc.example.com", "domain"),
    (".".join(["a" * 60] * 4), "example.com", "selector"),
])
def test_bad_names_are_refused(selector, domain, field):
    assert field_of(dkim_dns_name, selector, domain) == field


# --- validate_dkim_record (what mail_audit reports and dns_txt refuses) -------------------

def _checks(findings):
    return [(f.check, f.severity) for f in findings]


def test_validate_dkim_record(rsa_p, ed_p):
    assert _checks(validate_dkim_record("v=DKIM1; k=ed25519; p=" + ed_p)) == []
    assert _checks(validate_dkim_record("v=DKIM1; k=rsa; p=")) == []  # a revocation is a valid record
    assert _checks(validate_dkim_record("v=DKIM1; k=rsa; p=%s %s" % (rsa_p[:50], rsa_p[50:]))) == [("dkim.syntax", "error")]
    assert _checks(validate_dkim_record("k=rsa; p=" + public_key_b64(small_rsa_public_key()))) == [("dkim.weak", "error")]
    assert _checks(validate_dkim_record("v=DKIM1; k=rsa; t=y; p=" + rsa_p)) == [("dkim.syntax", "info")]
    assert _checks(validate_dkim_record("v=dkim1; p=" + rsa_p)) == [("dkim.syntax", "warning")]
    [finding] = validate_dkim_record("v=DKIM1; k=dsa; p=" + rsa_p, where="s1._domainkey.example.com")
    assert finding.message.startswith("s1._domainkey.example.com: k: unknown key type 'dsa'")
