"""The dns_record steps with a fake provider: CNAME rules against the zone, types a back end cannot
write, check mode, partial failures, read-back."""
import pytest

from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError
from ansible_collections.mailauth.hardening.plugins.module_utils._dns.errors import NameConflict, ProviderError
from ansible_collections.mailauth.hardening.plugins.module_utils._dns.providers.base import Provider
from ansible_collections.mailauth.hardening.plugins.module_utils._publish import record_task as task
from ansible_collections.mailauth.hardening.plugins.module_utils._publish.dns_txt_task import TaskError

ZONE = "a.test."


class FakeProvider(Provider):
    TYPES = ("TXT", "CNAME", "MX", "A", "AAAA")

    def __init__(self, current, fail=False, ignores=False):
        super().__init__({}, ZONE)
        self.current = current
        self.fail = fail
        self.ignores = ignores
        self.applied = None
        self.closed = False

    def read_rrset(self, name, rtype):
        cnames = self.current.get((name, "CNAME"))
        if cnames and rtype != "CNAME":
            raise NameConflict(name, "cname", cnames[0])
        return list(self.current.get((name, rtype), []))

    def types_at(self, name):
        return set(rtype for (owner, rtype), values in self.current.items() if owner == name and values)

    def apply_rrsets(self, changes):
        if self.fail:
            raise ProviderError("API said no", [{"name": "x.a.test.", "type": "A", "action": "add",
                                                 "value": "192.0.2.1"}], value="192.0.2.2")
        self.applied = changes
        if not self.ignores:
            for key, change in changes.items():
                self.current[key] = [v for v in self.current.get(key, []) if v not in change["remove"]] + change["add"]
        return [{"name": k[0], "type": k[1], "action": "add", "value": v} for k, c in changes.items() for v in c["add"]]

    def close(self):
        self.closed = True


@pytest.fixture
def zone(monkeypatch):
    made = {}

    def open_provider(params, zone_name, adapter=None):
        made["p"] = FakeProvider(params.pop("current"), fail=params.get("fail"), ignores=params.get("ignores"))
        return made["p"]

    monkeypatch.setattr(task, "open_provider", open_provider)
    monkeypatch.setattr(task, "provider_class", lambda name: FakeProvider)
    return made


def params(records, current=None, **extra):
    base = {"provider": "fake", "zone": "a.test", "state": "present", "ttl": None, "records": records,
            "current": dict(current or {})}
    base.update(extra)
    return base


def test_create_check_mode_and_no_change(zone):
    records = [{"name": "mta-sts", "type": "CNAME", "value": "sts.example.net."},
               {"name": "@", "type": "MX", "value": "10 mx.a.test."}]
    out = task.publish(params(records), check_mode=True)
    assert out["changed"] is True and out["applied"] == [] and zone["p"].applied is None and zone["p"].closed
    assert sorted(out["changes"]) == ["a.test. MX", "mta-sts.a.test. CNAME"]
    current = {}
    out = task.publish(params(records, current), check_mode=False)
    assert {(a["name"], a["type"]) for a in out["applied"]} == {("mta-sts.a.test.", "CNAME"), ("a.test.", "MX")}
    again = task.publish(params(records, zone["p"].current), check_mode=False)
    assert again["changed"] is False and again["changes"] == {}


def test_a_cname_at_a_name_with_other_records_is_refused_before_anything_is_sent(zone):
    current = {("mta-sts.a.test.", "A"): ["192.0.2.1"]}
    with pytest.raises(InputError) as err:
        task.publish(params([{"name": "mta-sts", "type": "CNAME", "value": "sts.example.net."}], current), False)
    assert err.value.field == "records[0].name" and "holds A records" in str(err.value)
    assert zone["p"].applied is None and zone["p"].closed


def test_a_record_at_a_name_holding_a_cname_is_refused_and_absent_has_nothing_to_remove(zone):
    current = {("mta-sts.a.test.", "CNAME"): ["sts.example.net."]}
    records = [{"name": "mta-sts", "type": "A", "value": "192.0.2.1"}]
    with pytest.raises(InputError) as err:
        task.publish(params(records, current), False)
    assert err.value.field == "records[0].name" and "a A value there is ignored" in str(err.value)
    out = task.publish(params(records, current, state="absent"), False)
    assert out["changed"] is False


def test_a_cname_is_replaced_when_the_name_holds_only_the_old_cname(zone):
    current = {("s1._domainkey.a.test.", "CNAME"): ["old.esp.example."]}
    out = task.publish(params([{"name": "s1._domainkey", "type": "CNAME", "value": "new.esp.example."}], current), False)
    assert out["changes"]["s1._domainkey.a.test. CNAME"]["removed"] == ["old.esp.example."]


def test_a_type_the_back_end_cannot_write_is_refused_naming_provider_and_record(zone):
    records = [{"name": "@", "type": "A", "value": "192.0.2.1"},
               {"name": "_25._tcp.mx", "type": "TLSA", "value": "3 1 1 " + "a" * 64}]
    with pytest.raises(InputError) as err:
        task.publish(params(records), False)
    assert err.value.field == "records[1].type" and "provider fake cannot write TLSA" in str(err.value)
    assert "p" not in zone  # nothing opened


def test_domain_limits_names_and_mx_hosts_allow_their_tlsa():
    tlsa = {"name": "_25._tcp.mx.a.test.", "type": "TLSA", "value": "3 1 1 " + "a" * 64}
    with pytest.raises(InputError) as err:
        task.checked_rrsets(params([tlsa], provider="rfc2136", domain="a.test"))
    assert err.value.field == "records[0].name"
    assert task.checked_rrsets(params([tlsa], provider="rfc2136", domain="a.test", mx_hosts=["mx.a.test"]))


def test_a_failure_reports_what_was_applied_and_names_the_record(zone):
    records = [{"name": "x", "type": "A", "value": "192.0.2.1"}, {"name": "y", "type": "A", "value": "192.0.2.2"}]
    with pytest.raises(TaskError) as err:
        task.publish(params(records, fail=True), False)
    assert str(err.value).startswith("records[1].value: API said no")
    assert err.value.result["changed"] is True and len(err.value.result["applied"]) == 1


def test_a_change_the_primary_does_not_serve_fails_the_read_back(zone):
    with pytest.raises(TaskError) as err:
        task.publish(params([{"name": "x", "type": "AAAA", "value": "2001:db8::1"}], ignores=True), False)
    assert "x.a.test. AAAA lacks '2001:db8::1'" in str(err.value)
    assert err.value.result["applied"] == []


def test_txt_findings_come_from_the_txt_records_only(zone):
    records = [{"name": "_dmarc", "type": "TXT", "value": "v=DMARC1; p=none; pct=50"},
               {"name": "@", "type": "A", "value": "192.0.2.1"}]
    out = task.publish(params(records), True)
    assert [(f["field"], f["check"]) for f in out["findings"]] == [("records[0].value", "dmarc.obsolete")]
