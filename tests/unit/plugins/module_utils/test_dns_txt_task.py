"""The dns_txt steps with fake providers: grouping by zone, check mode, partial failures."""
import pytest

from ansible_collections.mailauth.hardening.plugins.module_utils._publish import dns_txt_task as task
from ansible_collections.mailauth.hardening.plugins.module_utils._dns.errors import NameConflict, ProviderError
from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError


class FakeProvider(object):
    def __init__(self, zone, current, fail=False, cnames=(), ignores=False):
        self.zone = zone
        self.current = current
        self.fail = fail
        self.cnames = cnames
        self.ignores = ignores
        self.applied = None
        self.closed = False

    def read(self, name):
        if name in self.cnames:
            raise NameConflict(name, "cname", "target.example.")
        return list(self.current.get(name, []))

    def apply(self, changes):
        if self.fail:
            raise ProviderError("DNS server 192.0.2.53:53, update of zone %s: REFUSED." % self.zone, value="v=DMARC1; p=none")
        self.applied = changes
        if self.ignores:  # accepted, not applied
            return [{"name": n, "action": "add", "value": v} for n, c in changes.items() for v in c["add"]]
        for name, change in changes.items():
            self.current[name] = [v for v in self.current.get(name, []) if v not in change["remove"]] + change["add"]
        return [{"name": n, "action": "add", "value": v} for n, c in changes.items() for v in c["add"]]

    def close(self):
        self.closed = True


@pytest.fixture
def providers(monkeypatch):
    made = {}
    zones = {"_dmarc.a.test.": "a.test.", "_dmarc.b.test.": "b.test.", "a.test.": "a.test."}

    def open_provider(params, zone, adapter=None):
        made[zone] = FakeProvider(zone, {"a.test.": ["v=spf1 a ~all"]}, fail=zone in params.get("fail_zones", ()),
                                  cnames=params.get("cnames", ()), ignores=zone in params.get("ignoring_zones", ()))
        return made[zone]

    monkeypatch.setattr(task, "open_provider", open_provider)
    monkeypatch.setattr(task, "find_zone", lambda params, name, adapter=None: zones[name])
    return made


def params(**extra):
    base = {"provider": "rfc2136", "zone": None, "state": "present", "ttl": None, "records": [
        {"name": "a.test.", "value": "v=spf1 mx -all", "ttl": None},
        {"name": "_dmarc.a.test.", "value": "v=DMARC1; p=none", "ttl": None},
        {"name": "_dmarc.b.test.", "value": "v=DMARC1; p=none", "ttl": None}]}
    base.update(extra)
    return base


def test_names_are_grouped_by_zone_and_each_provider_closed(providers):
    result = task.publish(params(), check_mode=False)
    assert result["zones"] == ["a.test.", "b.test."]
    assert sorted(result["changes"]) == ["_dmarc.a.test.", "_dmarc.b.test.", "a.test."]
    assert result["changes"]["a.test."]["removed"] == ["v=spf1 a ~all"]
    assert all(p.closed for p in providers.values())


def test_check_mode_applies_nothing(providers):
    result = task.publish(params(), check_mode=True)
    assert result["changed"] is True and result["applied"] == []
    assert all(p.applied is None for p in providers.values())


def test_failure_in_the_second_zone_reports_the_first(providers):
    with pytest.raises(task.TaskError) as err:
        task.publish(params(fail_zones=("b.test.",)), check_mode=False)
    assert "REFUSED" in str(err.value)
    assert str(err.value).startswith("records[1].value: ")  # the back end said which value failed
    assert [a["name"] for a in err.value.result["applied"]] == ["a.test.", "_dmarc.a.test."]
    assert err.value.result["changed"] is True


def test_provider_is_required():
    with pytest.raises(InputError) as err:
        task.publish(params(provider=None), check_mode=False)
    assert err.value.field == "provider"


def test_a_name_outside_the_domain_is_refused_before_any_zone_is_looked_up(providers, monkeypatch):
    looked_up = []
    monkeypatch.setattr(task, "find_zone", lambda params, name, adapter=None: looked_up.append(name))
    with pytest.raises(InputError) as err:
        task.publish(params(domain="a.test"), check_mode=False)
    assert err.value.field == "records[2].name" and "_dmarc.b.test." in str(err.value)
    assert looked_up == [] and providers == {}


def test_the_domains_own_names_pass(providers):
    records = params()["records"][:2]
    result = task.publish(params(domain="a.test.", records=records), check_mode=False)
    assert result["zones"] == ["a.test."]


def test_a_cname_in_any_zone_is_refused_before_anything_is_applied(providers):
    with pytest.raises(InputError) as err:
        task.publish(params(cnames=("_dmarc.b.test.",)), check_mode=False)
    assert err.value.field == "records[2].name"
    assert "holds a CNAME to target.example." in err.value.problem and "target.example." in err.value.fix
    assert all(p.applied is None for p in providers.values()) and all(p.closed for p in providers.values())


def test_absent_at_a_cname_has_nothing_to_remove(providers):
    result = task.publish(params(cnames=("_dmarc.b.test.",), state="absent"), check_mode=False)
    assert "_dmarc.b.test." not in result["changes"]


