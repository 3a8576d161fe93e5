"""plesk_domain_dkim in-process, with `plesk` answered from a table and the key in a temp dir."""
import json
import sys
from pathlib import Path

import pytest
from ansible.module_utils.testing import patch_module_args
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ansible_collections.mailauth.hardening.plugins.module_utils._hosts import plesk
from ansible_collections.mailauth.hardening.plugins.module_utils._records.dkim_record import build_dkim_record, public_key_b64
from ansible_collections.mailauth.hardening.plugins.modules import plesk_domain_dkim

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from plesk_canned import OK, Canned, db, rows  # noqa: E402

DOMAIN_QUERY = db(plesk.domain_dkim_query("example.test"))
SIGNING = rows(("3", "7", "domain_keys_sign", "true"), ("3", "7", "activeDkimSelector", "default"))
NOT_SIGNING = rows(("3", "7", "domain_keys_sign", "false"))
ENABLE = tuple(plesk.domain_pref_argv("example.test", True))
DISABLE = tuple(plesk.domain_pref_argv("example.test", False))
SERVER = rows(("domain_keys_sign", "true"))


def answers(domain, server=SERVER, mta="Postfix", more=None):
    table = {db(plesk.MTA_QUERY): rows((mta,)), DOMAIN_QUERY: domain, db(plesk.SETTINGS_QUERY): server,
             db(plesk.MISC_QUERY): rows()}
    table.update(more or {})
    return Canned(table)


@pytest.fixture
def key(tmp_path):
    """Write a key where Plesk would, under tmp_path; return (keys_dir, record it must give)."""
    def write():
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        path = tmp_path / "example.test" / "default"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(private.private_bytes(serialization.Encoding.PEM,
                                               serialization.PrivateFormat.TraditionalOpenSSL,
                                               serialization.NoEncryption()))
        return build_dkim_record("rsa", public_key_b64(private))
    write.dir = str(tmp_path)
    return write


@pytest.fixture
def run(capsys, monkeypatch, tmp_path):
    def call(canned, check=False, diff=False, on_change=None, **args):
        def runner(argv):
            if on_change and argv[1] == "domain_pref":
                on_change()
            return canned(argv)
        monkeypatch.setattr(plesk_domain_dkim, "module_cli", lambda module: plesk.PleskCli(runner))
        args.setdefault("domain", "example.test")
        args.setdefault("keys_dir", str(tmp_path))
        with patch_module_args(dict(args, _ansible_check_mode=check, _ansible_diff=diff)):
            with pytest.raises(SystemExit):
                plesk_domain_dkim.main()
        return json.loads(capsys.readouterr().out), canned
    return call


def test_switches_signing_on_and_returns_the_record_of_the_key_plesk_made(run, key, tmp_path):
    made = {}
    result, canned = run(answers([NOT_SIGNING, SIGNING], more={ENABLE: OK}), diff=True,
                         on_change=lambda: made.setdefault("record", key()))
    assert result["changed"] and canned.changes() == [list(ENABLE)]
    assert result["record"] == made["record"] and result["record"].startswith("v=DKIM1; k=rsa; p=")
    assert "".join(result["record_strings"]) == result["record"] and len(result["record_strings"]) == 2
    assert (result["selector"], result["dns_name"], result["key_type"]) == ("default", "default._domainkey.example.test", "rsa")
    assert result["key_path"] == str(tmp_path / "example.test" / "default")
    assert result["diff"] == {"before": {"domain": "example.test", "signing": False},
                              "after": {"domain": "example.test", "signing": True},
                              "before_header": "DKIM signing of example.test", "after_header": "DKIM signing of example.test"}


def test_never_toggles_when_already_signing(run, key):
    record = key()
    result, canned = run(answers(SIGNING))
    assert not result["changed"] and canned.changes() == [] and result["record"] == record


def test_result_never_holds_the_private_key(run, key, tmp_path):
    key()
    result, canned = run(answers(SIGNING), diff=True)
    body = [line for line in (tmp_path / "example.test" / "default").read_text().splitlines() if "-----" not in line]
    # The modulus is public and can line up with PEM lines; everything else in the PEM is private.
    private_only = [line for line in body if line not in result["record"]]
    text = json.dumps(result)
    assert len(private_only) > 10 and all(line not in text for line in private_only)
    assert "PRIVATE" not in text


