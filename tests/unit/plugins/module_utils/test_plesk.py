"""_plesk: reading psa rows, the misc fallback, help-text option discovery, plans and every failure message."""
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ansible_collections.mailauth.hardening.plugins.module_utils._hosts import plesk
from ansible_collections.mailauth.hardening.plugins.module_utils._records.dkim_record import inspect_dkim_record
from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from plesk_canned import FULL_HELP, MISSING_TABLE, OK, SEEN_HELP, Canned, db, rows  # noqa: E402

PANEL = "Tools & Settings > Mail Server Settings"
DEFAULTS = {"dnsbl_enabled": False, "dnsbl_zones": [], "spf_enabled": False, "spf_mode": "headers_only",
            "spf_local_rules": "", "spf_guess_rules": "", "spf_explanation": "", "dkim_sign": False,
            "dkim_verify": False, "dmarc_enabled": False}
RECOMMENDED = {"dnsbl_enabled": True, "dnsbl_zones": ["zen.spamhaus.org=127.0.0.[2..11]"], "spf_enabled": True,
               "spf_mode": "headers_only", "dkim_sign": True, "dkim_verify": True, "dmarc_enabled": True}


def cli(answers):
    return plesk.PleskCli(Canned(answers))


def state(**changes):
    return dict(DEFAULTS, **changes)


# --- rows ------------------------------------------------------------------------------------------

def test_parse_rows_undoes_mysql_escapes_and_keeps_empty_fields():
    out = "a\\tb\tline1\\nline2\nback\\\\slash\tNULL\nempty\t\n"
    assert plesk.parse_rows(out) == [["a\tb", "line1\nline2"], ["back\\slash", None], ["empty", ""]]


def test_db_failure_message_and_missing_table_flag():
    with pytest.raises(plesk.DbError) as err:
        cli({db("SELECT 1"): MISSING_TABLE}).query("SELECT 1")
    assert err.value.missing_table
    assert str(err.value).startswith("`plesk db` failed (exit 1): ERROR 1146")
    with pytest.raises(plesk.DbError) as err:
        cli({db("SELECT 1"): (1, "", "ERROR 1045 (28000): Access denied")}).query("SELECT 1")
    assert not err.value.missing_table and "Access denied" in str(err.value)


# --- reading settings ----------------------------------------------------------------------------------

def test_absent_rows_read_as_defaults():
    runner = {db(plesk.SETTINGS_QUERY): rows(), db(plesk.MISC_QUERY): rows()}
    assert plesk.read_settings(cli(runner)) == DEFAULTS


def test_fresh_1864_server_reads_present_rows_and_defaults_for_absent_ones():
    runner = {db(plesk.SETTINGS_QUERY): rows(("spf_enabled", "true"), ("spf_behavior", "1"),
                                             ("domain_keys_sign", "true"), ("domain_keys_verify", "true"),
                                             ("dmarc_policy", "true")),
              db(plesk.MISC_QUERY): rows()}
    assert plesk.read_settings(cli(runner)) == state(spf_enabled=True, dkim_sign=True, dkim_verify=True,
                                                     dmarc_enabled=True)


def test_misc_fallback_when_service_node_configuration_does_not_exist():
    runner = {db(plesk.SETTINGS_QUERY): MISSING_TABLE,
              db(plesk.MISC_QUERY): rows(("rbl", "true"), ("rbl_server", "a.example;b.example"), ("spf_behavior", "3"))}
    assert plesk.read_settings(cli(runner)) == state(dnsbl_enabled=True, dnsbl_zones=["a.example", "b.example"],
                                                     spf_mode="reject_fail")


def test_misc_fills_only_names_service_node_configuration_lacks():
    runner = {db(plesk.SETTINGS_QUERY): rows(("rbl", "false")),
              db(plesk.MISC_QUERY): rows(("rbl", "true"), ("spf_exp", "see %{d}"))}
    found = plesk.read_settings(cli(runner))
    assert found["dnsbl_enabled"] is False
    assert found["spf_explanation"] == "see %{d}"


def test_misc_is_not_asked_when_every_row_is_present():
    answers = [(s.psa_name, "1" if s.kind == "mode" else "") for s in plesk.SETTINGS]
    runner = Canned({db(plesk.SETTINGS_QUERY): rows(*answers)})
    plesk.read_raw_settings(plesk.PleskCli(runner))
    assert runner.calls == [list(db(plesk.SETTINGS_QUERY))]


def test_missing_misc_table_too_means_all_defaults():
    runner = {db(plesk.SETTINGS_QUERY): MISSING_TABLE, db(plesk.MISC_QUERY): MISSING_TABLE}
    assert plesk.read_settings(cli(runner)) == DEFAULTS


