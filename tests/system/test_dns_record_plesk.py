"""dns_record with provider plesk, through ansible-playbook, against the Plesk test double
(tests/plesk_double; its -a/-aaaa/-cname/-mx spellings are marked [guess] in its README)."""
from ansible_collections.mailauth.hardening.plugins.module_utils._dns.providers.plesk import info_value, parse_info
from dns_txt_plays import playbook
from plesk_double_env import plesk_double, task_results  # noqa: F401  # pylint: disable=unused-import


def plesk_play(args):
    return playbook({"mailauth.hardening.dns_record": dict({"provider": "plesk"}, **args)})


def records(double, rtype, owner, domain="example.test"):
    return sorted(info_value(t, v) for o, t, v in parse_info(double.plesk("bin", "dns", "--info", domain))
                  if o == owner and t == rtype)


def test_mx_a_aaaa_cname_in_plesk_dns(plesk_double, run_playbook):  # noqa: F811
    plesk_double.admin("add-domain", "example.test")
    plesk_double.calls()
    book = plesk_play({"zone": "example.test", "records": [
        {"name": "@", "type": "MX", "value": "5 mx.example.test."},
        {"name": "mx", "type": "A", "value": "192.0.2.25"},
        {"name": "mx", "type": "AAAA", "value": "2001:db8::25"},
        {"name": "mta-sts", "type": "CNAME", "value": "sts.example.net."}]})

    rc, data, out = run_playbook(book, check=True, diff=True, extra_env=plesk_double.env)
    assert rc == 0, out
    assert task_results(data)["changed"] is True
    assert plesk_double.changing_calls() == []

    rc, data, out = run_playbook(book, extra_env=plesk_double.env)
    assert rc == 0, out
    assert records(plesk_double, "MX", "example.test.") == ["5 mx.example.test."]
    assert records(plesk_double, "A", "mx.example.test.") == ["192.0.2.25"]
    assert records(plesk_double, "AAAA", "mx.example.test.") == ["2001:db8::25"]
    assert records(plesk_double, "CNAME", "mta-sts.example.test.") == ["sts.example.net."]
    calls = plesk_double.changing_calls()
    assert ["bin", "dns", "--add", "example.test", "-mx", "", "-mailexchanger", "mx.example.test",
            "-priority", "5"] in calls
    assert ["bin", "dns", "--add", "example.test", "-cname", "mta-sts", "-canonical", "sts.example.net"] in calls

    rc, data, out = run_playbook(book, extra_env=plesk_double.env)
    assert rc == 0, out
    assert task_results(data)["changed"] is False
    assert plesk_double.changing_calls() == []


def test_tlsa_is_refused_before_anything_is_run(plesk_double, run_playbook):  # noqa: F811
    plesk_double.admin("add-domain", "example.test")
    plesk_double.calls()
    rc, data, out = run_playbook(plesk_play({"zone": "example.test", "records": [
        {"name": "mx", "type": "A", "value": "192.0.2.25"},
        {"name": "_25._tcp.mx", "type": "TLSA", "value": "3 1 1 " + "ab" * 32}]}), extra_env=plesk_double.env)
    assert rc != 0
    msg = task_results(data)["msg"]
    assert msg.startswith("records[1].type: provider plesk cannot write TLSA") and "rfc2136" in msg, msg
    assert plesk_double.calls() == []
