"""plesk_mail_settings and plesk_domain_dkim through ansible-playbook, against the Plesk test double."""
import base64
import json

import pytest

from cryptography.hazmat.primitives import serialization
# plesk_double is a fixture: importing it is using it.
from plesk_double_env import PLAY_HEAD, plesk_double, task_results  # noqa: F401 pylint: disable=unused-import

RECOMMENDED = """  tasks:
    - name: Recommended settings
      mailauth.hardening.plesk_mail_settings:
        dnsbl_enabled: true
        dnsbl_zones: ["zen.spamhaus.org=127.0.0.[2..11]"]
        spf_enabled: true
        spf_mode: headers_only
        dkim_sign: true
        dkim_verify: true
        dmarc_enabled: true
"""
PANEL = "Tools & Settings > Mail Server Settings"


def mail_task(**args):
    lines = "".join("        %s: %s\n" % item for item in args.items())
    return PLAY_HEAD + "  tasks:\n    - name: Mail settings\n      mailauth.hardening.plesk_mail_settings:\n" + lines


def dkim_task(domain, **args):
    lines = "".join("        %s: %s\n" % item for item in dict(domain=domain, **args).items())
    return PLAY_HEAD + "  tasks:\n    - name: Domain DKIM\n      mailauth.hardening.plesk_domain_dkim:\n" + lines


def public_b64(path):
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    return base64.b64encode(key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)).decode()


# --- plesk_mail_settings -----------------------------------------------------------------------------

def test_mail_settings_converge_and_second_run_is_unchanged(plesk_double, run_playbook):
    rc, data, out = run_playbook(PLAY_HEAD + RECOMMENDED, extra_env=plesk_double.env)
    assert rc == 0, out
    result = task_results(data)
    assert result["changed"]
    assert plesk_double.changing_calls() == [["bin", "mailserver", "--add-maps-zone", "zen.spamhaus.org=127.0.0.[2..11]"],
                                             ["bin", "mailserver", "--set-maps-status", "true"]]
    stored = plesk_double.mail_settings()
    assert (stored["rbl"], stored["rbl_server"]) == ("true", "zen.spamhaus.org=127.0.0.[2..11]")
    assert (stored["spf_enabled"], stored["spf_behavior"], stored["dmarc_policy"]) == ("true", "1", "true")

    rc, data, out = run_playbook(PLAY_HEAD + RECOMMENDED, extra_env=plesk_double.env)
    assert rc == 0 and not task_results(data)["changed"], out
    assert data["stats"]["localhost"]["changed"] == 0
    assert plesk_double.changing_calls() == []


def test_mail_settings_check_mode_changes_nothing(plesk_double, run_playbook):
    rc, data, out = run_playbook(PLAY_HEAD + RECOMMENDED, check=True, extra_env=plesk_double.env)
    assert rc == 0, out
    assert task_results(data)["changed"] and task_results(data)["settings"]["dnsbl_enabled"] is True
    assert plesk_double.changing_calls() == []
    assert "rbl" not in plesk_double.mail_settings()


def test_mail_settings_diff(plesk_double, run_playbook):
    rc, data, out = run_playbook(mail_task(spf_mode="reject_fail"), diff=True, extra_env=plesk_double.env)
    assert rc == 0, out
    diff = task_results(data)["diff"]
    assert (diff["before"]["spf_mode"], diff["after"]["spf_mode"]) == ("headers_only", "reject_fail")
    assert plesk_double.mail_settings()["spf_behavior"] == "3"


def test_every_setting_round_trips(plesk_double, run_playbook):
    play = mail_task(dnsbl_enabled="true", dnsbl_zones='["bl.example.net", "zen.spamhaus.org=127.0.0.[2..11]"]',
                     spf_enabled="false", spf_mode="reject_unless_pass", spf_local_rules='"a:relay.example.net"',
                     spf_guess_rules='"v=spf1 a/24 mx/24 ptr ?all"', spf_explanation='"See %{d}"',
                     dkim_sign="false", dmarc_enabled="false", dkim_verify="false")
    rc, data, out = run_playbook(play, extra_env=plesk_double.env)
    assert rc == 0, out
    assert task_results(data)["settings"] == {
        "dnsbl_enabled": True, "dnsbl_zones": ["bl.example.net", "zen.spamhaus.org=127.0.0.[2..11]"],
        "spf_enabled": False, "spf_mode": "reject_unless_pass", "spf_local_rules": "a:relay.example.net",
        "spf_guess_rules": "v=spf1 a/24 mx/24 ptr ?all", "spf_explanation": "See %{d}", "dkim_sign": False,
        "dkim_verify": False, "dmarc_enabled": False}
    rc, data, out = run_playbook(play, extra_env=plesk_double.env)
    assert rc == 0 and not task_results(data)["changed"], out


