"""harden's DMARC moves on evidence, through the mail_auth role's controller side against a real BIND.

The hosts mx1 and mx2 (test_harden_gates' inventory) send for example.test, which asks for
p=reject. Aggregate reports written as receivers write them (XML files, dated today) are the
evidence: with every legitimate source aligned the domain goes up one stage a run; with a listed
newsletter service failing it stays and the gate names that source; when the mail reported under
p=quarantine fails, it steps back to p=none.
"""
import datetime
import json

import pytest
import yaml
from dns_servers import run_named, zone_text
from test_harden_gates import ADDRESSES, KEYS, ZONE, ZONE_RECORDS, failed_msg, inventory, publish_play, served

MX1, MX2 = ADDRESSES["mx1"], ADDRESSES["mx2"]
NEWSLETTER = "198.51.100.7"


@pytest.fixture
def named(tmp_path):
    with run_named({ZONE: zone_text(ZONE, ZONE_RECORDS)}, directory=tmp_path / "named") as server:
        yield server


def report_xml(name, policy, rows, days_ago=0):
    """One aggregate report of a day ending ``days_ago`` days ago, as a receiver sends it; rows are (ip, count, aligned)."""
    end = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0) - datetime.timedelta(days=days_ago)
    records = "".join(
        "<record><row><source_ip>%s</source_ip><count>%d</count><policy_evaluated><disposition>none</disposition>"
        "<dkim>%s</dkim><spf>%s</spf></policy_evaluated></row><identifiers><header_from>%s</header_from></identifiers>"
        "<auth_results><spf><domain>%s</domain><result>%s</result></spf></auth_results></record>"
        % (ip, count, "pass" if ok else "fail", "pass" if ok else "fail", ZONE, ZONE, "pass" if ok else "fail")
        for ip, count, ok in rows)
    return ('<?xml version="1.0"?><feedback><report_metadata><org_name>receiver.example</org_name>'
            "<report_id>%s</report_id><date_range><begin>%d</begin><end>%d</end></date_range></report_metadata>"
            "<policy_published><domain>%s</domain><p>%s</p></policy_published>%s</feedback>"
            % (name, end.timestamp() - 86400, end.timestamp(), ZONE, policy, records))


def write_report(folder, name, policy, rows):
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(report_xml(name, policy, rows))


def harden(run_playbook, tmp_path, named, reports=None, **evidence):
    """The role's publish and DMARC steps, as harden runs them, with the reports in ``reports`` (or ``evidence``)."""
    if reports is not None:
        evidence["mailauth_dmarc_reports"] = [str(reports)]
    play = json.loads(publish_play([named.address], mailauth_dmarc_legitimate_sources=[
        {"name": "Newsletter", "addresses": [NEWSLETTER]}], **evidence))
    play[0]["tasks"].append({"name": "DMARC raise", "ansible.builtin.include_role": {
        "name": "mailauth.hardening.mail_auth", "tasks_from": "dmarc"}})
    secrets = tmp_path / "secrets.json"
    secrets.write_text(json.dumps({"test_dns_secrets": {"test": {"key_secret": named.key_secret}}}))
    path = inventory(tmp_path, named)
    hosts = yaml.safe_load(open(path))
    for host in hosts["mailservers"]["hosts"].values():  # the inventory asks for p=reject
        host["mailauth_domains"][0]["dmarc"]["p"] = "reject"
    (tmp_path / "inventory.yml").write_text(yaml.safe_dump(hosts))
    return run_playbook(json.dumps(play), "-i", path, "-e", "@%s" % secrets)


def dmarc_stage(named):
    [record] = served(named, "_dmarc." + ZONE)
    return dict(tag.strip().split("=", 1) for tag in record.split(";") if "=" in tag)["p"]


def test_all_legitimate_mail_aligned_raises_one_stage_a_run(run_playbook, tmp_path, named):
    reports = tmp_path / "reports"
    write_report(reports, "day1.xml", "none", [(MX1, 300, True), (MX2, 200, True), ("203.0.113.99", 7, False)])
    rc, _data, out = harden(run_playbook, tmp_path, named, reports)
    assert rc == 0, out
    assert dmarc_stage(named) == "quarantine"  # not straight to the p=reject asked for
    write_report(reports, "day2.xml", "quarantine", [(MX1, 310, True), (MX2, 190, True)])
    rc, _data, out = harden(run_playbook, tmp_path, named, reports)
    assert rc == 0, out
    assert dmarc_stage(named) == "reject"


def test_a_failing_legitimate_source_holds_the_stage_and_is_named(run_playbook, tmp_path, named):
    reports = tmp_path / "reports"
    write_report(reports, "day1.xml", "none", [(MX1, 300, True), (MX2, 200, True), (NEWSLETTER, 40, False)])
    rc, data, out = harden(run_playbook, tmp_path, named, reports)
    assert rc != 0
    assert failed_msg(data).startswith(
        "DMARC gate closed: example.test stays at p=none instead of p=quarantine: the DMARC reports do "
        "not show its legitimate mail aligned yet: 198.51.100.7 (Newsletter) sends 40 of 40 messages failing DMARC.")
    assert dmarc_stage(named) == "none"


def test_harm_under_quarantine_steps_back_to_none(run_playbook, tmp_path, named):
    reports = tmp_path / "reports"
    write_report(reports, "day1.xml", "none", [(MX1, 300, True), (MX2, 200, True)])
    rc, _data, out = harden(run_playbook, tmp_path, named, reports)
    assert rc == 0 and dmarc_stage(named) == "quarantine", out
    write_report(reports, "day2.xml", "quarantine", [(MX1, 300, True), (MX2, 60, False)])  # mx2 lost its signing
    rc, _data, out = harden(run_playbook, tmp_path, named, reports)
    assert rc == 0, out
    assert dmarc_stage(named) == "none"
    assert "example.test steps back from p=quarantine to p=none: under p=quarantine receivers reported 60 of 360 " \
           "legitimate messages (16.67 %) failing DMARC" in out
    assert served(named, KEYS["mx2"]["dns_name"]) == [KEYS["mx2"]["record"]]  # only DMARC moved
