"""dkim_key module logic, run in-process against files in a private temp directory."""
import json
import os
import pwd
import stat

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.mailauth.hardening.plugins.module_utils._records.dkim_record import inspect_dkim_record
from ansible_collections.mailauth.hardening.plugins.modules import dkim_key


@pytest.fixture
def keydir(tmp_path):
    directory = tmp_path / "keys"
    directory.mkdir(mode=0o700)
    return directory


@pytest.fixture
def run(capsys, monkeypatch):
    """Run the module with args (plus check/diff flags); return its result dict."""
    def call(check=False, diff=False, **args):
        args.setdefault("selector", "s1")
        args.setdefault("domain", "example.com")
        args = dict(args, _ansible_check_mode=check, _ansible_diff=diff)
        with patch_module_args(args):
            with pytest.raises(SystemExit):
                dkim_key.main()
        return json.loads(capsys.readouterr().out)
    return call


def warnings_of(result):
    """Warning texts: plain strings on the wire, structured summaries in-process (2.19)."""
    return json.dumps(result.get("warnings", []))


def mode_of(path):
    return stat.S_IMODE(os.stat(str(path)).st_mode)


def pem_body(path):
    return [line for line in open(str(path)).read().splitlines() if not line.startswith("-----")]


def test_generates_then_keeps(run, keydir):
    path = keydir / "s1.key"
    first = run(path=str(path))
    assert first["changed"] and first["generated"]
    assert open(str(path)).read().startswith("-----BEGIN RSA PRIVATE KEY-----")
    assert mode_of(path) == 0o600
    assert first["dns_name"] == "s1._domainkey.example.com"
    assert (first["key_type"], first["bits"]) == ("rsa", 2048)
    info = inspect_dkim_record(first["record"])
    assert (info.key_type, info.bits, info.public_key_b64) == ("rsa", 2048, first["public_key"])
    assert "".join(first["record_strings"]) == first["record"]
    assert all(len(s.encode()) <= 255 for s in first["record_strings"])

    second = run(path=str(path))
    assert not second["changed"] and not second["generated"]
    assert second["record"] == first["record"]
    assert os.listdir(str(keydir)) == ["s1.key"]  # no temp file left behind


def test_result_and_diff_never_hold_the_private_key(run, keydir):
    path = keydir / "s1.key"
    result = run(path=str(path), diff=True, type="ed25519")
    text = json.dumps(result)
    assert result["record"] in json.dumps(result["diff"]["after"])
    for line in pem_body(path):
        assert line not in text
    again = json.dumps(run(path=str(path), diff=True, type="ed25519", mode="0400"))
    for line in pem_body(path):
        assert line not in again


def test_check_mode_without_a_key(run, keydir):
    path = keydir / "s1.key"
    result = run(path=str(path), check=True, diff=True)
    assert result["changed"] and result["generated"]
    assert "record" not in result and "record_strings" not in result and "public_key" not in result
    assert not path.exists()


def test_check_mode_with_a_key_reports_mode_fix_without_doing_it(run, keydir):
    path = keydir / "s1.key"
    record = run(path=str(path))["record"]
    os.chmod(str(path), 0o640)
    result = run(path=str(path), check=True, diff=True)
    assert result["changed"] and not result["generated"] and result["record"] == record
    assert result["diff"]["before"]["mode"] == "0640" and result["diff"]["after"]["mode"] == "0600"
    assert mode_of(path) == 0o640
    fixed = run(path=str(path))
    assert fixed["changed"] and mode_of(path) == 0o600 and fixed["record"] == record


def test_temp_file_is_0600_from_creation_whatever_the_umask(run, keydir, monkeypatch):
    seen = []
    real_mkstemp = dkim_key.tempfile.mkstemp

    def watching_mkstemp(*args, **kwargs):
        fd, name = real_mkstemp(*args, **kwargs)
        seen.append((os.path.dirname(name), stat.S_IMODE(os.fstat(fd).st_mode)))
        return fd, name

    monkeypatch.setattr(dkim_key.tempfile, "mkstemp", watching_mkstemp)
    old = os.umask(0)
    try:
        run(path=str(keydir / "s1.key"), mode="0640")
    finally:
        os.umask(old)
    assert seen == [(str(keydir), 0o600)]
    assert mode_of(keydir / "s1.key") == 0o640


