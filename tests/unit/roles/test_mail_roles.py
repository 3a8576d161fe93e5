"""The postfix and dkim roles: what differs per OS family, the templates, and the argument specs."""
from pathlib import Path

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

ROLES = Path(__file__).resolve().parents[3] / "roles"
FAMILIES = ("Debian", "RedHat")


def load(path):
    return yaml.safe_load(path.read_text()) or {}


def role_vars(role, family, **overrides):
    """defaults + family vars + overrides, as the role sees them (role vars win over defaults)."""
    values = dict(load(ROLES / role / "defaults" / "main.yml"))
    values.update(load(ROLES / role / "vars" / ("%s.yml" % family)))
    static = {k: v for k, v in load(ROLES / role / "vars" / "main.yml").items()
              if not (isinstance(v, str) and "mailauth.hardening." in v)}
    values.update(static)
    values.update(inventory_hostname="mx1.example.test", ansible_facts={"fqdn": "mx1.example.test"})
    values.update(overrides)
    return values


def trusted(value):
    if isinstance(value, str):
        return trust_as_template(value)
    if isinstance(value, dict):
        return {k: trusted(v) for k, v in value.items()}
    if isinstance(value, list):
        return [trusted(v) for v in value]
    return value


def render(role, template, family="Debian", **overrides):
    templar = Templar(loader=DataLoader(), variables=trusted(role_vars(role, family, **overrides)))
    text = (ROLES / role / "templates" / template).read_text()
    return templar.template(trust_as_template(text))


def settings(text, separator=None):
    """Non-comment lines of a key/value file -> {key: value}."""
    found = {}
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _sep, value = line.partition(separator) if separator else line.partition(" ")
            found[key.strip()] = value.strip()
    return found


# --- OS families -----------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["postfix", "dkim"])
def test_families_define_the_same_settings(role):
    keys = [set(load(ROLES / role / "vars" / ("%s.yml" % family))) for family in FAMILIES]
    assert keys[0] == keys[1]


@pytest.mark.parametrize("role, family, name, value", [
    ("postfix", "Debian", "mailauth_postfix_spf_packages", ["postfix-policyd-spf-python"]),
    ("postfix", "RedHat", "mailauth_postfix_spf_packages", ["pypolicyd-spf"]),
    ("postfix", "Debian", "mailauth_postfix_spf_command", "/usr/bin/policyd-spf"),
    ("postfix", "RedHat", "mailauth_postfix_spf_command", "/usr/libexec/postfix/policyd-spf"),
    ("postfix", "Debian", "mailauth_postfix_chroot", "y"),
    ("postfix", "RedHat", "mailauth_postfix_chroot", "n"),
    ("postfix", "Debian", "mailauth_postfix_epel", False),
    ("postfix", "RedHat", "mailauth_postfix_epel", True),
    ("dkim", "Debian", "mailauth_dkim_family_keys_dir", "/etc/dkimkeys"),
    ("dkim", "RedHat", "mailauth_dkim_family_keys_dir", "/etc/opendkim/keys"),
    ("dkim", "RedHat", "mailauth_dkim_selinux", True),
])
def test_family_differences(role, family, name, value):
    assert load(ROLES / role / "vars" / ("%s.yml" % family))[name] == value


@pytest.mark.parametrize("role", ["postfix", "dkim"])
def test_every_default_is_declared(role):
    specs = load(ROLES / role / "meta" / "argument_specs.yml")["argument_specs"]["main"]["options"]
    defaults = load(ROLES / role / "defaults" / "main.yml")
    assert sorted(set(defaults) - set(specs)) == []


@pytest.mark.parametrize("role", ["postfix", "dkim"])
def test_declared_defaults_match(role):
    specs = load(ROLES / role / "meta" / "argument_specs.yml")["argument_specs"]["main"]["options"]
    defaults = load(ROLES / role / "defaults" / "main.yml")
    for name, spec in specs.items():
        if "default" in spec:
            assert defaults[name] == spec["default"], name


# --- postfix role templates --------------------------------------------------------------------------

def test_policyd_spf_headers_only_never_rejects():
    conf = settings(render("postfix", "policyd-spf.conf.j2"), "=")
    assert conf["TestOnly"] == "0"  # 0 switches policyd-spf's test mode on
    assert conf["HELO_reject"] == "False" and conf["Mail_From_reject"] == "False"
    assert conf["skip_addresses"] == "127.0.0.0/8,::ffff:127.0.0.0/104,::1"


