"""mail_gate module, run in-process with static DNS answers in place of the name servers."""
import datetime
import json

import pytest

from ansible_collections.mailauth.hardening.plugins.module_utils._reports import dmarc_evidence as _dmarc_evidence
from ansible_collections.mailauth.hardening.plugins.module_utils._records.lookup import static_lookup
from ansible_collections.mailauth.hardening.plugins.modules import mail_gate

D = "example.com"
IP = "203.0.113.10"
RECORD = "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
PLAN = {"name": D, "dns": {"provider": "rfc2136", "zone": D}, "publish": True, "sending_ips": [IP],
        "spf": {"mechanisms": ["a"], "all": "fail"}, "dmarc": {"p": "reject"},
        "dkim_records": [{"domain": D, "selector": "e1", "dns_name": "e1._domainkey." + D, "record": RECORD,
                          "public_key": RECORD, "hosts": ["mx1"], "path": "postfix"}]}
PENDING = {"name": D, "dns": PLAN["dns"], "dmarc": {"p": "reject"}, "target": "reject", "held": "none",
           "published": None, "audit": {"name": D}}
DKIM_ERROR = {"domain": D, "check": "dkim.missing", "severity": "error", "message": "no key at e1._domainkey"}
SUMMARY = {"grid": {D: {"dkim.missing": "ok"}}}


@pytest.fixture
def run(run_main, monkeypatch):
    """Run the module against one server answering from ``table``; return (failed?, result)."""
    def call(table, check=False, **args):
        monkeypatch.setattr(mail_gate, "gate_views", lambda *a: (lambda plan: [("ns1", static_lookup(table))]))
        return run_main(mail_gate.main, check=check, **args)
    return call


def test_spf_gate_fails_in_check_mode_too_and_override_only_warns(run):
    for check in (False, True):
        failed, result = run({}, check=check, gate="spf", domains=[PLAN])
        assert failed and result["msg"].startswith("SPF gate closed: example.com:")
        assert result["passed"] is False and result["tripped"][0]["subject"] == IP
    failed, result = run({}, gate="spf", domains=[PLAN], override=True)
    assert not failed and result["overridden"] is True and result["changed"] is False
    assert "mailauth_gate_override_spf is true" in json.dumps(result["warnings"])


def test_spf_gate_passes_what_covers_the_address(run):
    failed, result = run({(D, "A"): [IP]}, gate="spf", domains=[PLAN])
    assert not failed and result["passed"] is True and result["checked"][0]["result"] == "pass"


def test_dmarc_hold_then_raise(run):
    failed, hold = run({}, gate="dmarc", step="hold", domains=[PLAN])
    assert not failed and hold["published"] == {D: None}
    assert hold["domains"][0]["dmarc"] == {"p": "none"} and hold["pending"][0]["target"] == "reject"
    failed, result = run({}, gate="dmarc", step="raise", domains=hold["pending"], findings=[],
                         summary=SUMMARY)
    assert not failed and result["domains"] == [{"name": D, "dns": PLAN["dns"], "dmarc": {"p": "reject"}}]


def test_dmarc_raise_fails_warns_in_check_mode_and_override_raises(run):
    failed, result = run({}, gate="dmarc", step="raise", domains=[PENDING], findings=[DKIM_ERROR], summary=SUMMARY)
    assert failed and "dkim.missing: no key at e1._domainkey" in result["msg"]
    assert result["msg"].endswith("set mailauth_gate_override_dmarc: true.")
    failed, result = run({}, check=True, gate="dmarc", step="raise", domains=[PENDING], findings=[DKIM_ERROR], summary=SUMMARY)
    assert not failed and result["domains"] == [] and "check mode, nothing published yet" in json.dumps(result["warnings"])
    failed, result = run({}, gate="dmarc", step="raise", domains=[PENDING], findings=[DKIM_ERROR], summary=SUMMARY, override=True)
    assert not failed and result["domains"][0]["dmarc"] == {"p": "reject"}


def test_signing_gate_fails_warns_in_check_mode_and_signs_as_a_real_run_would(run):
    failed, result = run({}, gate="signing", domains=[PLAN])
    assert failed and result["msg"].startswith("SIGNING gate closed: selector e1 of example.com (host mx1)")
    failed, result = run({}, check=True, gate="signing", domains=[PLAN])
    assert not failed and result["selectors"] == {"mx1": [{"domain": D, "selector": "e1"}]}
    assert "check mode, nothing published yet" in json.dumps(result["warnings"])
    failed, result = run({}, gate="signing", domains=[PLAN], override=True)
    assert not failed and result["selectors"] == {"mx1": [{"domain": D, "selector": "e1"}]}
    failed, result = run({("e1._domainkey." + D, "TXT"): [RECORD]}, gate="signing", domains=[PLAN])
    assert not failed and result["passed"] and result["selectors"] == {"mx1": [{"domain": D, "selector": "e1"}]}


def test_bad_settings_fail_naming_the_field(run):
    failed, result = run({}, gate="spf", domains=[dict(PLAN, spf={"mechanisms": ["ipv4:1.2.3.4"]})])
    assert failed and result["msg"].startswith("spf.mechanisms[0]:")


# --- a gate that cannot decide fails closed, naming what is missing (never "passed, 0 checks") -----

