"""SPF record logic (RFC 7208): build, parse, validate, lookup counting, check_host."""
import pytest

from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError
from ansible_collections.mailauth.hardening.plugins.module_utils._records.lookup import static_lookup
from ansible_collections.mailauth.hardening.plugins.module_utils._records.spf import (
    build_spf, check_host, count_lookups, evaluate_spf, find_spf, parse_spf, validate_spf)


def checks(findings, severity=None):
    return [(f.check, f.severity) for f in findings if severity in (None, f.severity)]


# ---------------------------------------------------------------- build

@pytest.mark.parametrize("mechanisms, all_, expected", [
    (["mx", "a"], "fail", "v=spf1 mx a -all"),
    (["+a", "+mx"], "fail", "v=spf1 +a +mx -all"),
    ("mx a", "softfail", "v=spf1 mx a ~all"),
    (["ip4:192.0.2.0/24", "ip6:2001:DB8::/32"], "neutral", "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 ?all"),
    (["a:mail.example.com/24//64", "mx/28", "a//64"], "-", "v=spf1 a:mail.example.com/24//64 mx/28 a//64 -all"),
    (["include:_spf.example.net", "exists:%{ir}.%{l1r+-}._spf.%{d}"], "~all",
     "v=spf1 include:_spf.example.net exists:%{ir}.%{l1r+-}._spf.%{d} ~all"),
    (["MX", "exp=explain._spf.example.com"], "fail", "v=spf1 mx -all exp=explain._spf.example.com"),
    (["redirect=_spf.example.com"], None, "v=spf1 redirect=_spf.example.com"),
    ([], "fail", "v=spf1 -all"),
])
def test_build_spf(mechanisms, all_, expected):
    assert build_spf(mechanisms, all=all_) == expected
    assert str(parse_spf(expected)) == expected


def test_build_spf_default_all_is_fail():
    assert build_spf(["mx"]) == "v=spf1 mx -all"


@pytest.mark.parametrize("value", ["pass", "+", "+all", "PASS"])
def test_build_spf_refuses_plus_all(value):
    with pytest.raises(InputError) as err:
        build_spf(["mx"], all=value)
    assert err.value.field == "spf.all"
    assert str(err.value).startswith("spf.all:")
    assert "+all" in str(err.value)


@pytest.mark.parametrize("mechanisms, all_, field, words", [
    (["mx", "ip4:192.0.2.300"], "fail", "spf.mechanisms[1]", "ip4:192.0.2.300"),
    (["ip4:192.0.2.0/33"], "fail", "spf.mechanisms[0]", "/33"),
    (["ip4:192.0.2.0/024"], "fail", "spf.mechanisms[0]", "/024"),
    (["ip6:2001:db8::/129"], "fail", "spf.mechanisms[0]", "/129"),
    (["ip6:192.0.2.1"], "fail", "spf.mechanisms[0]", "IPv6"),
    (["ip4"], "fail", "spf.mechanisms[0]", "needs an address"),
    (["a:localhost"], "fail", "spf.mechanisms[0]", "localhost"),
    (["a:/24"], "fail", "spf.mechanisms[0]", "a:/24"),
    (["mx:example..com"], "fail", "spf.mechanisms[0]", "example..com"),
    (["include:"], "fail", "spf.mechanisms[0]", "include:"),
    (["include"], "fail", "spf.mechanisms[0]", "include:DOMAIN"),
    (["exists:%{x}.example.com"], "fail", "spf.mechanisms[0]", "'x'"),
    (["exists:%{d0}.example.com"], "fail", "spf.mechanisms[0]", "at least one"),
    (["exists:50%.example.com"], "fail", "spf.mechanisms[0]", "macro"),
    (["allow:example.com"], "fail", "spf.mechanisms[0]", "allow:example.com"),
    (["mx", "-all"], "fail", "spf.mechanisms[1]", "spf.all"),
    (["mx", "mx"], "fail", "spf.mechanisms[1]", "twice"),
    (["mx a"], "fail", "spf.mechanisms[0]", "more than one term"),
    (["v=spf1 mx"], "fail", "spf.mechanisms[0]", "v=spf1"),
    ([""], "fail", "spf.mechanisms[0]", "non-empty"),
    ([3], "fail", "spf.mechanisms[0]", "non-empty"),
    (["foo=bar"], "fail", "spf.mechanisms[0]", "foo=bar"),
    (["redirect=a.example", "redirect=b.example"], None, "spf.mechanisms", "redirect="),
    (["redirect=_spf.example.com"], "fail", "spf.all", "redirect="),
    (["mx"], None, "spf.all", "neutral"),
    (["mx"], "maybe", "spf.all", "'maybe'"),
    ({"mx": 1}, "fail", "spf.mechanisms", "list"),
])
def test_build_spf_bad_input_names_the_field(mechanisms, all_, field, words):
    with pytest.raises(InputError) as err:
        build_spf(mechanisms, all=all_)
    assert err.value.field == field
    assert str(err.value).startswith(field + ":")
    assert words in str(err.value)


