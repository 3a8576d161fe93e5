"""dkim_rotation module, run in-process against a state file in a private temp directory."""
import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.mailauth.hardening.plugins.modules import dkim_rotation

RSA = {"domain": "example.com", "selector": "s202611", "type": "rsa", "bits": 2048,
       "dns_name": "s202611._domainkey.example.com"}
START = {"domain": "example.com", "selector": "s202611", "new_selector": "s202701"}


@pytest.fixture
def state_file(tmp_path):
    return tmp_path / "lib" / "mailauth" / "dkim_rotation.json"


@pytest.fixture
def run(capsys, state_file):
    """Run the module; return (result, failed)."""
    def call(check=False, diff=False, **args):
        args.setdefault("state_file", str(state_file))
        args.setdefault("selectors", [RSA])
        args = dict(args, _ansible_check_mode=check, _ansible_diff=diff)
        with patch_module_args(args):
            with pytest.raises(SystemExit):
                dkim_rotation.main()
        result = json.loads(capsys.readouterr().out)
        return result
    return call


def test_reading_leaves_no_file_behind(run, state_file):
    result = run()
    assert result["changed"] is False and not state_file.exists()
    assert result["rotations"][0]["phase"] == "none"
    assert result["signing_selectors"] == [{"domain": "example.com", "selector": "s202611"}]


def test_start_writes_the_state_and_a_rerun_changes_nothing(run, state_file):
    first = run(start=[START])
    assert first["changed"] is True
    assert first["changes"] == [{"domain": "example.com", "selector": "s202611", "phase": "started"}]
    saved = json.loads(state_file.read_text())
    assert saved["domains"]["example.com"][0]["new_selector"] == "s202701"
    assert oct(state_file.stat().st_mode & 0o777) == "0o644"
    second = run(start=[START])
    assert second["changed"] is False and json.loads(state_file.read_text()) == saved
    assert second["key_domains"] == [{"name": "example.com", "dkim": [
        {"selector": "s202611", "type": "rsa", "bits": 2048}, {"selector": "s202701", "type": "rsa", "bits": 2048}]}]


def test_check_mode_predicts_and_writes_nothing(run, state_file):
    result = run(check=True, diff=True, start=[START])
    assert result["changed"] is True and not state_file.exists()
    assert result["rotations"][0]["phase"] == "started"
    assert result["diff"]["before"] == "" and '"new_selector": "s202701"' in result["diff"]["after"]


def test_diff_shows_the_state_before_and_after(run):
    run(start=[START])
    result = run(diff=True, advance=[{"domain": "example.com", "selector": "s202611", "phase": "published"}])
    assert '"phase": "started"' in result["diff"]["before"] and '"phase": "published"' in result["diff"]["after"]
    assert run(diff=True)["diff"]["before"] == run(diff=True)["diff"]["after"]


def test_a_second_rotation_fails_and_keeps_the_file(run, state_file):
    run(start=[START])
    before = state_file.read_text()
    result = run(start=[dict(START, new_selector="s202702")])
    assert result["failed"] is True
    assert "is not finished (phase started" in result["msg"] and "a second rotation (to s202702) is refused" in \
        result["msg"]
    assert state_file.read_text() == before


def test_a_gate_not_yet_open_fails_naming_the_time(run):
    run(start=[START])
    run(advance=[{"domain": "example.com", "selector": "s202611", "phase": "published"}])
    result = run(advance=[{"domain": "example.com", "selector": "s202611", "phase": "signing"}], publish_wait="1d")
    assert result["failed"] is True and "may reach signing only after" in result["msg"]
    result = run(advance=[{"domain": "example.com", "selector": "s202611", "phase": "signing"}], publish_wait="0s",
                 overlap="1h")
    assert result["changed"] is True
    assert "overlap is under two days" in json.dumps(result.get("warnings", []))


def test_a_broken_state_file_is_refused(run, state_file):
    state_file.parent.mkdir(parents=True)
    state_file.write_text("{oops")
    result = run(start=[START])
    assert result["failed"] is True and result["msg"].startswith("state_file: is not JSON")
    assert state_file.read_text() == "{oops"


def test_bad_durations_fail_naming_the_option(run):
    result = run(overlap="a week")
    assert result["failed"] is True and result["msg"].startswith("overlap: 'a week' is not a duration")


def test_key_files_count_when_keys_dir_is_given(run, tmp_path):
    keys = tmp_path / "keys" / "example.com"
    keys.mkdir(parents=True)
    (keys / "s202611.private").write_text("x")
    (keys / "s202701.private").write_text("x")
    (keys / "notes.txt").write_text("x")
    result = run(start=[START], keys_dir=str(tmp_path / "keys"))
    assert result["rotations"][0]["new_key_present"] is True
    assert result["used_selectors"] == {"example.com": ["s202611", "s202701"]}
    assert run()["rotations"][0]["new_key_present"] is None
