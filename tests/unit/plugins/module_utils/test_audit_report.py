"""Unit tests of the audit reports (_audit_report): JSON, self-contained HTML, text table."""
import json
import re

from ansible_collections.mailauth.hardening.plugins.module_utils._audit import audit as _audit

from ansible_collections.mailauth.hardening.plugins.module_utils._audit import report as _audit_report
from ansible_collections.mailauth.hardening.plugins.module_utils._records.lookup import static_lookup

GOOD = {("ok.example", "TXT"): ["v=spf1 ip4:192.0.2.1 -all"],
        ("_dmarc.ok.example", "TXT"): ["v=DMARC1; p=none; rua=mailto:d@ok.example"]}
BROKEN = {("bad.example", "TXT"): ["v=spf1 ip4:192.0.2.1 ~all"],
          ("_dmarc.bad.example", "TXT"): ['v=DMARC1; p=none; pct=50; rua=mailto:"<x>"@bad.example']}


def _result():
    specs = [_audit.domain_spec({"name": name, "sending_ips": [ip], "spf_all": "fail"}, "d")
             for name, ip in (("ok.example", "192.0.2.1"), ("bad.example", "192.0.2.9"))]
    lookups = {"ok.example": static_lookup(GOOD), "bad.example": static_lookup(BROKEN)}
    result = _audit.run_audit(specs, lambda domain: [("ns", lookups[domain])])
    result["disagreements"] = [{"name": "x.bad.example", "type": "TXT", "answers": {"ns1": ["a<b"], "ns2": []}}]
    return result


def test_json_round_trips():
    result = _result()
    assert json.loads(_audit_report.render_json(result)) == result


def test_html_is_self_contained_and_escaped():
    html = _audit_report.render_html(_result(), generated="generated now")
    assert html.startswith("<!DOCTYPE html>") and "<style>" in html
    assert not re.search(r"<(link|script|img|iframe)\b|\bsrc=|url\(|@import", html)
    assert "<x>" not in html
    assert "a&lt;b" in html  # server answers are escaped


def test_html_grid_has_a_cell_per_domain_and_check():
    result = _result()
    html = _audit_report.render_html(result)
    for domain in ("ok.example", "bad.example"):
        row = re.search(r'<tr><td class="dom">%s</td>(.*?)</tr>' % re.escape(domain), html).group(1)
        # every check but the DNS ones, which show only when DNS could not be read, and MTA-STS and
        # TLS-RPT, which show only when some domain was checked for them
        assert row.count("<td") == len([c for c in _audit.CHECK_ORDER
                                        if not c.startswith(("dns.", "mta_sts.", "tls_rpt."))])
    bad_row = re.search(r'<tr><td class="dom">bad.example</td>(.*?)</tr>', html).group(1)
    assert 'class="err" title="spf.sender: error"' in bad_row
    assert 'class="warn" title="spf.all: warning"' in bad_row
    assert 'class="skip" title="dkim.missing: not checked"' in bad_row


def test_html_lists_each_finding_with_its_fix():
    result = _result()
    html = _audit_report.render_html(result)
    for finding in result["findings"]:
        assert _audit_report.escape(finding["message"]) in html
        assert _audit_report.escape(finding["fix"]) in html


def test_text_table():
    text = _audit_report.render_text(_result())
    lines = text.splitlines()
    assert lines[0].split() == ["domain", "SPF", "DKIM", "DMARC", "DNSBL"]
    assert lines[1].split() == ["bad.example", "ERROR", "-", "warn", "-"]
    assert lines[2].split() == ["ok.example", "ok", "-", "ok", "-"]
    assert lines[3].startswith("1 error(s), 2 warning(s)")
    assert all(len(line) <= 100 for line in lines)


def _with_readiness():
    from ansible_collections.mailauth.hardening.plugins.module_utils._reports.dmarc_evidence import THRESHOLDS, evidence
    record = {"source_ip": "203.0.113.5", "count": 7, "dkim": "fail", "spf": "fail", "reasons": [],
              "auth_results": {"dkim": [{"domain": "<evil>.example", "result": "pass"}], "spf": []}}
    report = {"org_name": "r", "report_id": "1", "domain": "ok.example", "begin": "2025-12-01T00:00:00Z",
              "end": "2025-12-02T00:00:00Z", "policy_published": {"p": "none"}, "records": [record]}
    import datetime
    now = datetime.datetime(2025, 12, 3, tzinfo=datetime.timezone.utc)
    result = _result()
    result.update(dmarc_readiness=evidence(["ok.example", "bad.example"], [report], {"mx": ["203.0.113.5"]}, [],
                                           static_lookup({}), now=now),
                  dmarc_thresholds=THRESHOLDS, dmarc_unreadable=[{"path": "/r/<x>.xml", "problem": "it is empty."}])
    return result


def test_the_dmarc_readiness_section_only_with_reports():
    assert "DMARC readiness" not in _audit_report.render_html(_result())
    assert "DMARC readiness" not in _audit_report.render_text(_result())
    html = _audit_report.render_html(_with_readiness())
    assert "<h2>DMARC readiness</h2>" in html and "<evil>" not in html and "&lt;evil&gt;.example" in html
    assert "<code>/r/&lt;x&gt;.xml</code>: it is empty." in html
    assert not re.search(r"<(link|script|img|iframe)\b|\bsrc=", html)
    text = _audit_report.render_text(_with_readiness())
    assert "DMARC readiness (last 14 days)" in text
    assert "ok.example          7    0.00 %         0.00 %  no" in text
    assert "BLOCKS  bad.example: No aggregate report about bad.example ends in the last 14 days." in text
    assert "FIX     ok.example 203.0.113.5: Sign with DKIM as ok.example there" in text
    assert "1 report file(s) could not be read; see the HTML report." in text


def test_dns_failures_get_a_column_of_their_own():
    specs = [_audit.domain_spec({"name": "ok.example"}, "d"), _audit.domain_spec({"name": "down.example"}, "d")]
    down = static_lookup({("down.example", "TXT"): TimeoutError, ("_dmarc.down.example", "TXT"): TimeoutError})
    lookups = {"ok.example": static_lookup(GOOD), "down.example": down}
    result = _audit.run_audit(specs, lambda domain: [("ns", lookups[domain])])
    lines = _audit_report.render_text(result).splitlines()
    assert lines[0].split() == ["domain", "SPF", "DKIM", "DMARC", "DNSBL", "DNS"]
    assert lines[1].split() == ["down.example", "-", "-", "-", "-", "ERROR"]
    assert lines[2].split() == ["ok.example", "ok", "-", "ok", "-", "ok"]
    assert 'title="dns.unreachable: error"' in _audit_report.render_html(result)


def test_transport_security_columns_show_when_a_domain_is_checked():
    spec = _audit.domain_spec({"name": "ok.example", "sending_ips": ["192.0.2.1"], "tls_rpt": True}, "d")
    result = _audit.run_audit([spec], lambda domain: [("ns", static_lookup(GOOD))])
    text = _audit_report.render_text(result)
    assert text.splitlines()[0].split() == ["domain", "SPF", "DKIM", "DMARC", "TLSRPT", "DNSBL"]
    assert text.splitlines()[1].split() == ["ok.example", "ok", "-", "ok", "warn", "-"]
    assert "tls_rpt.missing" in text
