"""Unit tests of the audit reports (_audit_report): JSON, self-contained HTML, text table."""
import json
import re

from ansible_collections.mailauth.hardening.plugins.module_utils import _audit, _audit_report
from ansible_collections.mailauth.hardening.plugins.module_utils._lookup import static_lookup

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
        assert row.count("<td") == len(_audit.CHECK_ORDER)
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
