"""Hostile inputs and faults for dns_txt and dns_txt_wait against one real BIND (RFC 2136, TSIG).

One named serves a zone per case; all cases run as one playbook (tests/system/hostile/dns_harness.py).
"""
import base64
import os

import pytest

from dns_servers import run_named
from hostile.dns_harness import (
    OLD_SPF, Case, case_zone_text, check_outcome, hostile_fixture, ids, rsa_key_b64, with_defaults)

KEY = rsa_key_b64(2048)
SMALL_KEY = rsa_key_b64(512)
WRONG_SECRET = base64.b64encode(os.urandom(32)).decode()
NOT_BASE64 = "c2VjcmV0LW5vdC1iYXNlNjQ!!"
SPF = "v=spf1 mx -all"
DMARC = "v=DMARC1; p=none; rua=mailto:agg@example.net"
TWELVE_INCLUDES = "v=spf1 %s -all" % " ".join("include:_spf%d.example.net" % n for n in range(12))
CNAME = ["alias IN CNAME target", 'target IN TXT "v=spf1 a -all"']


def one(name, value, **ctx_extra):
    """args for one record through RFC 2136."""
    return lambda ctx: ctx.rfc2136(records=[{"name": name, "value": value}], **ctx_extra)


def rfc(**extra):
    """args for the SPF record at the apex with extra options (values may be callables of ctx)."""
    return with_defaults(lambda ctx: ctx.rfc2136(records=[{"name": "@", "value": SPF}]), **extra)


def present(**extra):
    """dns_txt args for a value the zone already holds (nothing to change), plus ``extra``."""
    return with_defaults(lambda ctx: ctx.rfc2136(records=[{"name": "@", "value": OLD_SPF}]), **extra)


def waiting(**extra):
    """dns_txt_wait args (records, zone, the BIND to ask) plus ``extra``."""
    return with_defaults(lambda ctx: {"zone": ctx.zone, "records": [{"name": "@", "value": OLD_SPF}], "timeout": 3,
                                      "wait_servers": [ctx.server.address], "wait_timeout": 3}, **extra)


def at_server(ctx):
    return [ctx.server.address]


def at_silent(ctx):
    return [ctx.blackhole]


