# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``tag=value; tag=value`` lists of the MTA-STS and TLS-RPT records, and lists without repeats. Pure."""

from __future__ import annotations

from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError


def split_tags(text, field, version, example):
    """The record's tags as a dict; ``v=VERSION`` must come first and no tag may repeat."""
    tags = {}
    for part in [p.strip(" \t") for p in (text or "").split(";")]:
        if not part:
            continue
        name, equals, value = part.partition("=")
        name = name.strip(" \t")
        if not equals or not name:
            raise InputError(field, "%r is not a tag=value pair." % part, "write %s." % example)
        if name in tags:
            raise InputError("%s.%s" % (field, name), "the tag appears more than once.", "keep one %s tag." % name)
        tags[name] = value.strip(" \t")
    if tags.get("v") != version or not (text or "").lstrip().startswith("v"):
        raise InputError("%s.v" % field, "the record must start with v=%s." % version, "put v=%s first." % version)
    return tags


def unique_items(field, values, convert):
    """``convert(item_field, value)`` of each value; a value that converts to one already there is refused."""
    items = []
    for index, value in enumerate(values):
        item = convert("%s[%d]" % (field, index), value)
        if item in items:
            raise InputError("%s[%d]" % (field, index), "%r is listed twice." % value, "list it once.")
        items.append(item)
    return items


def first_seen(values):
    """The distinct ``values``, in first-seen order."""
    out = []
    for value in values:
        if value not in out:
            out.append(value)
    return out
