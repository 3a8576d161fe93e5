"""Hostile input to the record filters (spf_record, dmarc_record, dkim_record, txt_split), as a user
writes them: the filter builds the value a dns_txt task publishes. A filter that refuses stops the
task before any server is asked; its message names the field and the fix. One BIND serves all.
"""
import pytest

from dns_servers import run_named
from hostile.dns_harness import Case, case_zone_text, check_outcome, hostile_fixture, ids


def built(name, expression):
    """A dns_txt task publishing ``{{ expression }}`` at ``name``."""
    return lambda ctx: ctx.rfc2136(records=[{"name": name, "value": "{{ %s }}" % expression}])


def spf(data):
    return built("@", "%r | mailauth.hardening.spf_record" % (data,))


def dmarc(data):
    return built("_dmarc", "%r | mailauth.hardening.dmarc_record" % (data,))


def dkim(expression):
    return built("s1._domainkey", expression)


TWELVE = ["include:_spf%d.example.net" % n for n in range(12)]

CASES = [
    Case("spf-filter-plus-all", spf({"mechanisms": ["mx"], "all": "pass"}), ["spf.all", "pass"]),
    Case("spf-filter-bad-ip", spf({"mechanisms": ["ip4:999.1.1.1"]}), ["spf.mechanisms[0]", "999.1.1.1"]),
    Case("spf-filter-unknown-key", spf({"mechanism": ["mx"]}), ["spf.mechanism", "mechanisms"]),
    Case("spf-filter-12-includes", spf({"mechanisms": TWELVE}), ["spf.mechanisms", "12 DNS lookups"]),
    Case("spf-filter-all-in-list", spf({"mechanisms": ["mx", "-all"]}), ["spf.mechanisms[1]", "spf.all"]),
    Case("spf-filter-two-terms-in-one", spf({"mechanisms": ["mx a"]}), ["spf.mechanisms[0]", "more than one term"]),
    Case("spf-filter-prefix-given", spf({"mechanisms": ["v=spf1", "mx"]}), ["spf.mechanisms[0]", "v=spf1"]),
    Case("spf-filter-bad-all", spf({"mechanisms": ["mx"], "all": "hard"}), ["spf.all", "hard"]),
    Case("dmarc-filter-typo", dmarc({"p": "rejetc"}), ["dmarc.p", "rejetc"]),
    Case("dmarc-filter-pct", dmarc({"p": "quarantine", "pct": 50}), ["dmarc.pct", "RFC 9989"]),
    Case("dmarc-filter-bad-rua", dmarc({"p": "none", "rua": ["not-an-address"]}), ["dmarc.rua", "not-an-address"]),
    Case("dmarc-filter-bad-fo", dmarc({"p": "none", "fo": "x"}), ["dmarc.fo"]),
    Case("dmarc-filter-unknown-tag", dmarc({"p": "none", "policy": "reject"}), ["dmarc", "policy"]),
    Case("dkim-filter-garbage-key", dkim("'not-a-key' | mailauth.hardening.dkim_record"), ["public_key"]),
    Case("dkim-filter-bad-type", dkim("'MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC' | mailauth.hardening.dkim_record('dsa')"),
         ["dsa"]),
    Case("txt-split-not-text", built("@", "{'a': 1} | mailauth.hardening.txt_split | first"), ["value", "text"]),
]


outcomes = hostile_fixture(CASES, run_named, case_zone_text, lambda server: {"hostile_tsig_secret": server.key_secret})


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_hostile_record_filters(outcomes, case):  # pylint: disable=redefined-outer-name
    check_outcome(outcomes[case.id])
