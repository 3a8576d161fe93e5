"""RFC 2136 back end: TSIG key checks and the one UPDATE message (no network)."""
import dns.rdatatype
import dns.rdtypes.ANY.TXT
import dns.rdataclass
import pytest

from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError
from ansible_collections.mailauth.hardening.plugins.module_utils._dns.providers.rfc2136 import (
    Rfc2136Provider, tsig_key, txt_rdata)

SECRET = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA=="


def rdata(*strings):
    return dns.rdtypes.ANY.TXT.TXT(dns.rdataclass.IN, dns.rdatatype.TXT, [s.encode() for s in strings])


def test_tsig_key():
    keyring, name, algorithm = tsig_key({"key_name": "k1", "key_secret": SECRET, "key_algorithm": "hmac-sha512"})
    assert name.to_text() == "k1." and algorithm.to_text() == "hmac-sha512."
    assert tsig_key({}) == (None, None, None)


@pytest.mark.parametrize("params, field", [
    ({"key_name": "k1"}, "key_secret"),
    ({"key_secret": SECRET}, "key_name"),
    ({"key_name": "k1", "key_secret": "not base64 !!" + SECRET}, "key_secret"),
    ({"key_name": "k1", "key_secret": SECRET, "key_algorithm": "hmac-sha3"}, "key_algorithm"),
])
def test_bad_tsig_input_names_the_field_and_never_the_secret(params, field):
    with pytest.raises(InputError) as err:
        tsig_key(params)
    assert err.value.field == field
    assert SECRET not in str(err.value)


def test_long_values_are_split_into_255_octet_strings():
    value = "v=DKIM1; k=rsa; p=" + "A" * 400
    strings = txt_rdata(value).strings
    assert [len(s) for s in strings] == [255, 163]
    assert b"".join(strings).decode() == value


def provider():
    p = Rfc2136Provider({"server": "127.0.0.1:5353", "key_name": "k1", "key_secret": SECRET}, "example.com.")
    p._read = {("example.com.", "TXT"): ([("v=spf1 a ~all", rdata("v=spf1 a ~all")), ("x", rdata("x"))], 300),
               ("_dmarc.example.com.", "TXT"): ([], None)}
    return p


def test_one_update_with_exact_prerequisites():
    update, applied = provider().update_message({
        ("example.com.", "TXT"): {"add": ["v=spf1 mx -all"], "remove": ["v=spf1 a ~all"], "ttl": None},
        ("_dmarc.example.com.", "TXT"): {"add": ["v=DMARC1; p=none"], "remove": [], "ttl": 600},
    })
    prereq = {}
    for rrset in update.prerequisite:
        prereq.setdefault((rrset.name.to_text(), rrset.rdclass, rrset.rdtype), []).extend(rrset)
    exact = prereq[("example.com.", dns.rdataclass.IN, dns.rdatatype.TXT)]
    assert sorted(b"".join(r.strings) for r in exact) == [b"v=spf1 a ~all", b"x"]  # value-dependent
    assert ("_dmarc.example.com.", dns.rdataclass.NONE, dns.rdatatype.TXT) in prereq  # RRset must not exist
    # dnspython marks deletions with ``deleting`` (class NONE on the wire).
    changes = [(r.name.to_text(), r.deleting, r.ttl, [b"".join(d.strings) for d in r]) for r in update.update]
    assert ("example.com.", dns.rdataclass.NONE, 0, [b"v=spf1 a ~all"]) in changes
    assert ("example.com.", None, 300, [b"v=spf1 mx -all"]) in changes  # keeps the RRset's TTL
    assert ("_dmarc.example.com.", None, 600, [b"v=DMARC1; p=none"]) in changes
    assert update.keyname.to_text() == "k1."
    assert [a["action"] for a in applied] == ["remove", "add", "add"]


def test_server_is_required():
    with pytest.raises(InputError) as err:
        Rfc2136Provider({}, "example.com.")
    assert err.value.field == "server"


def test_other_types_get_exact_prerequisites_and_a_new_cname_an_empty_name():
    import dns.rdata
    p = provider()
    mx = dns.rdata.from_text(dns.rdataclass.IN, "MX", "10 old.example.com.")
    p._read = {("example.com.", "MX"): ([("10 old.example.com.", mx)], 600),
               ("mta-sts.example.com.", "CNAME"): ([], None)}
    update, applied = p.update_message({
        ("example.com.", "MX"): {"add": ["10 mx.example.com."], "remove": ["10 old.example.com."], "ttl": None},
        ("mta-sts.example.com.", "CNAME"): {"add": ["sts.example.net."], "remove": [], "ttl": None},
    })
    prereq = dict(((r.name.to_text(), r.rdclass, r.rdtype), list(r)) for r in update.prerequisite)
    assert [d.to_text() for d in prereq[("example.com.", dns.rdataclass.IN, dns.rdatatype.MX)]] == ["10 old.example.com."]
    # "name is not in use" (RFC 2136 2.4.5): class NONE, type ANY
    assert ("mta-sts.example.com.", dns.rdataclass.NONE, dns.rdatatype.ANY) in prereq
    adds = [(r.name.to_text(), r.ttl, [d.to_text() for d in r]) for r in update.update if r.deleting is None]
    assert ("example.com.", 600, ["10 mx.example.com."]) in adds
    assert ("mta-sts.example.com.", 3600, ["sts.example.net."]) in adds
    assert [(a["type"], a["action"]) for a in applied] == [("MX", "remove"), ("MX", "add"), ("CNAME", "add")]


def test_dns_txt_applied_entries_carry_no_type(monkeypatch):
    p = provider()
    monkeypatch.setattr(p, "apply_rrsets", lambda changes: [{"name": n, "type": t, "action": "add", "value": "x"}
                                                            for (n, t) in changes])
    assert p.apply({"example.com.": {"add": ["x"], "remove": []}}) == [
        {"name": "example.com.", "action": "add", "value": "x"}]