def test_zones_are_replaced_exactly(plesk_double, run_playbook):
    plesk_double.admin("set-setting", "rbl_server", "old.example.net;keep.example.net")
    rc, data, out = run_playbook(mail_task(dnsbl_zones='["keep.example.net", "new.example.net"]'),
                                 extra_env=plesk_double.env)
    assert rc == 0, out
    assert plesk_double.mail_settings()["rbl_server"] == "keep.example.net;new.example.net"


DQS_KEY = "dqskeyofthisaccount0123456"
OLD_DQS_KEY = "formerkeyofthisaccount9876"


@pytest.mark.parametrize("zones, extra", [
    ('[{zone: zen.spamhaus.org, reply: "127.0.0.[2..11]", dqs_key: %s}]' % DQS_KEY, {}),
    ('["%s.zen.dq.spamhaus.net=127.0.0.[2..11]"]' % DQS_KEY, {}),
    ('["zen.spamhaus.org=127.0.0.[2..11]"]', {"dqs_key": DQS_KEY}),
])
def test_a_dqs_key_shows_nowhere_even_at_vvv(plesk_double, run_playbook, zones, extra):
    plesk_double.admin("set-setting", "rbl_server", "%s.zen.dq.spamhaus.net=127.0.0.[2..11]" % OLD_DQS_KEY)
    rc, data, out = run_playbook(mail_task(dnsbl_enabled="true", dnsbl_zones=zones, **extra), "-vvv", diff=True,
                                 extra_env=plesk_double.env)
    assert rc == 0, out
    result = task_results(data)
    assert result["changed"] and result["settings"]["dnsbl_zones"] == ["********.zen.dq.spamhaus.net=127.0.0.[2..11]"]
    assert any("--add-maps-zone ********.zen.dq.spamhaus.net" in c for c in result["commands"])
    assert any("--remove-maps-zone ********.zen.dq.spamhaus.net" in c for c in result["commands"])
    for key in (DQS_KEY, OLD_DQS_KEY):
        assert key not in out and key not in json.dumps(data)
    assert plesk_double.mail_settings()["rbl_server"] == "%s.zen.dq.spamhaus.net=127.0.0.[2..11]" % DQS_KEY


def test_a_dqs_key_in_a_refused_zone_is_not_shown(plesk_double, run_playbook):
    rc, data, out = run_playbook(mail_task(dnsbl_zones='["%s.zen.dq.spamhaus.net"]' % DQS_KEY), "-vvv",
                                 extra_env=plesk_double.env)
    assert rc != 0 and task_results(data)["msg"].startswith("dnsbl_zones[0]: ********.zen.dq.spamhaus.net has no reply")
    assert DQS_KEY not in out and plesk_double.changing_calls() == []


def test_missing_option_fails_naming_setting_and_panel(plesk_double, run_playbook):
    env = dict(plesk_double.env, PLESK_DOUBLE_GUESSED_OPTIONS="0")
    rc, data, out = run_playbook(mail_task(dnsbl_enabled="true", spf_mode="reject_fail"), extra_env=env)
    assert rc != 0
    result = task_results(data)
    assert result["failed"] and "no option to change spf_mode" in result["msg"] and PANEL in result["msg"]
    assert plesk_double.changing_calls() == []
    assert "rbl" not in plesk_double.mail_settings()


def test_dkim_verify_off_under_dmarc_is_refused(plesk_double, run_playbook):
    rc, data, out = run_playbook(mail_task(dkim_verify="false"), extra_env=plesk_double.env)
    assert rc != 0 and task_results(data)["msg"].startswith("dkim_verify: Plesk does not let incoming DKIM checks")
    assert plesk_double.mail_settings()["domain_keys_verify"] == "true"


def test_older_plesk_keeping_settings_in_misc(plesk_double, run_playbook):
    plesk_double.admin("init", "--legacy-misc")
    rc, data, out = run_playbook(PLAY_HEAD + RECOMMENDED, extra_env=plesk_double.env)
    assert rc == 0 and task_results(data)["changed"], out
    assert plesk_double.mail_settings()["rbl"] == "true"
    rc, data, out = run_playbook(PLAY_HEAD + RECOMMENDED, extra_env=plesk_double.env)
    assert rc == 0 and not task_results(data)["changed"], out


