# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whole-file snapshots for a roll-back: the bytes, mode and owner of each file, and putting them back.

``postconf`` edits main.cf and master.cf by writing a new file and renaming it over the old one,
so after an edit the file is 0644 and owned by whoever ran it: a 0640 root:postfix main.cf comes
out 0644 root:root. ``keep_attributes`` gives each file its mode and owner back after a change
that stays; ``restore`` puts bytes, mode and owner back after one that must not. Neither raises:
each returns what it could not do, so the caller reports that beside its own error instead of
hiding it behind an OSError.
"""

from __future__ import annotations

import collections
import os
import stat
import tempfile

Saved = collections.namedtuple("Saved", "path content mode uid gid")


def snapshot(paths):
    """[Saved] of each file; OSError when one cannot be read (then nothing has been changed yet)."""
    saved = []
    for path in paths:
        with open(path, "rb") as handle:
            content = handle.read()
            st = os.fstat(handle.fileno())
        saved.append(Saved(path, content, stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid))
    return saved


def _why(path, err):
    return "%s: %s" % (path, err.strerror or err)


def _set_attributes(item):
    """Give the file its saved mode and owner where they differ."""
    st = os.stat(item.path)
    if (st.st_uid, st.st_gid) != (item.uid, item.gid):
        os.chown(item.path, item.uid, item.gid)
    if stat.S_IMODE(st.st_mode) != item.mode:
        os.chmod(item.path, item.mode)


def keep_attributes(saved):
    """Give every file its saved mode and owner back; return what failed, as texts."""
    failed = []
    for item in saved:
        try:
            _set_attributes(item)
        except OSError as err:
            failed.append(_why(item.path, err))
    return failed


def _write_beside(item):
    """Write the saved bytes to a temporary file in the same directory, then rename it over the file."""
    handle, temp = tempfile.mkstemp(prefix=".%s." % os.path.basename(item.path), dir=os.path.dirname(item.path))
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(item.content)
            stream.flush()
            os.fsync(stream.fileno())
            os.fchown(stream.fileno(), item.uid, item.gid)
            os.fchmod(stream.fileno(), item.mode)
        os.replace(temp, item.path)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise


def _write_in_place(item):
    """Overwrite the file itself: for a directory where no new file can be made."""
    with open(item.path, "r+b") as stream:
        stream.write(item.content)
        stream.truncate()
        stream.flush()
        os.fsync(stream.fileno())


def _current(path):
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError:
        return None


def restore(saved):
    """Put back every file that changed (bytes, then mode and owner); return what failed, as texts.

    A file whose bytes are unchanged is not rewritten. When no temporary file can be made beside
    it (an unwritable directory), the file is overwritten in place.
    """
    failed = []
    for item in saved:
        try:
            if _current(item.path) != item.content:
                try:
                    _write_beside(item)
                except OSError:
                    _write_in_place(item)
            _set_attributes(item)
        except OSError as err:
            failed.append(_why(item.path, err))
    return failed