def test_other_database_errors_are_not_taken_for_absence():
    with pytest.raises(plesk.DbError, match="Access denied"):
        plesk.read_settings(cli({db(plesk.SETTINGS_QUERY): (1, "", "ERROR 1045: Access denied")}))
    with pytest.raises(plesk.DbError, match="server has gone away"):
        plesk.read_settings(cli({db(plesk.SETTINGS_QUERY): rows(), db(plesk.MISC_QUERY): (1, "", "server has gone away")}))


@pytest.mark.parametrize("number, mode", list(zip("123456", plesk.SPF_MODES)))
def test_spf_behavior_numbers_map_to_mode_names_and_back(number, mode):
    setting = dict((s.name, s) for s in plesk.SETTINGS)["spf_mode"]
    assert plesk.decode_setting(setting, number) == mode
    assert plesk._value("spf_mode", mode) == number


def test_mode_names_are_the_documented_ones_in_ui_order():
    assert plesk.SPF_MODES == ("headers_only", "temperror_on_dns", "reject_fail", "reject_softfail",
                               "reject_neutral", "reject_unless_pass")


@pytest.mark.parametrize("psa_name, value", [("spf_behavior", "7"), ("dmarc_policy", "maybe")])
def test_values_not_understood_fail_naming_setting_and_panel(psa_name, value):
    runner = {db(plesk.SETTINGS_QUERY): rows((psa_name, value)), db(plesk.MISC_QUERY): rows()}
    with pytest.raises(plesk.PleskError) as err:
        plesk.read_settings(cli(runner))
    assert psa_name in str(err.value) and repr(value) in str(err.value) and PANEL in str(err.value)


def test_zones_split_on_any_separator():
    assert plesk.parse_zones("a.example; b.example,c.example d.example") == ["a.example", "b.example", "c.example",
                                                                             "d.example"]


# --- the MTA -------------------------------------------------------------------------------------------

def test_postfix_is_accepted():
    assert plesk.check_mta(cli({db(plesk.MTA_QUERY): rows(("Postfix",))})) == "Postfix"


def test_qmail_is_refused():
    with pytest.raises(plesk.PleskError) as err:
        plesk.check_mta(cli({db(plesk.MTA_QUERY): rows(("qmail",))}))
    assert str(err.value).startswith("This Plesk server uses qmail as its mail server")
    assert "Postfix only" in str(err.value)


@pytest.mark.parametrize("answer", [rows(), MISSING_TABLE])
def test_unknown_mta_is_refused(answer):
    with pytest.raises(plesk.PleskError, match="Cannot tell which mail server this Plesk uses"):
        plesk.check_mta(cli({db(plesk.MTA_QUERY): answer}))


# --- wanted settings ---------------------------------------------------------------------------------

def test_wanted_settings_keep_only_what_is_set_and_build_zone_items():
    wanted = plesk.wanted_settings({"dnsbl_zones": ["zen.spamhaus.org=127.0.0.[2..11]",
                                                    {"zone": "zen.spamhaus.org", "reply": "127.0.0.[2..11]", "weight": 3},
                                                    {"zone": "bl.example"}],
                                    "spf_mode": "reject_fail", "dkim_verify": None, "cli_options": {}})
    assert wanted == {"dnsbl_zones": ["zen.spamhaus.org=127.0.0.[2..11]", "bl.example"], "spf_mode": "reject_fail"}


def test_spamhaus_zone_without_reply_filter_is_refused():
    with pytest.raises(InputError) as err:
        plesk.wanted_settings({"dnsbl_zones": ["bl.example", "zen.spamhaus.org"]})
    assert str(err.value).startswith("dnsbl_zones[1]: zen.spamhaus.org has no reply filter")


def test_allowlists_are_refused():
    with pytest.raises(InputError) as err:
        plesk.wanted_settings({"dnsbl_zones": [{"zone": "list.dnswl.org", "weight": -2}]})
    assert str(err.value).startswith("dnsbl_zones[0]: list.dnswl.org has a negative weight (an allowlist)")


def test_unknown_cli_options_key_is_refused():
    with pytest.raises(InputError) as err:
        plesk.wanted_settings({"cli_options": {"spf": "--spf"}})
    assert str(err.value).startswith("cli_options: unknown key(s) spf.")


def test_unknown_spf_mode_is_refused():
    with pytest.raises(InputError, match="spf_mode: 'strict' is not one of Plesk's SPF modes"):
        plesk.wanted_settings({"spf_mode": "strict"})


