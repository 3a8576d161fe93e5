"""dns_txt with provider plesk, through ansible-playbook, against the Plesk test double.

The double (tests/plesk_double) is first on PATH as `plesk`, with its own database; it
logs every call, so check mode and the second run are proved to change nothing.
"""
from ansible_collections.mailauth.hardening.plugins.module_utils._dns.providers.plesk import parse_info
# dkim_value is a fixture: importing it is using it.
from dns_txt_plays import dkim_value, playbook  # noqa: F401 pylint: disable=unused-import
from plesk_double_env import plesk_double, task_results  # noqa: F401  # pylint: disable=unused-import

FOREIGN = "google-site-verification=keep-me"
SPF = "v=spf1 mx a -all"
DMARC = "v=DMARC1; p=quarantine; rua=mailto:agg@example.test"


def plesk_play(args):
    return playbook({"mailauth.hardening.dns_txt": dict({"provider": "plesk"}, **args)})


def txt(double, domain="example.test"):
    return dict((owner, sorted(v for o, t, v in parse_info(double.plesk("bin", "dns", "--info", domain))
                               if o == owner and t == "TXT"))
                for owner, _t, _v in parse_info(double.plesk("bin", "dns", "--info", domain)))


def test_publish_in_plesk_dns(plesk_double, run_playbook, dkim_value):  # noqa: F811
    plesk_double.admin("add-domain", "example.test")
    plesk_double.plesk("bin", "dns", "--add", "example.test", "-txt", FOREIGN, "-domain", "")
    old = txt(plesk_double)
    assert "v=spf1 +a +mx -all" in old["example.test."]  # the double's default zone
    plesk_double.calls()
    book = plesk_play({"zone": "example.test", "records": [
        {"name": "@", "value": SPF}, {"name": "default._domainkey", "value": dkim_value},
        {"name": "_dmarc", "value": DMARC}]})

    rc, data, out = run_playbook(book, check=True, diff=True, extra_env=plesk_double.env)
    assert rc == 0, out
    assert task_results(data)["changed"] is True
    assert plesk_double.changing_calls() == []
    assert txt(plesk_double) == old

    rc, data, out = run_playbook(book, diff=True, extra_env=plesk_double.env)
    assert rc == 0, out
    result = task_results(data)
    assert result["changes"]["example.test."]["removed"] == ["v=spf1 +a +mx -all"]
    now = txt(plesk_double)
    assert now["example.test."] == sorted([FOREIGN, SPF])
    assert now["default._domainkey.example.test."] == [dkim_value]
    assert now["_dmarc.example.test."] == [DMARC]
    calls = plesk_double.changing_calls()
    assert ["bin", "dns", "--add", "example.test", "-txt", SPF, "-domain", ""] in calls
    assert ["bin", "dns", "--del", "example.test", "-txt", "v=spf1 +a +mx -all", "-domain", ""] in calls

    rc, data, out = run_playbook(book, extra_env=plesk_double.env)
    assert rc == 0, out
    assert task_results(data)["changed"] is False
    assert plesk_double.changing_calls() == []


def test_zone_found_and_absent(plesk_double, run_playbook):  # noqa: F811
    plesk_double.admin("add-domain", "example.test")
    book = plesk_play({"records": [{"name": "_dmarc.example.test.", "value": "v=DMARC1; p=none"}], "state": "absent"})
    rc, data, out = run_playbook(book, extra_env=plesk_double.env)
    assert rc == 0, out
    assert task_results(data)["zones"] == ["example.test."]
    assert "_dmarc.example.test." not in txt(plesk_double)


def test_unknown_domain_fails_with_plesk_message(plesk_double, run_playbook):  # noqa: F811
    plesk_double.admin("init")
    rc, data, out = run_playbook(plesk_play({"zone": "nothere.test", "records": [{"name": "@", "value": SPF}]}),
                                 extra_env=plesk_double.env)
    assert rc != 0
    msg = task_results(data)["msg"]
    assert "plesk bin dns --info nothere.test failed" in msg, msg


def test_a_name_holding_a_cname_is_refused_before_any_change(plesk_double, run_playbook):  # noqa: F811
    plesk_double.admin("add-domain", "example.test")
    plesk_double.plesk("bin", "dns", "--add", "example.test", "-cname", "www", "-canonical", "web.example.net")
    before = txt(plesk_double)
    plesk_double.calls()
    book = plesk_play({"zone": "example.test", "records": [{"name": "@", "value": SPF},
                                                           {"name": "www", "value": "v=spf1 -all"}]})
    rc, data, out = run_playbook(book, extra_env=plesk_double.env)
    assert rc != 0
    msg = task_results(data)["msg"]
    assert msg.startswith("records[1].name: www.example.test. holds a CNAME to web.example.net.") and "Fix:" in msg, msg
    assert plesk_double.changing_calls() == []
    assert txt(plesk_double) == before