def test_qmail_is_refused_by_both_modules(plesk_double, run_playbook):
    plesk_double.admin("add-domain", "example.test")
    plesk_double.admin("set-mta", "qmail")
    for play in (PLAY_HEAD + RECOMMENDED, dkim_task("example.test", keys_dir=plesk_double.keys_dir)):
        rc, data, out = run_playbook(play, extra_env=plesk_double.env)
        assert rc != 0 and task_results(data)["msg"].startswith("This Plesk server uses qmail"), out
    assert plesk_double.changing_calls() == []


# --- plesk_domain_dkim -------------------------------------------------------------------------------

def test_domain_dkim_converge_record_matches_key_and_second_run_never_toggles(plesk_double, run_playbook):
    plesk_double.admin("add-domain", "example.test", "--external-dns")
    play = dkim_task("example.test", keys_dir=plesk_double.keys_dir)
    rc, data, out = run_playbook(play, diff=True, extra_env=plesk_double.env)
    assert rc == 0, out
    result = task_results(data)
    key = plesk_double.keys_dir / "example.test" / "default"
    assert result["changed"] and result["signing"] and result["key_path"] == str(key)
    assert result["record"] == "v=DKIM1; k=rsa; p=%s" % public_b64(key)
    assert "".join(result["record_strings"]) == result["record"]
    assert (result["selector"], result["dns_name"]) == ("default", "default._domainkey.example.test")
    assert result["diff"]["before"]["signing"] is False and result["diff"]["after"]["signing"] is True
    assert plesk_double.changing_calls() == [["bin", "domain_pref", "--update", "example.test",
                                              "-sign_outgoing_mail", "true"]]
    key_before = key.read_bytes()

    rc, data, out = run_playbook(play, extra_env=plesk_double.env)
    assert rc == 0 and not task_results(data)["changed"], out
    assert task_results(data)["record"] == result["record"]
    assert plesk_double.changing_calls() == [] and key.read_bytes() == key_before


def test_domain_dkim_check_mode_makes_no_key(plesk_double, run_playbook):
    plesk_double.admin("add-domain", "example.test")
    rc, data, out = run_playbook(dkim_task("example.test", keys_dir=plesk_double.keys_dir), check=True,
                                 extra_env=plesk_double.env)
    assert rc == 0, out
    result = task_results(data)
    assert result["changed"] and result["record"] is None
    assert plesk_double.changing_calls() == [] and not (plesk_double.keys_dir / "example.test").exists()


def test_domain_with_plesk_dns_gets_plesks_own_records(plesk_double, run_playbook):
    plesk_double.admin("add-domain", "example.test")
    rc, data, out = run_playbook(dkim_task("example.test", keys_dir=plesk_double.keys_dir), extra_env=plesk_double.env)
    assert rc == 0, out
    key = plesk_double.keys_dir / "example.test" / "default"
    info = plesk_double.plesk("bin", "dns", "--info", "example.test")
    assert "default._domainkey.example.test. TXT v=DKIM1; p=%s;" % public_b64(key) in info


def test_domain_dkim_disable_keeps_the_key(plesk_double, run_playbook):
    plesk_double.admin("add-domain", "example.test", "--signing")
    rc, data, out = run_playbook(dkim_task("example.test", keys_dir=plesk_double.keys_dir, state="disabled"),
                                 extra_env=plesk_double.env)
    assert rc == 0 and task_results(data)["changed"] and not task_results(data)["signing"], out
    assert (plesk_double.keys_dir / "example.test" / "default").exists()


def test_domain_dkim_failures(plesk_double, run_playbook):
    plesk_double.admin("add-domain", "web.test", "--no-mail")
    cases = [("nope.test", "domain: nope.test is not a domain on this Plesk server"),
             ("web.test", "domain: web.test has no mail service in Plesk")]
    for domain, words in cases:
        rc, data, out = run_playbook(dkim_task(domain, keys_dir=plesk_double.keys_dir), extra_env=plesk_double.env)
        assert rc != 0 and task_results(data)["msg"].startswith(words), out
    plesk_double.admin("add-domain", "example.test")
    plesk_double.admin("set-setting", "domain_keys_sign", "false")
    rc, data, out = run_playbook(dkim_task("example.test", keys_dir=plesk_double.keys_dir), extra_env=plesk_double.env)
    assert rc != 0 and task_results(data)["msg"].startswith("state: DKIM signing is not allowed server-wide"), out