# --- the DKIM verify / DMARC rule ------------------------------------------------------------------------

def test_verify_off_with_dmarc_on_is_refused_with_the_rule_explained():
    with pytest.raises(InputError) as err:
        plesk.check_dkim_dmarc_rule(state(dmarc_enabled=True, dkim_verify=True), {"dkim_verify": False})
    assert str(err.value).startswith("dkim_verify: Plesk does not let incoming DKIM checks be switched off while "
                                     "DMARC checking of incoming mail is on")
    assert "dmarc_enabled: false" in str(err.value)


def test_dmarc_on_while_verify_is_off_is_refused():
    with pytest.raises(InputError) as err:
        plesk.check_dkim_dmarc_rule(state(dkim_verify=False), {"dmarc_enabled": True})
    assert str(err.value).startswith("dmarc_enabled: DMARC checking of incoming mail needs incoming DKIM checks")


@pytest.mark.parametrize("current, wanted", [
    (state(dmarc_enabled=True, dkim_verify=True), {"dkim_verify": False, "dmarc_enabled": False}),
    (state(), {"dkim_verify": True, "dmarc_enabled": True}),
    (state(dmarc_enabled=True, dkim_verify=False), {"dkim_verify": True}),
    (state(), {"spf_mode": "reject_fail"}),
])
def test_states_that_keep_the_rule_pass(current, wanted):
    plesk.check_dkim_dmarc_rule(current, wanted)


# --- option discovery and plans ------------------------------------------------------------------------

def test_help_options_are_every_double_dash_word():
    assert plesk.help_options(SEEN_HELP) == {"--set-maps-status", "--add-maps-zone", "--sign-outgoing-mail",
                                             "--verify-incoming-mail", "--help"}
    assert plesk.help_options("x--not-an-option and -single --ok-one") == {"--ok-one"}


def test_find_option_prefers_the_override_then_the_first_candidate():
    available = {"--spf-behavior", "--set-spf-behavior", "--my-spf"}
    assert plesk.find_option("spf_mode", available, {}) == "--set-spf-behavior"
    assert plesk.find_option("spf_mode", {"--spf-behavior"}, None) == "--spf-behavior"
    assert plesk.find_option("spf_mode", available, {"spf_mode": "--my-spf"}) == "--my-spf"
    assert plesk.find_option("spf_mode", {"--other"}, {}) is None


def test_override_that_help_does_not_list_fails():
    with pytest.raises(plesk.PleskError) as err:
        plesk.find_option("spf_mode", {"--set-spf-behavior"}, {"spf_mode": "--nope"})
    assert str(err.value).startswith("cli_options.spf_mode: names --nope, but `plesk bin mailserver --help` on this "
                                     "server does not list it. Fix: name an option the help text lists")


def test_plan_for_the_recommended_settings_on_a_fresh_server():
    current = state(spf_enabled=True, dkim_sign=True, dkim_verify=True, dmarc_enabled=True)
    steps = plesk.plan_changes(current, RECOMMENDED, FULL_HELP)
    assert steps == [["bin", "mailserver", "--add-maps-zone", "zen.spamhaus.org=127.0.0.[2..11]"],
                     ["bin", "mailserver", "--set-maps-status", "true"]]


def test_plan_orders_verify_on_before_dmarc_on_and_dmarc_off_before_verify_off():
    on = plesk.plan_changes(state(), {"dkim_verify": True, "dmarc_enabled": True}, FULL_HELP)
    assert [s[2] for s in on] == ["--verify-incoming-mail", "--set-dmarc-status"]
    off = plesk.plan_changes(state(dkim_verify=True, dmarc_enabled=True),
                             {"dkim_verify": False, "dmarc_enabled": False}, FULL_HELP)
    assert [s[2:] for s in off] == [["--set-dmarc-status", "false"], ["--verify-incoming-mail", "false"]]


def test_plan_switches_dnsbl_off_before_touching_zones():
    steps = plesk.plan_changes(state(dnsbl_enabled=True, dnsbl_zones=["a.example"]),
                               {"dnsbl_enabled": False, "dnsbl_zones": []}, FULL_HELP)
    assert [s[2:] for s in steps] == [["--set-maps-status", "false"], ["--remove-maps-zone", "a.example"]]


def test_plan_sets_spf_details_before_switching_spf_on():
    steps = plesk.plan_changes(state(), {"spf_enabled": True, "spf_mode": "reject_unless_pass",
                                         "spf_local_rules": "include:spf.trusted-forwarder.org"}, FULL_HELP)
    assert [s[2:] for s in steps] == [["--set-spf-rules", "include:spf.trusted-forwarder.org"],
                                      ["--set-spf-behavior", "6"], ["--set-spf-status", "true"]]


