"""DNS failures in words (_dns_query): TSIG key and algorithm named, seconds rounded; names that can hold no TXT."""
import dns.flags
import dns.message
import dns.rrset
import dns.tsig
import pytest

from ansible_collections.mailauth.hardening.plugins.module_utils._dns.errors import NameConflict
from ansible_collections.mailauth.hardening.plugins.module_utils._dns.query import (
    describe_failure, failure_kind, name_conflict)
from ansible_collections.mailauth.hardening.plugins.module_utils._records.lookup import seconds_text


def signed_query(algorithm):
    key = dns.tsig.Key("tsig-key", "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0", algorithm)
    message = dns.message.make_query("example.com.", "TXT")
    message.use_tsig({key.name: key}, keyname=key.name, algorithm=key.algorithm)
    return message


def test_badkey_names_the_key_and_its_algorithm():
    text = describe_failure(dns.tsig.PeerBadKey(), 5, signed_query("hmac-sha512"))
    assert "tsig-key with algorithm hmac-sha512" in text and "key_algorithm" in text
    assert failure_kind(dns.tsig.PeerBadKey()) == "badkey"


@pytest.mark.parametrize("seconds, text", [(2.9999985680000236, "3"), (0.5, "0.5"), (10.0, "10"), (300, "300")])
def test_seconds_are_rounded(seconds, text):
    assert seconds_text(seconds) == text
    assert "within %s s" % text in describe_failure(dns.exception.Timeout(), seconds)


def reply(answer=(), authority=(), authoritative=True):
    message = dns.message.make_response(dns.message.make_query("x.example.com.", "TXT"))
    message.answer = [dns.rrset.from_text(*line.split(None, 3)[:1] + ["60"] + line.split(None, 3)[1:]) for line in answer]
    message.authority = [dns.rrset.from_text(*line.split(None, 3)[:1] + ["60"] + line.split(None, 3)[1:])
                         for line in authority]
    if not authoritative:
        message.flags &= ~dns.flags.AA
    else:
        message.flags |= dns.flags.AA
    return message


def test_a_cname_at_the_name_is_a_conflict():
    with pytest.raises(NameConflict) as err:
        name_conflict(reply(["x.example.com. IN CNAME y.example.net.", "y.example.net. IN TXT hello"]), "x.example.com.")
    assert (err.value.kind, err.value.target) == ("cname", "y.example.net.")


def test_a_referral_is_a_delegation():
    with pytest.raises(NameConflict) as err:
        name_conflict(reply(authority=["example.com. IN NS ns.example.org."], authoritative=False), "x.example.com.")
    assert (err.value.kind, err.value.target, err.value.servers) == ("delegation", "example.com.", "ns.example.org.")


def test_an_authoritative_answer_is_no_conflict():
    name_conflict(reply(["x.example.com. IN TXT hello"]), "x.example.com.")
    name_conflict(reply(authority=["example.com. IN NS ns1.example.com."]), "x.example.com.")  # NODATA with AA
