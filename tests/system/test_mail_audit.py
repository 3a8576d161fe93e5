"""mail_audit against a real BIND: every fault of issue 6 planted in its own domain, named by the module.

Zones: audit.test holds the audited domains (one per fault, plus correct ones); elsewhere.test holds
what lives outside them (SPF include targets, a report receiver, a DNSBL). The module runs through
ansible-playbook and finds the authoritative server itself (NS of audit.test -> ns1.audit.test).
"""
import base64
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ansible_collections.mailauth.hardening.plugins.module_utils._records.txt import quote_txt
from dns_servers import run_named, zone_text

ZONE = "audit.test"
ELSEWHERE = "elsewhere.test"
IP = "203.0.113.10"
LISTED_IP = "203.0.113.66"
REFUSED_IP = "203.0.113.77"
DNSBL = "bl.elsewhere.test"


def _key(bits):
    public = rsa.generate_private_key(65537, bits).public_key()
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode()


KEY = _key(2048)
OTHER_KEY = _key(2048)
WEAK_KEY = _key(1024)


def dkim_record(key):
    return "v=DKIM1; k=rsa; p=" + key


# Correct records; a fault replaces one of them. A tuple is published as those TXT strings.
GOOD = {
    "spf": [("v=spf1 mx ip4:203.0.113.10 ", "include:_spf.elsewhere.test -all")],
    "dkim": [dkim_record(KEY)],
    "dmarc": ["v=DMARC1; p=none; rua=mailto:dmarc@{d}; ruf=mailto:forensic@{d}; fo=1"],
}
# domain label -> (replaced records, expected check, expected severity, sending ip, expected key)
FAULTS = {
    "spf-missing": ({"spf": ["google-site-verification=abc"]}, "spf.missing", "error"),
    "spf-multiple": ({"spf": ["v=spf1 ip4:203.0.113.10 -all", "v=spf1 mx -all"]}, "spf.multiple", "error"),
    "spf-syntax": ({"spf": ["v=spf1 ipv4:203.0.113.10 -all"]}, "spf.syntax", "error"),
    "spf-lookups": ({"spf": ["v=spf1 ip4:203.0.113.10 include:deep1.elsewhere.test -all"]}, "spf.lookups", "error"),
    "spf-voids": ({"spf": ["v=spf1 ip4:203.0.113.10 a:nx1.elsewhere.test a:nx2.elsewhere.test "
                           "a:nx3.elsewhere.test -all"]}, "spf.lookups", "error"),
    "spf-all": ({"spf": ["v=spf1 ip4:203.0.113.10 ~all"]}, "spf.all", "warning"),
    "spf-sender": ({"spf": ["v=spf1 ip4:198.51.100.99 -all"]}, "spf.sender", "error"),
    "dkim-missing": ({"dkim": []}, "dkim.missing", "error"),
    "dkim-whitespace": ({"dkim": [dkim_record(KEY[:180] + " " + KEY[180:])]}, "dkim.syntax", "error"),
    "dkim-truncated": ({"dkim": [dkim_record(KEY[:-12])]}, "dkim.syntax", "error"),
    "dkim-unparsable": ({"dkim": ["v=DKIM1; k=rsa; " + KEY]}, "dkim.syntax", "error"),
    "dkim-mismatch": ({"dkim": [dkim_record(OTHER_KEY)]}, "dkim.mismatch", "error"),
    "dkim-weak": ({"dkim": [dkim_record(WEAK_KEY)]}, "dkim.weak", "warning", IP, WEAK_KEY),
    "dmarc-missing": ({"dmarc": []}, "dmarc.missing", "error"),
    "dmarc-syntax": ({"dmarc": ["v=DMARC1; p=rejected"]}, "dmarc.syntax", "error"),
    "dmarc-obsolete": ({"dmarc": ["v=DMARC1; p=none; pct=20; rua=mailto:dmarc@{d}"]}, "dmarc.obsolete", "warning"),
    "dmarc-policy": ({"dmarc": ["v=DMARC1; p=reject; rua=mailto:dmarc@{d}"]}, "dmarc.policy", "warning"),
    "dmarc-report-auth": ({"dmarc": ["v=DMARC1; p=none; rua=mailto:agg@noauth.elsewhere.test"]},
                          "dmarc.report_auth", "warning"),
    "dnsbl-listed": ({"spf": ["v=spf1 ip4:203.0.113.66 -all"]}, "dnsbl.listed", "error", LISTED_IP),
    "dnsbl-refused": ({"spf": ["v=spf1 ip4:203.0.113.77 -all"]}, "dnsbl.listed", "warning", REFUSED_IP),
}
# Correct domains: one reporting to itself, one to another domain that authorises it by wildcard.
CORRECT = {
    "good": {},
    "good-external-reports": {"dmarc": ["v=DMARC1; p=none; rua=mailto:agg@reports.elsewhere.test"]},
}


