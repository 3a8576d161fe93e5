"""What a signer check makes of the signatures a milter added."""
import pytest

from ansible_collections.mailauth.hardening.plugins.module_utils._dkim import signer_check as check
from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError

KEYS = [{"domain": "A.test.", "selector": "s1", "type": "rsa", "record": "v=DKIM1; k=rsa; p=x"},
        {"domain": "a.test", "selector": "e1", "type": "ed25519", "record": "v=DKIM1; k=ed25519; p=y", "bits": 256}]


def test_expected_signatures_per_domain():
    assert check.expected_signatures(KEYS) == {"a.test": {("s1", "rsa-sha256"), ("e1", "ed25519-sha256")}}
    assert check.records_by_name(KEYS)["e1._domainkey.a.test."] == "v=DKIM1; k=ed25519; p=y"


@pytest.mark.parametrize("keys, field", [
    ([], "keys"),
    ([{"selector": "s1", "record": "r"}], "keys[0].domain"),
    ([{"domain": "a.test", "selector": "s1", "type": "dsa", "record": "r"}], "keys[0].type"),
])
def test_bad_keys_name_the_field(keys, field):
    with pytest.raises(InputError) as info:
        check.expected_signatures(keys)
    assert info.value.field == field


def test_signature_tags_of_a_folded_header():
    tags = check.signature_tags("v=1; a=rsa-sha256; d=a.test;\n\ts=s1; b=abc\n\t def")
    assert (tags["a"], tags["d"], tags["s"], tags["b"]) == ("rsa-sha256", "a.test", "s1", "abcdef")


def test_judge_wants_exactly_the_expected_signatures_and_each_verified():
    wanted = {("s1", "rsa-sha256"), ("e1", "ed25519-sha256")}
    found = [(0, "a.test", "e1", "ed25519-sha256"), (1, "a.test", "s1", "rsa-sha256")]
    signatures, problems = check.judge("a.test", wanted, found, lambda index: True)
    assert problems == [] and [s["verified"] for s in signatures] == [True, True]

    _signatures, problems = check.judge("a.test", wanted, found[1:], lambda index: True)
    assert problems == ["a.test: no ed25519-sha256 signature with selector e1."]
    _signatures, problems = check.judge("a.test", wanted, found, lambda index: index == 1)
    assert problems == ["a.test: the ed25519-sha256 signature with selector e1 does not verify against the host's key."]
    _signatures, problems = check.judge("a.test", {("s1", "rsa-sha256")}, found, lambda index: True)
    assert problems == ["a.test: an unexpected ed25519-sha256 signature with selector e1."]
