# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""TXT character-strings (RFC 1035 3.3.14): split, join, quote and parse.

dnspython refuses a character-string over 255 octets and providers disagree on
how long values are written, so splitting and the presentation format are done
here, once, for every provider.
"""

from __future__ import annotations

from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError

MAX_STRING_OCTETS = 255


def split_txt(value, limit=MAX_STRING_OCTETS):
    """Split a TXT value into character-strings of at most ``limit`` octets.

    The value is measured in UTF-8 octets; a multi-octet character is never cut.
    An empty value is one empty string (a TXT record always has one string).
    """
    if not isinstance(value, str):
        # Name the kind, not the class: Ansible hands in its own lazy dict and list types.
        kind = next((word for cls, word in ((bool, "a boolean"), (dict, "a mapping"), (list, "a list"),
                                            (tuple, "a list"), (int, "a number"), (float, "a number"))
                     if isinstance(value, cls)), type(value).__name__)
        raise InputError("value", "a TXT value must be text, got %s." % kind, "pass one string (quote it in YAML).")
    data = value.encode("utf-8")
    if not data:
        return [""]
    strings = []
    start = 0
    while start < len(data):
        end = min(start + limit, len(data))
        # Back off to a character boundary: continuation octets are 0b10xxxxxx.
        while end < len(data) and end > start and (data[end] & 0xC0) == 0x80:
            end -= 1
        strings.append(data[start:end].decode("utf-8"))
        start = end
    return strings


def join_txt(strings):
    """Join character-strings the way readers do: with no separator."""
    if isinstance(strings, str):
        return strings
    return "".join(s.decode("utf-8") if isinstance(s, bytes) else s for s in strings)


def quote_txt(strings):
    """Presentation format of a TXT RDATA: each string quoted, \\ and " escaped."""
    if isinstance(strings, str):
        strings = split_txt(strings)
    return " ".join('"%s"' % s.replace("\\", "\\\\").replace('"', '\\"') for s in strings)


def parse_txt(text):
    """Parse TXT RDATA as providers print it and return its character-strings.

    Accepts quoted strings with escapes (\\" \\\\ \\DDD) separated by blanks, as
    zone files and most APIs print them; text without any quote is one string.
    """
    text = text.strip()
    if not text.startswith('"'):
        return [text]
    strings = []
    i = 0
    while i < len(text):
        if text[i].isspace():
            i += 1
            continue
        if text[i] != '"':
            raise InputError("value", "unquoted text %r between quoted TXT strings." % text[i:i + 20],
                             "quote every string or none.")
        i += 1
        out = bytearray()
        while True:
            if i >= len(text):
                raise InputError("value", "unterminated quoted TXT string.", 'close it with ".')
            ch = text[i]
            if ch == '"':
                i += 1
                break
            if ch == "\\":
                if text[i + 1:i + 4].isdigit() and len(text[i + 1:i + 4]) == 3:
                    out.append(int(text[i + 1:i + 4]))
                    i += 4
                    continue
                if i + 1 >= len(text):
                    raise InputError("value", "a TXT string ends in a lone backslash.", "escape it as \\\\.")
                out += text[i + 1].encode("utf-8")
                i += 2
                continue
            out += ch.encode("utf-8")
            i += 1
        strings.append(out.decode("utf-8", errors="replace"))
    return strings


def normalise_txt(text):
    """The value a reader sees: quoted or unquoted provider text, joined."""
    return join_txt(parse_txt(text))