# ---------------------------------------------------------------- parse

def test_parse_spf_structure():
    record = parse_spf("v=spf1 +a -mx:mail.example.com/24 ~ip4:192.0.2.1 ?include:_spf.example.net "
                       "Exp=explain.example.com -ALL")
    assert [t.name for t in record.mechanisms] == ["a", "mx", "ip4", "include", "all"]
    assert [t.result for t in record.mechanisms] == ["pass", "fail", "softfail", "neutral", "fail"]
    assert record.mechanisms[1].value == "mail.example.com"
    assert record.mechanisms[1].cidr4 == 24
    assert record.exp == "explain.example.com"
    assert record.redirect is None
    assert record.all.result == "fail"
    data = record.as_dict()
    assert data["all"] == "fail"
    assert data["terms"][2]["text"] == "~ip4:192.0.2.1"


def test_parse_spf_extra_spaces_and_case():
    assert str(parse_spf("V=SPF1  mx   -all ")) == "v=spf1 mx -all"


@pytest.mark.parametrize("text, words", [
    ("v=spf10 mx -all", "v=spf1"),
    ("spf1 mx", "v=spf1"),
    ("v=spf1 mx:", "'mx:'"),
    ("v=spf1 ip4:1.2.3.4/24/ -all", "ip4:1.2.3.4/24/"),
    ("v=spf1 all:example.com", "all takes no argument"),
    ("v=spf1 redirect=a.example.com redirect=b.example.com", "redirect="),
    ("v=spf1 exp=a.example.com exp=b.example.com -all", "exp="),
    ("v=spf1 ptr:bad_domain -all", "ptr:bad_domain"),
    ("v=spf1 mx\t-all", "tab or line break"),
])
def test_parse_spf_errors_name_the_term(text, words):
    with pytest.raises(InputError) as err:
        parse_spf(text)
    assert err.value.field == "spf"
    assert words in str(err.value)


def test_parse_spf_macros_and_unknown_modifier():
    record = parse_spf("v=spf1 exists:%{i}._spf.%{d2} include:%{l}.users.example.com moo=%{c} -all")
    assert record.mechanisms[0].value == "%{i}._spf.%{d2}"
    assert record.modifier("moo") == "%{c}"


# ---------------------------------------------------------------- validate

@pytest.mark.parametrize("text, expected", [
    ("v=spf1 mx a -all", []),
    ("v=spf1 +a +mx -all", []),
    ("v=spf1 +all", [("spf.all", "error")]),
    ("v=spf1 mx all", [("spf.all", "error")]),
    ("v=spf1 mx ?all", [("spf.all", "warning")]),
    ("v=spf1 mx ~all", [("spf.all", "info")]),
    ("v=spf1 mx a", [("spf.all", "warning")]),
    ("v=spf1 redirect=_spf.example.com", []),
    ("v=spf1 ptr -all", [("spf.syntax", "warning")]),
    ("v=spf1 mx -all a", [("spf.syntax", "warning")]),
    ("v=spf1 -all redirect=_spf.example.com", [("spf.syntax", "warning")]),
    ("v=spf1 mx moo=cow -all", [("spf.syntax", "warning")]),
    ("v=spf1 mx mx -all", [("spf.syntax", "info")]),
    ("v=spf1 mx:", [("spf.syntax", "error")]),
    ("", [("spf.missing", "error")]),
    (None, [("spf.missing", "error")]),
])
def test_validate_spf(text, expected):
    assert checks(validate_spf(text)) == expected


