"""The plesk role on this host: the Plesk test double as Plesk, a loopback BIND as a domain's external DNS."""
import base64
import json

import pytest
from cryptography.hazmat.primitives import serialization
from dns_servers import run_named, served_txt, zone_text
# plesk_double is a fixture: importing it is using it.
from plesk_double_env import plesk_double  # noqa: F401 pylint: disable=unused-import

ZONE = "example.test"


@pytest.fixture
def named(tmp_path):
    with run_named({ZONE: zone_text(ZONE)}, directory=tmp_path / "named") as server:
        yield server


def role_play(named, keys_dir, **extra_vars):
    domains = [{"name": ZONE, "dns": {"provider": "rfc2136", "server": named.address, "key_name": named.key_name,
                                      "zone": ZONE, "credentials": "test"}},
               {"name": "plesk.test", "dns": {"provider": "plesk"}}]
    # The zone's NS record points at port 53, where this BIND does not listen: no propagation wait.
    play_vars = {"ansible_python_interpreter": "{{ ansible_playbook_python }}", "mailauth_domains": domains,
                 "mailauth_dns_secrets": {"test": {"key_secret": named.key_secret}},
                 "mailauth_plesk_dkim_keys_dir": str(keys_dir), "mailauth_dns_wait": False}
    play_vars.update(extra_vars)
    return json.dumps([{"hosts": "localhost", "gather_facts": False, "vars": play_vars,
                        "roles": ["mailauth.hardening.plesk"]}])


def served_dkim(named):
    return served_txt(named, "default._domainkey.%s." % ZONE)[0]


def public_b64(path):
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    return base64.b64encode(key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)).decode()


@pytest.fixture
def seeded(plesk_double):
    plesk_double.admin("add-domain", ZONE, "--external-dns")
    plesk_double.admin("add-domain", "plesk.test")
    return plesk_double


def test_role_converges_publishes_the_plesk_key_and_is_idempotent(seeded, named, run_playbook):
    play = role_play(named, seeded.keys_dir)
    rc, data, out = run_playbook(play, extra_env=seeded.env)
    assert rc == 0, out
    assert named.key_secret not in out

    settings = seeded.mail_settings()
    assert (settings["rbl"], settings["rbl_server"]) == ("true", "zen.spamhaus.org=127.0.0.[2..11]")
    assert (settings["spf_enabled"], settings["spf_behavior"]) == ("true", "1")
    assert (settings["domain_keys_sign"], settings["domain_keys_verify"], settings["dmarc_policy"]) == ("true",) * 3

    key = seeded.keys_dir / ZONE / "default"
    assert served_dkim(named) == ["v=DKIM1; k=rsa; p=%s" % public_b64(key)]
    plesk_key = seeded.keys_dir / "plesk.test" / "default"
    assert "default._domainkey.plesk.test. TXT v=DKIM1; p=%s;" % public_b64(plesk_key) in \
        seeded.plesk("bin", "dns", "--info", "plesk.test")

    rc, data, out = run_playbook(play, extra_env=seeded.env)
    assert rc == 0, out
    assert data["stats"]["localhost"]["changed"] == 0, out
    assert named.key_secret not in out


def test_role_check_mode_on_a_fresh_server_changes_nothing(seeded, named, run_playbook):
    rc, data, out = run_playbook(role_play(named, seeded.keys_dir), check=True, extra_env=seeded.env)
    assert rc == 0, out
    assert named.key_secret not in out
    assert data["stats"]["localhost"]["changed"] == 2  # no key yet in check mode, so nothing to publish
    assert seeded.changing_calls() == []
    assert not seeded.keys_dir.exists() and served_dkim(named) == []


def test_role_refuses_a_domain_without_dns_provider(seeded, named, run_playbook):
    rc, data, out = run_playbook(role_play(named, seeded.keys_dir, mailauth_domains=[{"name": ZONE}]),
                                 extra_env=seeded.env)
    assert rc != 0 and "every domain needs name and dns.provider" in out
    assert seeded.changing_calls() == []


def test_role_keeps_the_dqs_key_out_of_every_output_at_vvv(seeded, named, run_playbook):
    key = "dqskeyofthisaccount0123456"
    play = role_play(named, seeded.keys_dir, mailauth_dnsbl_dqs_key=key,
                     mailauth_dnsbl=[{"zone": "zen.spamhaus.org", "reply": "127.0.0.[2..11]", "weight": 3}])
    rc, data, out = run_playbook(play, "-vvv", diff=True, extra_env=seeded.env)
    assert rc == 0, out
    assert key not in out and "********.zen.dq.spamhaus.net=127.0.0.[2..11]" in out
    assert seeded.mail_settings()["rbl_server"] == "%s.zen.dq.spamhaus.net=127.0.0.[2..11]" % key
