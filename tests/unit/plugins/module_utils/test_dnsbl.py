"""DNSBL site entries: postscreen zone[=filter][*weight], reject_rbl_client, Spamhaus safety."""
import pytest

from ansible_collections.mailauth.hardening.plugins.module_utils._records import dnsbl as _dnsbl
from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError

KEY = "abcdefghijklmnopqrstuvwxyz"


def error_of(call, *args, **kwargs):
    with pytest.raises(InputError) as info:
        call(*args, **kwargs)
    return info.value


@pytest.mark.parametrize("text, zone, reply, weight", [
    ("zen.spamhaus.org=127.0.0.[2..11]*3", "zen.spamhaus.org", "127.0.0.[2..11]", 3),
    ("bl.spamcop.net", "bl.spamcop.net", None, 1),
    ("bl.spamcop.net*2", "bl.spamcop.net", None, 2),
    ("list.dnswl.org=127.0.[0..255].[1..3]*-2", "list.dnswl.org", "127.0.[0..255].[1..3]", -2),
    ("b.barracudacentral.org=127.0.0.2", "b.barracudacentral.org", "127.0.0.2", 1),
    ("Zen.Spamhaus.ORG.=127.0.0.[2;3;4;9..11]", "zen.spamhaus.org", "127.0.0.[2;3;4;9..11]", 1),
    (KEY + ".zen.dq.spamhaus.net=127.0.0.[2..11]*3", KEY + ".zen.dq.spamhaus.net", "127.0.0.[2..11]", 3),
])
def test_parse_site(text, zone, reply, weight):
    site = _dnsbl.parse_site(text)
    assert (site.zone, site.reply, site.weight) == (zone, reply, weight)


@pytest.mark.parametrize("text", [
    "zen.spamhaus.org=127.0.0.[2..11]*3", "bl.spamcop.net", "list.dnswl.org=127.0.[0..255].[1..3]*-2",
])
def test_postscreen_round_trip(text):
    assert _dnsbl.parse_site(text).postscreen() == text


def test_weight_one_is_not_written():
    assert _dnsbl.parse_site("bl.spamcop.net*1").postscreen() == "bl.spamcop.net"


@pytest.mark.parametrize("reply, address, matches", [
    ("127.0.0.[2..11]", "127.0.0.2", True),
    ("127.0.0.[2..11]", "127.0.0.11", True),
    ("127.0.0.[2..11]", "127.0.0.12", False),
    ("127.0.0.[2..11]", "127.255.255.254", False),
    ("127.0.0.[2;4]", "127.0.0.3", False),
    ("127.0.0.[2;4]", "127.0.0.4", True),
    ("127.[0..255].[0..255].[0..255]", "127.255.255.254", True),
])
def test_filter_matches(reply, address, matches):
    assert _dnsbl.filter_matches(reply, address) is matches


@pytest.mark.parametrize("reply, words", [
    ("127.0.0", "four octets"),
    ("127.0.0.0.1", "four octets"),
    ("127.0.0.[11..2]", "backwards"),
    ("127.0.0.[2..256]", "above 255"),
    ("127.0.0.300", "above 255"),
    ("127.0.0.[2..11", "unbalanced"),
    ("127.0.0.[a]", "not an octet"),
    ("127.0.0.[2;;3]", "not an octet"),
    ("127..0.1", "four octets"),
])
def test_malformed_filter_names_the_field(reply, words):
    err = error_of(_dnsbl.parse_filter, reply, "mailauth_dnsbl[0].reply")
    assert err.field == "mailauth_dnsbl[0].reply"
    assert words in str(err)


def test_unfiltered_spamhaus_is_refused_with_the_reason():
    err = error_of(_dnsbl.parse_site, "zen.spamhaus.org*3", "postscreen_dnsbl_sites[0]")
    assert err.field == "postscreen_dnsbl_sites[0]"
    assert "127.255.255.254" in str(err) and "all mail" in str(err)
    assert "zen.spamhaus.org=127.0.0.[2..11]" in str(err)


def test_unfiltered_dqs_is_refused_too():
    err = error_of(_dnsbl.build_site, {"zone": "zen.spamhaus.org", "dqs_key": KEY}, "mailauth_dnsbl[1]")
    assert err.field == "mailauth_dnsbl[1]" and "no reply filter" in str(err)


def test_filter_matching_spamhaus_error_codes_is_refused():
    err = error_of(_dnsbl.parse_site, "zen.spamhaus.org=127.[0..255].[0..255].[0..255]", "f")
    assert err.field == "f" and "127.255.255.252" in str(err)


def test_other_lists_may_go_unfiltered():
    assert _dnsbl.parse_site("bl.spamcop.net").reply is None


