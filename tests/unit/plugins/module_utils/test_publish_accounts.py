"""One dns_txt task per provider account: grouping the domains' records, secrets by name only."""
import pytest

from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError
from ansible_collections.mailauth.hardening.plugins.module_utils._publish.accounts import dns_accounts

LAB = {"provider": "rfc2136", "server": "192.0.2.53", "key_name": "tsig", "credentials": "lab"}
DOMAINS = [
    {"name": "a.test", "dns": dict(LAB, zone="a.test")},
    {"name": "mail.b.test", "dns": dict(LAB, zone="b.test", ttl=300)},  # below its zone
    {"name": "c.test", "dns": {"provider": "powerdns", "nameservers": ["192.0.2.54"]}},
    {"name": "d.test", "dns": dict(LAB)},
]


def records(domain, *names):
    return {"domain": domain, "records": [{"name": n, "value": "v=DMARC1; p=none"} for n in names]}


def test_domains_of_one_account_share_one_task_and_records_carry_domain_zone_ttl():
    changes = [records("a.test", "_dmarc.a.test."), records("c.test", "_dmarc.c.test."),
               records("mail.b.test", "_dmarc.mail.b.test."), records("D.test.", "_dmarc.d.test.")]
    accounts = dns_accounts(changes, DOMAINS, ["lab", "c.test"])
    assert [a["domains"] for a in accounts] == [["a.test", "mail.b.test", "d.test"], ["c.test"]]
    lab, pdns = accounts
    assert dict((k, v) for k, v in lab.items() if k not in ("domains", "records")) == {
        "provider": "rfc2136", "server": "192.0.2.53", "key_name": "tsig", "credentials": "lab", "state": "present"}
    assert lab["records"] == [
        {"name": "_dmarc.a.test.", "value": "v=DMARC1; p=none", "domain": "a.test", "zone": "a.test"},
        {"name": "_dmarc.mail.b.test.", "value": "v=DMARC1; p=none", "domain": "mail.b.test", "zone": "b.test", "ttl": 300},
        {"name": "_dmarc.d.test.", "value": "v=DMARC1; p=none", "domain": "d.test"}]
    assert pdns["credentials"] == "c.test" and pdns["nameservers"] == ["192.0.2.54"]


def test_a_missing_credentials_entry_is_no_secret_and_other_entries_split_accounts():
    domains = [{"name": "a.test", "dns": {"provider": "rfc2136", "server": "s"}},
               {"name": "b.test", "dns": {"provider": "rfc2136", "server": "s"}},
               {"name": "c.test", "dns": {"provider": "rfc2136", "server": "s", "credentials": "other"}}]
    changes = [records(d["name"], "_dmarc.%s." % d["name"]) for d in domains]
    assert [a["domains"] for a in dns_accounts(changes, domains)] == [["a.test", "b.test", "c.test"]]
    split = dns_accounts(changes, domains, ["a.test", "other"])
    assert [(a.get("credentials"), a["domains"]) for a in split] == [
        ("a.test", ["a.test"]), (None, ["b.test"]), ("other", ["c.test"])]


def test_states_are_separate_tasks_and_empty_changes_left_out():
    changes = [dict(records("a.test", "s1._domainkey.a.test."), state="absent"), records("d.test", "s2._domainkey.d.test."),
               records("a.test"),
               {"domain": "a.test", "records": [{"name": "a.test.", "value": "v=spf1 -all", "ttl": 60, "zone": "x.test"}]}]
    accounts = dns_accounts(changes, DOMAINS, ["lab"])
    assert [(a["state"], a["domains"]) for a in accounts] == [("absent", ["a.test"]), ("present", ["d.test", "a.test"])]
    assert accounts[1]["records"][1] == {"name": "a.test.", "value": "v=spf1 -all", "ttl": 60, "zone": "x.test",
                                         "domain": "a.test"}


def test_the_first_entry_of_a_domain_listed_twice_counts():
    domains = DOMAINS + [{"name": "A.TEST", "dns": {"provider": "plesk"}}]
    assert dns_accounts([records("a.test", "a.test.")], domains)[0]["provider"] == "rfc2136"


@pytest.mark.parametrize("changes, domains, field", [
    ([records("x.test", "x.test.")], DOMAINS, "changes[0].domain"),
    ([{"domain": "a.test", "records": "a.test."}], DOMAINS, "changes[0].records"),
    ([dict(records("a.test", "a.test."), state="gone")], DOMAINS, "changes[0].state"),
    ([], [{"name": "a.test"}], "mailauth_domains[0].dns.provider"),
    ([], [{"dns": LAB}], "mailauth_domains[0].name"),
    ("a.test", DOMAINS, "changes"),
    ([], {"a.test": LAB}, "mailauth_domains"),
])
def test_bad_input_names_the_field(changes, domains, field):
    with pytest.raises(InputError) as err:
        dns_accounts(changes, domains)
    assert err.value.field == field and err.value.fix
