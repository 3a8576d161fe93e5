# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Find the reports in files, archives and mail: XML, gzip, zip, JSON, e-mail, mbox, Maildir.

What a file is comes from its first bytes, not its name (reporters name files as they like). Every
read is bounded: a file or message over ``max_file_size`` is not read, decompression stops at
``max_report_size`` (counted over everything one input unpacks to, so a zip of many bombs stops
too), an archive holds at most ``max_members`` entries and nesting goes at most ``MAX_NESTING`` deep.
Whatever cannot be read ends in ``unreadable`` with the reason; nothing here raises past ``Collector``.
"""

from __future__ import annotations

import email
import email.policy
import io
import os
import re
import zipfile
import zlib

from ansible_collections.mailauth.hardening.plugins.module_utils._reports.tls import parse_tls
from ansible_collections.mailauth.hardening.plugins.module_utils._reports.xml import ReportError, parse_aggregate

CHUNK = 64 * 1024
MAX_NESTING = 4  # mail > zip > gzip > XML is three; more is no report
MAX_JSON = 16 * 1024 * 1024  # an SMTP TLS report is kilobytes; json.loads needs several times the text in memory
_HEADER_LINE = re.compile(br"^[\x21-\x39\x3b-\x7e]+:")
_MBOXRD_FROM = re.compile(br"^>+From ")
# zipfile and zlib signal a damaged archive with any of these.
DAMAGED = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, ValueError, OSError)


class Limits(object):
    def __init__(self, max_file_size, max_report_size, max_records, max_members):
        self.file_size = max_file_size
        self.report_size = max_report_size
        self.records = max_records
        self.members = max_members


class Budget(object):
    """Decompressed bytes one input may still produce."""

    def __init__(self, limit):
        self.limit = limit
        self.left = limit

    def spend(self, size):
        self.left -= size
        if self.left < 0:
            raise ReportError("it decompresses to more than max_report_size (%d bytes): a zip bomb, or a report "
                              "too large for the limit (raise max_report_size to read it)." % self.limit)


def sniff(head):
    """What bytes are, from their start: gzip, zip, xml, json, mbox, mail or None."""
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "xml"  # UTF-16 with a byte order mark
    text = head.lstrip(b"\xef\xbb\xbf").lstrip()
    if text.startswith(b"<"):
        return "xml"
    if text.startswith(b"{"):
        return "json"
    if head.startswith(b"From "):
        return "mbox"
    if _HEADER_LINE.match(head):
        return "mail"
    return None


def gunzip(data, budget):
    """Decompressed chunks of gzip data (several members in a row too); truncation is an error."""
    decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
    pending = data
    try:
        while True:
            out = decompressor.decompress(pending, CHUNK)
            pending = decompressor.unconsumed_tail
            if out:
                budget.spend(len(out))
                yield out
            if decompressor.eof:
                rest = decompressor.unused_data
                if not rest.startswith(b"\x1f\x8b"):
                    return
                decompressor, pending = zlib.decompressobj(16 + zlib.MAX_WBITS), rest
            elif not out and not pending:
                raise ReportError("the gzip data is truncated.")
    except zlib.error as err:
        raise ReportError("the gzip data is damaged: %s." % err)


def _stream(handle, budget):
    while True:
        chunk = handle.read(CHUNK)
        if not chunk:
            return
        budget.spend(len(chunk))
        yield chunk


class Collector(object):
    """The module's result: reports, tls_reports and unreadable, each report counted once."""

    def __init__(self, limits):
        self.limits = limits
        self.reports = []
        self.tls_reports = []
        self.unreadable = []
        self.seen = set()

    def skip(self, origin, problem):
        self.unreadable.append({"path": origin, "problem": problem})

    def _add(self, key, target, report):
        """Keep a report once: a second copy (two mails, a mailbox and a file) is not counted again."""
        if key in self.seen:
            return False
        self.seen.add(key)
        target.append(report)
        return True

    # -- inputs --------------------------------------------------------------------------------------------

    def read_path(self, path):
        """A file (report, archive, mail, mbox) or a directory (Maildir, or any tree of such files)."""
        if os.path.isdir(path):
            if is_maildir(path):
                for name in maildir_messages(path):
                    self.read_file(name)
                return
            for root, dirs, files in os.walk(path, onerror=lambda err: self.skip(err.filename, _os_problem(err))):
                dirs.sort()
                for sub in list(dirs):
                    if is_maildir(os.path.join(root, sub)):
                        dirs.remove(sub)
                        for name in maildir_messages(os.path.join(root, sub)):
                            self.read_file(name)
                for name in sorted(files):
                    self.read_file(os.path.join(root, name))
        else:
            self.read_file(path)

    def read_file(self, path):
        try:
            with open(path, "rb") as handle:
                if handle.read(5) == b"From ":
                    handle.seek(0)
                    self.read_mbox(path, handle)
                    return
                size = os.fstat(handle.fileno()).st_size
                if size > self.limits.file_size:
                    self.skip(path, "the file is %d bytes, over max_file_size (%d); raise max_file_size to read it."
                              % (size, self.limits.file_size))
                    return
                handle.seek(0)
                data = handle.read(self.limits.file_size + 1)
        except (IOError, OSError) as err:
            self.skip(path, _os_problem(err))
            return
        self.read_bytes(path, data)

    def read_mbox(self, path, handle):
        """Each message of an mbox file, read line by line so no message over the limit is ever held."""
        number, lines, size, at_line_start = 0, [], 0, True
        while True:
            line = handle.readline(CHUNK)
            if at_line_start and (not line or line.startswith(b"From ")):
                if number and size > self.limits.file_size:
                    self.skip("%s#%d" % (path, number), "the message is over max_file_size (%d bytes); raise "
                              "max_file_size to read it." % self.limits.file_size)
                elif number:
                    self.read_bytes("%s#%d" % (path, number), b"".join(lines))
                if not line:
                    return
                number, lines, size = number + 1, [], 0
            else:
                size += len(line)
                if size <= self.limits.file_size:
                    lines.append(line[1:] if at_line_start and _MBOXRD_FROM.match(line) else line)
                else:
                    lines = []
            at_line_start = line.endswith(b"\n")

    def read_bytes(self, origin, data, depth=0, budget=None):
        """Bytes of any supported kind; what cannot be read is skipped with the reason."""
        budget = budget or Budget(self.limits.report_size)
        try:
            self._read(origin, iter([data]), depth, budget)
        except ReportError as err:
            self.skip(origin, str(err))
        except DAMAGED as err:
            self.skip(origin, "it is damaged: %s." % err)
        except (MemoryError, RecursionError):
            self.skip(origin, "it is too large or too deeply nested to read.")

    def _read(self, origin, chunks, depth, budget):
        if depth > MAX_NESTING:
            raise ReportError("archives and mails nest deeper than %d levels; no report does." % MAX_NESTING)
        first = b""
        for first in chunks:
            if first:
                break
        if not first:
            raise ReportError("it is empty.")
        kind = sniff(first[:256])
        rest = _chain(first, chunks)
        if kind == "xml":
            report, problems = parse_aggregate(rest, self.limits.records)
            key = ("aggregate", report["org_name"].lower(), report["report_id"], report["domain"],
                   report["begin"], report["end"])
            if self._add(key, self.reports, report):
                for problem in problems:
                    self.skip(origin, problem)
        elif kind == "json":
            report = parse_tls(_take(rest, MAX_JSON, "JSON"))
            self._add(("tls", report["org_name"].lower(), report["report_id"]), self.tls_reports, report)
        elif kind == "gzip":
            self._read(origin, gunzip(b"".join(rest), budget), depth + 1, budget)
        elif kind == "zip":
            self._read_zip(origin, b"".join(rest), depth, budget)
        elif kind in ("mail", "mbox"):
            self._read_mail(origin, b"".join(rest), depth, budget)
        else:
            raise ReportError("it is no DMARC aggregate or SMTP TLS report: not XML, JSON, gzip, zip or mail.")

    def _read_zip(self, origin, data, depth, budget):
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = [info for info in archive.infolist() if not info.is_dir()]
        if not members:
            raise ReportError("the zip archive is empty.")
        if len(members) > self.limits.members:
            raise ReportError("the zip archive has %d entries, over max_members (%d)." % (len(members), self.limits.members))
        for info in members:
            where = "%s!%s" % (origin, info.filename)
            if info.file_size > budget.left:
                self.skip(where, "it says it decompresses to %d bytes, over max_report_size (%d)."
                          % (info.file_size, self.limits.report_size))
                continue
            try:
                with archive.open(info) as handle:
                    self._read(where, _stream(handle, budget), depth + 1, budget)
            except ReportError as err:
                self.skip(where, str(err))
            except DAMAGED as err:
                self.skip(where, "the zip entry is damaged: %s." % err)

    def _read_mail(self, origin, data, depth, budget):
        """Every attachment of a mail that holds a report; a mail with none is skipped."""
        message = email.message_from_bytes(data, policy=email.policy.compat32)
        found, kinds = 0, []
        for number, part in enumerate(message.walk()):
            if part.is_multipart():
                continue
            kinds.append(part.get_content_type())
            if part.get_content_type() == "text/html" or (part.get_content_type() == "text/plain"
                                                          and not part.get_filename()):
                continue  # the mail's own words, not an attachment
            payload = part.get_payload(decode=True)
            if not payload or sniff(payload[:256]) in (None, "mail", "mbox"):
                continue
            where = "%s#part%d" % (origin, number)
            found += 1
            try:
                self._read(where, iter([payload]), depth + 1, budget)
            except ReportError as err:
                self.skip(where, str(err))
            except DAMAGED as err:
                self.skip(where, "the attachment is damaged: %s." % err)
        if not found:
            raise ReportError("the mail has no report attached (parts: %s)." % (", ".join(kinds[:8]) or "none"))


def _take(chunks, cap, what):
    data = []
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if size > cap:
            raise ReportError("the %s is larger than %d bytes; no report is." % (what, cap))
        data.append(chunk)
    return b"".join(data)


def _chain(first, chunks):
    yield first
    yield from chunks


def _os_problem(err):
    return "it cannot be read: %s." % (err.strerror or err)


def is_maildir(path):
    return os.path.isdir(os.path.join(path, "cur")) and os.path.isdir(os.path.join(path, "new"))


def maildir_messages(path):
    """The message files of a Maildir (new, then cur; tmp holds mail still being delivered)."""
    names = []
    for sub in ("new", "cur"):
        folder = os.path.join(path, sub)
        names.extend(os.path.join(folder, name) for name in sorted(os.listdir(folder)) if not name.startswith("."))
    return names
