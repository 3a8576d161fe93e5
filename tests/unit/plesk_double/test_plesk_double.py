"""The Plesk test double behaves as its README says (black box: its two commands in a subprocess)."""
import base64
import json
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

DOUBLE = Path(__file__).resolve().parents[2] / "plesk_double"
SETTINGS_SQL = "SELECT name, value FROM ServiceNodeConfiguration WHERE serviceNodeId = 1 AND section = 'mailServer'"


@pytest.fixture
def plesk(tmp_path):
    """Run `plesk ARGS` or `plesk-double-admin ARGS` against a database in tmp_path."""
    env = {"PLESK_DOUBLE_DB": str(tmp_path / "psa.sqlite3"), "PLESK_DOUBLE_ROOT": str(tmp_path / "root"),
           "PATH": "/usr/bin:/bin"}

    def run(*args, admin=False, stdin=None, **extra):
        tool = DOUBLE / ("plesk-double-admin" if admin else "plesk")
        proc = subprocess.run([sys.executable, str(tool)] + list(args), input=stdin, capture_output=True,
                              text=True, env=dict(env, **extra), check=False)
        return proc.returncode, proc.stdout, proc.stderr

    run.root = tmp_path / "root"
    run.env = env
    return run


def rows(out):
    return [line.split("\t") for line in out.splitlines()]


def settings(plesk):
    rc, out, err = plesk("db", "-Ne", SETTINGS_SQL)
    assert rc == 0, err
    return dict(rows(out))


def test_fresh_database_has_the_fresh_server_settings_and_not_the_absent_ones(plesk):
    found = settings(plesk)
    assert found["spf_behavior"] == "1"
    assert found["dmarc_policy"] == "true"
    for absent in ("rbl", "rbl_server", "spf_rules", "spf_guess", "spf_exp"):
        assert absent not in found
    rc, out, err = plesk("db", "-Ne", "SELECT value FROM ServiceNodeEnvironment WHERE section = 'mail' AND name = 'SMTP_Server'")
    assert (rc, out) == (0, "Postfix\n")


@pytest.mark.parametrize("form", [["-Ne"], ["-N", "-e"]])
def test_db_without_header(plesk, form):
    rc, out, err = plesk("db", *form, "SELECT 'a', 2")
    assert (rc, out) == (0, "a\t2\n")


def test_db_plain_query_prints_a_header_and_stdin_works(plesk):
    assert plesk("db", "SELECT 'a' AS x")[:2] == (0, "x\na\n")
    assert plesk("db", "-N", stdin="SELECT 1; SELECT 2;")[:2] == (0, "1\n2\n")


def test_db_escapes_like_mysql_and_prints_null(plesk):
    rc, out, err = plesk("db", "-Ne", "SELECT 'a' || char(9) || 'b' || char(10) || 'c\\d', NULL")
    assert (rc, out) == (0, "a\\tb\\nc\\\\d\tNULL\n")


def test_db_empty_result_prints_nothing(plesk):
    assert plesk("db", "SELECT name FROM domains")[:2] == (0, "")


def test_db_missing_table_is_mysql_error_1146(plesk):
    rc, out, err = plesk("db", "-Ne", "SELECT param, val FROM nothere")
    assert rc == 1
    assert "ERROR 1146 (42S02)" in err and "psa.nothere" in err


@pytest.mark.parametrize("args", [["-x", "SELECT 1"], ["-e"], ["SELECT 1", "SELECT 2"]])
def test_db_bad_arguments_fail(plesk, args):
    rc, out, err = plesk("db", *args)
    assert rc == 1 and "plesk db" in err


def test_mailserver_help_lists_seen_and_guessed_options(plesk):
    rc, out, err = plesk("bin", "mailserver", "--help")
    assert rc == 0
    for option in ("--set-maps-status", "--add-maps-zone", "--sign-outgoing-mail", "--verify-incoming-mail",
                   "--set-spf-behavior", "--set-dmarc-status", "--remove-maps-zone"):
        assert option in out


