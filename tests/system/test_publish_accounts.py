"""The roles' one publish path on an inventory unlike the other fixtures: two BIND servers with their own
TSIG keys (two provider accounts), a domain below its zone next to the zone's own domain, a zone found
rather than given, two hosts sharing a selector, and a rotated selector (old and new key both published).

The dns_records role must call dns_txt once per account - not once per domain - and still write each
record only at its own domain's names, leaving the parent's records alone, with no secret in the output.
"""
import pytest
from dns_servers import run_named, served_txt, zone_records, zone_text
from dns_txt_plays import playbook, results

PARENT_TXT = ("@ IN TXT \"v=spf1 a -all\"", "@ IN TXT \"site-verification=parent\"",
              "_dmarc IN TXT \"v=DMARC1; p=reject\"")
KEYS = {"old": "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=",
        "new": "v=DKIM1; k=ed25519; p=nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A="}


@pytest.fixture
def servers(tmp_path):
    with run_named({"a.test": zone_text("a.test"), "b.test": zone_text("b.test")}, directory=tmp_path / "one") as one, \
            run_named({"c.test": zone_text("c.test", PARENT_TXT)}, key_name="other-key", directory=tmp_path / "two") as two:
        yield one, two


def inventory(one, two):
    first = {"provider": "rfc2136", "server": one.address, "key_name": one.key_name, "credentials": "first"}
    second = {"provider": "rfc2136", "server": two.address, "key_name": two.key_name, "credentials": "second"}
    spf = {"mechanisms": ["mx"], "all": "fail"}
    domains = [
        {"name": "a.test", "dns": dict(first, zone="a.test"), "spf": spf, "dmarc": {"p": "none"}},
        {"name": "mail.c.test", "dns": dict(second, ttl=300), "spf": spf, "dmarc": {"p": "quarantine"}},  # zone found
        {"name": "b.test", "dns": dict(first, zone="b.test"), "dmarc": {"p": "reject"}},
    ]
    keys = [
        {"domain": "a.test", "selector": "s1", "record": KEYS["old"], "host": "mx1"},
        {"domain": "a.test", "selector": "s1", "record": KEYS["old"], "host": "mx2"},  # hosts sharing a selector
        {"domain": "a.test", "selector": "s2", "record": KEYS["new"], "host": "mx1"},  # the rotation's new selector
        {"domain": "mail.c.test", "selector": "s1", "record": KEYS["new"], "host": "mx3"},
    ]
    secrets = {"first": {"key_secret": one.key_secret}, "second": {"key_secret": two.key_secret}}
    return playbook({"name": "Publish", "ansible.builtin.include_role": {"name": "mailauth.hardening.dns_records"}},
                    vars={"mailauth_domains": domains, "mailauth_dkim_records": keys, "mailauth_dns_secrets": secrets,
                          "mailauth_dns_wait": False, "ansible_python_interpreter": "{{ ansible_playbook_python }}"})


def publish_results(data):
    [task_result] = [r for r in results(data) if "results" in r]
    return task_result["results"]


WANTED = {
    ("one", "a.test."): ["v=spf1 mx -all"],
    ("one", "s1._domainkey.a.test."): [KEYS["old"]],
    ("one", "s2._domainkey.a.test."): [KEYS["new"]],
    ("one", "_dmarc.a.test."): ["v=DMARC1; p=none"],
    ("one", "_dmarc.b.test."): ["v=DMARC1; p=reject"],
    ("two", "mail.c.test."): ["v=spf1 mx -all"],
    ("two", "s1._domainkey.mail.c.test."): [KEYS["new"]],
    ("two", "_dmarc.mail.c.test."): ["v=DMARC1; p=quarantine"],
}


def test_one_task_per_account_each_record_at_its_own_domains_names(servers, run_playbook):
    one, two = servers
    parent = zone_records(two, "c.test")
    book = inventory(one, two)

    rc, data, out = run_playbook(book, diff=True)
    assert rc == 0, out
    published = publish_results(data)
    assert [sorted(r["zones"]) for r in published] == [["a.test.", "b.test."], ["c.test."]]
    assert [r["account"]["domains"] for r in published] == [["a.test", "b.test"], ["mail.c.test"]]
    for (server, name), values in WANTED.items():
        assert served_txt({"one": one, "two": two}[server], name)[0] == values, name
    after = zone_records(two, "c.test")
    assert dict((k, v) for k, v in after.items() if k[0].endswith("mail.c.test.")) != {}
    assert dict((k, v) for k, v in after.items() if not k[0].endswith("mail.c.test.")) == parent, "the parent changed"
    assert after[("mail.c.test.", "TXT")] == ["v=spf1 mx -all"]
    for secret in (one.key_secret, two.key_secret):
        assert secret not in out

    rc, data, out = run_playbook(book, diff=True)
    assert rc == 0, out
    assert data["stats"]["localhost"]["changed"] == 0


def test_a_record_outside_its_domain_is_refused_before_anything_is_sent(servers, run_playbook):
    one, _two = servers
    before = zone_records(one, "a.test")
    task = {"name": "Publish", "ansible.builtin.include_role": {"name": "mailauth.hardening.dns_records",
                                                                "tasks_from": "publish"}}
    domains = [{"name": "mail.a.test", "dns": {"provider": "rfc2136", "server": one.address, "key_name": one.key_name,
                                               "credentials": "first"}}]
    book = playbook(task, vars={"mailauth_domains": domains, "mailauth_dns_wait": False,
                                "mailauth_dns_secrets": {"first": {"key_secret": one.key_secret}},
                                "mailauth_dns_changes": [{"domain": "mail.a.test", "records": [
                                    {"name": "_dmarc.mail.a.test.", "value": "v=DMARC1; p=none"},
                                    {"name": "_dmarc.a.test.", "value": "v=DMARC1; p=none"}]}],
                                "ansible_python_interpreter": "{{ ansible_playbook_python }}"})
    rc, _data, out = run_playbook(book)
    assert rc != 0
    assert "records[1].name" in out and "is not one of the names of domain mail.a.test" in out
    assert zone_records(one, "a.test") == before
    assert one.key_secret not in out
