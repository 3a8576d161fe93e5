"""The judge from outside: the audit and checkdmarc read the same SPF and DMARC records from a real
BIND and must reach the same verdicts, except for the deliberate differences listed in DIFFERENCES
(and in docs/audit-vs-checkdmarc.md, which test_differences_are_documented keeps in step).

A verdict is the set of check names at severity error or warning. checkdmarc's outcome is mapped onto
the same names by `checkdmarc_verdict`: the exception type it raises, the `all` result it parses,
the `p` it reads and three of its warnings (obsolete tags, missing p, unauthorised report destination).
"""
import re

import dns.nameserver
import pytest
from checkdmarc import dmarc as cd_dmarc
from checkdmarc import spf as cd_spf

from ansible_collections.mailauth.hardening.plugins.module_utils._audit import audit as _audit
from ansible_collections.mailauth.hardening.plugins.module_utils._dns.resolver import dns_lookup
from ansible_collections.mailauth.hardening.plugins.module_utils._records.txt import quote_txt
from dns_servers import run_named, zone_text

pytestmark = pytest.mark.filterwarnings("ignore")

GOOD_SPF = "v=spf1 ip4:192.0.2.1 -all"
BASE = "judge.test"
LONG_SPF = "v=spf1 " + " ".join("ip4:198.51.100.%d" % i for i in range(1, 25)) + " -all"  # > 255 octets

