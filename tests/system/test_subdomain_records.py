"""A domain below its zone, on every provider: mail.example2.test in zone example2.test, which also holds
the parent domain's own SPF, DMARC and DKIM key.

The publish step of harden (the dns_records role) and the Plesk role's key publication must write the
subdomain's records at its own names only - mail.example2.test, SEL._domainkey.mail.example2.test,
_dmarc.mail.example2.test, ... - and leave every other record of the zone as it was; dns_txt with
``domain`` refuses the parent's names before anything is sent. Back ends: BIND over RFC 2136 with TSIG,
PowerDNS through dns-lexicon, and Plesk's DNS (the test double), each on loopback.
"""
import json

import pytest
from dns_servers import run_named, run_pdns, served_txt, zone_records, zone_text
# dkim_value is a fixture: importing it is using it.
from dns_txt_plays import dkim_value, playbook, results  # noqa: F401 pylint: disable=unused-import
from plesk_double_env import plesk_double  # noqa: F401 pylint: disable=unused-import

from ansible_collections.mailauth.hardening.plugins.module_utils._dns.providers.plesk import parse_info

ZONE = "example2.test"
DOMAIN = "mail.example2.test"
SELECTOR = "sel"
# The parent domain's own records, which no publication of the subdomain may touch.
PARENT = [("@", "MX", "10 mail.example2.test."), ("mail", "A", "192.0.2.25"),
          ("@", "TXT", "v=spf1 a mx -all"), ("@", "TXT", "google-site-verification=parent"),
          ("_dmarc", "TXT", "v=DMARC1; p=reject; rua=mailto:agg@example2.test"),
          ("p1._domainkey", "TXT", "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC/parent"),
          ("_domainkey", "TXT", "o=-")]
SUBDOMAIN = {"name": DOMAIN, "spf": {"mechanisms": ["mx"], "all": "fail"},
             "dmarc": {"p": "none", "rua": ["aggregate@%s" % DOMAIN]}, "report_authorizations": ["client.example"]}


def wanted(dkim):
    """The subdomain's records, at its own absolute names."""
    return {"%s." % DOMAIN: ["v=spf1 mx -all"],
            "%s._domainkey.%s." % (SELECTOR, DOMAIN): [dkim],
            "_domainkey.%s." % DOMAIN: ["o=-"],
            "_dmarc.%s." % DOMAIN: ["v=DMARC1; p=none; rua=mailto:aggregate@%s" % DOMAIN],
            "client.example._report._dmarc.%s." % DOMAIN: ["v=DMARC1"]}


class Rfc2136(object):
    """BIND, updated over RFC 2136 with TSIG."""

    def __init__(self, directory):
        lines = ['%s IN %s %s' % (name, rtype, '"%s"' % value if rtype == "TXT" else value)
                 for name, rtype, value in PARENT]
        self.context = run_named({ZONE: zone_text(ZONE, lines)}, directory=directory)
        self.env = None

    def __enter__(self):
        self.server = self.context.__enter__()
        return self

    def __exit__(self, *exc):
        return self.context.__exit__(*exc)

    def dns(self):
        return {"provider": "rfc2136", "server": self.server.address, "key_name": self.server.key_name,
                "credentials": "test"}

    def secrets(self):
        return {"key_secret": self.server.key_secret}

    def secret_texts(self):
        return [self.server.key_secret]

    def snapshot(self):
        return zone_records(self.server, ZONE)

    def txt(self, name):
        return served_txt(self.server, name)[0]


class PowerDns(Rfc2136):
    """PowerDNS through dns-lexicon; the zone is found through `nameservers`."""

    def __init__(self, directory):  # pylint: disable=super-init-not-called
        lines = ["%s 300 %s %s" % (name, rtype, '"%s"' % value if rtype == "TXT" else value)
                 for name, rtype, value in PARENT]
        self.context = run_pdns({ZONE: lines}, directory=directory)
        self.env = None

    def dns(self):
        return {"provider": "powerdns", "nameservers": [self.server.address], "credentials": "test"}

    def secrets(self):
        return {"provider_options": {"auth_token": self.server.api_key, "pdns_server": self.server.api_url}}

    def secret_texts(self):
        return [self.server.api_key]


class Plesk(object):
    """Plesk's own DNS (the test double on PATH), driven from this host."""

    def __init__(self, double):
        self.double = double
        self.env = double.env

    def __enter__(self):
        # Plesk's default zone holds the parent's MX, mail A, SPF and DMARC; the rest is added.
        self.double.admin("add-domain", ZONE)
        for name, rtype, value in PARENT:
            if rtype == "TXT" and not value.startswith(("v=spf1", "v=DMARC1")):
                self.double.plesk("bin", "dns", "--add", ZONE, "-txt", value, "-domain", "" if name == "@" else name)
        self.double.calls()
        return self

    def __exit__(self, *exc):
        return False

    def dns(self):
        return {"provider": "plesk"}

    def secrets(self):
        return {}

    def secret_texts(self):
        return []

    def snapshot(self):
        records = {}
        for owner, rtype, value in parse_info(self.double.plesk("bin", "dns", "--info", ZONE)):
            records.setdefault((owner, rtype), []).append(value)
        return dict((key, sorted(values)) for key, values in records.items())

    def txt(self, name):
        return self.snapshot().get((name, "TXT"), [])