def _txt_lines(name, values, domain):
    lines = []
    for value in values:
        strings = [s.format(d=domain) for s in (value if isinstance(value, tuple) else (value,))]
        lines.append("%s. IN TXT %s" % (name, quote_txt(strings) if len(strings) > 1 else quote_txt(strings[0])))
    return lines


def domain_lines(label, replaced):
    domain = "%s.%s" % (label, ZONE)
    records = dict(GOOD, **replaced)
    lines = ["%s. IN MX 10 mx.%s." % (domain, ZONE)]
    lines += _txt_lines(domain, records["spf"], domain)
    lines += _txt_lines("s1._domainkey." + domain, records["dkim"], domain)
    lines += _txt_lines("_dmarc." + domain, records["dmarc"], domain)
    return lines


def audit_zone(skip_dkim_of=None):
    lines = ["mx.%s. IN A %s" % (ZONE, IP)]
    for label, fault in FAULTS.items():
        lines += domain_lines(label, fault[0])
    for label, replaced in CORRECT.items():
        if label == skip_dkim_of:
            replaced = dict(replaced, dkim=[])
        lines += domain_lines(label, replaced)
    return zone_text(ZONE, lines)


def elsewhere_zone():
    deep = ["deep%d.elsewhere.test. IN TXT \"v=spf1 %s include:deep%d.elsewhere.test -all\""
            % (n, " ".join("a:h%d.elsewhere.test" % i for i in range(4)), n + 1) for n in (1, 2)]
    lines = deep + [
        'deep3.elsewhere.test. IN TXT "v=spf1 a:h0.elsewhere.test -all"',
        '_spf.elsewhere.test. IN TXT "v=spf1 ip4:198.51.100.0/24 -all"',
        '*._report._dmarc.reports.elsewhere.test. IN TXT "v=DMARC1"',
        "reports.elsewhere.test. IN MX 10 mx.audit.test.",
        "noauth.elsewhere.test. IN MX 10 mx.audit.test.",
        "66.113.0.203.bl.elsewhere.test. IN A 127.0.0.2",
        '66.113.0.203.bl.elsewhere.test. IN TXT "listed in the lab list"',
        "77.113.0.203.bl.elsewhere.test. IN A 127.255.255.254",
    ]
    lines += ["h%d.elsewhere.test. IN A 192.0.2.%d" % (i, 10 + i) for i in range(4)]
    return zone_text(ELSEWHERE, lines)


def domains_option():
    domains = []
    for label, fault in list(FAULTS.items()) + [(label, ({},)) for label in CORRECT]:
        ip = fault[3] if len(fault) > 3 else IP
        key = fault[4] if len(fault) > 4 else KEY
        domains.append({"name": "%s.%s" % (label, ZONE), "sending_ips": [ip], "spf_all": "fail",
                        "dmarc_policy": "none", "dkim": [{"selector": "s1", "public_key": key}]})
    return domains


@pytest.fixture(scope="module")
def bind(tmp_path_factory):
    zones = {ZONE: audit_zone(), ELSEWHERE: elsewhere_zone()}
    with run_named(zones, directory=tmp_path_factory.mktemp("audit-named")) as server:
        yield server