def test_mailserver_without_guessed_options(plesk):
    rc, out, err = plesk("bin", "mailserver", "--help", PLESK_DOUBLE_GUESSED_OPTIONS="0")
    assert "--set-maps-status" in out and "--set-spf-behavior" not in out and "--remove-maps-zone" not in out
    rc, out, err = plesk("bin", "mailserver", "--set-spf-behavior", "3", PLESK_DOUBLE_GUESSED_OPTIONS="0")
    assert rc == 1 and "Unknown command" in err


def test_mailserver_writes_settings(plesk):
    assert plesk("bin", "mailserver", "--set-maps-status", "true")[0] == 0
    assert plesk("bin", "mailserver", "--add-maps-zone", "zen.spamhaus.org=127.0.0.[2..11],bl.example")[0] == 0
    assert plesk("bin", "mailserver", "--add-maps-zone", "bl.example,x.example")[0] == 0
    assert plesk("bin", "mailserver", "--remove-maps-zone", "bl.example")[0] == 0
    assert plesk("bin", "mailserver", "--set-spf-behavior", "6")[0] == 0
    assert plesk("bin", "mailserver", "--set-spf-exp", "see %{d}")[0] == 0
    found = settings(plesk)
    assert found["rbl"] == "true"
    assert found["rbl_server"] == "zen.spamhaus.org=127.0.0.[2..11];x.example"
    assert found["spf_behavior"] == "6"
    assert found["spf_exp"] == "see %{d}"


def test_mailserver_refuses_verify_off_while_dmarc_is_on(plesk):
    rc, out, err = plesk("bin", "mailserver", "--verify-incoming-mail", "false")
    assert rc == 1 and "DMARC" in err
    assert settings(plesk)["domain_keys_verify"] == "true"
    assert plesk("bin", "mailserver", "--set-dmarc-status", "false")[0] == 0
    assert plesk("bin", "mailserver", "--verify-incoming-mail", "false")[0] == 0
    assert settings(plesk)["domain_keys_verify"] == "false"


@pytest.mark.parametrize("args, words", [
    (["--set-maps-status", "yes"], "expected true or false"),
    (["--set-spf-behavior", "7"], "1 to 6"),
    (["--add-maps-zone", ","], "comma-separated"),
    (["--no-such-option", "1"], "Unknown command"),
    (["--set-maps-status", "true", "--sign-outgoing-mail", "true"], "exactly one value"),
    (["--set-maps-status"], "exactly one value"),
])
def test_mailserver_bad_calls_fail(plesk, args, words):
    rc, out, err = plesk("bin", "mailserver", *args)
    assert rc == 1 and words in err


def test_legacy_layout_keeps_settings_in_misc(plesk):
    assert plesk("init", "--legacy-misc", admin=True)[0] == 0
    assert plesk("bin", "mailserver", "--set-maps-status", "true")[0] == 0
    rc, out, err = plesk("db", "-Ne", SETTINGS_SQL)
    assert rc == 1 and "ERROR 1146" in err
    rc, out, err = plesk("db", "-Ne", "SELECT val FROM misc WHERE param IN ('rbl', 'spf_behavior') ORDER BY param")
    assert (rc, out) == (0, "true\n1\n")


def dkim_params(plesk, domain):
    rc, out, err = plesk("db", "-Ne", "SELECT p.parameter, p.value FROM domains d JOIN DomainServices s ON s.dom_id = d.id"
                         " AND s.type = 'mail' JOIN Parameters p ON p.id = s.parameters_id WHERE d.name = '%s'" % domain)
    assert rc == 0
    return dict(rows(out))


def public_b64(path):
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode()


def test_domain_pref_turns_signing_on_with_a_2048_bit_key_and_plesk_dns_records(plesk):
    plesk("add-domain", "example.test", admin=True)
    assert dkim_params(plesk, "example.test") == {"domain_keys_sign": "false"}
    rc, out, err = plesk("bin", "domain_pref", "--update", "example.test", "-sign_outgoing_mail", "true")
    assert rc == 0 and "SUCCESS" in out
    assert dkim_params(plesk, "example.test") == {"domain_keys_sign": "true", "activeDkimSelector": "default"}
    key = plesk.root / "etc/domainkeys/example.test/default"
    assert key.read_bytes().startswith(b"-----BEGIN RSA PRIVATE KEY-----")
    assert serialization.load_pem_private_key(key.read_bytes(), password=None).key_size == 2048
    rc, info, err = plesk("bin", "dns", "--info", "example.test")
    assert "default._domainkey.example.test. TXT v=DKIM1; p=%s;\n" % public_b64(key) in info
    assert "_domainkey.example.test. TXT o=-\n" in info