def test_validate_spf_warns_on_minus_a():
    # The mission's text says "-a" where "-all" is meant: the record then ends neutral
    # and refuses the domain's own A record.
    findings = validate_spf("v=spf1 +a +mx -a")
    assert ("spf.all", "warning") in checks(findings)
    assert any("-all was probably meant" in f.message for f in findings)


def test_validate_spf_more_than_one_all():
    findings = validate_spf("v=spf1 mx -all ~all")
    messages = [f.message for f in findings]
    assert any("2 all mechanisms" in m for m in messages)
    assert any("never evaluated: ~all" in m for m in messages)


def test_validate_spf_direct_lookups_and_length():
    text = "v=spf1 " + " ".join("a:h%d.example.com" % i for i in range(11)) + " -all"
    assert ("spf.lookups", "error") in checks(validate_spf(text))
    long_text = "v=spf1 " + " ".join("ip4:192.0.2.%d" % i for i in range(40)) + " -all"
    assert ("spf.syntax", "info") in checks(validate_spf(long_text))


def test_validate_spf_finding_dict():
    finding = validate_spf("v=spf1 +all")[0]
    assert finding.as_dict() == {"check": "spf.all", "severity": "error", "message": finding.message,
                                 "fix": "end the record with -all."}


# ---------------------------------------------------------------- find

def test_find_spf():
    assert find_spf(["google-site-verification=x", "v=spf1 mx -all"]) == ("v=spf1 mx -all", [])
    record, findings = find_spf(["v=spf1 mx -all", "V=SPF1 a -all"], "example.com")
    assert record is None and checks(findings) == [("spf.multiple", "error")]
    assert "example.com" in findings[0].message
    record, findings = find_spf(["v=spf10 mx", "spf2.0/pra mx"])
    assert record is None and checks(findings) == [("spf.missing", "error")]
    assert find_spf([])[1][0].check == "spf.missing"


# ---------------------------------------------------------------- lookup counting

def _spf(name, text):
    return {(name, "TXT"): [text]}


def test_count_lookups_three_levels_of_includes():
    table = {}
    table.update(_spf("example.com", "v=spf1 mx include:a.example.net -all"))
    table.update(_spf("a.example.net", "v=spf1 a include:b.example.net ~all"))
    table.update(_spf("b.example.net", "v=spf1 include:c.example.net ip4:192.0.2.0/24 ~all"))
    table.update(_spf("c.example.net", "v=spf1 mx:mail.c.example.net ip6:2001:db8::/32 ~all"))
    table[("example.com", "MX")] = ["mx.example.com"]
    table[("a.example.net", "A")] = ["192.0.2.1"]
    table[("mail.c.example.net", "MX")] = ["mx1.c.example.net"]
    result = count_lookups("Example.COM.", static_lookup(table))
    # mx, include:a (1+: a, include:b (1+: include:c (1+: mx)))
    assert result.total == 6
    assert result.void == 0
    assert result.ok and result.findings == []
    chains = [entry["chain"] for entry in result.lookups]
    assert "example.com > include:a.example.net > include:b.example.net > include:c.example.net > " \
           "mx:mail.c.example.net" in chains
    assert set(result.records) == {"example.com", "a.example.net", "b.example.net", "c.example.net"}


def _chain_of_includes(count_at_leaf):
    """example.com includes a.example.net which has count_at_leaf a: terms (names resolve)."""
    table = {}
    table.update(_spf("example.com", "v=spf1 include:a.example.net -all"))
    hosts = ["h%d.example.net" % i for i in range(count_at_leaf)]
    table.update(_spf("a.example.net", "v=spf1 " + " ".join("a:" + h for h in hosts) + " ~all"))
    for host in hosts:
        table[(host, "A")] = ["192.0.2.7"]
    return table