def test_build_site_from_design_inventory():
    site = _dnsbl.build_site({"zone": "zen.spamhaus.org", "reply": "127.0.0.[2..11]", "weight": 3})
    assert site.postscreen() == "zen.spamhaus.org=127.0.0.[2..11]*3"


def test_build_site_with_dqs_key():
    site = _dnsbl.build_site({"zone": "zen.spamhaus.org", "reply": "127.0.0.[2..11]", "weight": 3,
                              "dqs_key": KEY.upper()})
    assert site.postscreen() == KEY + ".zen.dq.spamhaus.net=127.0.0.[2..11]*3"


@pytest.mark.parametrize("entry, field, words", [
    ({"zone": "bl.spamcop.net", "dqs_key": KEY}, "m[0].dqs_key", "Spamhaus zones only"),
    ({"zone": "zen.spamhaus.org", "dqs_key": "bad key!"}, "m[0].dqs_key", "letters and digits"),
    ({"zone": KEY + ".zen.dq.spamhaus.net", "dqs_key": KEY, "reply": "127.0.0.2"}, "m[0].zone", "public zone"),
    ({"reply": "127.0.0.2"}, "m[0].zone", "missing"),
    ({"zone": "zen.spamhaus.org", "reply": "127.0.0.2", "weight": "heavy"}, "m[0].weight", "whole number"),
    ({"zone": "zen.spamhaus.org", "filter": "127.0.0.2"}, "m[0]", "unknown key"),
    ({"zone": "not a zone", "reply": "127.0.0.2"}, "m[0].zone", "not a DNS zone"),
    ({"zone": "localhost"}, "m[0].zone", "not a DNS zone"),
    ({"zone": "bl.spamcop.net", "weight": 0}, "m[0]", "weight of 0"),
    ({"zone": "dbl.spamhaus.org", "reply": "127.0.1.[2..99]"}, "m[0]", "domain blocklist"),
    ({"zone": "dbl.spamhaus.org", "reply": "127.0.1.[2..99]", "dqs_key": KEY}, "m[0]", "domain blocklist"),
    (42, "m[0]", "text or a mapping"),
])
def test_bad_entries_name_the_field(entry, field, words):
    err = error_of(_dnsbl.build_site, entry, "m[0]")
    assert err.field == field, str(err)
    assert words in str(err)


@pytest.mark.parametrize("text", ["", "zen.spamhaus.org=", "a b", "zen.spamhaus.org*x", "=127.0.0.2"])
def test_malformed_site_text(text):
    assert error_of(_dnsbl.parse_site, text, "sites[3]").field == "sites[3]"


def test_rbl_restrictions_put_allowlists_first_and_drop_weights():
    entries = [
        "zen.spamhaus.org=127.0.0.[2..11]*3",
        {"zone": "bl.spamcop.net", "weight": 2},
        "list.dnswl.org=127.0.[0..255].[1..3]*-2",
        "zen.spamhaus.org=127.0.0.[2..11]",  # same restriction as the first once weights are gone
    ]
    assert _dnsbl.rbl_restrictions(entries) == [
        "permit_dnswl_client list.dnswl.org=127.0.[0..255].[1..3]",
        "reject_rbl_client zen.spamhaus.org=127.0.0.[2..11]",
        "reject_rbl_client bl.spamcop.net",
    ]


def test_parse_restriction():
    site = _dnsbl.parse_restriction("reject_rbl_client zen.spamhaus.org=127.0.0.[2..11]")
    assert site.restriction() == "reject_rbl_client zen.spamhaus.org=127.0.0.[2..11]"
    assert _dnsbl.parse_restriction("permit_dnswl_client list.dnswl.org=127.0.[0..255].[1..3]").allowlist


@pytest.mark.parametrize("text, words", [
    ("reject_rbl_client zen.spamhaus.org", "no reply filter"),
    ("reject_rbl_client bl.spamcop.net*2", "no weight"),
    ("reject_rhsbl_sender dbl.spamhaus.org", "not a DNSBL restriction"),
    ("reject_rbl_client", "not a DNSBL restriction"),
])
def test_bad_restriction_names_the_field(text, words):
    err = error_of(_dnsbl.parse_restriction, text, "smtpd_recipient_restrictions[2]")
    assert err.field == "smtpd_recipient_restrictions[2]" and words in str(err)


def test_postscreen_sites_and_threshold():
    sites = _dnsbl.postscreen_sites(["zen.spamhaus.org=127.0.0.[2..11]*3", "bl.spamcop.net*2"], threshold=3)
    assert sites == ["zen.spamhaus.org=127.0.0.[2..11]*3", "bl.spamcop.net*2"]