def test_plan_adds_and_removes_zones_without_a_replace_option():
    steps = plesk.plan_changes(state(dnsbl_zones=["old.example", "Keep.example"]),
                               {"dnsbl_zones": ["keep.example", "new1.example", "new2.example"]}, FULL_HELP)
    assert [s[2:] for s in steps] == [["--remove-maps-zone", "old.example"],
                                      ["--add-maps-zone", "new1.example,new2.example"]]


def test_plan_uses_a_replace_option_when_offered():
    steps = plesk.plan_changes(state(dnsbl_zones=["old.example"]), {"dnsbl_zones": ["a.example", "b.example"]},
                               FULL_HELP + "--set-maps-zone <zones>\n")
    assert steps == [["bin", "mailserver", "--set-maps-zone", "a.example,b.example"]]


def test_plan_is_empty_when_nothing_differs_even_in_zone_order_and_case():
    current = state(dnsbl_zones=["b.example", "A.example"], spf_enabled=True)
    assert plesk.plan_changes(current, {"dnsbl_zones": ["a.example", "b.example"], "spf_enabled": True}, "") == []


def test_missing_option_fails_naming_setting_and_panel_before_anything_runs():
    with pytest.raises(plesk.PleskError) as err:
        plesk.plan_changes(state(), {"spf_mode": "reject_fail", "dnsbl_enabled": True}, SEEN_HELP)
    message = str(err.value)
    assert message.startswith("spf_mode: `plesk bin mailserver --help` on this server offers no option to change spf_mode "
                              "(looked for --set-spf-behavior, --spf-behavior, --set-spf-mode, --spf-mode).")
    assert "Nothing was changed." in message and PANEL in message and "cli_options: {spf_mode: --the-option}" in message


def test_every_missing_setting_is_named():
    wanted = {"spf_enabled": True, "spf_mode": "reject_fail", "spf_local_rules": "x", "spf_guess_rules": "y",
              "spf_explanation": "z", "dmarc_enabled": False}
    with pytest.raises(plesk.PleskError) as err:
        plesk.plan_changes(state(dmarc_enabled=True, dkim_verify=True), wanted, SEEN_HELP)
    for name in wanted:
        assert name + " (looked for" in str(err.value)


def test_removing_zones_without_a_removal_option_fails_naming_it():
    with pytest.raises(plesk.PleskError) as err:
        plesk.plan_changes(state(dnsbl_zones=["old.example"]), {"dnsbl_zones": ["new.example"]}, SEEN_HELP)
    assert "offers no option to change dnsbl_zones_remove (looked for --remove-maps-zone" in str(err.value)


def test_confirm_passes_and_fails_naming_what_reads_back_wrong():
    plesk.confirm(state(spf_mode="reject_fail", dnsbl_zones=["A.example"]),
                  {"spf_mode": "reject_fail", "dnsbl_zones": ["a.example"]})
    with pytest.raises(plesk.PleskError) as err:
        plesk.confirm(state(spf_mode="headers_only"), {"spf_mode": "reject_fail"})
    assert str(err.value).startswith("Plesk accepted the changes but its database then reads: spf_mode is "
                                     "'headers_only', wanted 'reject_fail'.")
    assert PANEL in str(err.value)


# --- running commands --------------------------------------------------------------------------------

def test_help_text_is_used_even_with_a_non_zero_exit_when_it_lists_options():
    runner = {("bin", "mailserver", "--help"): (1, SEEN_HELP, "")}
    assert plesk.PleskCli(Canned(runner)).help_text("mailserver") == SEEN_HELP


def test_help_failure_message():
    runner = {("bin", "mailserver", "--help"): (127, "", "plesk: unknown utility")}
    with pytest.raises(plesk.PleskError) as err:
        plesk.PleskCli(Canned(runner)).help_text("mailserver")
    assert str(err.value) == "`plesk bin mailserver --help` failed (exit 127): plesk: unknown utility"


def test_failed_change_says_what_was_applied_before():
    argv = ["bin", "mailserver", "--set-maps-status", "true"]
    runner = plesk.PleskCli(Canned({tuple(argv): (1, "", "Unable to update")}))
    applied = ["plesk bin mailserver --add-maps-zone a.example"]
    with pytest.raises(plesk.PleskError) as err:
        runner.change(argv, applied)
    assert str(err.value) == ("`plesk bin mailserver --set-maps-status true` failed (exit 1): Unable to update. "
                              "Applied before this failure: plesk bin mailserver --add-maps-zone a.example.")
    with pytest.raises(plesk.PleskError, match="Applied before this failure: nothing."):
        runner.change(argv, [])


