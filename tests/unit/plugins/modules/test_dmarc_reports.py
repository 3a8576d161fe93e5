"""dmarc_reports module, run in-process: its result, check mode, and input checked before anything is read."""
import json
from pathlib import Path

import pytest

from ansible_collections.mailauth.hardening.plugins.modules import dmarc_reports

CORPUS = Path(__file__).resolve().parents[3] / "dmarc_corpus"
IMAP = {"host": "mail.example.com", "user": "dmarc", "password": "s3cret-imap-pw"}


@pytest.fixture
def run(run_main):
    return lambda **args: run_main(dmarc_reports.main, **args)


def test_reads_the_corpus_the_same_in_check_mode_and_changes_nothing(run):
    paths = [str(CORPUS / "good"), str(CORPUS / "broken" / "billion-laughs.xml")]
    failed, result = run(paths=paths)
    failed_check, checked = run(check=True, paths=paths)
    assert not failed and not failed_check and result["changed"] is False
    assert (len(result["reports"]), len(result["tls_reports"])) == (7, 3)
    assert [s["path"] for s in result["unreadable"]] == [paths[1]]
    assert checked["reports"] == result["reports"] and checked["unreadable"] == result["unreadable"]


@pytest.mark.parametrize("args, message", [
    ({}, "paths: neither paths nor imap is given"),
    ({"paths": ["/nonexistent/dmarc"]}, "paths[0]: /nonexistent/dmarc does not exist. Fix: give an existing file"),
    ({"paths": ["/"], "max_records": 0}, "max_records: 0 is not a limit. Fix: give a positive number."),
    ({"imap": dict(IMAP, tls="none")}, "imap.tls: none would send the password in clear to mail.example.com."),
    ({"imap": dict(IMAP, port=70000)}, "imap.port: 70000 is not a port."),
])
def test_bad_input_fails_naming_the_field_and_the_fix(run, args, message):
    failed, result = run(**args)
    assert failed and result["msg"].startswith(message)


def test_an_unreachable_imap_server_fails_and_never_shows_the_password(run, monkeypatch):
    def refuse(*_args, **_kwargs):
        raise ConnectionRefusedError(111, "Connection refused")
    monkeypatch.setattr("imaplib.IMAP4_SSL", refuse)
    failed, result = run(imap=IMAP)
    assert failed and result["msg"].startswith("imap: cannot connect to mail.example.com:993 (tls ssl):")
    assert "s3cret-imap-pw" not in json.dumps(result)