def test_count_lookups_exactly_ten_is_ok():
    result = count_lookups("example.com", static_lookup(_chain_of_includes(9)))
    assert result.total == 10
    assert result.ok


def test_count_lookups_eleven_is_an_error_naming_the_chain():
    result = count_lookups("example.com", static_lookup(_chain_of_includes(10)))
    assert result.total == 11
    assert not result.ok
    (finding,) = result.findings
    assert (finding.check, finding.severity) == ("spf.lookups", "error")
    assert "11 DNS lookups" in finding.message
    assert "example.com > include:a.example.net > a:h9.example.net" in finding.message
    assert "example.com 1, a.example.net 10" in finding.message


def test_count_lookups_void_lookups():
    table = _spf("example.com", "v=spf1 a:gone1.example.com mx:gone2.example.com exists:gone3.example.com -all")
    result = count_lookups("example.com", static_lookup(table))
    assert result.total == 3
    assert result.void == 3
    (finding,) = result.findings
    assert finding.check == "spf.lookups" and finding.severity == "error"
    assert "3 void lookups" in finding.message and "mx:gone2.example.com" in finding.message
    # two void lookups are still allowed
    table = _spf("example.com", "v=spf1 a:gone1.example.com mx:gone2.example.com -all")
    assert count_lookups("example.com", static_lookup(table)).ok


def test_count_lookups_a_with_only_aaaa_is_not_void():
    table = _spf("example.com", "v=spf1 a:v6.example.com -all")
    table[("v6.example.com", "AAAA")] = ["2001:db8::1"]
    assert count_lookups("example.com", static_lookup(table)).void == 0


def test_count_lookups_include_loop():
    table = {}
    table.update(_spf("example.com", "v=spf1 include:a.example.net -all"))
    table.update(_spf("a.example.net", "v=spf1 include:b.example.net ~all"))
    table.update(_spf("b.example.net", "v=spf1 include:example.com ~all"))
    result = count_lookups("example.com", static_lookup(table))
    assert not result.ok
    loop = [f for f in result.findings if "loop" in f.message]
    assert loop and loop[0].message == ("include loop: example.com > include:a.example.net > "
                                        "include:b.example.net > include:example.com.")


def test_count_lookups_redirect_counts_and_is_followed():
    table = {}
    table.update(_spf("example.com", "v=spf1 redirect=_spf.example.com"))
    table.update(_spf("_spf.example.com", "v=spf1 mx a -all"))
    table[("_spf.example.com", "MX")] = ["mx.example.com"]
    table[("_spf.example.com", "A")] = ["192.0.2.1"]
    result = count_lookups("example.com", static_lookup(table))
    assert [e["term"] for e in result.lookups] == ["redirect=_spf.example.com", "mx", "a"]


def test_count_lookups_redirect_ignored_next_to_all():
    table = _spf("example.com", "v=spf1 -all redirect=_spf.example.com")
    assert count_lookups("example.com", static_lookup(table)).total == 0


def test_count_lookups_repeated_include_counts_twice():
    table = {}
    table.update(_spf("example.com", "v=spf1 include:a.example.net include:b.example.net -all"))
    table.update(_spf("a.example.net", "v=spf1 include:c.example.net ~all"))
    table.update(_spf("b.example.net", "v=spf1 include:c.example.net ~all"))
    table.update(_spf("c.example.net", "v=spf1 ip4:192.0.2.0/24 ~all"))
    assert count_lookups("example.com", static_lookup(table)).total == 4


def test_count_lookups_include_without_spf_is_an_error_and_void():
    table = _spf("example.com", "v=spf1 include:nospf.example.net -all")
    result = count_lookups("example.com", static_lookup(table))
    assert result.total == 1 and result.void == 1
    assert checks(result.findings) == [("spf.lookups", "error")]
    assert "permerror" in result.findings[0].message