def test_command_text_quotes_what_a_shell_would_split():
    assert plesk.command_text(["bin", "mailserver", "--set-spf-exp", "it's %{d}"]) == \
        "plesk bin mailserver --set-spf-exp 'it'\\''s %{d}'"
    assert plesk.command_text(["bin", "mailserver", "--set-spf-rules", ""]) == "plesk bin mailserver --set-spf-rules ''"


def test_not_found_message_names_the_places_looked_in():
    assert plesk.not_found_message(plesk.PLESK_DIRS) == (
        "The plesk command was not found in PATH or in /usr/sbin, /usr/local/psa/bin, /opt/psa/bin: these modules "
        "run on a Plesk server (Plesk Obsidian 18 for Linux).")


# --- per-domain DKIM -------------------------------------------------------------------------------

def domain_rows(*lines):
    return {db(plesk.domain_dkim_query("example.test")): rows(*lines)}


def test_domain_signing_and_selector_are_read():
    found = plesk.read_domain_dkim(cli(domain_rows(("3", "7", "domain_keys_sign", "true"),
                                                   ("3", "7", "activeDkimSelector", "default"))), "example.test")
    assert found == {"signing": True, "selector": "default"}


def test_domain_without_dkim_parameters_reads_as_not_signing_with_selector_default():
    found = plesk.read_domain_dkim(cli(domain_rows(("3", "7", "NULL", "NULL"))), "example.test")
    assert found == {"signing": False, "selector": "default"}


def test_unknown_domain_message():
    with pytest.raises(plesk.PleskError) as err:
        plesk.read_domain_dkim(cli(domain_rows()), "example.test")
    assert str(err.value).startswith("domain: example.test is not a domain on this Plesk server (no row in psa.domains).")


def test_domain_without_mail_service_message():
    with pytest.raises(plesk.PleskError) as err:
        plesk.read_domain_dkim(cli(domain_rows(("3", "NULL", "NULL", "NULL"))), "example.test")
    assert str(err.value).startswith("domain: example.test has no mail service in Plesk, so there is nothing to sign.")


def test_domain_pref_argv():
    assert plesk.domain_pref_argv("example.test", True) == ["bin", "domain_pref", "--update", "example.test",
                                                            "-sign_outgoing_mail", "true"]
    assert plesk.domain_pref_argv("example.test", False)[-1] == "false"


def test_signing_not_allowed_message():
    message = plesk.signing_not_allowed_message("example.test")
    assert message.startswith("state: DKIM signing is not allowed server-wide on this Plesk (%s" % PANEL)
    assert "dkim_sign: true" in message


def test_record_from_plesk_key_is_built_with_the_record_logic():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                            serialization.NoEncryption())
    key_type, record = plesk.dkim_record_from_pem(pem, "/etc/domainkeys/example.test/default")
    info = inspect_dkim_record(record)
    assert key_type == "rsa" and record.startswith("v=DKIM1; k=rsa; p=") and info.bits == 2048


def test_unreadable_key_message_names_the_path_and_not_the_content():
    secret = b"-----BEGIN RSA PRIVATE KEY-----\nTOPSECRETGARBAGE\n-----END RSA PRIVATE KEY-----\n"
    with pytest.raises(plesk.PleskError) as err:
        plesk.dkim_record_from_pem(secret, "/etc/domainkeys/example.test/default")
    assert str(err.value).startswith("keys_dir: /etc/domainkeys/example.test/default is not a PEM private key this module can "
                                     "read")
    assert "TOPSECRET" not in str(err.value)


def test_module_cli_fails_when_plesk_is_missing_and_runs_it_otherwise():
    class Module(object):
        def __init__(self, path):
            self.path, self.calls, self.failed = path, [], None

        def get_bin_path(self, name, opt_dirs=None):
            assert (name, opt_dirs) == ("plesk", ["/usr/sbin", "/usr/local/psa/bin", "/opt/psa/bin"])
            return self.path

        def fail_json(self, msg):
            self.failed = msg
            raise SystemExit(1)

        def run_command(self, argv, environ_update=None):
            self.calls.append(argv)
            return OK

    missing = Module(None)
    with pytest.raises(SystemExit):
        plesk.module_cli(missing)
    assert missing.failed == plesk.not_found_message(plesk.PLESK_DIRS)
    found = Module("/opt/psa/bin/plesk")
    plesk.module_cli(found).run(["version"])
    assert found.calls == [["/opt/psa/bin/plesk", "version"]]