@pytest.mark.parametrize("gate, step, domains, field, words", [
    ("spf", "hold", [{"foo": "bar"}], "domains[0]", "lacks name, dns, publish, sending_ips, dkim_records"),
    ("spf", "hold", [], "domains", "is empty, so the spf gate would check nothing"),
    ("spf", "hold", [dict(PLAN, dns="rfc2136")], "domains[0].dns", "is text, not a mapping"),
    ("spf", "hold", [dict(PLAN, sending_ips=IP)], "domains[0].sending_ips", "is text, not a list"),
    ("spf", "hold", [dict(PLAN, sending_ips=["mx1"])], "domains[0].sending_ips[0]", "is not an IP address"),
    ("spf", "hold", [dict(PLAN, name="exa mple")], "domains[0].name", "is not a domain name"),
    ("spf", "hold", [dict(PLAN, publish="yes")], "domains[0].publish", "must be true or false"),
    ("dmarc", "hold", [dict(PLAN, dmarc="p=reject")], "domains[0].dmarc", "is text, not a mapping"),
    ("signing", "hold", [dict(PLAN, dkim_records=["e1"])], "domains[0].dkim_records[0]", "is text"),
    ("signing", "hold", [dict(PLAN, dkim_records=[{"selector": "e1"}])], "domains[0].dkim_records[0]",
     "lacks domain, dns_name, record, hosts"),
    ("dmarc", "raise", [dict(PENDING, dns=None)], "domains[0].dns", "is null, not a mapping"),
    ("dmarc", "raise", [{"name": D, "dmarc": {"p": "reject"}}], "domains[0]", "lacks dns, target, held"),
    ("dmarc", "raise", [dict(PENDING, target="rejetc")], "domains[0].target", "'rejetc' is not a DMARC stage"),
])
def test_input_a_gate_cannot_decide_on_fails_closed(run, gate, step, domains, field, words):
    failed, result = run({}, gate=gate, step=step, domains=domains, summary=SUMMARY)
    assert failed and result["msg"].startswith(field + ": "), result["msg"]
    assert words in result["msg"] and " Fix: " in result["msg"]
    assert "passed" not in result


def test_a_raise_without_the_audit_summary_fails_closed(run):
    failed, result = run({}, gate="dmarc", step="raise", domains=[PENDING], findings=[])
    assert failed and result["msg"].startswith("summary: the raise step needs the summary of the audit")


def test_a_raise_the_audit_did_not_cover_stays_held(run):
    failed, result = run({}, gate="dmarc", step="raise", domains=[PENDING], findings=[],
                         summary={"grid": {"other.example": {}}})
    assert failed and "the audit did not check it" in result["msg"] and result["passed"] is False


def test_findings_of_another_shape_fail_naming_the_entry(run):
    failed, result = run({}, gate="dmarc", step="raise", domains=[PENDING], findings=[{"check": "dkim.missing"}],
                         summary=SUMMARY)
    assert failed and result["msg"].startswith("findings[0]: lacks domain, severity")


def _report(policy, ok_count, failing_count):
    rows = [{"source_ip": IP, "count": ok_count, "dkim": "pass", "spf": "pass", "reasons": [],
             "auth_results": {"dkim": [], "spf": []}},
            {"source_ip": IP, "count": failing_count, "dkim": "fail", "spf": "fail", "reasons": [],
             "auth_results": {"dkim": [], "spf": []}}]
    end = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"org_name": "r", "report_id": policy, "domain": D, "begin": end, "end": end,
            "policy_published": {"p": policy}, "records": rows}


def test_dmarc_hold_on_evidence_steps_back_and_says_why(run, monkeypatch):
    monkeypatch.setattr(_dmarc_evidence, "dns_lookup", lambda *a, **k: static_lookup({}))  # no PTR asked outside
    served = {("_dmarc." + D, "TXT"): ["v=DMARC1; p=quarantine"]}
    failed, hold = run(served, gate="dmarc", step="hold", domains=[PLAN], dmarc_reports=[_report("quarantine", 90, 10)],
                       dmarc_hosts={"mx1": [IP]})
    assert not failed and hold["domains"][0]["dmarc"]["p"] == "none" and hold["pending"] == []
    assert hold["rollbacks"][0]["to"] == "none" and "steps back from p=quarantine to p=none" in json.dumps(hold["warnings"])
    assert hold["evidence"][0]["domain"] == D
    failed, held = run(served, gate="dmarc", step="hold", domains=[PLAN], dmarc_reports=[_report("quarantine", 90, 10)],
                       dmarc_hosts={"mx1": [IP]}, override=True)
    assert held["domains"][0]["dmarc"]["p"] == "quarantine" and held["rollbacks"][0]["applied"] is False
    assert "mailauth_gate_override_dmarc is true, so it does not" in json.dumps(held["warnings"])


@pytest.mark.parametrize("args, message", [
    ({"dmarc_rollback_above": 150.0}, "dmarc_rollback_above: 150.0 is no percentage."),
    ({"dmarc_days": 0}, "dmarc_days: 0 is no number of days."),
    ({"dmarc_legitimate_sources": [{"name": "x"}]}, "dmarc_legitimate_sources[0]: x has neither addresses"),
])
def test_dmarc_evidence_input_is_checked_before_dns(run, args, message):
    failed, result = run({}, gate="dmarc", step="hold", domains=[PLAN], dmarc_reports=[], **args)
    assert failed and result["msg"].startswith(message)