def test_count_lookups_mx_with_more_than_ten_names():
    table = _spf("example.com", "v=spf1 mx -all")
    table[("example.com", "MX")] = ["mx%d.example.com" % i for i in range(11)]
    result = count_lookups("example.com", static_lookup(table))
    assert checks(result.findings) == [("spf.lookups", "error")]
    assert "11 MX names" in result.findings[0].message


def test_count_lookups_macros_and_ptr_are_counted_not_followed():
    table = _spf("example.com", "v=spf1 exists:%{i}._spf.example.com ptr include:%{d}.x.example.net -all")
    lookup = static_lookup(table)
    result = count_lookups("example.com", lookup)
    assert result.total == 3 and result.void == 0
    assert lookup.queries == [("example.com", "TXT")]


def test_count_lookups_missing_record_and_failures():
    result = count_lookups("example.com", static_lookup({}))
    assert checks(result.findings) == [("spf.missing", "error")]
    result = count_lookups("example.com", static_lookup({("example.com", "TXT"): ["v=spf1 mx:"]}))
    assert checks(result.findings) == [("spf.syntax", "error")]
    table = _spf("example.com", "v=spf1 include:broken.example.net a -all")
    table[("broken.example.net", "TXT")] = TimeoutError
    table[("example.com", "A")] = ["192.0.2.1"]
    result = count_lookups("example.com", static_lookup(table))
    assert checks(result.findings) == [("spf.lookups", "warning")]
    assert "incomplete" in result.findings[0].message
    assert result.as_dict()["total"] == 2


# ---------------------------------------------------------------- evaluation

ZONE = {
    ("example.com", "TXT"): ["v=spf1 ip4:192.0.2.0/28 a mx include:_spf.partner.example ~all", "other text"],
    ("example.com", "A"): ["198.51.100.10"],
    ("example.com", "AAAA"): ["2001:db8::10"],
    ("example.com", "MX"): ["mx1.example.com", "mx2.example.com"],
    ("mx1.example.com", "A"): ["198.51.100.20"],
    ("mx2.example.com", "A"): ["198.51.100.21"],
    ("mx2.example.com", "AAAA"): ["2001:db8::21"],
    ("_spf.partner.example", "TXT"): ["v=spf1 ip4:203.0.113.0/24 -all"],
    ("redirected.example", "TXT"): ["v=spf1 redirect=example.com"],
    ("strict.example", "TXT"): ["v=spf1 a:example.com/24 mx:example.com//64 -all"],
    ("neutral.example", "TXT"): ["v=spf1 ip4:192.0.2.1"],
    ("ptr.example", "TXT"): ["v=spf1 ptr ?all"],
    ("multi.example", "TXT"): ["v=spf1 -all", "v=spf1 +all"],
    ("broken.example", "TXT"): ["v=spf1 ip4:300.0.0.1 -all"],
    ("servfail.example", "TXT"): OSError("SERVFAIL"),
    ("inc-missing.example", "TXT"): ["v=spf1 include:nothing.example -all"],
    ("redir-missing.example", "TXT"): ["v=spf1 redirect=nothing.example"],
    ("inc-temp.example", "TXT"): ["v=spf1 include:servfail.example -all"],
    ("exists.example", "TXT"): ["v=spf1 exists:%{ir}.%{v}._spf.%{d} exists:%{l}.users.%{o} -all"],
    ("1.2.0.192.in-addr._spf.exists.example", "A"): ["127.0.0.2"],
    ("alice.users.example.org", "A"): ["127.0.0.2"],
}


