"""DANE TLSA 3 1 1 records and the rollover plan (RFC 7672, RFC 7671)."""
import datetime
import hashlib

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.mailauth.hardening.plugins.module_utils._records.dane import (
    build_tlsa, certificate_digest, check_tlsa, normalise_tlsa, owned_mx, parse_tlsa, plan, tlsa_name)
from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError

A, B, C = "a" * 64, "b" * 64, "c" * 64


def checks(findings):
    return [(f.check, f.severity) for f in findings]


def certificate(key):
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mx1.example.com")])
    now = datetime.datetime(2026, 12, 1, tzinfo=datetime.timezone.utc)
    return (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=90))
            .sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM))


def test_digest_is_the_spki_sha256_and_survives_a_renewal_with_the_same_key():
    key = ec.generate_private_key(ec.SECP256R1())
    spki = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert certificate_digest(certificate(key)) == hashlib.sha256(spki).hexdigest()
    assert certificate_digest(certificate(key).decode()) == certificate_digest(certificate(key))
    assert certificate_digest(certificate(ec.generate_private_key(ec.SECP256R1()))) != certificate_digest(certificate(key))


def test_names_and_presentation():
    assert tlsa_name("MX1.Example.com.") == "_25._tcp.mx1.example.com"
    assert build_tlsa(A.upper()) == "3 1 1 " + A
    assert parse_tlsa("3 1 1 AAAA aaaa") == (3, 1, 1, "aaaaaaaa")
    assert parse_tlsa("not tlsa") is None
    assert normalise_tlsa("3  1 1 " + A.upper()) == "3 1 1 " + A


def test_owned_mx():
    assert owned_mx("MX1.example.com.", ["example.com"]) == "mx1.example.com"
    assert owned_mx("example.com", ["example.com"]) == "example.com"
    for host in ("mx.google.com", "badexample.com", "no way"):
        with pytest.raises(InputError) as err:
            owned_mx(host, ["example.com"])
        assert err.value.field == "dane.mx"


def test_plan_refuses_an_unsigned_zone():
    with pytest.raises(InputError) as err:
        plan("mx1.example.com", A, [], signed=False)
    assert err.value.field == "dane" and "not DNSSEC-signed" in err.value.problem


def test_plan_steady_state_removes_stale_records():
    result = plan("mx1.example.com", A, ["3 1 1 " + A, "3 1 1 " + C], signed=True)
    assert result == {"name": "_25._tcp.mx1.example.com", "records": ["3 1 1 " + A], "install_next": False,
                      "reason": "no next key", "stale": ["3 1 1 " + C]}


def test_rollover_publishes_next_first_and_installs_only_after_the_ttl():
    first = plan("mx1.example.com", A, ["3 1 1 " + A], signed=True, next_digest=B)
    assert first["records"] == ["3 1 1 " + A, "3 1 1 " + B] and not first["install_next"]
    waiting = plan("mx1.example.com", A, first["records"], signed=True, next_digest=B, next_visible_seconds=60, ttl=300)
    assert not waiting["install_next"] and "under the TTL" in waiting["reason"]
    ready = plan("mx1.example.com", A, first["records"], signed=True, next_digest=B, next_visible_seconds=300, ttl=300)
    assert ready["install_next"]
    after = plan("mx1.example.com", B, first["records"], signed=True)  # the new certificate is in
    assert after["records"] == ["3 1 1 " + B] and after["stale"] == ["3 1 1 " + A]


def test_plan_refuses_a_digest_that_is_not_one():
    with pytest.raises(InputError) as err:
        plan("mx1.example.com", "abc", [], signed=True)
    assert err.value.field == "dane.current"


def test_check_tlsa():
    good = ["3 1 1 " + A]
    assert check_tlsa("mx1.example.com", good, A, signed=True, validated=True) == []
    assert checks(check_tlsa("mx1.example.com", good, B, True, True)) == [("dane.mismatch", "error")]
    assert checks(check_tlsa("mx1.example.com", good, None, True, True)) == [("dane.mismatch", "error")]
    assert checks(check_tlsa("mx1.example.com", good, A, True, False)) == [("dane.unsigned", "error")]
    assert checks(check_tlsa("mx1.example.com", [], A, True, True)) == [("dane.missing", "info")]
    assert check_tlsa("mx1.example.com", [], A, False, False) == []