def test_regenerate_on_mismatch_and_never(run, keydir):
    path = keydir / "s1.key"
    rsa_record = run(path=str(path))["record"]
    kept = run(path=str(path), type="ed25519")
    assert not kept["changed"] and kept["record"] == rsa_record and kept["key_type"] == "rsa"
    assert "regenerate is never" in warnings_of(kept)
    replaced = run(path=str(path), type="ed25519", regenerate="on_mismatch")
    assert replaced["changed"] and replaced["generated"] and replaced["key_type"] == "ed25519"
    assert "k=ed25519" in replaced["record"]
    assert not run(path=str(path), type="ed25519", regenerate="on_mismatch")["changed"]


def test_regenerate_always_changes_every_time(run, keydir):
    path = keydir / "s1.key"
    first = run(path=str(path), type="ed25519", regenerate="always")
    second = run(path=str(path), type="ed25519", regenerate="always")
    assert first["changed"] and second["changed"] and first["record"] != second["record"]


def test_testing_flag_changes_only_the_record(run, keydir):
    path = keydir / "s1.key"
    run(path=str(path), type="ed25519")
    result = run(path=str(path), type="ed25519", testing=True)
    assert not result["changed"] and "; t=y; " in result["record"]


def test_1024_warns(run, keydir):
    result = run(path=str(keydir / "s1.key"), bits=1024)
    assert result["bits"] == 1024 and "RFC 8301" in warnings_of(result)


def test_size_is_a_deprecated_alias_of_bits_and_key_size_of_the_bits_returned(run, keydir):
    result = run(path=str(keydir / "s1.key"), size=3072, diff=True)
    assert (result["bits"], result["key_size"]) == (3072, 3072)
    assert "size" in json.dumps(result.get("deprecations", [])) and "1.0.0" in json.dumps(result["deprecations"])
    assert "key_size" not in result["diff"]["after"] and result["diff"]["after"]["bits"] == 3072


@pytest.mark.parametrize("dir_mode", [0o770, 0o707, 0o1777])
def test_unsafe_directory_is_refused(run, keydir, dir_mode):
    os.chmod(str(keydir), dir_mode)
    result = run(path=str(keydir / "s1.key"))
    assert result["failed"] and result["msg"].startswith("path: ") and str(keydir) in result["msg"]
    assert "chmod go-w" in result["msg"]
    assert os.listdir(str(keydir)) == []


def test_unsafe_ancestor_is_refused(run, tmp_path):
    top = tmp_path / "open"
    (top / "keys").mkdir(parents=True)
    os.chmod(str(top), 0o777)
    os.chmod(str(top / "keys"), 0o700)
    result = run(path=str(top / "keys" / "s1.key"))
    assert result["failed"] and str(top) in result["msg"]


@pytest.mark.parametrize("args, field", [
    (dict(selector="bad_selector"), "selector"),
    (dict(selector="-x"), "selector"),
    (dict(domain="exa mple.com"), "domain"),
    (dict(mode="0644"), "mode"),
    (dict(mode="u=rw"), "mode"),
    (dict(owner="no-such-user-dkim"), "owner"),
    (dict(group="no-such-group-dkim"), "group"),
])
def test_bad_input_fails_before_anything_is_touched(run, keydir, args, field):
    result = run(path=str(keydir / "s1.key"), **args)
    assert result["failed"] and result["msg"].startswith(field + ": ")
    assert os.listdir(str(keydir)) == []


def test_relative_path_is_refused(run):
    result = run(path="keys/s1.key")
    assert result["failed"] and result["msg"].startswith("path: ")


def test_bits_outside_choices_are_refused(run, keydir):
    result = run(path=str(keydir / "s1.key"), bits=512)
    assert result["failed"] and "bits" in result["msg"]


