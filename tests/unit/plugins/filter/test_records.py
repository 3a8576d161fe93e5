"""The record filters: spf_record, dmarc_record, dkim_record, tls_rpt_record, mta_sts_site, txt_split."""
import base64
import re

import pytest
from ansible.errors import AnsibleFilterError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from ansible_collections.mailauth.hardening.plugins.filter import records
from ansible_collections.mailauth.hardening.plugins.filter.records import (
    FilterModule, dkim_record, dmarc_record, mta_sts_site, spf_record, tls_rpt_record, txt_split)


@pytest.fixture
def warnings(monkeypatch):
    seen = []
    monkeypatch.setattr(records.Display, "warning", lambda self, msg, *a, **k: seen.append(msg))
    return seen


def test_filter_names():
    names = ["dkim_record", "dmarc_record", "mta_sts_site", "spf_record", "tls_rpt_record", "txt_split"]
    assert sorted(FilterModule().filters()) == names


# ---------------------------------------------------------------- spf_record

def test_spf_record_from_inventory_dict(warnings):
    assert spf_record({"mechanisms": ["mx", "a"], "all": "fail"}) == "v=spf1 mx a -all"
    assert spf_record({"mechanisms": ["mx"]}) == "v=spf1 mx -all"
    assert warnings == []


def test_spf_record_from_list_and_all_argument():
    assert spf_record(["+a", "+mx"]) == "v=spf1 +a +mx -all"
    assert spf_record(["mx"], "softfail") == "v=spf1 mx ~all"
    assert spf_record({"mechanisms": ["mx"], "all": "fail"}, all="neutral") == "v=spf1 mx ?all"
    assert spf_record(["redirect=_spf.example.com"], all=None) == "v=spf1 redirect=_spf.example.com"
    assert spf_record({"mechanisms": ["redirect=_spf.example.com"], "all": None}) == "v=spf1 redirect=_spf.example.com"


def test_spf_record_warns_but_builds(warnings):
    assert spf_record(["+a", "-a", "ptr"]) == "v=spf1 +a -a ptr -all"
    assert any("-all was probably meant" in w for w in warnings)
    assert any("ptr" in w for w in warnings)


@pytest.mark.parametrize("data, kwargs, words", [
    ({"mechanisms": ["mx"], "all": "pass"}, {}, "spf.all:"),
    (["mx", "ip4:10.0.0.300"], {}, "spf.mechanisms[1]:"),
    ({"mechanisms": ["mx"], "al": "fail"}, {}, "spf.al:"),
    ("not a list", {}, "spf.mechanisms[0]:"),
    (5, {}, "spf.mechanisms:"),
])
def test_spf_record_errors(data, kwargs, words):
    with pytest.raises(AnsibleFilterError) as err:
        spf_record(data, **kwargs)
    assert words in str(err.value)


# ---------------------------------------------------------------- dmarc_record

def test_dmarc_record():
    assert dmarc_record({"p": "none", "rua": ["aggregate@example.com"], "ruf": ["forensics@example.com"],
                         "fo": "1"}) == \
        "v=DMARC1; p=none; rua=mailto:aggregate@example.com; ruf=mailto:forensics@example.com; fo=1"
    assert dmarc_record({}) == "v=DMARC1; p=none"
    assert dmarc_record({"p": "reject", "np": "reject", "t": "y"}) == "v=DMARC1; p=reject; np=reject; t=y"


@pytest.mark.parametrize("data, words", [
    ({"p": "quarantine", "pct": 50}, "dmarc.pct: RFC 9989 removed pct"),
    ({"p": "block"}, "dmarc.p:"),
    ({"rua": ["nobody"]}, "dmarc.rua[0]:"),
    (["p=none"], "expects a dict"),
])
def test_dmarc_record_errors(data, words):
    with pytest.raises(AnsibleFilterError) as err:
        dmarc_record(data)
    assert words in str(err.value)


# ---------------------------------------------------------------- dkim_record

@pytest.fixture(scope="module")
def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _spki_b64(key):
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode()