@pytest.mark.parametrize("mode, policy", [("reject_fail", "Fail"), ("reject_softfail", "Softfail"),
                                          ("reject_not_pass", "SPF_Not_Pass")])
def test_policyd_spf_reject_modes(mode, policy):
    conf = settings(render("postfix", "policyd-spf.conf.j2", mailauth_postfix_spf_mode=mode,
                           mailauth_postfix_spf_temperror_defer=True), "=")
    assert conf["TestOnly"] == "1"
    assert conf["HELO_reject"] == policy and conf["Mail_From_reject"] == policy
    assert conf["TempError_Defer"] == "True" and conf["PermError_reject"] == "False"


@pytest.mark.parametrize("family", FAMILIES)
def test_opendmarc_conf(family):
    conf = settings(render("postfix", "opendmarc.conf.j2", family))
    assert conf["Socket"] == "inet:8893@127.0.0.1"
    assert conf["AuthservID"] == conf["TrustedAuthservIDs"] == "mx1.example.test"
    assert conf["RejectFailures"] == "false"
    assert conf["SPFSelfValidate"] == "true" and conf["SPFIgnoreResults"] == "false"
    assert conf["IgnoreHosts"] == "/etc/opendmarc/ignore.hosts"
    assert conf["PublicSuffixList"] == "/usr/share/publicsuffix/public_suffix_list.dat"
    assert "HistoryFile" not in conf


def test_opendmarc_reject_and_history():
    conf = settings(render("postfix", "opendmarc.conf.j2", mailauth_postfix_dmarc_reject=True,
                           mailauth_postfix_dmarc_history_file="/var/lib/opendmarc/opendmarc.dat"))
    assert conf["RejectFailures"] == "true" and conf["HistoryFile"] == "/var/lib/opendmarc/opendmarc.dat"


def test_opendmarc_ignore_hosts():
    assert settings(render("postfix", "ignore.hosts.j2")) == {"127.0.0.1": "", "::1": ""}


# --- dkim role templates ------------------------------------------------------------------------------

KEYS = [{"domain": "example.test", "selector": "s202611", "dns_name": "s202611._domainkey.example.test"},
        {"domain": "example.test", "selector": "e202611", "dns_name": "e202611._domainkey.example.test"}]


@pytest.mark.parametrize("family, anchor", [("Debian", "/usr/share/dns/root.key"), ("RedHat", None)])
def test_opendkim_conf(family, anchor):
    conf = settings(render("dkim", "opendkim.conf.j2", family))
    assert conf["Socket"] == "inet:8891@127.0.0.1"
    assert conf["Mode"] == "sv" and conf["MultipleSignatures"] == "yes"
    assert conf["KeyTable"] == "file:/etc/opendkim/KeyTable"
    assert conf["SigningTable"] == "refile:/etc/opendkim/SigningTable"
    assert conf["AuthservID"] == "mx1.example.test"
    assert conf.get("TrustAnchorFile") == anchor
    assert "ResolverConfiguration" not in conf


def test_opendkim_resolver_for_stub_zones():
    zones = [{"name": "test.", "addresses": ["10.89.53.53"]}]
    conf = settings(render("dkim", "opendkim.conf.j2", mailauth_dkim_resolver_stub_zones=zones))
    assert conf["ResolverConfiguration"] == "/etc/opendkim/unbound.conf"
    unbound = render("dkim", "unbound.conf.j2", mailauth_dkim_resolver_stub_zones=zones)
    assert 'local-zone: "test." nodefault' in unbound
    assert 'domain-insecure: "test."' in unbound
    assert 'stub-zone:\n  name: "test."\n  stub-addr: 10.89.53.53' in unbound


@pytest.mark.parametrize("family, directory", [("Debian", "/etc/dkimkeys"), ("RedHat", "/etc/opendkim/keys")])
def test_key_table_lists_every_key(family, directory):
    text = render("dkim", "KeyTable.j2", family, mailauth_dkim_keys=KEYS,
                  mailauth_dkim_key_dir="{{ mailauth_dkim_keys_dir or mailauth_dkim_family_keys_dir }}")
    assert settings(text) == {
        "s202611._domainkey.example.test": "example.test:s202611:%s/example.test/s202611.private" % directory,
        "e202611._domainkey.example.test": "example.test:e202611:%s/example.test/e202611.private" % directory,
    }


def test_signing_table_lists_only_what_it_is_given():
    text = render("dkim", "SigningTable.j2", mailauth_dkim_signing_keys=KEYS[:1])
    assert [line for line in text.splitlines() if not line.startswith("#")] == [
        "*@example.test s202611._domainkey.example.test"]
