"""The judge from outside for transport security: the audit and checkdmarc 6.0.4 read the same
``_smtp._tls`` (TLS-RPT, RFC 8460) and ``_mta-sts`` (MTA-STS, RFC 8461) records from a real BIND
and must reach the same verdicts: there is no deliberate difference here (docs/audit-vs-checkdmarc.md).

A verdict is the set of check names at severity error or warning; checkdmarc's outcome is mapped onto
them by the exception it raises. Only the TXT records are judged here (the audit gets no fetcher);
the policy fetch is tested against a real HTTPS server in test_mta_sts_policy_fetch.py.
"""
import dns.nameserver
import pytest
from checkdmarc import mta_sts as cd_mta_sts
from checkdmarc import smtp_tls_reporting as cd_tlsrpt

from ansible_collections.mailauth.hardening.plugins.module_utils._audit import audit as _audit
from ansible_collections.mailauth.hardening.plugins.module_utils._dns.resolver import dns_lookup
from ansible_collections.mailauth.hardening.plugins.module_utils._records.txt import quote_txt
from dns_servers import run_named, zone_text

pytestmark = pytest.mark.filterwarnings("ignore")

BASE = "judge.test"
# Each case is one domain NAME.judge.test: the TXT values at _smtp._tls or _mta-sts; None = nothing.
TLS_RPT_CASES = {
    "t01-good": ["v=TLSRPTv1; rua=mailto:tls@{d}"],
    "t02-https": ["v=TLSRPTv1; rua=https://tlsrpt.{d}/v1"],
    "t03-mailto-and-https": ["v=TLSRPTv1; rua=mailto:tls@{d},https://tlsrpt.{d}/v1"],
    "t04-missing": None,
    "t05-multiple": ["v=TLSRPTv1; rua=mailto:a@{d}", "v=TLSRPTv1; rua=mailto:b@{d}"],
    "t06-no-rua": ["v=TLSRPTv1; ruf=mailto:tls@{d}"],
    "t07-bare-address": ["v=TLSRPTv1; rua=tls@{d}"],
    "t08-ftp": ["v=TLSRPTv1; rua=ftp://tlsrpt.{d}/"],
    "t09-version-only": ["v=TLSRPTv1"],
    "t10-beside-other-txt": ["unrelated", "v=TLSRPTv1; rua=mailto:tls@{d}"],
    "t11-v-not-first": ["rua=mailto:tls@{d}; v=TLSRPTv1"],
    "t12-blank-before-semicolon": ["v=TLSRPTv1 ; rua=mailto:tls@{d}"],
}
MTA_STS_CASES = {
    "m01-good": ["v=STSv1; id=20261202T010203"],
    "m02-missing": None,
    "m03-multiple": ["v=STSv1; id=a1", "v=STSv1; id=b2"],
    "m04-dash-in-id": ["v=STSv1; id=2026-12-02"],
    "m05-no-id": ["v=STSv1;"],
    "m06-id-too-long": ["v=STSv1; id=" + "a" * 33],
    "m07-stsv2": ["v=STSv2; id=abc"],
    "m08-beside-other-txt": ["unrelated", "v=STSv1; id=abc"],
    "m09-version-only": ["v=STSv1"],
}
TLS_RPT_CHECKS = {"tls_rpt.missing", "tls_rpt.syntax"}
MTA_STS_CHECKS = {"mta_sts.missing", "mta_sts.syntax"}


def _zone_records():
    lines = []
    for cases, prefix in ((TLS_RPT_CASES, "_smtp._tls."), (MTA_STS_CASES, "_mta-sts.")):
        for case, values in cases.items():
            name = "%s.%s" % (case, BASE)
            lines.append("%s. IN MX 10 mx.%s." % (name, BASE))
            lines += ["%s%s. IN TXT %s" % (prefix, name, quote_txt(v.format(d=name))) for v in values or []]
    return lines + ["mx.%s. IN A 192.0.2.25" % BASE]


@pytest.fixture(scope="module")
def judge_dns(tmp_path_factory):
    zones = {"test": zone_text("test", _zone_records())}
    with run_named(zones, directory=tmp_path_factory.mktemp("transport-named")) as server:
        yield server


def audit_verdict(domain, server):
    spec = _audit.domain_spec({"name": domain, "tls_rpt": True, "mta_sts": True}, "domains[0]")
    audit = _audit.audit_domain(spec, dns_lookup([server.address], timeout=5))
    return set(f.check for f in audit.findings if f.severity in ("error", "warning"))


# Per record kind: checkdmarc's query and parse functions, its not-found error and the base of its
# other errors (syntax, several records, bad values), and the check names they map to.
JUDGES = (
    (cd_tlsrpt.query_smtp_tls_reporting_record, cd_tlsrpt.parse_smtp_tls_reporting_record,
     cd_tlsrpt.SMTPTLSReportingRecordNotFound, cd_tlsrpt.SMTPTLSReportingError, "tls_rpt."),
    (cd_mta_sts.query_mta_sts_record, cd_mta_sts.parse_mta_sts_record,
     cd_mta_sts.MTASTSRecordNotFound, cd_mta_sts.MTASTSError, "mta_sts."),
)


def checkdmarc_check(judge, domain, nameservers):
    query, parse, not_found, error, prefix = judge
    try:
        parse(query(domain, nameservers=nameservers, timeout=2)["record"])
    except not_found:
        return {prefix + "missing"}
    except error:
        return {prefix + "syntax"}
    return set()


def checkdmarc_verdict(domain, server):
    nameservers = [dns.nameserver.Do53Nameserver(server.host, port=server.port)]
    return set().union(*(checkdmarc_check(judge, domain, nameservers) for judge in JUDGES))


@pytest.mark.parametrize("case", sorted(list(TLS_RPT_CASES) + list(MTA_STS_CASES)))
def test_verdicts_agree(judge_dns, case):
    domain = "%s.%s" % (case, BASE)
    checks = TLS_RPT_CHECKS if case in TLS_RPT_CASES else MTA_STS_CHECKS
    ours = audit_verdict(domain, judge_dns) & checks
    theirs = checkdmarc_verdict(domain, judge_dns) & checks
    assert ours == theirs