@pytest.mark.parametrize("ip, domain, result, term", [
    ("192.0.2.5", "example.com", "pass", "ip4:192.0.2.0/28"),
    ("192.0.2.16", "example.com", "softfail", "~all"),
    ("198.51.100.10", "example.com", "pass", "a"),
    ("2001:db8::10", "example.com", "pass", "a"),
    ("198.51.100.21", "example.com", "pass", "mx"),
    ("2001:db8::21", "example.com", "pass", "mx"),
    ("203.0.113.9", "example.com", "pass", "include:_spf.partner.example"),
    ("::ffff:203.0.113.9", "example.com", "pass", "include:_spf.partner.example"),
    ("203.0.113.9", "redirected.example", "pass", "include:_spf.partner.example"),
    ("192.0.2.99", "redirected.example", "softfail", "~all"),
    ("198.51.100.77", "strict.example", "pass", "a:example.com/24"),
    ("2001:db8::ffff", "strict.example", "pass", "mx:example.com//64"),
    ("192.0.2.99", "strict.example", "fail", "-all"),
    ("192.0.2.99", "neutral.example", "neutral", None),
    ("192.0.2.1", "ptr.example", "neutral", "?all"),
    ("192.0.2.1", "nothing.example", "none", None),
    ("192.0.2.1", "localhost", "none", None),
    ("192.0.2.1", "multi.example", "permerror", None),
    ("192.0.2.1", "broken.example", "permerror", None),
    ("192.0.2.1", "servfail.example", "temperror", None),
    ("192.0.2.1", "inc-missing.example", "permerror", None),
    ("192.0.2.1", "redir-missing.example", "permerror", "redirect=nothing.example"),
    ("192.0.2.1", "inc-temp.example", "temperror", None),
    ("192.0.2.1", "exists.example", "pass", "exists:%{ir}.%{v}._spf.%{d}"),
    ("192.0.2.2", "exists.example", "fail", "-all"),
])
def test_check_host(ip, domain, result, term):
    outcome = check_host(ip, domain, static_lookup(ZONE))
    assert (outcome.result, outcome.term) == (result, term), outcome.reason
    assert evaluate_spf(ip, domain, static_lookup(ZONE)) == result


def test_check_host_sender_macros():
    lookup = static_lookup(ZONE)
    assert evaluate_spf("192.0.2.9", "exists.example", lookup, sender="alice@example.org") == "pass"
    assert evaluate_spf("192.0.2.9", "exists.example", lookup, sender="bob@example.org") == "fail"


def test_check_host_candidate_record_before_publishing():
    # The harden gate: would "-all" fail the host's own address?
    lookup = static_lookup(ZONE)
    assert evaluate_spf("198.51.100.10", "example.com", lookup, record="v=spf1 mx -all") == "fail"
    assert evaluate_spf("198.51.100.10", "example.com", lookup, record="v=spf1 +a +mx -all") == "pass"


def test_check_host_lookup_limit_and_void_limit():
    table = _chain_of_includes(10)
    assert evaluate_spf("192.0.2.200", "example.com", static_lookup(table)) == "permerror"
    table = _chain_of_includes(9)
    assert evaluate_spf("192.0.2.200", "example.com", static_lookup(table)) == "fail"
    assert evaluate_spf("192.0.2.7", "example.com", static_lookup(table)) == "pass"
    voids = _spf("example.com", "v=spf1 a:x1.example.com a:x2.example.com a:x3.example.com -all")
    outcome = check_host("192.0.2.1", "example.com", static_lookup(voids))
    assert outcome.result == "permerror" and "void" in outcome.reason


def test_check_host_include_loop_ends_in_permerror():
    table = {}
    table.update(_spf("example.com", "v=spf1 include:a.example.net -all"))
    table.update(_spf("a.example.net", "v=spf1 include:example.com ~all"))
    assert evaluate_spf("192.0.2.1", "example.com", static_lookup(table)) == "permerror"


def test_check_host_mx_limit():
    table = _spf("example.com", "v=spf1 mx -all")
    table[("example.com", "MX")] = ["mx%d.example.com" % i for i in range(11)]
    assert evaluate_spf("192.0.2.1", "example.com", static_lookup(table)) == "permerror"


@pytest.mark.parametrize("ip", ["192.0.2.300", "", "mail.example.com", None])
def test_check_host_bad_ip(ip):
    with pytest.raises(InputError) as err:
        evaluate_spf(ip, "example.com", static_lookup({}))
    assert err.value.field == "ip"