@pytest.fixture(scope="module")
def lagging_bind(tmp_path_factory):
    """A second server whose copy of audit.test lacks the good domain's DKIM key (not yet transferred)."""
    zones = {ZONE: audit_zone(skip_dkim_of="good"), ELSEWHERE: elsewhere_zone()}
    with run_named(zones, allow_update=False, directory=tmp_path_factory.mktemp("lagging-named")) as server:
        yield server


def play(options):
    task = {"name": "Audit", "mailauth.hardening.mail_audit": options, "register": "audit"}
    return json.dumps([{"name": "audit", "hosts": "localhost", "gather_facts": False, "tasks": [task]}])


def task_result(data):
    return data["plays"][0]["tasks"][0]["hosts"]["localhost"]


def _serious(result, domain):
    return sorted((f["check"], f["severity"]) for f in result["findings"]
                  if f["domain"] == domain and f["severity"] in ("error", "warning"))


@pytest.fixture(scope="module")
def audited(bind, tmp_path_factory):
    """One module run over every domain, finding the authoritative server through NS records."""
    report_dir = tmp_path_factory.mktemp("reports")
    options = {"domains": domains_option(), "resolvers": [bind.address], "nameserver_port": bind.port,
               "dnsbl_zones": [DNSBL + "=127.0.0.[2..11]"], "fail_on": "never", "report_dir": str(report_dir)}
    return options, report_dir


def test_each_fault_is_named_and_correct_domains_are_clean(audited, run_playbook):
    options, report_dir = audited
    rc, data, output = run_playbook(play(options))
    assert rc == 0, output
    result = task_result(data)
    assert result["changed"] is False
    for label, fault in FAULTS.items():
        domain = "%s.%s" % (label, ZONE)
        assert _serious(result, domain) == [(fault[1], fault[2])], label
    for label in CORRECT:
        assert _serious(result, "%s.%s" % (label, ZONE)) == [], label
    assert result["nameservers"]["good.%s" % ZONE] == ["ns1.audit.test (127.0.0.1)"]
    assert result["disagreements"] == []
    # spot checks of the wording the issue asks for
    by_domain = dict((f["domain"], f) for f in result["findings"] if f["severity"] != "info")
    assert "query refused by the DNSBL (public or open resolver?)" in by_domain["dnsbl-refused.audit.test"]["message"]
    assert "listed in the lab list" in by_domain["dnsbl-listed.audit.test"]["message"]
    assert "Lookup 11" in by_domain["spf-lookups.audit.test"]["message"]
    # the summary grid and the reports
    grid = result["summary"]["grid"]
    assert grid["good.%s" % ZONE]["dkim.mismatch"] == "ok" and grid["dkim-mismatch.%s" % ZONE]["dkim.mismatch"] == "error"
    assert result["report_files"] == {"json": str(report_dir / "audit.json"), "html": str(report_dir / "audit.html")}
    saved = json.loads(Path(result["report_files"]["json"]).read_text())
    assert saved["findings"] == result["findings"]
    html = Path(result["report_files"]["html"]).read_text()
    assert "<style>" in html and "<link" not in html and "<script" not in html and " src=" not in html
    assert "dkim-mismatch.audit.test" in html and "Fix:" in html
    assert result["report_text"].splitlines()[0].split() == ["domain", "SPF", "DKIM", "DMARC", "DNSBL"]


def test_check_mode_changes_nothing(audited, run_playbook):
    options, _report_dir = audited
    rc, data, output = run_playbook(play(dict(options, report_dir=None)), check=True)
    assert rc == 0, output
    assert task_result(data)["changed"] is False


def test_fail_on_error_fails_the_task_after_writing_reports(bind, run_playbook, tmp_path):
    options = {"domains": [{"name": "spf-sender.%s" % ZONE, "sending_ips": [IP]}], "nameservers": [bind.address],
               "report_dir": str(tmp_path / "out")}
    rc, data, output = run_playbook(play(options))
    assert rc != 0
    result = task_result(data)
    assert result["failed"] is True and "spf.sender" in result["msg"]
    assert (tmp_path / "out" / "audit.html").exists()


