"""Plesk back end: --info parsing and the add/del commands, with a fake `plesk`."""
import pytest

from ansible_collections.mailauth.hardening.plugins.module_utils._dns.errors import NameConflict, ProviderError
from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError
from ansible_collections.mailauth.hardening.plugins.module_utils._dns.providers.plesk import PleskProvider, parse_info, relative_label
from ansible_collections.mailauth.hardening.plugins.module_utils._hosts.plesk import PleskCli

INFO = """example.com.  NS  ns1.example.com.
example.com.  TXT  v=spf1 +a +mx -all
example.com.  TXT  google-site-verification=abc
default._domainkey.example.com.  TXT  v=DKIM1; p=MIIBIjANBg;
_domainkey.example.com.  TXT  o=-
Mail.Example.com.  A  192.0.2.1
SUCCESS: Getting information for Domain 'example.com' complete.
"""


class FakePlesk(object):
    def __init__(self, codes=None, domains=("example.com",)):
        self.calls = []
        self.codes = list(codes or [])
        self.domains = domains

    def __call__(self, argv):
        self.calls.append(argv)
        if argv[2] == "--info":
            return (0, INFO, "") if argv[3] in self.domains else (1, "", "Unable to find domain")
        code = self.codes.pop(0) if self.codes else 0
        return code, "", "boom" if code else ""


def test_parse_info():
    records = parse_info(INFO)
    assert ("example.com.", "TXT", "v=spf1 +a +mx -all") in records
    assert ("default._domainkey.example.com.", "TXT", "v=DKIM1; p=MIIBIjANBg;") in records
    assert ("mail.example.com.", "A", "192.0.2.1") in records
    assert not any(r[0].startswith("SUCCESS") for r in records)


def test_relative_label():
    assert relative_label("example.com.", "example.com.") == ""
    assert relative_label("s1._domainkey.example.com.", "example.com.") == "s1._domainkey"


def test_read_lists_txt_at_one_name():
    provider = PleskProvider({}, "example.com.", PleskCli(FakePlesk()))
    assert provider.read("example.com.") == ["v=spf1 +a +mx -all", "google-site-verification=abc"]
    assert provider.read("_domainkey.example.com.") == ["o=-"]
    assert provider.read("nothing.example.com.") == []


def test_apply_adds_before_it_deletes_and_exit_2_means_already_there():
    fake = FakePlesk(codes=[2, 0])
    provider = PleskProvider({"plesk_command": "/usr/sbin/plesk"}, "example.com.", PleskCli(fake))
    applied = provider.apply({"example.com.": {"add": ["v=spf1 mx -all"], "remove": ["v=spf1 +a +mx -all"]}})
    assert fake.calls == [
        ["bin", "dns", "--add", "example.com", "-txt", "v=spf1 mx -all", "-domain", ""],
        ["bin", "dns", "--del", "example.com", "-txt", "v=spf1 +a +mx -all", "-domain", ""],
    ]
    assert [a["action"] for a in applied] == ["add", "remove"]


def test_failure_reports_what_was_applied_before():
    fake = FakePlesk(codes=[0, 1])
    provider = PleskProvider({}, "example.com.", PleskCli(fake))
    with pytest.raises(ProviderError) as err:
        provider.apply({"_dmarc.example.com.": {"add": ["v=DMARC1; p=none"], "remove": ["v=DMARC1; p=reject"]}})
    assert err.value.applied == [{"name": "_dmarc.example.com.", "action": "add", "value": "v=DMARC1; p=none"}]
    assert "--del" in str(err.value) and "exit 1" in str(err.value)
    assert fake.calls[-1][-1] == "_dmarc"


def test_missing_command_says_where_to_run():
    def missing(argv):
        raise OSError(2, "command not found")
    with pytest.raises(ProviderError) as err:
        PleskProvider({}, "example.com.", PleskCli(missing)).read("example.com.")
    assert "delegate_to" in str(err.value)


def test_find_zone_takes_the_longest_known_domain():
    assert PleskProvider.find_zone({}, "s1._domainkey.example.com.", PleskCli(FakePlesk())) == "example.com."
    with pytest.raises(InputError):
        PleskProvider.find_zone({}, "a.other.org.", PleskCli(FakePlesk()))


def test_a_name_holding_a_cname_is_a_conflict():
    def plesk(argv):
        return 0, INFO + "www.example.com.  CNAME  web.example.net.\n", ""
    provider = PleskProvider({}, "example.com.", PleskCli(plesk))
    with pytest.raises(NameConflict) as err:
        provider.read("www.example.com.")
    assert (err.value.kind, err.value.target) == ("cname", "web.example.net.")
    assert provider.read("example.com.") == ["v=spf1 +a +mx -all", "google-site-verification=abc"]


def test_other_types_are_read_normalised_and_written_with_their_options():
    from ansible_collections.mailauth.hardening.plugins.module_utils._dns.providers.plesk import info_value, record_args
    assert info_value("MX", "(10) mx.example.com.") == "10 mx.example.com."
    assert info_value("CNAME", "sts.example.net") == "sts.example.net."
    assert record_args("MX", "10 mx.example.com.", "") == ["-mx", "", "-mailexchanger", "mx.example.com", "-priority", "10"]
    assert record_args("AAAA", "2001:db8::1", "mx") == ["-aaaa", "mx", "-ip", "2001:db8::1"]
    assert record_args("CNAME", "sts.example.net.", "mta-sts") == ["-cname", "mta-sts", "-canonical", "sts.example.net"]


def test_plesk_cannot_write_tlsa():
    from ansible_collections.mailauth.hardening.plugins.module_utils._records.rrset_changes import wanted_rrsets
    wanted = wanted_rrsets([{"name": "_25._tcp.mx", "type": "TLSA", "value": "3 1 1 " + "a" * 64}], "example.com")
    with pytest.raises(InputError) as err:
        PleskProvider.check_types({"provider": "plesk"}, wanted)
    assert err.value.field == "records[0].type" and "plesk cannot write TLSA" in str(err.value)
