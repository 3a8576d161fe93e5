"""dkimpy-milter's tables from the keys to sign with."""
from ansible_collections.mailauth.hardening.plugins.module_utils._dkim.dkimpy_tables import dkimpy_tables


def key(domain, selector, key_type):
    return {"domain": domain, "selector": selector, "type": key_type, "bits": 256,
            "dns_name": "%s._domainkey.%s" % (selector, domain)}


def test_both_types_of_a_domain_share_one_key_name():
    tables = dkimpy_tables([key("a.test", "s1", "rsa"), key("a.test", "e1", "ed25519")], "/keys/")
    assert tables["signing"] == [("*@a.test", "a.test"), ("*@mailauth.invalid", "mailauth.invalid")]
    assert tables["rsa"][0] == ("a.test", "a.test", "s1", "/keys/a.test/s1.private")
    assert tables["ed25519"][0] == ("a.test", "a.test", "e1", "/keys/a.test/e1.dkimpy")
    assert tables["left_out"] == [] and len(tables["keys"]) == 2


def test_a_type_without_a_published_key_points_at_no_key():
    # dkimpy-milter fails every message of a domain whose key name is missing from a table.
    tables = dkimpy_tables([key("a.test", "s1", "rsa"), key("b.test", "e1", "ed25519")], "/keys")
    assert ("a.test", "a.test", "-", "/dev/null") in tables["ed25519"]
    assert ("b.test", "b.test", "-", "/dev/null") in tables["rsa"]
    assert [row[0] for row in tables["rsa"]] == [row[0] for row in tables["ed25519"]] == ["a.test", "b.test", "mailauth.invalid"]


def test_one_key_per_type_and_domain_the_first_listed():
    keys = [key("a.test", "s1", "rsa"), key("a.test", "s2", "rsa"), key("A.test", "e1", "ed25519")]
    tables = dkimpy_tables(keys, "/keys")
    assert [k["selector"] for k in tables["keys"]] == ["s1", "e1"]
    assert [k["selector"] for k in tables["left_out"]] == ["s2"]
    assert tables["signing"][0] == ("*@a.test", "a.test") and len(tables["signing"]) == 2


def test_no_keys_still_gives_tables_with_an_entry():
    # A table without entries stops dkimpy-milter from starting.
    tables = dkimpy_tables([], "/keys")
    for name in ("signing", "rsa", "ed25519"):
        assert len(tables[name]) == 1 and "mailauth.invalid" in tables[name][0]
