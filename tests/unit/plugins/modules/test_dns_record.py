"""dns_record module in-process: its argument spec, bad input named before any server is asked,
and the result shapes (changes keyed 'name TYPE', diff headers) with a fake back end."""
from ansible_collections.mailauth.hardening.plugins.module_utils._publish import record_task
from ansible_collections.mailauth.hardening.plugins.modules import dns_record

TLSA = "3 1 1 " + "ab" * 32


class Fake(object):
    zone = "example.com."

    def __init__(self):
        self.rrsets = {}

    def check_wanted(self, item):
        return None

    def read_rrset(self, name, rtype):
        return list(self.rrsets.get((name, rtype), []))

    def types_at(self, name):
        return set()

    def apply_rrsets(self, changes):
        raise AssertionError("check mode applied %r" % changes)

    def close(self):
        return None


def test_check_mode_reports_rrsets_and_diff_headers(run_main, monkeypatch):
    monkeypatch.setattr(record_task, "open_provider", lambda params, zone, adapter=None: Fake())
    failed, result = run_main(dns_record.main, check=True, _ansible_diff=True, provider="rfc2136", server="192.0.2.53",
                              zone="example.com", records=[
                                  {"name": "_25._tcp.mx", "type": "TLSA", "value": TLSA},
                                  {"name": "mta-sts", "type": "CNAME", "value": "sts.example.net."}])
    assert not failed, result
    assert result["changed"] is True and result["applied"] == []
    assert sorted(result["changes"]) == ["_25._tcp.mx.example.com. TLSA", "mta-sts.example.com. CNAME"]
    assert [d["before_header"] for d in result["diff"]] == ["_25._tcp.mx.example.com. TLSA", "mta-sts.example.com. CNAME"]


def never_opened(params, zone, adapter=None):
    raise AssertionError("a provider was opened for bad input")


def test_bad_values_are_refused_naming_the_field(run_main, monkeypatch):
    monkeypatch.setattr(record_task, "open_provider", never_opened)
    failed, result = run_main(dns_record.main, provider="rfc2136", server="192.0.2.53", zone="example.com", records=[
        {"name": "@", "type": "MX", "value": "10 mx.example.com."},
        {"name": "@", "type": "A", "value": "192.0.2.1"},
        {"name": "_25._tcp.mx", "type": "TLSA", "value": "3 1 1 abcd"}])
    assert failed and result["msg"].startswith("records[2].value: the data has 4 hex digits")
    assert "Fix:" in result["msg"]
