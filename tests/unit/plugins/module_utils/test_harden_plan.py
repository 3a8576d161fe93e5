"""Unit tests of the per-domain plan the harden gates and the publishing work from (_harden_plan)."""
import pytest

from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError
from ansible_collections.mailauth.hardening.plugins.module_utils._plan.harden_plan import harden_plan

DNS = {"provider": "rfc2136", "zone": "example.com", "server": "192.0.2.53", "credentials": "lab"}
DOMAIN = {"name": "example.com", "dns": DNS, "spf": {"mechanisms": ["mx"], "all": "fail"},
          "dkim": [{"selector": "s1"}], "dmarc": {"p": "reject"}}


def key(selector, record, domain="example.com", **extra):
    result = {"domain": domain, "selector": selector, "dns_name": "%s._domainkey.%s" % (selector, domain),
              "record": record, "public_key": record.split("p=")[-1]}
    result.update(extra)
    return result


def host(name, path="postfix", domains=(DOMAIN,), keys=(), ips=("203.0.113.10",)):
    return {"host": name, "path": path, "domains": list(domains), "dkim_keys": list(keys), "sending_ips": list(ips)}


def test_one_host_one_domain():
    [plan] = harden_plan([host("mx1", keys=[key("s1", "v=DKIM1; k=rsa; p=AAAA")])])
    assert plan["name"] == "example.com" and plan["dns"] == DNS and plan["dmarc"] == {"p": "reject"}
    assert "dkim" not in plan
    assert plan["hosts"] == ["mx1"] and plan["paths"] == ["postfix"] and plan["publish"] is True
    assert plan["sending_ips"] == ["203.0.113.10"]
    assert plan["dkim_records"] == [{"domain": "example.com", "selector": "s1", "dns_name": "s1._domainkey.example.com",
                                     "record": "v=DKIM1; k=rsa; p=AAAA", "public_key": "AAAA",
                                     "hosts": ["mx1"], "path": "postfix"}]


def test_a_shared_domain_gets_every_hosts_keys_and_addresses_once():
    mx1 = host("mx1", domains=[dict(DOMAIN, dkim=[{"selector": "a"}])], keys=[key("a", "v=DKIM1; p=AAAA")])
    mx2 = host("mx2", domains=[dict(DOMAIN, dkim=[{"selector": "b"}])], keys=[key("b", "v=DKIM1; p=BBBB")],
               ips=["203.0.113.11", "2001:db8::11", "203.0.113.10"])
    [plan] = harden_plan([mx1, mx2])
    assert plan["hosts"] == ["mx1", "mx2"]
    assert plan["sending_ips"] == ["203.0.113.10", "203.0.113.11", "2001:db8::11"]
    assert [(r["selector"], r["hosts"]) for r in plan["dkim_records"]] == [("a", ["mx1"]), ("b", ["mx2"])]


def test_the_same_key_on_two_hosts_is_one_record():
    same = key("s1", "v=DKIM1; p=AAAA")
    [plan] = harden_plan([host("mx1", keys=[same]), host("mx2", keys=[dict(same)])])
    assert [r["hosts"] for r in plan["dkim_records"]] == [["mx1", "mx2"]]


def test_two_keys_under_one_selector_are_refused_naming_both_hosts():
    with pytest.raises(InputError) as err:
        harden_plan([host("mx1", keys=[key("s1", "v=DKIM1; p=AAAA")]), host("mx2", keys=[key("s1", "v=DKIM1; p=BBBB")])])
    assert "mx1 and mx2 hold different keys for s1._domainkey.example.com" in str(err.value)
    assert "delete mx2's key file for s1._domainkey.example.com and run again, and harden copies it" in err.value.fix


def test_only_the_keys_a_host_signs_with_in_its_rotation_phase_are_published():
    old, new = key("s1", "v=DKIM1; p=OLD"), key("s2", "v=DKIM1; p=NEW")
    # Started: both keys held, the old one signs; the new one waits for its rotation.
    [plan] = harden_plan([host("mx1", keys=[old, new]) | {"dkim_signing": [{"domain": "Example.com.", "selector": "S1"}]}])
    assert [r["selector"] for r in plan["dkim_records"]] == ["s1"]
    # Switched: only the new one.
    [plan] = harden_plan([host("mx1", keys=[new]) | {"dkim_signing": [{"domain": "example.com", "selector": "s2"}]}])
    assert [r["selector"] for r in plan["dkim_records"]] == ["s2"]
    with pytest.raises(InputError) as err:
        harden_plan([host("mx1", keys=[old]) | {"dkim_signing": ["s1._domainkey.example.com"]}])
    assert err.value.field == "hosts[0].dkim_signing"


def test_a_domain_defined_differently_on_two_hosts_is_refused():
    other = dict(DOMAIN, dmarc={"p": "none"})
    with pytest.raises(InputError) as err:
        harden_plan([host("mx1"), host("mx2", domains=[other])])
    assert err.value.field == "mailauth_domains[0] of mx2.dmarc"
    assert "defined differently on mx1 and mx2" in str(err.value)


def test_the_domains_own_sending_ips_replace_the_hosts():
    [plan] = harden_plan([host("mx1", domains=[dict(DOMAIN, sending_ips=[])])])
    assert plan["sending_ips"] == []
    [plan] = harden_plan([host("mx1", domains=[dict(DOMAIN, sending_ips=["::ffff:192.0.2.1"])])])
    assert plan["sending_ips"] == ["192.0.2.1"]


def test_plesk_served_domains_on_the_plesk_path_are_not_published_from_the_controller():
    plesk_dns = dict(DOMAIN, dns={"provider": "plesk"})
    plans = harden_plan([host("p1", path="plesk", domains=[plesk_dns, dict(DOMAIN, name="ext.example")])])
    assert [(p["name"], p["publish"]) for p in plans] == [("example.com", False), ("ext.example", True)]
    # On the Postfix path a plesk provider is just another DNS provider.
    assert harden_plan([host("mx1", domains=[plesk_dns])])[0]["publish"] is True


def test_keys_without_a_record_are_skipped_and_plesk_keys_use_the_record_as_public_key():
    plesk_key = {"domain": "example.com", "selector": "default", "dns_name": "default._domainkey.example.com",
                 "record": "v=DKIM1; k=rsa; p=CCCC"}
    [plan] = harden_plan([host("p1", path="plesk", keys=[{"domain": "example.com", "selector": "x", "record": None},
                                                         plesk_key, {"skipped": True}])])
    [record] = plan["dkim_records"]
    assert record["public_key"] == "v=DKIM1; k=rsa; p=CCCC" and record["path"] == "plesk"


@pytest.mark.parametrize("hosts, field", [
    ([host("mx1", path="exim")], "hosts[0].path"),
    ([host("mx1", ips=["300.1.1.1"])], "mailauth_sending_ips of mx1[0]"),
    ([host("mx1", domains=[{"name": "example.com"}])], "mailauth_domains[0] of mx1.dns"),
    ([host("mx1", domains=[dict(DOMAIN, dns=dict(DNS, key_secret="s3cret"))])], "mailauth_domains[0] of mx1.dns.key_secret"),
    ([host("mx1", domains=[dict(DOMAIN, name="not a name")])], "mailauth_domains[0] of mx1.name"),
    ([host("mx1", domains=[dict(DOMAIN, sending_ips="192.0.2.1")])], "sending_ips of example.com"),
])
def test_bad_input_names_the_field(hosts, field):
    with pytest.raises(InputError) as err:
        harden_plan(hosts)
    assert err.value.field == field
    assert "s3cret" not in str(err.value)
