"""plesk_mail_settings in-process, with `plesk` answered from a table (no process runs)."""
import json
import sys
from pathlib import Path

import pytest
from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.testing import patch_module_args

from ansible_collections.mailauth.hardening.plugins.module_utils._hosts import plesk
from ansible_collections.mailauth.hardening.plugins.modules import plesk_mail_settings

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from plesk_canned import FULL_HELP, OK, SEEN_HELP, Canned, db, rows  # noqa: E402

FRESH = rows(("spf_enabled", "true"), ("spf_behavior", "1"), ("domain_keys_sign", "true"),
             ("domain_keys_verify", "true"), ("dmarc_policy", "true"))
CONVERGED = rows(("spf_enabled", "true"), ("spf_behavior", "1"), ("domain_keys_sign", "true"),
                 ("domain_keys_verify", "true"), ("dmarc_policy", "true"), ("rbl", "true"),
                 ("rbl_server", "zen.spamhaus.org=127.0.0.[2..11]"))
ZONE = "zen.spamhaus.org=127.0.0.[2..11]"
RECOMMENDED = dict(dnsbl_enabled=True, dnsbl_zones=[ZONE], spf_enabled=True, spf_mode="headers_only",
                   dkim_sign=True, dkim_verify=True, dmarc_enabled=True)
ADD_ZONE = ("bin", "mailserver", "--add-maps-zone", ZONE)
DNSBL_ON = ("bin", "mailserver", "--set-maps-status", "true")


def answers(settings, mta="Postfix", help_text=FULL_HELP, more=None):
    table = {db(plesk.MTA_QUERY): rows((mta,)), db(plesk.SETTINGS_QUERY): settings, db(plesk.MISC_QUERY): rows(),
             ("bin", "mailserver", "--help"): (0, help_text, "")}
    table.update(more or {})
    return Canned(table)


@pytest.fixture
def run(capsys, monkeypatch):
    """Run the module against a Canned plesk; return (result, canned)."""
    def call(canned, check=False, diff=False, **args):
        monkeypatch.setattr(plesk_mail_settings, "module_cli", lambda module: plesk.PleskCli(canned))
        with patch_module_args(dict(args, _ansible_check_mode=check, _ansible_diff=diff)):
            with pytest.raises(SystemExit):
                plesk_mail_settings.main()
        return json.loads(capsys.readouterr().out), canned
    return call


def test_converges_with_only_the_differing_commands_and_confirms(run):
    canned = answers([FRESH, CONVERGED], more={ADD_ZONE: OK, DNSBL_ON: OK})
    result, canned = run(canned, **RECOMMENDED)
    assert result["changed"]
    assert canned.changes() == [list(ADD_ZONE), list(DNSBL_ON)]
    assert result["commands"] == ["plesk bin mailserver --add-maps-zone zen.spamhaus.org=127.0.0.[2..11]",
                                  "plesk bin mailserver --set-maps-status true"]
    assert result["settings"]["dnsbl_zones"] == [ZONE] and result["mta"] == "Postfix"
    assert canned.calls.count(list(db(plesk.SETTINGS_QUERY))) == 2  # read, change, read again


def test_unchanged_runs_nothing_and_does_not_even_read_the_help(run):
    result, canned = run(answers(CONVERGED), **RECOMMENDED)
    assert not result["changed"] and result["commands"] == []
    assert canned.changes() == [] and ["bin", "mailserver", "--help"] not in canned.calls


def test_check_mode_predicts_and_changes_nothing(run):
    result, canned = run(answers(FRESH), check=True, diff=True, **RECOMMENDED)
    assert result["changed"] and canned.changes() == []
    assert result["settings"]["dnsbl_enabled"] is True
    assert result["diff"]["before"]["dnsbl_enabled"] is False and result["diff"]["after"]["dnsbl_enabled"] is True
    assert len(result["commands"]) == 2


