# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Errors every module reports the same way: bad input (names the field and the fix), a missing library."""

from __future__ import annotations


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
