"""What the harden gates accept: the harden_plan filter's plans and the hold step's pending raises, nothing else."""
import pytest

from ansible_collections.mailauth.hardening.plugins.module_utils._gates import gates as _gates
from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError
from ansible_collections.mailauth.hardening.plugins.module_utils._gates.inputs import (
    audited_domains, check_findings, check_gate_input)
from ansible_collections.mailauth.hardening.plugins.module_utils._plan.harden_plan import harden_plan
from ansible_collections.mailauth.hardening.plugins.module_utils._records.lookup import static_lookup

DOMAIN = {"name": "example.com", "dns": {"provider": "rfc2136", "zone": "example.com"},
          "spf": {"mechanisms": ["mx"], "all": "fail"}, "dmarc": {"p": "reject"}, "dkim": [{"selector": "s1"}]}
KEY = {"domain": "example.com", "selector": "s1", "dns_name": "s1._domainkey.example.com",
       "record": "v=DKIM1; k=rsa; p=AAAA"}


def plans():
    return harden_plan([{"host": "mx1", "path": "postfix", "domains": [DOMAIN], "dkim_keys": [KEY],
                         "sending_ips": ["203.0.113.10"]}])


@pytest.mark.parametrize("gate", ["spf", "dmarc", "signing"])
def test_the_harden_plan_filters_plans_are_accepted_by_every_gate(gate):
    check_gate_input(gate, "hold", plans())


def test_the_hold_steps_pending_raises_are_accepted_by_the_raise_step():
    _plans, pending, _published = _gates.dmarc_hold(plans(), lambda plan: [("ns1", static_lookup({}))])
    check_gate_input("dmarc", "raise", pending)


def test_the_inventorys_domains_are_refused_naming_what_a_plan_has():
    with pytest.raises(InputError) as err:
        check_gate_input("spf", "hold", [DOMAIN])
    assert err.value.field == "domains[0]" and "lacks publish, sending_ips, dkim_records" in err.value.problem
    assert "harden_plan" in err.value.fix


def test_a_pending_raise_is_not_a_plan_and_a_plan_is_not_a_pending_raise():
    with pytest.raises(InputError):
        check_gate_input("dmarc", "raise", plans())
    _plans, pending, _published = _gates.dmarc_hold(plans(), lambda plan: [("ns1", static_lookup({}))])
    with pytest.raises(InputError):
        check_gate_input("spf", "hold", pending)


def test_audited_domains_are_the_rows_of_the_summary_grid():
    assert audited_domains({"grid": {"a.example": {}, "b.example": {}}}) == {"a.example", "b.example"}
    for summary, field in ((None, "summary"), ({"grid": []}, "summary.grid"), ([], "summary")):
        with pytest.raises(InputError) as err:
            audited_domains(summary)
        assert err.value.field == field


def test_findings_are_checked_entry_by_entry():
    check_findings([{"domain": "a.example", "check": "spf.missing", "severity": "error", "message": "m"}])
    with pytest.raises(InputError) as err:
        check_findings([{"domain": "a.example"}])
    assert err.value.field == "findings[0]"