def test_diff_has_before_and_after(run):
    result, canned = run(answers([FRESH, CONVERGED], more={ADD_ZONE: OK, DNSBL_ON: OK}), diff=True, **RECOMMENDED)
    assert result["diff"]["before"]["dnsbl_zones"] == [] and result["diff"]["after"]["dnsbl_zones"] == [ZONE]


def test_unset_options_are_left_alone(run):
    result, canned = run(answers(rows(("spf_behavior", "3"))), spf_enabled=False)
    assert not result["changed"] and result["settings"]["spf_mode"] == "reject_fail"


def test_qmail_is_refused_before_anything_is_read_or_changed(run):
    result, canned = run(answers(FRESH, mta="qmail"), **RECOMMENDED)
    assert result["failed"] and result["msg"].startswith("This Plesk server uses qmail")
    assert canned.calls == [list(db(plesk.MTA_QUERY))]


def test_missing_option_fails_naming_setting_and_panel_and_changes_nothing(run):
    result, canned = run(answers(FRESH, help_text=SEEN_HELP), spf_mode="reject_fail", dnsbl_enabled=True)
    assert result["failed"] and "no option to change spf_mode" in result["msg"]
    assert "Tools & Settings > Mail Server Settings" in result["msg"]
    assert canned.changes() == []


def test_cli_options_names_an_option_the_help_lists(run):
    canned = answers([FRESH, rows(("spf_behavior", "3"))], help_text=SEEN_HELP + "--spf-level <n>\n",
                     more={("bin", "mailserver", "--spf-level", "3"): OK})
    result, canned = run(canned, spf_mode="reject_fail", cli_options={"spf_mode": "--spf-level"})
    assert result["changed"] and canned.changes() == [["bin", "mailserver", "--spf-level", "3"]]


def test_dkim_verify_off_under_dmarc_is_explained_and_nothing_changes(run):
    result, canned = run(answers(FRESH), dkim_verify=False)
    assert result["failed"] and result["msg"].startswith("dkim_verify: Plesk does not let incoming DKIM checks")
    assert canned.changes() == []


def test_bad_zone_fails_before_plesk_is_even_asked(run):
    result, canned = run(answers(FRESH), dnsbl_zones=["zen.spamhaus.org"])
    assert result["failed"] and result["msg"].startswith("dnsbl_zones[0]: zen.spamhaus.org has no reply filter")
    assert canned.calls == []


def test_a_failing_command_reports_what_was_applied(run):
    canned = answers(FRESH, more={ADD_ZONE: OK, DNSBL_ON: (1, "", "Unable to switch on DNSBL")})
    result, canned = run(canned, **RECOMMENDED)
    assert result["failed"]
    assert result["msg"] == ("`plesk bin mailserver --set-maps-status true` failed (exit 1): Unable to switch on DNSBL. "
                             "Applied before this failure: plesk bin mailserver --add-maps-zone "
                             "zen.spamhaus.org=127.0.0.[2..11].")


def test_a_change_that_does_not_read_back_fails(run):
    canned = answers([FRESH, FRESH], more={ADD_ZONE: OK, DNSBL_ON: OK})
    result, canned = run(canned, **RECOMMENDED)
    assert result["failed"] and result["msg"].startswith("Plesk accepted the changes but its database then reads: "
                                                         "dnsbl_enabled is False, wanted True")


def test_database_failure_is_reported(run):
    result, canned = run(answers((1, "", "ERROR 2002 (HY000): Can't connect to local MySQL server")), dnsbl_enabled=True)
    assert result["failed"] and result["msg"].startswith("`plesk db` failed (exit 1): ERROR 2002")


def test_no_plesk_command_fails_saying_where_it_looked(capsys, monkeypatch):
    monkeypatch.setattr(AnsibleModule, "get_bin_path", lambda self, name, required=False, opt_dirs=None: None)
    with patch_module_args(dict(dnsbl_enabled=True)):
        with pytest.raises(SystemExit):
            plesk_mail_settings.main()
    result = json.loads(capsys.readouterr().out)
    assert result["failed"] and result["msg"] == plesk.not_found_message(plesk.PLESK_DIRS)