# Each case is one domain NAME.judge.test: (spf values, dmarc values); None = nothing published.
# A DMARC value "OWN" stands for a good record reporting to the domain itself.
OWN = "v=DMARC1; p=none; rua=mailto:dmarc@{d}"
SPF_CASES = {
    "s01-good": ["v=spf1 ip4:192.0.2.1 -all"],
    "s02-good-mx-a": ["v=spf1 mx a -all"],
    "s03-missing-other-txt": ["google-site-verification=abc123"],
    "s04-missing": None,
    "s05-multiple": ["v=spf1 ip4:192.0.2.1 -all", "v=spf1 mx -all"],
    "s06-softfail": ["v=spf1 ip4:192.0.2.1 ~all"],
    "s07-neutral": ["v=spf1 ip4:192.0.2.1 ?all"],
    "s08-pass-all": ["v=spf1 ip4:192.0.2.1 +all"],
    "s09-no-all": ["v=spf1 ip4:192.0.2.1"],
    "s10-typo-ipv4": ["v=spf1 ipv4:192.0.2.1 -all"],
    "s11-bad-address": ["v=spf1 ip4:192.0.2.300 -all"],
    "s12-bad-prefix": ["v=spf1 ip4:192.0.2.0/33 -all"],
    "s13-include-no-domain": ["v=spf1 include: -all"],
    "s14-eleven-lookups": ["v=spf1 " + " ".join("a:h%d.judge.test" % i for i in range(1, 12)) + " -all"],
    "s15-lookups-via-includes": ["v=spf1 include:inc1.judge.test ip4:192.0.2.1 -all"],
    "s16-ten-lookups": ["v=spf1 " + " ".join("a:h%d.judge.test" % i for i in range(1, 11)) + " -all"],
    "s17-three-voids": ["v=spf1 a:nx1.judge.test a:nx2.judge.test a:nx3.judge.test ip4:192.0.2.1 -all"],
    "s18-two-voids": ["v=spf1 a:nx1.judge.test a:nx2.judge.test ip4:192.0.2.1 -all"],
    "s19-include-without-spf": ["v=spf1 include:nospf.judge.test ip4:192.0.2.1 -all"],
    "s20-include-loop": ["v=spf1 include:loop1.judge.test -all"],
    "s21-redirect-good": ["v=spf1 redirect=_spf.judge.test"],
    "s22-redirect-softfail": ["v=spf1 redirect=_spfsoft.judge.test"],
    "s23-split-strings": [("v=spf1 ip4:192.0.2.1 ", "ip4:192.0.2.2 -all")],
    "s24-long-split": [LONG_SPF],
    "s25-minus-a": ["v=spf1 +a +mx -a"],
    "s26-exp": ["v=spf1 ip4:192.0.2.1 -all exp=explain.judge.test"],
    "s27-ptr": ["v=spf1 ptr ip4:192.0.2.1 -all"],
    "s28-spf10": ["v=spf10 ip4:192.0.2.1 -all"],
    "s29-upper-case": ["V=SPF1 IP4:192.0.2.1 -ALL"],
    "s30-two-alls": ["v=spf1 ip4:192.0.2.1 ~all -all"],
    "s31-glued-all": ["v=spf1 ip4:192.0.2.1-all"],
    "s32-ip6": ["v=spf1 ip6:2001:db8::/32 ip4:192.0.2.0/24 -all"],
}
DMARC_CASES = {
    "d01-good": ["OWN"],
    "d02-missing": None,
    "d03-multiple": ["v=DMARC1; p=none", "v=DMARC1; p=reject"],
    "d04-reject": ["v=DMARC1; p=reject; rua=mailto:dmarc@{d}"],
    "d05-quarantine": ["v=DMARC1; p=quarantine; rua=mailto:dmarc@{d}"],
    "d06-bad-policy": ["v=DMARC1; p=rejected"],
    "d07-dmarc2": ["v=DMARC2; p=none"],
    "d08-v-not-first": ["p=none; v=DMARC1"],
    "d09-pct": ["v=DMARC1; p=none; pct=50; rua=mailto:dmarc@{d}"],
    "d10-rf-ri": ["v=DMARC1; p=none; rf=afrf; ri=3600; rua=mailto:dmarc@{d}"],
    "d11-rua-wildcard-auth": ["v=DMARC1; p=none; rua=mailto:agg@reports.test"],
    "d12-rua-exact-auth": ["v=DMARC1; p=none; rua=mailto:agg@exact.test"],
    "d13-rua-no-auth": ["v=DMARC1; p=none; rua=mailto:agg@noauth.test"],
    "d14-ruf-no-auth": ["v=DMARC1; p=none; rua=mailto:dmarc@{d}; ruf=mailto:forensic@noauth.test; fo=1"],
    "d15-bad-fo": ["v=DMARC1; p=none; fo=2; rua=mailto:dmarc@{d}"],
    "d16-bad-adkim": ["v=DMARC1; p=none; adkim=x; rua=mailto:dmarc@{d}"],
    "d17-duplicate-p": ["v=DMARC1; p=none; p=reject"],
    "d18-unknown-tag": ["v=DMARC1; p=none; foo=bar; rua=mailto:dmarc@{d}"],
    "d19-no-p": ["v=DMARC1; rua=mailto:dmarc@{d}"],
    "d20-blanks": ["v=DMARC1 ;  p = none ; rua=mailto:dmarc@{d}"],
    "d21-lower-case-version": ["v=dmarc1; p=none; rua=mailto:dmarc@{d}"],
    "d22-np-psd": ["v=DMARC1; p=none; np=reject; psd=n; rua=mailto:dmarc@{d}"],
    "d23-https-rua": ["v=DMARC1; p=none; rua=https://reports.test/dmarc"],
    "d24-split-strings": [("v=DMARC1; p=none; ", "rua=mailto:dmarc@{d}")],
    "d25-other-txt-beside": ["OWN", "some-site-verification=xyz"],
}

# Deliberate differences: case -> (audit verdict, checkdmarc verdict, reason). The same table is in
# docs/audit-vs-checkdmarc.md.
UNRELATED = "unrelated TXT at _dmarc"
DIFFERENCES = {
    "s29-upper-case": (
        [], ["spf.syntax"],
        "SPF is case-insensitive (RFC 7208 4.5 and 12: ABNF literals are case-insensitive, RFC 5234 2.3); "
        "receivers such as pyspf accept V=SPF1. checkdmarc's grammar only accepts lower-case v=spf1."),
    "s30-two-alls": (
        ["spf.all", "spf.syntax"], ["spf.all"],
        "Both report the softfail and the second all. The audit also warns (spf.syntax) that the terms after the "
        "first all are never evaluated, which is the actual slip."),
    "d07-dmarc2": (
        ["dmarc.missing"], [UNRELATED],
        "Both fail the domain. A TXT not starting with v=DMARC1 is not a DMARC record (RFC 9989 4.8), so receivers "
        "find no policy: the audit says dmarc.missing; checkdmarc raises 'unrelated TXT records at _dmarc'."),
    "d08-v-not-first": (
        ["dmarc.missing"], [UNRELATED],
        "As d07: v=DMARC1 must come first, so receivers see no DMARC record."),
    "d21-lower-case-version": (
        ["dmarc.missing"], [UNRELATED],
        "As d07: RFC 9989 writes the version as the case-sensitive %s\"DMARC1\", so v=dmarc1 is not a record."),
    "d25-other-txt-beside": (
        [], [UNRELATED],
        "RFC 9989 4.10 discards TXT records at _dmarc that do not start with v=DMARC1; the audit does the same and "
        "passes the valid record beside them. checkdmarc refuses the whole name."),
    "d16-bad-adkim": (
        ["dmarc.syntax"], [],
        "RFC 9989 4.8 lets receivers replace an invalid value by the default (adkim=r), as checkdmarc does. The "
        "audit reports it as an error: the owner asked for something (here adkim=x) that no receiver applies."),
}

