"""Hostile inputs and DNS faults for mail_audit against one real BIND.

A server that cannot be reached and a CNAME loop are faults the audit cannot decide on: it must
fail closed with a finding of their own, never file them as a missing SPF, DKIM or DMARC record.
"""
import pytest

from dns_servers import run_named
from hostile.dns_harness import (
    Case, case_zone_text, check_outcome, hostile_fixture, ids, rsa_key_b64, with_defaults)

KEY = rsa_key_b64(1024)
GOOD = ['_dmarc IN TXT "v=DMARC1; p=none"', 's1._domainkey IN TXT "v=DKIM1; k=rsa; p=%s"' % KEY]
MISSING = ["spf.missing", "dmarc.missing", "dkim.missing"]


def audit(nameservers=None, **extra):
    """mail_audit args for the case's domain, asking ``nameservers(ctx)`` (default: the BIND)."""
    return with_defaults(lambda ctx: {"domains": [{"name": ctx.zone, "dkim": [{"selector": "s1"}]}], "timeout": 2,
                                      "nameservers": nameservers(ctx) if nameservers else [ctx.server.address]},
                         **extra)


def domain(**fields):
    return lambda ctx: [dict({"name": ctx.zone}, **fields)]


CASES = [
    Case("audit-closed-port", audit(lambda ctx: ["127.0.0.1:%d" % ctx.closed_port]),
         ["dns.unreachable", "no answer within 2 s"],
         module="mail_audit", zone=GOOD, absent=MISSING),
    Case("audit-silent", audit(lambda ctx: [ctx.blackhole], timeout=1), ["dns.unreachable", "no answer within 1 s"],
         module="mail_audit", zone=GOOD, absent=MISSING + ["1.00"]),
    Case("audit-cname-loop-dmarc", audit(), ["dns.cname_loop", "_dmarc.audit-cname-loop-dmarc.test"],
         module="mail_audit", zone=["_dmarc IN CNAME _dmarc", GOOD[1]], absent=MISSING),
    Case("audit-cname-loop-two", audit(), ["dns.cname_loop", "x.audit-cname-loop-two.test"],
         module="mail_audit", zone=["_dmarc IN CNAME x", "x IN CNAME _dmarc", GOOD[1]], absent=MISSING),
    Case("audit-cname-loop-dkim", audit(), ["dns.cname_loop", "s1._domainkey"],
         module="mail_audit", zone=[GOOD[0], "s1._domainkey IN CNAME s1._domainkey"], absent=MISSING),
    Case("audit-timeout-negative", audit(timeout=-1), ["^timeout:"], module="mail_audit", zone=GOOD),
    Case("audit-timeout-zero", audit(timeout=0), ["^timeout:"], module="mail_audit", zone=GOOD),
    Case("audit-port-99999", audit(nameserver_port=99999), ["^nameserver_port:"], module="mail_audit", zone=GOOD),
    Case("audit-nameserver-not-ip", audit(lambda ctx: [ctx.server.address, "ns1.example.net"]), ["^nameservers[1]:"],
         module="mail_audit", zone=GOOD),
    Case("audit-resolver-not-ip", audit(lambda ctx: None, resolvers=["resolver.example.net"]), ["^resolvers[0]:"],
         module="mail_audit", zone=GOOD),
    Case("audit-domain-bad-name", audit(domains=[{"name": "bad domain!"}]), ["^domains[0].name:"],
         module="mail_audit", zone=GOOD),
    Case("audit-sending-ip-bad", audit(domains=domain(sending_ips=["999.1.1.1"])), ["^domains[0].sending_ips[0]:"],
         module="mail_audit", zone=GOOD),
    Case("audit-selector-bad", audit(domains=domain(dkim=[{"selector": "bad selector"}])),
         ["^domains[0].dkim[0].selector:"], module="mail_audit", zone=GOOD),
    Case("audit-public-key-bad", audit(domains=domain(dkim=[{"selector": "s1", "public_key": "not-a-key"}])),
         ["^domains[0].dkim[0].public_key:"], module="mail_audit", zone=GOOD),
    Case("audit-dnsbl-bad", audit(dnsbl_zones=["bad zone!"]), ["dnsbl_zones[0]"], module="mail_audit", zone=GOOD),
    Case("audit-report-dir-unwritable", audit(report_dir="/proc/mailauth-hostile"), ["^report_dir:", "could not write"],
         module="mail_audit", zone=GOOD),
]


outcomes = hostile_fixture(CASES, run_named, case_zone_text, lambda server: {"hostile_tsig_secret": server.key_secret})


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_hostile_mail_audit(outcomes, case):  # pylint: disable=redefined-outer-name
    check_outcome(outcomes[case.id])