def test_missing_directory(run, keydir):
    path = keydir / "missing" / "s1.key"
    failed = run(path=str(path))
    assert failed["failed"] and failed["msg"].startswith("path: ") and "does not exist" in failed["msg"]
    checked = run(path=str(path), check=True)
    assert checked["changed"] and "record" not in checked


def test_symlink_is_refused(run, keydir):
    run(path=str(keydir / "real.key"))
    os.symlink(str(keydir / "real.key"), str(keydir / "link.key"))
    result = run(path=str(keydir / "link.key"))
    assert result["failed"] and "symbolic link" in result["msg"]


def test_directory_at_path_is_refused(run, keydir):
    (keydir / "s1.key").mkdir()
    result = run(path=str(keydir / "s1.key"))
    assert result["failed"] and result["msg"].startswith("path: ")


def test_unusable_file_fails_or_is_replaced(run, keydir):
    path = keydir / "s1.key"
    path.write_text("not a key\n")
    os.chmod(str(path), 0o600)
    failed = run(path=str(path))
    assert failed["failed"] and failed["msg"].startswith("path: ") and "on_mismatch" in failed["msg"]
    assert path.read_text() == "not a key\n"
    replaced = run(path=str(path), regenerate="on_mismatch")
    assert replaced["changed"] and replaced["record"].startswith("v=DKIM1; k=rsa; p=")


def test_owner_and_group_by_number(run, keydir):
    result = run(path=str(keydir / "s1.key"), owner=str(os.getuid()), group=str(os.getgid()))
    assert not result.get("failed") and os.stat(str(keydir / "s1.key")).st_uid == os.getuid()


def test_missing_cryptography_is_reported(run, keydir, monkeypatch):
    monkeypatch.setattr(dkim_key, "HAS_CRYPTOGRAPHY", False)
    result = run(path=str(keydir / "s1.key"))
    assert result["failed"] and "cryptography" in result["msg"]


# --- OpenDKIM's "key data is not secure": owner and mode of the file and every directory up to / ----

NOBODY = pwd.getpwnam("nobody").pw_uid
# A group another user (nobody) has as its primary group.
NOBODY_GROUP = pwd.getpwnam("nobody").pw_gid


def planted(keydir, run):
    """A key made in keydir, then the directory handed to nobody with 0755: someone else's tree now."""
    path = keydir / "s1.key"
    run(path=str(path))
    os.chown(str(keydir), NOBODY, -1)
    os.chmod(str(keydir), 0o755)
    return path


def test_a_key_in_a_directory_owned_by_another_user_is_refused_not_kept(run, keydir):
    path = planted(keydir, run)
    before = path.read_bytes()
    result = run(path=str(path))
    assert result["failed"] and result["msg"].startswith("path: ")
    assert "%s is in %s, which is owned by nobody (uid %d)" % (path, keydir, NOBODY) in result["msg"]
    assert "key data is not secure" in result["msg"] and "Fix: chown root %s" % keydir in result["msg"]
    assert path.read_bytes() == before and "record" not in result


def test_the_same_directory_is_refused_in_check_mode_and_with_regenerate(run, keydir):
    path = planted(keydir, run)
    assert run(path=str(path), check=True)["failed"]
    assert run(path=str(path), regenerate="always")["failed"]


def test_a_directory_owned_by_the_key_owner_is_trusted(run, keydir):
    path = planted(keydir, run)
    result = run(path=str(path), owner="nobody")
    assert not result.get("failed"), result["msg"]
    assert os.stat(str(path)).st_uid == NOBODY


def test_a_key_file_owned_by_another_user_is_refused(run, keydir):
    path = keydir / "s1.key"
    run(path=str(path))
    os.chown(str(path), NOBODY, -1)
    result = run(path=str(path))
    assert result["failed"] and "%s is owned by nobody" % path in result["msg"]
    assert "Fix: delete %s" % path in result["msg"]


def test_a_group_writable_key_file_is_refused(run, keydir):
    path = keydir / "s1.key"
    run(path=str(path))
    os.chmod(str(path), 0o620)
    result = run(path=str(path))
    assert result["failed"] and "writable by its group" in result["msg"]
    assert mode_of(path) == 0o620