SPF_CHECKS = set(_audit.SPF_CHECKS) - {"spf.sender"}
DMARC_CHECKS = set(_audit.DMARC_CHECKS)


def _records(name, values):
    lines = []
    for value in values or []:
        strings = list(value) if isinstance(value, tuple) else None
        text = quote_txt([s.format(d=name) for s in strings]) if strings else quote_txt(value.format(d=name))
        lines.append("%s. IN TXT %s" % (name, text))
    return lines


def _zone_records():
    lines = ["judge.test. IN MX 10 mx.judge.test.", "mx.judge.test. IN A 192.0.2.25",
             "reports.test. IN MX 10 mx.judge.test.", "exact.test. IN MX 10 mx.judge.test.",
             "noauth.test. IN MX 10 mx.judge.test.",
             '*._report._dmarc.reports.test. IN TXT "v=DMARC1"',
             'd12-rua-exact-auth.judge.test._report._dmarc.exact.test. IN TXT "v=DMARC1"',
             # include and redirect targets
             'inc1.judge.test. IN TXT "v=spf1 %s include:inc2.judge.test -all"'
             % " ".join("a:h%d.judge.test" % i for i in range(1, 7)),
             'inc2.judge.test. IN TXT "v=spf1 %s -all"' % " ".join("a:h%d.judge.test" % i for i in range(7, 12)),
             'nospf.judge.test. IN TXT "not an spf record"',
             'loop1.judge.test. IN TXT "v=spf1 include:loop2.judge.test -all"',
             'loop2.judge.test. IN TXT "v=spf1 include:loop1.judge.test -all"',
             '_spf.judge.test. IN TXT "v=spf1 ip4:192.0.2.1 -all"',
             '_spfsoft.judge.test. IN TXT "v=spf1 ip4:192.0.2.1 ~all"',
             'explain.judge.test. IN TXT "mail from %{i} is not allowed"']
    lines += ["h%d.judge.test. IN A 192.0.2.%d" % (i, 100 + i) for i in range(1, 12)]
    for case, spf in SPF_CASES.items():
        name = "%s.%s" % (case, BASE)
        lines += _records(name, spf)
        lines += _records("_dmarc." + name, [OWN])
        lines += ["%s. IN MX 10 mx.judge.test." % name, "%s. IN A 192.0.2.1" % name]
    for case, dmarc in DMARC_CASES.items():
        name = "%s.%s" % (case, BASE)
        lines += _records(name, [GOOD_SPF])
        lines += ["%s. IN MX 10 mx.judge.test." % name]
        lines += _records("_dmarc." + name, [OWN if v == "OWN" else v for v in dmarc or []])
    return lines


@pytest.fixture(scope="module")
def judge_dns(tmp_path_factory):
    # One zone for all of .test, so every name either side asks (tree walks included) has an answer.
    zones = {"test": zone_text("test", _zone_records())}
    with run_named(zones, directory=tmp_path_factory.mktemp("judge-named")) as server:
        yield server


def audit_verdict(domain, server):
    spec = _audit.domain_spec({"name": domain, "spf_all": "fail", "dmarc_policy": "none"}, "domains[0]")
    audit = _audit.audit_domain(spec, dns_lookup([server.address], timeout=5))
    return set(f.check for f in audit.findings if f.severity in ("error", "warning"))