def test_domain_pref_keeps_the_key_and_withdraws_records_when_turned_off(plesk):
    plesk("add-domain", "example.test", "--signing", admin=True)
    key = plesk.root / "etc/domainkeys/example.test/default"
    before = key.read_bytes()
    assert plesk("bin", "domain_pref", "-u", "example.test", "-sign_outgoing_mail", "false")[0] == 0
    assert dkim_params(plesk, "example.test")["domain_keys_sign"] == "false"
    assert "_domainkey" not in plesk("bin", "dns", "--info", "example.test")[1]
    assert plesk("bin", "domain_pref", "-u", "example.test", "-sign_outgoing_mail", "true")[0] == 0
    assert key.read_bytes() == before


def test_domain_pref_with_external_dns_adds_no_records(plesk):
    plesk("add-domain", "ext.test", "--external-dns", admin=True)
    assert plesk("bin", "domain_pref", "-u", "ext.test", "-sign_outgoing_mail", "true")[0] == 0
    assert (plesk.root / "etc/domainkeys/ext.test/default").exists()
    assert "_domainkey" not in plesk("bin", "dns", "--info", "ext.test")[1]


def test_domain_pref_makes_the_key_with_openssl_when_cryptography_is_missing(plesk, tmp_path):
    blocker = tmp_path / "block" / "cryptography"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text("raise ImportError('blocked for the test')\n")
    plesk("add-domain", "example.test", admin=True)
    rc, out, err = plesk("bin", "domain_pref", "-u", "example.test", "-sign_outgoing_mail", "true",
                         PYTHONPATH=str(blocker.parent))
    assert rc == 0, err
    key = plesk.root / "etc/domainkeys/example.test/default"
    assert key.read_bytes().startswith(b"-----BEGIN RSA PRIVATE KEY-----")
    assert "p=%s;" % public_b64(key) in plesk("bin", "dns", "--info", "example.test")[1]


@pytest.mark.parametrize("setup, args, words", [
    ([], ["-u", "nope.test", "-sign_outgoing_mail", "true"], "Unable to find domain"),
    ([], ["-u", "example.test", "-hosting", "true"], "Unknown option"),
    ([], ["-u", "example.test", "-sign_outgoing_mail", "on"], "expected true or false"),
    ([], ["-u", "example.test"], "at least one option"),
    ([], ["--create", "example.test"], "Unknown command"),
    ([["set-setting", "domain_keys_sign", "false"]], ["-u", "example.test", "-sign_outgoing_mail", "true"],
     "not allowed on this server"),
])
def test_domain_pref_failures(plesk, setup, args, words):
    plesk("add-domain", "example.test", admin=True)
    for step in setup:
        plesk(*step, admin=True)
    rc, out, err = plesk("bin", "domain_pref", *args)
    assert rc == 1 and words in err


def test_domain_pref_refuses_a_domain_without_mail(plesk):
    plesk("add-domain", "web.test", "--no-mail", admin=True)
    rc, out, err = plesk("bin", "domain_pref", "-u", "web.test", "-sign_outgoing_mail", "true")
    assert rc == 1 and "mail service is off" in err