def test_an_ancestor_writable_by_a_group_with_other_members_is_refused(run, tmp_path):
    top = tmp_path / "shared"
    (top / "keys").mkdir(parents=True, mode=0o700)
    os.chown(str(top), 0, NOBODY_GROUP)
    os.chmod(str(top), 0o775)
    result = run(path=str(top / "keys" / "s1.key"))
    assert result["failed"] and "%s, which is writable by its group, which holds" % top in result["msg"]
    assert os.listdir(str(top / "keys")) == []


def test_a_world_readable_key_warns_that_others_may_hold_a_copy(run, keydir):
    path = keydir / "s1.key"
    run(path=str(path))
    os.chmod(str(path), 0o644)
    result = run(path=str(path))
    assert not result.get("failed") and mode_of(path) == 0o600
    assert "readable by every user" in warnings_of(result)


def test_a_sticky_world_writable_ancestor_warns_about_opendkim(run, keydir):
    result = run(path=str(keydir / "s1.key"))
    assert not result.get("failed") and "RequireSafeKeys" in warnings_of(result)  # pytest's tmp is under /tmp


def test_an_unquoted_mode_is_named_as_decimal(run, keydir):
    result = run(path=str(keydir / "s1.key"), mode=600)
    assert result["failed"] and "600 was read as a decimal number" in result["msg"]
    assert "mode: '0600'" in result["msg"] and os.listdir(str(keydir)) == []


def test_signer_user_is_trusted_without_changing_the_owner(run, keydir):
    path = planted(keydir, run)
    result = run(path=str(path), signer_user="nobody", check=True)
    assert not result.get("failed"), result["msg"]
    assert result["record"].startswith("v=DKIM1;") and os.stat(str(keydir)).st_uid == NOBODY
    assert run(path=str(path), signer_user="no-such-signer", check=True)["failed"]


def test_dkimpy_copy_of_an_ed25519_key_is_its_raw_seed_and_follows_the_key(run, keydir):
    import base64

    import dkim

    path, copy = keydir / "e1.private", keydir / "e1.dkimpy"
    first = run(path=str(path), dkimpy_path=str(copy), type="ed25519", diff=True)
    assert first["changed"] and first["dkimpy_path"] == str(copy)
    seed = copy.read_bytes()
    assert len(base64.b64decode(seed)) == 32 and mode_of(copy) == 0o600
    # dkimpy signs with the copy, and the signature verifies against the record of the PEM key.
    message = b"From: a@example.com\r\nTo: b@example.com\r\nSubject: s\r\n\r\nbody\r\n"
    signature = dkim.sign(message, b"s1", b"example.com", seed, signature_algorithm=b"ed25519-sha256")
    assert dkim.verify(signature + message, dnsfunc=lambda name, timeout=5: first["record"].encode())
    assert seed.decode() not in json.dumps(first)  # never in the result or the diff

    assert not run(path=str(path), dkimpy_path=str(copy), type="ed25519")["changed"]
    copy.write_bytes(b"stale")
    assert run(path=str(path), dkimpy_path=str(copy), type="ed25519", check=True)["changed"]
    assert copy.read_bytes() == b"stale"  # check mode writes nothing
    assert run(path=str(path), dkimpy_path=str(copy), type="ed25519")["changed"]
    assert copy.read_bytes() == seed
    # A replaced key rewrites its copy.
    run(path=str(path), dkimpy_path=str(copy), type="ed25519", regenerate="always")
    assert copy.read_bytes() != seed


@pytest.mark.parametrize("copy, words", [
    ("relative.dkimpy", "not absolute"),
    ("{dir}/s1.key", "the key file itself"),
    ("{dir}/missing/s1.dkimpy", "does not exist"),
])
def test_dkimpy_path_is_refused_before_anything_is_written(run, keydir, copy, words):
    result = run(path=str(keydir / "s1.key"), dkimpy_path=copy.format(dir=keydir))
    assert result.get("failed") and result["msg"].startswith("dkimpy_path:") and words in result["msg"], result
    assert not (keydir / "s1.key").exists()
