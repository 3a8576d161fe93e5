"""Hostile inputs and faults for dns_txt through dns-lexicon against one real PowerDNS (HTTP API).

One pdns_server serves a zone per case; all cases run as one playbook (dns_harness.py).
"""
import pytest

from dns_servers import run_pdns
from hostile.dns_harness import Case, case_pdns_records, check_outcome, hostile_fixture, ids, with_defaults

SPF = "v=spf1 mx -all"
WRONG_TOKEN = "not-the-api-key-5f1c0a9e"
URL_SECRET = "url-password-7d2e41"


def one(name, value, **extra):
    return lambda ctx: ctx.powerdns(records=[{"name": name, "value": value}], **extra)


def options(**extra):
    """provider_options with ``extra`` (values may be callables of ctx), the API key as a variable."""
    opts = with_defaults(lambda ctx: {"auth_token": "{{ hostile_api_key }}", "pdns_server": ctx.server.api_url}, **extra)
    return lambda ctx: ctx.powerdns(records=[{"name": "@", "value": SPF}], provider_options=opts(ctx))


CASES = [
    Case("pdns-cname", one("alias", SPF), ["records[0].name", "CNAME", "target.pdns-cname.test"],
         zone=["alias 300 CNAME target.pdns-cname.test."]),
    Case("pdns-cname-check-mode", one("alias", SPF), ["records[0].name", "CNAME"],
         zone=["alias 300 CNAME target.pdns-cname-check-mode.test."], check_mode=True),
    Case("pdns-cname-second", lambda ctx: ctx.powerdns(records=[{"name": "@", "value": SPF},
                                                                {"name": "www", "value": "x=y"}]),
         ["records[1].name", "CNAME"], zone=["www 300 CNAME elsewhere.example."]),
    Case("pdns-dmarc-typo", one("_dmarc", "v=DMARC1; p=rejetc"), ["records[0].value", "rejetc"]),
    Case("pdns-spf-broken", one("@", "v=spf1 ip4:999.1.1.1 +all include:"), ["records[0].value", "999.1.1.1"]),
    Case("pdns-spf-12-includes", one("@", "v=spf1 %s -all" % " ".join("include:i%d.example.net" % n for n in range(12))),
         ["records[0].value", "12 DNS lookups"]),
    Case("pdns-dkim-whitespace", one("s1._domainkey", "v=DKIM1; k=rsa; p=MIGfMA0G CSqGSIb3DQEBAQUAA4GNADCBiQKBgQC"),
         ["records[0].value"]),
    Case("pdns-value-list", one("@", ["v=spf1", "-all"]), ["records[0].value", "list"]),
    Case("pdns-value-missing", lambda ctx: ctx.powerdns(records=[{"name": "@"}]), ["records[0].value", "missing"]),
    Case("pdns-wrong-token", options(auth_token=WRONG_TOKEN), ["HTTP 401", "provider_options"],
         secrets=lambda ctx: [WRONG_TOKEN]),
    Case("pdns-api-unreachable", options(pdns_server=lambda ctx: "http://127.0.0.1:%d" % ctx.closed_port),
         ["ConnectionError", "provider_options"]),
    Case("pdns-token-in-url", options(pdns_server=lambda ctx: "http://admin:%s@127.0.0.1:%d" % (URL_SECRET, ctx.closed_port)),
         ["provider_options"], secrets=lambda ctx: [URL_SECRET]),
    Case("pdns-zone-unknown", lambda ctx: ctx.powerdns(zone="nothere.test", records=[{"name": "@", "value": SPF}]),
         ["nothere.test"]),
    Case("pdns-timeout-negative", lambda ctx: ctx.powerdns(records=[{"name": "@", "value": SPF}], timeout=-1),
         ["^timeout:"]),
    Case("pdns-name-outside", one("www.elsewhere.test.", SPF), ["records[0].name", "outside zone"]),
    Case("pdns-provider-options-not-dict", lambda ctx: ctx.powerdns(records=[{"name": "@", "value": SPF}],
                                                                    provider_options="{{ hostile_api_key }}"),
         ["provider_options"], fix="dictionary"),
]


outcomes = hostile_fixture(CASES, run_pdns, case_pdns_records, lambda server: {"hostile_api_key": server.api_key})


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_hostile_dns_txt_powerdns(outcomes, case):  # pylint: disable=redefined-outer-name
    check_outcome(outcomes[case.id])
