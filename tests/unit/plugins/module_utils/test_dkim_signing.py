"""DKIM keys from inventory data, and the selectors safe to sign with."""
import pytest

from ansible_collections.mailauth.hardening.plugins.module_utils._dkim import signing as _dkim_signing
from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError

DOMAINS = [
    {"name": "example.test", "dkim": [{"selector": "s202611", "type": "rsa", "bits": 2048},
                                      {"selector": "e202611", "type": "ed25519"}]},
    {"name": "example2.test.", "dkim": {"selector": "s1"}},
    {"name": "nodkim.test"},
]


def error_of(call, *args):
    with pytest.raises(InputError) as info:
        call(*args)
    return info.value


def test_selectors_from_list_and_mapping():
    keys = _dkim_signing.dkim_selectors(DOMAINS)
    assert [(k["domain"], k["selector"], k["type"], k["bits"]) for k in keys] == [
        ("example.test", "s202611", "rsa", 2048), ("example.test", "e202611", "ed25519", 256),
        ("example2.test", "s1", "rsa", 2048)]
    assert keys[0]["dns_name"] == "s202611._domainkey.example.test"


@pytest.mark.parametrize("domains, field, words", [
    ([{"dkim": {"selector": "s1"}}], "mailauth_domains[0].name", "needs a name"),
    ([{"name": "a.test", "dkim": "s1"}], "mailauth_domains[0].dkim", "mapping or a list"),
    ([{"name": "a.test", "dkim": ["s1"]}], "mailauth_domains[0].dkim[0]", "mapping"),
    ([{"name": "a.test", "dkim": {"selector": "bad selector"}}], "mailauth_domains[0].dkim.selector", "not a valid"),
    ([{"name": "a.test", "dkim": {}}], "mailauth_domains[0].dkim.selector", "non-empty"),
    ([{"name": "bad domain", "dkim": {"selector": "s1"}}], "mailauth_domains[0].name", "not a valid"),
    ([{"name": "a.test", "dkim": [{"selector": "s1", "type": "dsa"}]}], "mailauth_domains[0].dkim[0].type", "unknown"),
    ([{"name": "a.test", "dkim": [{"selector": "s1", "bits": 512}]}], "mailauth_domains[0].dkim[0].bits", "RSA key size"),
    ([{"name": "a.test", "dkim": [{"selector": "s1", "size": 2048}]}], "mailauth_domains[0].dkim[0]", "unknown key"),
    ([{"name": "a.test", "dkim": [{"selector": "s1"}, {"selector": "S1"}]}], "mailauth_domains[0].dkim[1].selector",
     "twice"),
])
def test_bad_inventory_names_the_field(domains, field, words):
    err = error_of(_dkim_signing.dkim_selectors, domains)
    assert err.field == field, str(err)
    assert words in str(err)


def test_domains_must_be_a_list():
    assert error_of(_dkim_signing.dkim_selectors, {"name": "a.test"}).field == "mailauth_domains"


def test_only_safe_selectors_sign():
    keys = _dkim_signing.dkim_selectors(DOMAINS)
    signing = _dkim_signing.signing_selectors(
        [{"domain": "example2.test", "selector": "s1", "record": "v=DKIM1; ..."},
         "S202611._domainkey.example.test."], keys)
    assert [k["dns_name"] for k in signing] == ["s202611._domainkey.example.test", "s1._domainkey.example2.test"]


def test_key_types_leave_out_what_the_signer_cannot_use():
    keys = [{"domain": "a.test", "selector": "r", "type": "rsa", "bits": 2048, "dns_name": "r._domainkey.a.test"},
            {"domain": "a.test", "selector": "e", "type": "ed25519", "bits": 256, "dns_name": "e._domainkey.a.test"}]
    safe = ["r._domainkey.a.test", "e._domainkey.a.test"]
    assert [k["selector"] for k in _dkim_signing.signing_selectors(safe, keys, key_types=["rsa"])] == ["r"]
    assert [k["selector"] for k in _dkim_signing.signing_selectors(safe, keys)] == ["r", "e"]


def test_no_safe_selectors_no_signing():
    assert _dkim_signing.signing_selectors([], _dkim_signing.dkim_selectors(DOMAINS)) == []


@pytest.mark.parametrize("safe, field, words", [
    ([{"domain": "example.test", "selector": "s202612"}], "mailauth_dkim_signing_selectors[0]", "has no key"),
    (["s1._domainkey.example2.test", "nokey._domainkey.other.test"], "mailauth_dkim_signing_selectors[1]",
     "has no key"),
    (["example.test"], "mailauth_dkim_signing_selectors[0]", "SELECTOR._domainkey.DOMAIN"),
    ([{"domain": "example.test"}], "mailauth_dkim_signing_selectors[0]", "a domain and a selector"),
    ("s1._domainkey.example2.test", "mailauth_dkim_signing_selectors", "list"),
])
def test_selector_without_key_names_the_field(safe, field, words):
    err = error_of(_dkim_signing.signing_selectors, safe, _dkim_signing.dkim_selectors(DOMAINS))
    assert err.field == field, str(err)
    assert words in str(err)
