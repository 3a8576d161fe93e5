"""A domain's own names: its records may live there and nowhere else (the parent's apex least of all)."""
import pytest

from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError
from ansible_collections.mailauth.hardening.plugins.module_utils._records.owned_names import (
    check_owned_names, name_kind, owner_domain)
from ansible_collections.mailauth.hardening.plugins.module_utils._records.txt_changes import wanted_records

DOMAIN = "mail.example2.test."


@pytest.mark.parametrize("name, kind", [
    ("mail.example2.test.", "apex"),
    ("s202611._domainkey.mail.example2.test.", "DKIM key record"),
    ("a.b._domainkey.mail.example2.test.", "DKIM key record"),  # selectors may hold dots (RFC 6376 3.1)
    ("_domainkey.mail.example2.test.", "legacy DomainKeys policy"),
    ("_dmarc.mail.example2.test.", "DMARC record"),
    ("client.example._report._dmarc.mail.example2.test.", "DMARC report authorisation"),
    ("*._report._dmarc.mail.example2.test.", "DMARC report authorisation"),
    ("_mta-sts.mail.example2.test.", "MTA-STS record"),
    ("mta-sts.mail.example2.test.", "MTA-STS policy host"),
    ("_smtp._tls.mail.example2.test.", "TLS-RPT record"),
])
def test_the_domains_own_names(name, kind):
    assert name_kind(name, DOMAIN) == kind


@pytest.mark.parametrize("name", [
    "example2.test.",                                   # the zone apex: the parent's SPF
    "_dmarc.example2.test.",                            # the parent's DMARC
    "s202611._domainkey.example2.test.",                # the parent's key tree
    "mail.example2.test._report._dmarc.example2.test.",  # an authorisation the parent publishes
    "www.mail.example2.test.",                          # below the domain, but no mail name
    "_dmarc.sub.mail.example2.test.",                   # a subdomain's own DMARC
    "_report._dmarc.mail.example2.test.",               # the tree's root, no sender
    "_25._tcp.mx1.example2.test.",                      # an MX nobody named
    "xmail.example2.test.",                             # a suffix match that is no label boundary
    "mail.example2.test.evil.",
])
def test_other_names_are_not_the_domains(name):
    assert name_kind(name, DOMAIN) is None


def test_an_mx_list_adds_the_dane_names():
    assert name_kind("_25._tcp.mx1.example2.test.", DOMAIN, ["mx1.example2.test."]) == "DANE TLSA name of an MX"
    assert name_kind("_25._tcp.mx2.example2.test.", DOMAIN, ["mx1.example2.test."]) is None


def test_every_name_of_a_subdomains_publication_passes():
    wanted = wanted_records([{"name": "@", "value": "v=spf1 mx -all"},
                             {"name": "s1._domainkey", "value": "v=DKIM1; k=rsa; p=AAAA"},
                             {"name": "_dmarc", "value": "v=DMARC1; p=none"},
                             {"name": "client.example._report._dmarc", "value": "v=DMARC1"}], "mail.example2.test")
    assert check_owned_names(wanted, "Mail.Example2.Test") == DOMAIN


def test_a_relative_name_in_the_parent_zone_is_refused_naming_the_record_the_domain_and_the_fix():
    wanted = wanted_records([{"name": "mail.example2.test.", "value": "v=spf1 mx -all"},
                             {"name": "_dmarc.mail", "value": "v=DMARC1; p=none"},
                             {"name": "s1._domainkey.mail", "value": "v=DKIM1; k=rsa; p=AAAA"},
                             {"name": "_dmarc", "value": "v=DMARC1; p=none"}], "example2.test")
    with pytest.raises(InputError) as err:
        check_owned_names(wanted, "mail.example2.test")
    assert err.value.field == "records[3].name"
    message = str(err.value)
    assert message.startswith("records[3].name: _dmarc.example2.test. is not one of the names of domain "
                              "mail.example2.test (mail.example2.test., SELECTOR._domainkey.mail.example2.test.,")
    assert "_smtp._tls.mail.example2.test." in message
    assert "Fix: write the record at one of these names" in message and "_dmarc.mail.example2.test." in message


def test_the_apex_of_the_zone_is_refused_for_a_domain_below_it():
    wanted = wanted_records([{"name": "@", "value": "v=spf1 mx -all"}], "example2.test")
    with pytest.raises(InputError) as err:
        check_owned_names(wanted, "mail.example2.test.")
    assert str(err.value).startswith("records[0].name: example2.test. is not one of the names")


@pytest.mark.parametrize("domain, problem", [
    ("", "is empty"),
    ("*.example.com", "is a wildcard"),
    ("exa mple.com", "has an invalid label"),
])
def test_a_bad_domain_is_refused(domain, problem):
    with pytest.raises(InputError) as err:
        owner_domain(domain)
    assert err.value.field == "domain" and problem in str(err.value)