def test_check_mode_without_a_key_changes_nothing_and_warns(run):
    result, canned = run(answers(NOT_SIGNING), check=True)
    assert result["changed"] and canned.changes() == [] and result["record"] is None and result["record_strings"] == []
    assert "Check mode: Plesk makes the key of example.test" in json.dumps(result["warnings"])


def test_disabling_keeps_reporting_the_existing_key(run, key):
    record = key()
    result, canned = run(answers([SIGNING, NOT_SIGNING], more={DISABLE: OK}), state="disabled")
    assert result["changed"] and canned.changes() == [list(DISABLE)]
    assert result["signing"] is False and result["record"] == record


def test_qmail_is_refused(run):
    result, canned = run(answers(NOT_SIGNING, mta="qmail"))
    assert result["failed"] and result["msg"].startswith("This Plesk server uses qmail") and canned.changes() == []


def test_signing_not_allowed_server_wide_fails_but_only_warns_in_check_mode(run):
    result, canned = run(answers(NOT_SIGNING, server=rows(("domain_keys_sign", "false"))))
    assert result["failed"] and result["msg"] == plesk.signing_not_allowed_message("example.test")
    assert canned.changes() == []
    result, canned = run(answers(NOT_SIGNING, server=rows(("domain_keys_sign", "false"))), check=True)
    assert result["changed"] and "not allowed server-wide" in json.dumps(result["warnings"])


def test_unknown_domain_fails(run):
    result, canned = run(answers(rows()))
    assert result["failed"] and result["msg"].startswith("domain: example.test is not a domain on this Plesk server")


def test_domain_without_mail_fails(run):
    result, canned = run(answers(rows(("3", "NULL", "NULL", "NULL"))))
    assert result["failed"] and result["msg"].startswith("domain: example.test has no mail service in Plesk")


def test_invalid_domain_fails_before_plesk_is_asked(run):
    result, canned = run(answers(NOT_SIGNING), domain="exa mple.test")
    assert result["failed"] and result["msg"].startswith("domain: 'exa mple.test' is not a valid domain name")
    assert canned.calls == []


def test_domain_is_lower_cased_and_loses_its_trailing_dot(run, key):
    key()
    result, canned = run(answers(SIGNING), domain="Example.TEST.")
    assert result["domain"] == "example.test" and not result["changed"]


def test_failed_domain_pref_is_reported(run):
    result, canned = run(answers(NOT_SIGNING, more={ENABLE: (1, "", "Unable to update domain")}))
    assert result["failed"] and result["msg"].startswith(
        "`plesk bin domain_pref --update example.test -sign_outgoing_mail true` failed (exit 1): Unable to update domain.")


def test_signing_that_does_not_read_back_fails(run):
    result, canned = run(answers([NOT_SIGNING, NOT_SIGNING], more={ENABLE: OK}))
    assert result["failed"] and result["msg"] == ("`plesk bin domain_pref --update example.test -sign_outgoing_mail true` "
                                                  "succeeded but Plesk's database still says signing is off for example.test.")


def test_signing_without_a_key_file_fails(run, tmp_path):
    result, canned = run(answers(SIGNING))
    assert result["failed"] and result["msg"].startswith(
        "keys_dir: Plesk signs mail of example.test but there is no key at %s" % (tmp_path / "example.test" / "default"))


def test_unreadable_key_file_fails(run, tmp_path):
    (tmp_path / "example.test" / "default").mkdir(parents=True)
    result, canned = run(answers(SIGNING))
    assert result["failed"] and result["msg"].startswith("keys_dir: cannot read the DKIM key %s" % (tmp_path / "example.test" / "default"))


def test_garbage_key_file_fails_without_echoing_it(run, tmp_path):
    path = tmp_path / "example.test" / "default"
    path.parent.mkdir()
    path.write_text("-----BEGIN RSA PRIVATE KEY-----\nSECRETJUNK\n-----END RSA PRIVATE KEY-----\n")
    result, canned = run(answers(SIGNING))
    assert result["failed"] and "is not a PEM private key" in result["msg"] and "SECRETJUNK" not in json.dumps(result)


def test_missing_cryptography_fails_with_the_package_name(run, monkeypatch):
    monkeypatch.setattr(plesk_domain_dkim, "HAS_CRYPTOGRAPHY", False)
    result, canned = run(answers(NOT_SIGNING))
    assert result["failed"] and "cryptography (python3-cryptography)" in result["msg"] and canned.calls == []
