"""DMARC stage moves on evidence: one stage up when ready, held naming the source, one back on harm."""
import datetime

import pytest
from module_utils.test_gates import D, IP, dmarc_table, plan, views

from ansible_collections.mailauth.hardening.plugins.module_utils._gates import gates as _gates
from ansible_collections.mailauth.hardening.plugins.module_utils._reports.dmarc_evidence import evidence
from ansible_collections.mailauth.hardening.plugins.module_utils._gates.dmarc_stage import StageMoves, next_stage
from ansible_collections.mailauth.hardening.plugins.module_utils._records.lookup import static_lookup

NOW = datetime.datetime(2025, 12, 5, tzinfo=datetime.timezone.utc)
NEWSLETTER = "198.51.100.7"


def record(ip, count, aligned):
    word = "pass" if aligned else "fail"
    return {"source_ip": ip, "count": count, "dkim": word, "spf": word, "reasons": [],
            "auth_results": {"dkim": [], "spf": [{"domain": D, "result": "fail"}] if not aligned else []}}


def report(policy, *records):
    return {"org_name": "r", "report_id": policy, "domain": D, "begin": "2025-12-01T00:00:00Z",
            "end": "2025-12-02T00:00:00Z", "policy_published": {"p": policy}, "records": list(records)}


def moves(*reports, rollback_above=2.0, apply_rollback=True):
    listed = [{"name": "Newsletter", "networks": [__import__("ipaddress").ip_network(NEWSLETTER)], "reverse_names": []}]
    entries = evidence([D], list(reports), {"mx1": [IP]}, listed, static_lookup({}), now=NOW)
    return StageMoves(entries, rollback_above, apply_rollback)


def test_one_stage_at_a_time():
    assert (next_stage("none", "reject"), next_stage("quarantine", "reject"), next_stage("none", "quarantine")) == \
        ("quarantine", "reject", "quarantine")


@pytest.mark.parametrize("served, expected", [((), "quarantine"), (("v=DMARC1; p=quarantine",), "reject")])
def test_ready_evidence_raises_one_stage(served, expected):
    stage = moves(report("none", record(IP, 500, True)))
    _plans, [pending], _published = _gates.dmarc_hold([plan()], views(dmarc_table(*served)), stage)
    assert pending["evidence"] == {"ready": True, "blockers": [], "step": expected}
    allowed, trips = _gates.dmarc_raise([pending], [], [D])
    assert trips == [] and allowed[0]["dmarc"]["p"] == expected


def test_a_failing_legitimate_source_holds_the_stage_and_is_named():
    stage = moves(report("none", record(IP, 500, True), record(NEWSLETTER, 40, False)))
    _plans, [pending], _published = _gates.dmarc_hold([plan()], views({}), stage)
    allowed, [trip] = _gates.dmarc_raise([pending], [], [D])
    assert allowed == [] and trip.subject == "p=quarantine"
    assert trip.message.startswith("example.com stays at p=none instead of p=quarantine: the DMARC reports do not show "
                                   "its legitimate mail aligned yet: 198.51.100.7 (Newsletter) sends 40 of 40 messages "
                                   "failing DMARC.")


def test_harm_under_the_current_stage_steps_back_one_stage():
    stage = moves(report("none", record(IP, 500, True)), report("quarantine", record(IP, 300, True),
                                                                record(NEWSLETTER, 20, False)))
    plans, pending, _published = _gates.dmarc_hold([plan()], views(dmarc_table("v=DMARC1; p=quarantine")), stage)
    assert plans[0]["dmarc"]["p"] == "none" and pending == []
    [rollback] = stage.rollbacks
    assert (rollback["from"], rollback["to"], rollback["applied"]) == ("quarantine", "none", True)
    assert rollback["reason"].startswith("example.com steps back from p=quarantine to p=none: under p=quarantine "
                                         "receivers reported 20 of 320 legitimate messages (6.25 %) failing DMARC, above "
                                         "mailauth_dmarc_rollback_above (2.0 %). 198.51.100.7 (Newsletter): Sign with DKIM")


def test_no_step_back_below_the_threshold_or_under_override():
    small = (report("quarantine", record(IP, 990, True), record(NEWSLETTER, 10, False)),)
    stage = moves(*small)
    plans, _pending, _published = _gates.dmarc_hold([plan()], views(dmarc_table("v=DMARC1; p=quarantine")), stage)
    assert plans[0]["dmarc"]["p"] == "quarantine" and stage.rollbacks == []
    stage = moves(*small, rollback_above=0.5, apply_rollback=False)
    plans, _pending, _published = _gates.dmarc_hold([plan()], views(dmarc_table("v=DMARC1; p=quarantine")), stage)
    assert plans[0]["dmarc"]["p"] == "quarantine" and stage.rollbacks[0]["applied"] is False


def test_without_reports_the_gate_is_as_before():
    _plans, [pending], _published = _gates.dmarc_hold([plan()], views({}))
    assert "evidence" not in pending and _gates.dmarc_raise([pending], [], [D])[0][0]["dmarc"]["p"] == "reject"