CASES = [
    # item 5: a name holding a CNAME, or below a delegation: refused before anything is sent
    Case("cname-at-name", one("alias", SPF), ["records[0].name", "CNAME", "target.cname-at-name.test"], zone=CNAME),
    Case("cname-external", one("www", SPF), ["records[0].name", "CNAME", "elsewhere.example"],
         zone=["www IN CNAME elsewhere.example."]),
    Case("cname-check-mode", one("alias", SPF), ["records[0].name", "CNAME"], zone=CNAME, check_mode=True),
    Case("cname-loop-publish", one("_dmarc", DMARC), ["records[0].name", "CNAME"],
         zone=["_dmarc IN CNAME _dmarc"]),
    Case("cname-second-record", lambda ctx: ctx.rfc2136(records=[{"name": "@", "value": SPF},
                                                                 {"name": "alias", "value": "v=spf1 -all"}]),
         ["records[1].name", "CNAME"], zone=CNAME),
    Case("delegated-name", one("_dmarc.child", DMARC), ["records[0].name", "child.delegated-name.test", "delegat"],
         zone=["child IN NS ns.child", "ns.child IN A 127.0.0.1"]),
    # item 6: values the record logic knows are broken
    Case("dmarc-typo", one("_dmarc", "v=DMARC1; p=rejetc"), ["records[0].value", "rejetc", "validate"]),
    Case("dmarc-typo-check-mode", one("_dmarc", "v=DMARC1; p=rejetc"), ["records[0].value", "rejetc"],
         check_mode=True),
    Case("spf-12-includes", one("@", TWELVE_INCLUDES), ["records[0].value", "12 DNS lookups", "without DNS"]),
    Case("spf-bad-ip-plus-all", one("@", "v=spf1 ip4:999.1.1.1 +all include:"), ["records[0].value", "999.1.1.1"]),
    Case("spf-plus-all", one("@", "v=spf1 mx +all"), ["records[0].value", "+all"]),
    Case("spf-unknown-mechanism", one("@", "v=spf1 ipv4:192.0.2.1 -all"), ["records[0].value", "ipv4"]),
    Case("spf-redirect-twice", one("@", "v=spf1 redirect=a.example.net redirect=b.example.net"),
         ["records[0].value", "redirect"]),
    Case("spf-bad-cidr", one("@", "v=spf1 ip4:192.0.2.0/33 -all"), ["records[0].value", "33"]),
    Case("spf-second-record", lambda ctx: ctx.rfc2136(records=[{"name": "@", "value": SPF},
                                                               {"name": "_spf", "value": "v=spf1 ip4:192.0.2 -all"}]),
         ["records[1].value", "192.0.2"]),
    Case("dmarc-bad-rua", one("_dmarc", "v=DMARC1; p=none; rua=agg@example.net"), ["records[0].value", "rua"]),
    Case("dmarc-lowercase-version", one("_dmarc", "v=dmarc1; p=none"), ["records[0].value", "DMARC1"]),
    Case("dmarc-bad-adkim", one("_dmarc", "v=DMARC1; p=none; adkim=x"), ["records[0].value", "adkim"]),
    Case("dmarc-repeated-tag", one("_dmarc", "v=DMARC1; p=none; p=reject"), ["records[0].value", "more than once"]),
    Case("dkim-whitespace", one("s1._domainkey", "v=DKIM1; k=rsa; p=%s %s" % (KEY[:120], KEY[120:])),
         ["records[0].value", "whitespace"]),
    Case("dkim-truncated", one("s1._domainkey", "v=DKIM1; k=rsa; p=" + KEY[:-12]), ["records[0].value", "p"]),
    Case("dkim-unknown-type", one("s1._domainkey", "v=DKIM1; k=dsa; p=" + KEY), ["records[0].value", "dsa"]),
    Case("dkim-sha1-only", one("s1._domainkey", "v=DKIM1; h=sha1; k=rsa; p=" + KEY), ["records[0].value", "sha1"]),
    Case("dkim-not-for-email", one("s1._domainkey", "v=DKIM1; k=rsa; s=other; p=" + KEY),
         ["records[0].value", "not for email"]),
    Case("dkim-512-bit", one("s1._domainkey", "v=DKIM1; k=rsa; p=" + SMALL_KEY), ["records[0].value", "512"]),
    Case("dkim-no-p", one("s1._domainkey", "v=DKIM1; k=rsa"), ["records[0].value", "p="]),
    # item 11: values that are not text, or missing, named as records[N].value
    Case("value-list", one("@", ["v=spf1", "-all"]), ["records[0].value", "list"]),
    Case("value-bool", one("@", True), ["records[0].value", "bool"]),
    Case("value-dict", one("@", {"v": "spf1"}), ["records[0].value"]),
    Case("value-int", one("@", 12345), ["records[0].value", "int"]),
    Case("value-missing", lambda ctx: ctx.rfc2136(records=[{"name": "@"}]), ["records[0].value", "missing"]),
    # values and names refused by shape
    Case("value-newline", one("@", "v=spf1\n-all"), ["records[0].value", "line break"]),
    Case("value-empty", one("@", ""), ["records[0].value", "empty"]),
    Case("value-blanks", one("@", " v=spf1 -all"), ["records[0].value", "blanks"]),
    Case("value-control-char", one("@", "verification=abc\x07"), ["records[0].value", "control"]),
    Case("value-too-long", one("@", "x" * 70000), ["records[0].value", "octets"]),
    Case("two-spf-one-name", lambda ctx: ctx.rfc2136(records=[{"name": "@", "value": SPF},
                                                              {"name": "@", "value": "v=spf1 a -all"}]),
         ["records[1].value", "second v=spf1"]),
    Case("name-outside-zone", one("x.elsewhere.test.", SPF), ["records[0].name", "outside zone"]),
    Case("name-bad-label", one("bad label", SPF), ["records[0].name", "invalid label"]),
    Case("name-zone-without-dot", lambda ctx: ctx.rfc2136(records=[{"name": ctx.zone, "value": SPF}]),
         ["records[0].name", "trailing dot"]),
    Case("name-empty", one("", SPF), ["records[0].name", "empty"]),
    Case("name-inner-wildcard", one("a.*.b", SPF), ["records[0].name", "'*'"]),
    Case("ttl-negative", lambda ctx: ctx.rfc2136(records=[{"name": "@", "value": SPF, "ttl": -1}]),
         ["records[0].ttl", "-1"]),
    Case("ttl-two-at-one-name", lambda ctx: ctx.rfc2136(records=[{"name": "@", "value": SPF, "ttl": 60},
                                                                 {"name": "@", "value": "x=y", "ttl": 90}]),
         ["records[1].ttl", "one TTL"]),
    Case("ttl-too-big", lambda ctx: ctx.rfc2136(records=[{"name": "@", "value": SPF}], ttl=2 ** 31), ["ttl", "2147483648"]),
    Case("records-empty", lambda ctx: ctx.rfc2136(records=[]), ["records", "empty"]),
    Case("record-unknown-key", lambda ctx: ctx.rfc2136(records=[{"name": "@", "value": SPF, "tll": 60}]),
         ["tll", "records"], fix="Supported parameters"),
    # item 11: numbers out of range are bad input, not a server fault
    Case("port-99999", rfc(server="127.0.0.1", port=99999), ["^port:", "99999"], absent=["server:"]),
    Case("port-zero", rfc(server="127.0.0.1", port=0), ["^port:"], absent=["server:"]),
    Case("server-port-99999", rfc(server="127.0.0.1:99999"), ["^server:", "99999"]),
    Case("timeout-negative", rfc(timeout=-1), ["^timeout:", "-1"], absent=["no answer"]),
    Case("timeout-zero", rfc(timeout=0), ["^timeout:"]),
    # TSIG: the key's name, algorithm and secret, each named; the secret never shown
    Case("hmac-algorithm-mismatch", rfc(key_algorithm="hmac-sha512"), ["BADKEY", "key_algorithm", "hmac-sha512"]),
    Case("wrong-secret", rfc(key_secret=WRONG_SECRET), ["BADSIG", "key_secret"], secrets=lambda ctx: [WRONG_SECRET]),
    Case("unknown-key-name", rfc(key_name="nobody-knows-me"), ["BADKEY", "key_name", "nobody-knows-me"]),
    Case("unsigned-update", rfc(key_name=None, key_secret=None), ["REFUSED", "key_name"]),
    Case("secret-not-base64", rfc(key_secret=NOT_BASE64), ["key_secret", "base64"], secrets=lambda ctx: [NOT_BASE64]),
    Case("secret-without-name", rfc(key_name=None), ["key_name", "key_secret"]),
    # servers and zones that cannot serve the change
    Case("server-closed-port", rfc(server=lambda ctx: "127.0.0.1:%d" % ctx.closed_port),
         ["server", "refused"]),
    Case("server-silent", rfc(server=lambda ctx: ctx.blackhole, timeout=1.5), ["server", "no answer within 1.5 s"]),
    Case("zone-not-served", rfc(zone="nothere.test"), ["nothere.test", "REFUSED", "zone"]),
    Case("provider-missing", rfc(provider=None), ["provider", "is required"]),
    Case("provider-bad-name", rfc(provider="Bad Name"), ["provider", "Bad Name"]),
    Case("zone-bad-label", rfc(zone="bad zone!"), ["zone", "invalid label"]),
    # waiting after dns_txt: the wait options are inputs too
    Case("wait-nameserver-bad", present(wait=True, nameservers=["127.0.0.1:0"]), ["nameservers[0]"]),
    Case("wait-timeout-negative", present(wait=True, wait_timeout=-5, wait_servers=at_server), ["^wait_timeout:"]),
    Case("wait-port-99999", present(wait=True, wait_port=99999, nameservers=at_server, wait_timeout=3), ["^wait_port:"]),
    Case("wait-silent-rounded", present(wait=True, wait_servers=at_silent, wait_timeout=3),
         ["no answer within 3 s", "wait_timeout"], absent=["2.99"]),
    # dns_txt_wait
    Case("wait-module-timeout-negative", waiting(wait_timeout=-1, wait_servers=at_server), ["^wait_timeout:"],
         module="dns_txt_wait"),
    Case("wait-module-interval-negative", waiting(wait_interval=-1, wait_timeout=2, wait_servers=at_server,
                                                  records=[{"name": "@", "value": SPF}]),
         ["^wait_interval:"], module="dns_txt_wait"),
    Case("wait-module-port-70000", waiting(wait_port=70000, wait_servers=["127.0.0.1"]), ["^wait_port:"],
         absent=["wait_servers[0]"], module="dns_txt_wait"),
    Case("wait-module-timeout-option-negative", waiting(timeout=-2, wait_servers=at_server), ["^timeout:"],
         module="dns_txt_wait"),
    Case("wait-module-silent-rounded", waiting(wait_servers=at_silent, wait_timeout=3),
         ["no answer within 3 s", "wait_timeout"], absent=["2.99"], module="dns_txt_wait"),
    Case("wait-module-not-served", waiting(wait_servers=at_server, wait_timeout=1, records=[{"name": "@", "value": SPF}]),
         ["lacks", "wait_timeout"], module="dns_txt_wait"),
    Case("wait-module-value-newline", waiting(records=[{"name": "@", "value": "a\nb"}]),
         ["records[0].value", "line break"], module="dns_txt_wait"),
    Case("wait-module-value-list", waiting(records=[{"name": "@", "value": ["a"]}]), ["records[0].value", "list"],
         module="dns_txt_wait"),
    Case("wait-module-server-port-zero", waiting(wait_servers=["127.0.0.1:0"]), ["wait_servers[0]"],
         module="dns_txt_wait"),
]


outcomes = hostile_fixture(CASES, run_named, case_zone_text, lambda server: {"hostile_tsig_secret": server.key_secret})


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_hostile_dns_txt(outcomes, case):  # pylint: disable=redefined-outer-name
    check_outcome(outcomes[case.id])
