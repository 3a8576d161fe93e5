"""The dnsbl_sites filter: a thin wrapper over _dnsbl with Ansible's error type."""
import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.mailauth.hardening.plugins.filter.dnsbl import FilterModule

dnsbl_sites = FilterModule().filters()["dnsbl_sites"]
SITES = [{"zone": "zen.spamhaus.org", "reply": "127.0.0.[2..11]", "weight": 3},
         "list.dnswl.org=127.0.[0..255].[1..3]*-2"]


def test_postscreen_mode():
    assert dnsbl_sites(SITES, threshold=3) == ["zen.spamhaus.org=127.0.0.[2..11]*3",
                                               "list.dnswl.org=127.0.[0..255].[1..3]*-2"]


def test_reject_rbl_client_mode():
    assert dnsbl_sites(SITES, mode="reject_rbl_client") == [
        "permit_dnswl_client list.dnswl.org=127.0.[0..255].[1..3]",
        "reject_rbl_client zen.spamhaus.org=127.0.0.[2..11]"]


def test_dqs_key():
    assert dnsbl_sites(SITES[:1], dqs_key="abcdefghijklmnopqrstuvwxyz", threshold=3) == [
        "abcdefghijklmnopqrstuvwxyz.zen.dq.spamhaus.net=127.0.0.[2..11]*3"]


@pytest.mark.parametrize("args, kwargs, words", [
    ((["zen.spamhaus.org*3"],), {}, "mailauth_dnsbl[0]: zen.spamhaus.org has no reply filter"),
    ((SITES,), {"threshold": 4}, "mailauth_dnsbl_threshold:"),
    ((SITES,), {"mode": "rbl"}, "mode: must be one of"),
    ((["bl.spamcop.net", "x=1.2.3"],), {"field": "mailauth_postfix_dnsbl_sites"}, "mailauth_postfix_dnsbl_sites[1]"),
])
def test_errors_name_the_variable(args, kwargs, words):
    with pytest.raises(AnsibleFilterError) as info:
        dnsbl_sites(*args, **kwargs)
    assert words in str(info.value)
