# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How every module of the collection ends on a known failure, written once.

A module's main() keeps its own steps and wraps them in ``fail_json_on``; a missing
library it checks at start with ``require_library``.
"""

from __future__ import annotations

import contextlib

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError, MissingLibrary


def require_library(module, present, name, import_error=None):
    """End the module with Ansible's missing-library message (it names the host and interpreter)."""
    if not present:
        details = {} if import_error is None else {"exception": import_error}
        module.fail_json(msg=missing_required_lib(name), **details)


@contextlib.contextmanager
def fail_json_on(module, *errors, result=None):
    """Run the block; InputError, MissingLibrary and the ``errors`` named end the module with fail_json.

    The message is the error's own text: the collection's errors are written for the user and
    carry no secret. ``result`` (a dict the block may still be filling) goes along with the
    failure, and so does an error's own ``result`` dict (what took effect before it failed).
    """
    result = {} if result is None else result
    try:
        yield
    except MissingLibrary as err:
        module.fail_json(msg=missing_required_lib(err.args[0]), **result)
    except (InputError,) + errors as err:
        result.update(getattr(err, "result", None) or {})
        module.fail_json(msg=str(err), **result)


def warn_findings(module, findings):
    """Show each finding ({field, severity, check, message, fix}) as a warning."""
    for finding in findings:
        module.warn("%s: %s %s: %s Fix: %s" % (finding["field"], finding["severity"], finding["check"],
                                               finding["message"], finding["fix"]))


# A shorter "secret" would mask ordinary words all over the result; callers mask those themselves.
MIN_HIDDEN_LENGTH = 8


def hide(module, secrets):
    """From now on Ansible masks these strings (as ********) in the result, messages and invocation."""
    module.no_log_values.update(s for s in secrets if s and len(s) >= MIN_HIDDEN_LENGTH)