def test_dkim_record_rsa(rsa_key):
    p = _spki_b64(rsa_key)
    assert dkim_record(p, "rsa") == "v=DKIM1; k=rsa; p=" + p
    assert dkim_record(p) == "v=DKIM1; k=rsa; p=" + p
    assert dkim_record(p[:100] + "\n " + p[100:], key_type="rsa", testing=True) == "v=DKIM1; k=rsa; t=y; p=" + p
    pem = rsa_key.public_key().public_bytes(serialization.Encoding.PEM,
                                            serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    assert dkim_record(pem, "rsa") == "v=DKIM1; k=rsa; p=" + p
    assert dkim_record({"key_type": "rsa", "public_key": p}) == "v=DKIM1; k=rsa; p=" + p


def test_dkim_record_ed25519():
    raw = ed25519.Ed25519PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    p = base64.b64encode(raw).decode()
    assert dkim_record(p, key_type="ed25519") == "v=DKIM1; k=ed25519; p=" + p
    assert dkim_record({"type": "ed25519", "public_key": p}) == "v=DKIM1; k=ed25519; p=" + p


def test_dkim_record_errors(rsa_key):
    p = _spki_b64(rsa_key)
    with pytest.raises(AnsibleFilterError) as err:
        dkim_record(p[:-8], "rsa")
    assert "public_key" in str(err.value)
    with pytest.raises(AnsibleFilterError) as err:
        dkim_record(p, "dsa")
    assert "key_type" in str(err.value)


# ---------------------------------------------------------------- txt_split

def test_txt_split():
    value = "v=DKIM1; k=rsa; p=" + "A" * 392
    strings = txt_split(value)
    assert [len(s) for s in strings] == [255, 155]
    assert "".join(strings) == value
    assert txt_split("") == [""]
    with pytest.raises(AnsibleFilterError) as err:
        txt_split(None)
    assert "value:" in str(err.value)


def test_spf_record_refuses_what_dns_txt_and_the_audit_call_an_error(warnings):
    with pytest.raises(AnsibleFilterError) as err:
        spf_record({"mechanisms": ["include:i%d.example.net" % n for n in range(11)]})
    assert str(err.value).startswith("spf.mechanisms: the record's own terms need 11 DNS lookups")
    assert "Fix:" in str(err.value)


def test_txt_split_names_the_kind_of_a_non_text_value():
    with pytest.raises(AnsibleFilterError) as err:
        txt_split({"a": 1})
    assert "got a mapping" in str(err.value) and "Fix:" in str(err.value)


# ---------------------------------------------------------------- tls_rpt_record

def test_tls_rpt_record():
    assert tls_rpt_record({"rua": ["tls@example.com", "https://tlsrpt.example.com/v1"]}) == \
        "v=TLSRPTv1; rua=mailto:tls@example.com,https://tlsrpt.example.com/v1"


@pytest.mark.parametrize("data, field", [({}, "tls_rpt.rua"), ({"rua": ["x"]}, "tls_rpt.rua[0]"),
                                         ({"rua": ["a@example.com"], "ruf": []}, "tls_rpt.ruf")])
def test_tls_rpt_record_refuses_naming_the_field(data, field):
    with pytest.raises(AnsibleFilterError, match=r"^%s: " % re.escape(field)):
        tls_rpt_record(data)


# ---------------------------------------------------------------- mta_sts_site

def test_mta_sts_site_gives_the_policy_and_the_record_of_its_id():
    site = mta_sts_site({"mode": "testing", "mx": ["mx1.example.com"], "certificate": "/etc/ssl/c.pem",
                         "key": "/etc/ssl/k.pem"}, "example.com")
    assert site["policy"].startswith("version: STSv1\nmode: testing\n")
    assert re.match(r"^v=STSv1; id=[0-9a-f]{32}$", site["record"])


def test_mta_sts_site_names_the_bad_setting():
    with pytest.raises(AnsibleFilterError, match=r"mta_sts\.certificate: 'c\.pem' is not an absolute path"):
        mta_sts_site({"mx": ["mx1.example.com"], "certificate": "c.pem", "key": "/k.pem"}, "example.com")
