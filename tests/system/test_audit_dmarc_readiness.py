"""The audit role with DMARC reports: the "DMARC readiness" section in the HTML and text reports and in set_stats.

A real BIND serves example.com and the reverse zone of the mail host (its PTR points back, so the
reverse name is confirmed); the reports are the corpus's. Without report paths the role adds nothing.
"""
import json
from pathlib import Path

import pytest

from dns_servers import run_named, zone_text

CORPUS = Path(__file__).resolve().parents[1] / "dmarc_corpus" / "good"
DOMAIN = "example.com"


@pytest.fixture(scope="module")
def bind(tmp_path_factory):
    zones = {
        DOMAIN: zone_text(DOMAIN, [
            '@ IN TXT "v=spf1 ip4:192.0.2.10 ip6:2001:db8:10::25 -all"',
            '_dmarc IN TXT "v=DMARC1; p=none; rua=mailto:aggregate@example.com"',
            "mx1 IN A 192.0.2.10",
        ]),
        "2.0.192.in-addr.arpa": zone_text("2.0.192.in-addr.arpa", ["10 IN PTR mx1.example.com."]),
    }
    with run_named(zones, allow_update=False, directory=tmp_path_factory.mktemp("readiness-named")) as server:
        yield server


def play(bind, report_dir, reports):
    variables = {
        "mailauth_domains": [{"name": DOMAIN, "spf": {"all": "fail"}, "dmarc": {"p": "none"}}],
        "mailauth_audit_nameservers": [bind.address],
        "mailauth_audit_report_dir": str(report_dir),
        "mailauth_audit_fail_on": "never",
        "mailauth_audit_dmarc_reports": reports,
        "mailauth_dmarc_legitimate_sources": [{"name": "ESP mailer", "addresses": ["198.51.100.64/28"]}],
        "mailauth_dmarc_days": 3650,  # the corpus's reports are from December 2025
    }
    return """
- hosts: localhost
  gather_facts: false
  vars: %s
  roles:
    - mailauth.hardening.audit
""" % json.dumps(variables)


# The host's addresses as inventory gives them (hostvars: play vars are not host vars).
HOST_VARS = ("-e", json.dumps({"mailauth_sending_ips": ["192.0.2.10", "2001:db8:10::25"]}))
STATS = {"ANSIBLE_SHOW_CUSTOM_STATS": "1"}


def test_the_readiness_section_and_set_stats(run_playbook, bind, tmp_path):
    code, data, out = run_playbook(play(bind, tmp_path, [str(CORPUS)]), *HOST_VARS, extra_env=STATS)
    assert code == 0, out
    stats = data["global_custom_stats"]["mailauth_dmarc_readiness"][DOMAIN]
    assert stats["ready"] is False and stats["messages"] == 764
    assert stats["failing"][0]["address"] == "198.51.100.77" and stats["failing"][0]["verdict"] == "fix"
    html = (tmp_path / "audit.html").read_text()
    assert "<h2>DMARC readiness</h2>" in html
    assert "<td><code>192.0.2.10</code></td><td>mx1.example.com</td><td>inventory host localhost</td>" in html
    assert "Sign with DKIM as example.com there: it signs only as esp-mailer.example.net" in html
    report = json.loads((tmp_path / "audit.json").read_text())
    assert report["dmarc_readiness"][0]["legitimate_aligned_share"] == 82.09
    assert "DMARC readiness (last 3650 days)" in out and "FIX     example.com 198.51.100.77: Sign with DKIM" in out


def test_without_reports_there_is_no_section(run_playbook, bind, tmp_path):
    code, data, out = run_playbook(play(bind, tmp_path, []), *HOST_VARS, extra_env=STATS)
    assert code == 0, out
    assert "mailauth_dmarc_readiness" not in data.get("global_custom_stats", {})
    assert "DMARC readiness" not in (tmp_path / "audit.html").read_text() and "DMARC readiness (last" not in out