def test_bad_input_fails_naming_the_field(bind, run_playbook):
    rc, data, output = run_playbook(play({"domains": [{"name": "good.audit.test", "sending_ips": ["300.0.0.1"]}],
                                          "nameservers": [bind.address]}))
    assert rc != 0
    assert task_result(data)["msg"].startswith("domains[0].sending_ips[0]:")


def test_servers_that_answer_differently_are_named(bind, lagging_bind, run_playbook):
    options = {"domains": [{"name": "good.%s" % ZONE, "dkim": [{"selector": "s1", "public_key": KEY}]}],
               "nameservers": [bind.address, lagging_bind.address], "fail_on": "never"}
    rc, data, output = run_playbook(play(options))
    assert rc == 0, output
    result = task_result(data)
    [missing] = [f for f in result["findings"] if f["severity"] == "error"]
    assert missing["check"] == "dkim.missing"
    assert missing["message"].startswith("[only on %s]" % lagging_bind.address)
    [differs] = result["disagreements"]
    assert differs["name"] == "s1._domainkey.good.%s" % ZONE
    assert differs["answers"][lagging_bind.address] == []


# --- a Spamhaus DQS key is a secret: findings, report_text, audit.json, audit.html, -vvv ---------

DQS_KEY = "dqskeyofthisaccount0123456"
DQS_ZONE = "dq.spamhaus.net"  # served by the loopback BIND only: nothing leaves the machine


@pytest.fixture(scope="module")
def dqs_bind(tmp_path_factory):
    listed, refused = ("%s.113.0.203.%s.zen.%s." % (octet, DQS_KEY, DQS_ZONE) for octet in (66, 77))
    zones = {ZONE: audit_zone(), ELSEWHERE: elsewhere_zone(),
             DQS_ZONE: zone_text(DQS_ZONE, ["%s IN A 127.0.0.2" % listed, '%s IN TXT "listed for the test"' % listed,
                                            "%s IN A 127.255.255.254" % refused])}
    with run_named(zones, directory=tmp_path_factory.mktemp("dqs-named")) as server:
        yield server


@pytest.mark.parametrize("dnsbl", [
    {"dnsbl_zones": ["zen.spamhaus.org=127.0.0.[2..11]"], "dqs_key": DQS_KEY},
    {"dnsbl_zones": [{"zone": "zen.spamhaus.org", "reply": "127.0.0.[2..11]", "dqs_key": DQS_KEY}]},
    {"dnsbl_zones": ["%s.zen.dq.spamhaus.net=127.0.0.[2..11]" % DQS_KEY]},
])
def test_a_dqs_key_shows_nowhere(dqs_bind, run_playbook, tmp_path, dnsbl):
    domains = [{"name": "dnsbl-listed.%s" % ZONE, "sending_ips": [LISTED_IP, REFUSED_IP], "dmarc_policy": "none"}]
    options = dict(dnsbl, domains=domains, nameservers=[dqs_bind.address], fail_on="never",
                   report_dir=str(tmp_path / "reports"))
    rc, data, output = run_playbook(play(options), "-vvv")
    assert rc == 0, output
    result = task_result(data)
    listed = [f for f in result["findings"] if f["check"] == "dnsbl.listed"]
    assert [f["severity"] for f in listed] == ["error", "warning"]
    assert "is listed on ********.zen.dq.spamhaus.net (answer 127.0.0.2)" in listed[0]["message"]
    assert "DNSBL" in result["report_text"]
    reports = [(tmp_path / "reports" / name).read_text() for name in ("audit.json", "audit.html")]
    assert "********.zen.dq.spamhaus.net" in reports[0] + reports[1]
    for text in [output, json.dumps(data), result["report_text"]] + reports:
        assert DQS_KEY not in text