SPF_ERRORS = (
    (cd_spf.MultipleSPFRTXTRecords, "spf.multiple"),
    (cd_spf.SPFSyntaxError, "spf.syntax"),
    (cd_spf.SPFTooManyDNSLookups, "spf.lookups"),
    (cd_spf.SPFTooManyVoidDNSLookups, "spf.lookups"),
    (cd_spf.SPFIncludeLoop, "spf.lookups"),
    (cd_spf.SPFRedirectLoop, "spf.lookups"),
)
SPF_WARNINGS = (
    (re.compile(r"The ptr mechanism should not be used"), "spf.syntax"),
    (re.compile(r"multiple all mechanisms"), "spf.all"),
)
DMARC_WARNINGS = (
    (re.compile(r"tag was removed in RFC 9989"), "dmarc.obsolete"),
    (re.compile(r"does not indicate that it accepts DMARC reports"), "dmarc.report_auth"),
    (re.compile(r"A missing p tag"), "dmarc.policy"),
)


def checkdmarc_spf(domain, nameservers):
    try:
        record = cd_spf.query_spf_record(domain, nameservers=nameservers, timeout=2, retries=0)["record"]
        parsed = cd_spf.parse_spf_record(record, domain, nameservers=nameservers, timeout=2, retries=0)
    except cd_spf.SPFRecordNotFound as err:
        # Not found at the domain itself is spf.missing; at an include target it breaks the evaluation.
        return {"spf.missing"} if err.domain == domain else {"spf.lookups"}
    except cd_spf.SPFError as err:
        for kind, check in SPF_ERRORS:
            if isinstance(err, kind):
                return {check}
        return {"spf.unmapped:%s" % type(err).__name__}
    checks = set() if parsed["parsed"]["all"] == "fail" else {"spf.all"}
    for warning in parsed["warnings"]:
        for pattern, check in SPF_WARNINGS:
            if pattern.search(warning):
                checks.add(check)
    return checks


def checkdmarc_dmarc(domain, nameservers):
    try:
        query = cd_dmarc.query_dmarc_record(domain, nameservers=nameservers, timeout=2, retries=0)
        if query["location"] != domain:
            return {"dmarc.missing"}
        parsed = cd_dmarc.parse_dmarc_record(query["record"], domain, nameservers=nameservers, timeout=2, retries=0)
    except (cd_dmarc.DMARCRecordNotFound, cd_dmarc.DMARCRecordInWrongLocation):
        return {"dmarc.missing"}
    except (cd_dmarc.DMARCSyntaxError, cd_dmarc.MultipleDMARCRecords):
        return {"dmarc.syntax"}
    except cd_dmarc.UnrelatedTXTRecordFoundAtDMARC:
        return {"unrelated TXT at _dmarc"}  # no check of ours means this; see DIFFERENCES
    except cd_dmarc.DMARCError as err:
        return {"dmarc.unmapped:%s" % type(err).__name__}
    checks = set()
    for warning in parsed["warnings"]:
        for pattern, check in DMARC_WARNINGS:
            if pattern.search(warning):
                checks.add(check)
    if parsed["tags"]["p"]["value"] != "none":
        checks.add("dmarc.policy")
    return checks


def checkdmarc_verdict(domain, server):
    nameservers = [dns.nameserver.Do53Nameserver(server.host, port=server.port)]
    return checkdmarc_spf(domain, nameservers) | checkdmarc_dmarc(domain, nameservers)


CASES = sorted(list(SPF_CASES) + list(DMARC_CASES))


def test_at_least_thirty_records():
    assert len(SPF_CASES) + len(DMARC_CASES) >= 30


@pytest.mark.parametrize("case", CASES)
def test_verdicts_agree(judge_dns, case):
    domain = "%s.%s" % (case, BASE)
    ours = audit_verdict(domain, judge_dns) & (SPF_CHECKS | DMARC_CHECKS)
    theirs = checkdmarc_verdict(domain, judge_dns)
    if case in DIFFERENCES:
        expected_ours, expected_theirs, _reason = DIFFERENCES[case]
        assert (ours, theirs) == (set(expected_ours), set(expected_theirs)), "the documented difference changed"
    else:
        assert ours == theirs


def test_differences_are_documented(repo):
    text = (repo / "docs" / "audit-vs-checkdmarc.md").read_text()
    rows = dict((m.group(1), m.group(2)) for m in re.finditer(r"^\| `([a-z0-9-]+)` \|(.*)$", text, re.M))
    assert sorted(rows) == sorted(DIFFERENCES)
    for case, (ours, theirs, _reason) in DIFFERENCES.items():
        assert (", ".join(ours) or "none") in rows[case] and (", ".join(theirs) or "none") in rows[case]
