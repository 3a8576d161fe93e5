# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Errors every module reports the same way: bad input (names the field and the fix), a missing library."""

from __future__ import annotations

import math


class InputError(ValueError):
    """Raised before anything is changed when an input field is wrong."""

    def __init__(self, field, problem, fix=None):
        self.field = field
        self.problem = problem
        self.fix = fix
        message = "%s: %s" % (field, problem)
        if fix:
            message += " Fix: %s" % fix
        super().__init__(message)


def kind_of(value):
    """What a value is, in the user's words (Ansible hands text in as its own str subclasses)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    for kinds, name in ((str, "text"), ((int, float), "number"), (dict, "mapping"), ((list, tuple), "list")):
        if isinstance(value, kinds):
            return name
    return type(value).__name__


class MissingLibrary(Exception):
    """A Python library the chosen path needs is not installed (its name in args[0])."""


def check_port(field, value):
    """A port option (1-65535), refused as bad input naming ``field``; None passes (not given)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 65536:
        raise InputError(field, "%r is not a port number." % (value,), "give a port from 1 to 65535, e.g. 53.")
    return value


def check_seconds(field, value, allow_zero=False):
    """A duration option in seconds: positive (or zero when allowed) and finite; None passes."""
    if value is None:
        return None
    number = value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    if number is None or not math.isfinite(number) or number < 0 or (number == 0 and not allow_zero):
        raise InputError(field, "must be %s seconds, got %r." % ("zero or more" if allow_zero else "more than 0", value),
                         "give a number of seconds such as %s." % ("0 or 300" if allow_zero else "5"))
    return value