def test_a_change_the_primary_does_not_serve_fails_naming_it(providers):
    with pytest.raises(task.TaskError) as err:
        task.publish(params(ignoring_zones=("b.test.",)), check_mode=False)
    assert "does not serve it: _dmarc.b.test. lacks 'v=DMARC1; p=none'" in str(err.value)
    assert [a["name"] for a in err.value.result["applied"]] == ["a.test.", "_dmarc.a.test."]


def test_broken_values_are_refused_before_any_provider_is_opened(providers):
    bad = params()
    bad["records"][2]["value"] = "v=DMARC1; p=rejetc"
    with pytest.raises(InputError) as err:
        task.publish(bad, check_mode=True)
    assert err.value.field == "records[2].value" and providers == {}


@pytest.mark.parametrize("option, value", [
    ("port", 99999), ("port", 0), ("wait_port", 70000), ("timeout", -1.0), ("timeout", 0), ("timeout", float("nan")),
    ("wait_timeout", -5), ("wait_interval", -1.0), ("wait_interval", 0),
])
def test_numbers_out_of_range_are_bad_input_naming_the_option(providers, option, value):
    with pytest.raises(InputError) as err:
        task.publish(params(**{option: value}), check_mode=True)
    assert err.value.field == option and providers == {}


def test_each_record_is_checked_against_its_own_domain(providers):
    records = [{"name": "a.test.", "value": "v=spf1 mx -all", "domain": "a.test"},
               {"name": "_dmarc.mail.b.test.", "value": "v=DMARC1; p=none", "domain": "mail.b.test"},
               {"name": "_dmarc.b.test.", "value": "v=DMARC1; p=none", "domain": "mail.b.test"}]
    with pytest.raises(InputError) as err:
        task.checked_records(params(records=records))
    assert err.value.field == "records[2].name"
    assert "mail.b.test" in str(err.value) and "domain" in str(err.value)
    assert providers == {}


def test_a_record_domain_overrides_the_tasks(providers):
    records = [{"name": "_dmarc.b.test.", "value": "v=DMARC1; p=none", "domain": "b.test"},
               {"name": "a.test.", "value": "v=spf1 mx -all"}]
    assert len(task.checked_records(params(records=records, domain="a.test"))) == 2
    with pytest.raises(InputError) as err:
        task.checked_records(params(records=records[:1] + [{"name": "b.test.", "value": "v=spf1 -all"}], domain="a.test"))
    assert err.value.field == "records[1].name"


def test_a_bad_record_domain_is_named(providers):
    records = [{"name": "a.test.", "value": "v=spf1 mx -all", "domain": "*.a.test"}]
    with pytest.raises(InputError) as err:
        task.checked_records(params(records=records))
    assert err.value.field == "records[0].domain"


def test_record_zones_skip_discovery_and_names_must_be_inside(providers, monkeypatch):
    asked = []
    monkeypatch.setattr(task, "find_zone", lambda p, name, adapter=None: asked.append(name) or "b.test.")
    records = [{"name": "a.test.", "value": "v=spf1 mx -all", "zone": "A.test"},
               {"name": "_dmarc.a.test.", "value": "v=DMARC1; p=none", "zone": "a.test."},
               {"name": "_dmarc.b.test.", "value": "v=DMARC1; p=none"}]
    assert dict((z, [w.name for w in ws]) for z, ws in task.wanted_by_zone(params(records=records)).items()) == {
        "a.test.": ["a.test.", "_dmarc.a.test."], "b.test.": ["_dmarc.b.test."]}
    assert asked == ["_dmarc.b.test."]
    with pytest.raises(InputError) as err:
        task.wanted_by_zone(params(records=[{"name": "_dmarc.b.test.", "value": "v=DMARC1; p=none", "zone": "a.test"}]))
    assert err.value.field == "records[0].zone"


def test_zones_are_found_once_per_name_in_parallel_except_through_plesk(providers, monkeypatch):
    asked = []
    monkeypatch.setattr(task, "find_zone", lambda p, name, adapter=None: asked.append((name, adapter)) or name.split(".", 1)[-1])
    records = [{"name": "x%d.z%d.test." % (i, i % 3), "value": "v=DMARC1; p=none"} for i in range(20)]
    records += [dict(records[0], value="other")]
    zones = task.wanted_by_zone(params(records=records))
    assert sorted(zones) == ["z0.test.", "z1.test.", "z2.test."]
    assert sorted(n for n, a in asked) == sorted(set(r["name"] for r in records))
    asked[:] = []
    assert task.discover_zones(params(), ["a.z.test.", "b.z.test."], adapter="cli") == {"a.z.test.": "z.test.", "b.z.test.": "z.test."}
    assert [n for n, a in asked] == ["a.z.test.", "b.z.test."]


def test_rfc2136_zones_are_updated_side_by_side_and_the_first_failure_in_zone_order_is_raised(providers):
    with pytest.raises(task.TaskError) as err:
        task.publish(params(fail_zones=("a.test.",)), check_mode=False)
    assert "zone a.test." in str(err.value)
    assert providers["b.test."].applied and providers["a.test."].applied is None  # each update is atomic
    assert [entry["name"] for entry in err.value.result["applied"]] == ["_dmarc.b.test."]
    assert all(p.closed for p in providers.values())


def test_api_zones_are_changed_one_at_a_time_and_none_after_a_failure(providers):
    with pytest.raises(task.TaskError) as err:
        task.publish(params(provider="powerdns", fail_zones=("a.test.",)), check_mode=False)
    assert providers["b.test."].applied is None and err.value.result["applied"] == []
