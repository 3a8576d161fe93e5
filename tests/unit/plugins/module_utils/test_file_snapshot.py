"""Snapshots for postconf's roll-back, on real files: bytes, mode and owner come back; failures are reported.

The unwritable cases use the immutable attribute (chattr +i), which stops even root; the tests
skip where the file system or the user cannot set it.
"""
import contextlib
import os
import pwd
import stat
import subprocess

import pytest

from ansible_collections.mailauth.hardening.plugins.module_utils._hosts import file_snapshot as _file_snapshot

NOBODY = pwd.getpwnam("nobody")


@pytest.fixture
def config(tmp_path):
    directory = tmp_path / "postfix"
    directory.mkdir()
    paths = []
    for name in ("main.cf", "master.cf"):
        path = directory / name
        path.write_text("# %s\n" % name)
        os.chown(str(path), 0, NOBODY.pw_gid)
        os.chmod(str(path), 0o640)
        paths.append(str(path))
    return directory, paths


def attributes(path):
    st = os.stat(path)
    return stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid


def replaced(path, text):
    """What postconf does to a file: a new one renamed over it, 0644, owned by the caller."""
    temp = path + ".tmp"
    with open(temp, "w") as handle:
        handle.write(text)
    os.chmod(temp, 0o644)
    os.replace(temp, path)


@contextlib.contextmanager
def immutable(*paths):
    if subprocess.run(["chattr", "+i"] + list(paths), capture_output=True, check=False).returncode != 0:
        pytest.skip("chattr +i is not possible here")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i"] + list(paths), capture_output=True, check=False)


def test_keep_attributes_gives_mode_and_owner_back_after_a_rewrite(config):
    _directory, paths = config
    saved = _file_snapshot.snapshot(paths)
    replaced(paths[0], "# changed\n")
    assert attributes(paths[0]) == (0o644, 0, 0)
    assert _file_snapshot.keep_attributes(saved) == []
    assert attributes(paths[0]) == (0o640, 0, NOBODY.pw_gid)
    assert open(paths[0]).read() == "# changed\n"


def test_restore_gives_bytes_mode_and_owner_back(config):
    _directory, paths = config
    saved = _file_snapshot.snapshot(paths)
    replaced(paths[1], "# changed\n")
    assert _file_snapshot.restore(saved) == []
    assert open(paths[1]).read() == "# master.cf\n"
    assert attributes(paths[1]) == (0o640, 0, NOBODY.pw_gid)


def test_restore_writes_nothing_when_nothing_changed_even_in_an_unwritable_directory(config):
    directory, paths = config
    saved = _file_snapshot.snapshot(paths)
    inodes = [os.stat(p).st_ino for p in paths]
    with immutable(str(directory)):
        assert _file_snapshot.restore(saved) == []
    assert [os.stat(p).st_ino for p in paths] == inodes


def test_restore_overwrites_in_place_where_no_temporary_file_can_be_made(config):
    directory, paths = config
    saved = _file_snapshot.snapshot(paths)
    replaced(paths[0], "# changed by an edit that then failed\n")
    with immutable(str(directory)):
        assert _file_snapshot.restore(saved) == []
    assert open(paths[0]).read() == "# main.cf\n"
    assert attributes(paths[0]) == (0o640, 0, NOBODY.pw_gid)


def test_restore_reports_what_it_cannot_put_back_instead_of_raising(config):
    directory, paths = config
    saved = _file_snapshot.snapshot(paths)
    replaced(paths[0], "# changed\n")
    with immutable(str(directory), paths[0]):
        failed = _file_snapshot.restore(saved)
    assert failed == ["%s: Operation not permitted" % paths[0]]
    assert _file_snapshot.restore(saved) == []  # writable again: the retry works


def test_snapshot_of_a_missing_file_raises_before_anything_changes(tmp_path):
    with pytest.raises(OSError):
        _file_snapshot.snapshot([str(tmp_path / "main.cf")])