@pytest.mark.parametrize("threshold, words", [(6, "add up to 5"), (0, "below 1"), ("x", "whole number")])
def test_unreachable_or_bad_threshold(threshold, words):
    err = error_of(_dnsbl.postscreen_sites, ["zen.spamhaus.org=127.0.0.[2..11]*3", "bl.spamcop.net*2",
                                             "list.dnswl.org=127.0.[0..255].[1..3]*-2"], threshold)
    assert err.field == "mailauth_dnsbl_threshold" and words in str(err)


def test_sites_must_be_a_list():
    assert error_of(_dnsbl.build_sites, "zen.spamhaus.org", "mailauth_dnsbl").field == "mailauth_dnsbl"


def test_list_index_in_field():
    err = error_of(_dnsbl.build_sites, ["bl.spamcop.net", "zen.spamhaus.org"])
    assert err.field == "mailauth_dnsbl[1]"


def test_global_dqs_key_moves_public_spamhaus_zones():
    sites = _dnsbl.postscreen_sites(["zen.spamhaus.org=127.0.0.[2..11]*3", "bl.spamcop.net",
                                     {"zone": "zen.spamhaus.org", "reply": "127.0.0.[2..11]"},
                                     {"zone": "zen.spamhaus.org", "reply": "127.0.0.2", "dqs_key": "ownkey123"}],
                                    threshold=3, dqs_key=KEY)
    assert sites == [KEY + ".zen.dq.spamhaus.net=127.0.0.[2..11]*3", "bl.spamcop.net",
                     KEY + ".zen.dq.spamhaus.net=127.0.0.[2..11]", "ownkey123.zen.dq.spamhaus.net=127.0.0.2"]


def test_global_dqs_key_is_validated():
    err = error_of(_dnsbl.build_sites, ["zen.spamhaus.org=127.0.0.[2..11]"], "mailauth_dnsbl", "no good")
    assert err.field == "mailauth_dnsbl[0].dqs_key"


# --- the DQS key is a secret: no message, finding or result shows it ---------------------------------

@pytest.mark.parametrize("call, args", [
    (_dnsbl.build_site, ({"zone": "zen.spamhaus.org", "dqs_key": KEY}, "m[0]")),            # no reply filter
    (_dnsbl.parse_site, (KEY + ".zen.dq.spamhaus.net", "m[0]")),                              # no reply filter
    (_dnsbl.parse_site, (KEY + ".zen.dq.spamhaus.net=127.[0..255].[0..255].[0..255]", "m[0]")),  # error codes
    (_dnsbl.parse_site, (KEY + ".zen.dq.spamhaus.net*0", "m[0]")),                            # weight 0
    (_dnsbl.parse_site, (KEY + ".zen.dq.spamhaus.net=127.0.0.300", "m[0]")),                  # octet
    (_dnsbl.parse_site, (KEY + ".zen.dq.spamhaus.net==x", "m[0]")),                           # syntax
    (_dnsbl.parse_site, (KEY + ".dbl.dq.spamhaus.net=127.0.1.[2..99]", "m[0]")),              # domain list
    (_dnsbl.build_site, ({"zone": "zen.spamhaus.org", "dqs_key": KEY, "reply": "127.0.0.2", "weight": "x"}, "m[0]")),
])
def test_no_dnsbl_message_shows_a_dqs_key(call, args):
    err = error_of(call, *args)
    assert err.field.startswith("m[0]")
    assert KEY not in str(err) and (err.fix is None or KEY not in err.fix)


def test_mask_dqs_masks_keys_in_names_and_dqs_key_entries_only():
    value = {"zones": ["%s.zen.dq.spamhaus.net=127.0.0.2" % KEY, "bl.spamcop.net"],
             "item": {"zone": "zen.spamhaus.org", "dqs_key": KEY}, "n": 3}
    assert _dnsbl.mask_dqs(value) == {"zones": ["********.zen.dq.spamhaus.net=127.0.0.2", "bl.spamcop.net"],
                                      "item": {"zone": "zen.spamhaus.org", "dqs_key": "********"}, "n": 3}


def test_dqs_keys_finds_every_key_to_hide():
    found = _dnsbl.dqs_keys([{"zone": "zen.spamhaus.org", "dqs_key": KEY.upper()},
                             "other123key.xbl.dq.spamhaus.net=127.0.0.[4..7]", {"dqs_key": None}, 7])
    assert found == {KEY.upper(), KEY, "other123key"}


def test_a_site_is_shown_with_its_key_masked():
    site = _dnsbl.build_site({"zone": "zen.spamhaus.org", "reply": "127.0.0.2", "dqs_key": KEY})
    assert site.zone.startswith(KEY) and site.shown == "********.zen.dq.spamhaus.net"