def test_dns_add_info_del(plesk):
    plesk("add-domain", "example.test", admin=True)
    long_value = "v=DKIM1; k=rsa; p=" + "A" * 400
    assert plesk("bin", "dns", "--add", "example.test", "-txt", long_value, "-domain", "s1._domainkey")[0] == 0
    assert plesk("bin", "dns", "--add", "example.test", "-txt", "google-site-verification=x", "-domain", "")[0] == 0
    assert plesk("bin", "dns", "--add", "example.test", "-a", "www", "-ip", "192.0.2.20")[0] == 0
    rc, out, err = plesk("bin", "dns", "--info", "example.test")
    lines = out.splitlines()
    assert rc == 0
    assert "s1._domainkey.example.test. TXT %s" % long_value in lines
    assert "example.test. TXT google-site-verification=x" in lines
    assert "example.test. MX (10) mail.example.test." in lines
    assert "www.example.test. A 192.0.2.20" in lines
    assert lines[-1] == "SUCCESS: Getting information for Domain 'example.test' complete."
    rc, out, err = plesk("db", "-Ne", "SELECT r.val FROM dns_recs r JOIN dns_zone z ON z.id = r.dns_zone_id"
                         " WHERE z.name = 'example.test' AND r.host = 's1._domainkey.example.test.'")
    assert (rc, out) == (0, long_value + "\n")
    assert plesk("bin", "dns", "--del", "example.test", "-txt", long_value, "-domain", "s1._domainkey")[0] == 0
    assert "s1._domainkey" not in plesk("bin", "dns", "--info", "example.test")[1]


def test_dns_duplicate_add_exits_2_and_missing_del_exits_1(plesk):
    plesk("add-domain", "example.test", admin=True)
    rc, out, err = plesk("bin", "dns", "--add", "example.test", "-txt", "v=spf1 +a +mx -all", "-domain", "")
    assert rc == 2 and "already exists" in err
    rc, out, err = plesk("bin", "dns", "--del", "example.test", "-txt", "v=spf1 nothing", "-domain", "")
    assert rc == 1 and "no record" in err


@pytest.mark.parametrize("args, words", [
    (["--info", "nope.test"], "Unable to find domain"),
    (["--add", "example.test", "-txt", "x", "-weird", "y"], "Unknown option"),
    (["--add", "example.test", "-a", "www"], "requires -ip"),
    (["--add", "example.test", "-domain", "x"], "Exactly one record type"),
    (["--move", "example.test"], "Unknown command"),
    (["--add"], "requires a domain name"),
])
def test_dns_failures(plesk, args, words):
    plesk("add-domain", "example.test", admin=True)
    rc, out, err = plesk("bin", "dns", *args)
    assert rc == 1 and words in err


def test_domain_info(plesk):
    plesk("add-domain", "ext.test", "--external-dns", admin=True)
    rc, out, err = plesk("bin", "domain", "--info", "ext.test")
    assert rc == 0 and "Domain name:" in out and "ext.test" in out and "Off (external DNS)" in out
    rc, out, err = plesk("bin", "domain", "--info", "nope.test")
    assert rc == 1 and "Unable to find domain" in err


@pytest.mark.parametrize("args, words", [
    (["bin", "server_dns", "--info"], "unknown utility"),
    (["bin"], "utility name is required"),
    (["repair", "all"], "unknown command"),
    (["bin", "domain", "--create", "x.test"], "Unknown command"),
])
def test_unknown_things_fail(plesk, args, words):
    rc, out, err = plesk(*args)
    assert rc == 1 and words in err


def test_admin_set_mta_and_duplicate_domain(plesk):
    assert plesk("set-mta", "qmail", admin=True)[0] == 0
    rc, out, err = plesk("db", "-Ne", "SELECT value FROM ServiceNodeEnvironment WHERE name = 'SMTP_Server'")
    assert out == "qmail\n"
    plesk("add-domain", "example.test", admin=True)
    rc, out, err = plesk("add-domain", "Example.test", admin=True)
    assert rc == 1 and "already exists" in err


def test_admin_unset_setting(plesk):
    assert plesk("unset-setting", "spf_enabled", admin=True)[0] == 0
    assert "spf_enabled" not in settings(plesk)


def test_every_call_is_logged_when_asked(plesk, tmp_path):
    log = tmp_path / "calls.log"
    plesk("version", PLESK_DOUBLE_LOG=str(log))
    plesk("bin", "mailserver", "--help", PLESK_DOUBLE_LOG=str(log))
    assert [json.loads(line) for line in log.read_text().splitlines()] == [["version"], ["bin", "mailserver", "--help"]]


def test_version_says_it_is_a_double(plesk):
    rc, out, err = plesk("version")
    assert rc == 0 and "18.0.64" in out and "test double" in out