@pytest.fixture(params=["rfc2136", "powerdns", "plesk"])
def backend(request, tmp_path):
    if request.param == "plesk":
        made = Plesk(request.getfixturevalue("plesk_double"))
    else:
        made = {"rfc2136": Rfc2136, "powerdns": PowerDns}[request.param](tmp_path / request.param)
    with made as ready:
        yield ready


def publish_play(backend, dkim, zone_given):
    dns = dict(backend.dns(), **({"zone": ZONE} if zone_given else {}))
    play_vars = {"mailauth_domains": [dict(SUBDOMAIN, dns=dns)],
                 "mailauth_dkim_records": [{"domain": DOMAIN, "selector": SELECTOR, "record": dkim}],
                 "mailauth_dns_secrets": {"test": backend.secrets()},
                 "mailauth_dns_legacy_domainkey_policy": True,
                 # These servers listen on a test port, not the port their NS records imply.
                 "mailauth_dns_wait": False}
    return playbook({"name": "Publish", "ansible.builtin.include_role": {"name": "mailauth.hardening.dns_records"}},
                    vars=dict(play_vars, ansible_python_interpreter="{{ ansible_playbook_python }}"))


def published(data):
    """The dns_txt result of the role's one domain."""
    [task_result] = [r for r in results(data) if "results" in r]
    [result] = task_result["results"]
    return result


def subdomain_names():
    return set(wanted("")) | {"%s." % DOMAIN}


@pytest.mark.parametrize("zone_given", [True, False], ids=["zone given", "zone found"])
def test_the_publish_step_writes_only_the_subdomains_names(backend, run_playbook, dkim_value, zone_given):
    before = backend.snapshot()
    book = publish_play(backend, dkim_value, zone_given)

    rc, data, out = run_playbook(book, check=True, diff=True, extra_env=backend.env)
    assert rc == 0, out
    check = published(data)
    assert check["changed"] is True and check["applied"] == []
    assert sorted(check["changes"]) == sorted(wanted(dkim_value))
    assert backend.snapshot() == before, "check mode changed the zone"

    rc, data, out = run_playbook(book, diff=True, extra_env=backend.env)
    assert rc == 0, out
    result = published(data)
    assert result["zones"] == ["%s." % ZONE]
    assert sorted(result["changes"]) == sorted(wanted(dkim_value))
    for name, values in wanted(dkim_value).items():
        assert backend.txt(name) == values, name
    after = backend.snapshot()
    untouched = dict((key, value) for key, value in after.items()
                     if not (key[1] == "TXT" and key[0] in subdomain_names()))
    assert untouched == dict((key, value) for key, value in before.items()
                             if not (key[1] == "TXT" and key[0] in subdomain_names())), "the parent's records changed"
    assert (("%s." % DOMAIN, "A") in after) == (("%s." % DOMAIN, "A") in before)
    for secret in backend.secret_texts():
        assert secret not in out

    rc, data, out = run_playbook(book, diff=True, extra_env=backend.env)
    assert rc == 0, out
    assert published(data)["changed"] is False and data["stats"]["localhost"]["changed"] == 0
    assert backend.snapshot() == after


def test_dns_txt_refuses_a_parent_name_before_anything_is_sent(backend, run_playbook):
    before = backend.snapshot()
    if isinstance(backend, Plesk):
        backend.double.calls()
    args = dict(backend.dns(), **backend.secrets())
    args.pop("credentials", None)
    args.update(zone=ZONE, domain=DOMAIN, records=[
        {"name": "_dmarc.mail", "value": "v=DMARC1; p=none"},
        {"name": "@", "value": "v=spf1 mx -all"}])
    rc, data, out = run_playbook(playbook({"mailauth.hardening.dns_txt": args}), extra_env=backend.env)
    assert rc != 0
    [result] = results(data)
    assert result["msg"].startswith("records[1].name: example2.test. is not one of the names of domain "
                                    "mail.example2.test"), result["msg"]
    assert "Fix: write the record at one of these names" in result["msg"]
    assert result["applied"] == [] and result["changed"] is False
    if isinstance(backend, Plesk):
        assert backend.double.calls() == [], "the Plesk DNS was asked before the refusal"
    assert backend.snapshot() == before


def test_the_plesk_role_publishes_a_subdomains_key_at_its_own_name(plesk_double, run_playbook, tmp_path):  # noqa: F811
    with Rfc2136(tmp_path / "named") as external:
        plesk_double.admin("add-domain", DOMAIN, "--external-dns")
        before = external.snapshot()
        play_vars = {"ansible_python_interpreter": "{{ ansible_playbook_python }}",
                     "mailauth_domains": [{"name": DOMAIN, "dns": external.dns()}],
                     "mailauth_dns_secrets": {"test": external.secrets()},
                     "mailauth_plesk_dkim_keys_dir": str(plesk_double.keys_dir), "mailauth_dns_wait": False}
        book = json.dumps([{"hosts": "localhost", "gather_facts": False, "vars": play_vars,
                            "roles": ["mailauth.hardening.plesk"]}])
        rc, data, out = run_playbook(book, extra_env=plesk_double.env)
        assert rc == 0, out
        [key] = external.txt("default._domainkey.%s." % DOMAIN)
        assert key.startswith("v=DKIM1; k=rsa; p=")
        after = external.snapshot()
        assert after.pop(("default._domainkey.%s." % DOMAIN, "TXT")) == [key]
        assert after == before
        rc, data, out = run_playbook(book, extra_env=plesk_double.env)
        assert rc == 0, out
        assert data["stats"]["localhost"]["changed"] == 0, out
