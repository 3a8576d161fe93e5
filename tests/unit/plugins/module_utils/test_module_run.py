"""_module_run: which errors end a module with fail_json, with what message and result."""
import pytest

from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError, MissingLibrary
from ansible_collections.mailauth.hardening.plugins.module_utils._core.module_run import fail_json_on, require_library


class Failed(Exception):
    """What the fake module raises instead of exiting."""


class FakeModule(object):
    def __init__(self):
        self.failure = None

    def fail_json(self, **kwargs):
        self.failure = kwargs
        raise Failed()


class BackEndError(Exception):
    pass


class ErrorWithResult(Exception):
    def __init__(self, message, result):
        super().__init__(message)
        self.result = result


@pytest.fixture
def module():
    return FakeModule()


def test_input_error_fails_with_its_text(module):
    with pytest.raises(Failed):
        with fail_json_on(module):
            raise InputError("zone", "is empty.", "give the zone.")
    assert module.failure == {"msg": "zone: is empty. Fix: give the zone."}


def test_result_filled_in_the_block_goes_along(module):
    result = {"changed": False}
    with pytest.raises(Failed):
        with fail_json_on(module, BackEndError, result=result):
            result["zones"] = ["example.com."]
            raise BackEndError("server 192.0.2.53: REFUSED.")
    assert module.failure == {"msg": "server 192.0.2.53: REFUSED.", "changed": False, "zones": ["example.com."]}


def test_an_errors_own_result_is_added(module):
    result = {"changed": False, "applied": []}
    with pytest.raises(Failed):
        with fail_json_on(module, ErrorWithResult, result=result):
            raise ErrorWithResult("failed half-way", {"changed": True, "applied": [{"action": "add"}]})
    assert module.failure == {"msg": "failed half-way", "changed": True, "applied": [{"action": "add"}]}


def test_missing_library_names_the_package(module):
    with pytest.raises(Failed):
        with fail_json_on(module):
            raise MissingLibrary("dns-lexicon")
    assert "dns-lexicon" in module.failure["msg"] and "Failed to import" in module.failure["msg"]


def test_other_errors_pass_through(module):
    with pytest.raises(BackEndError):
        with fail_json_on(module):
            raise BackEndError("not a known failure of this module")
    assert module.failure is None


def test_no_error_no_failure(module):
    with fail_json_on(module, BackEndError):
        pass
    assert module.failure is None


def test_require_library_present_does_nothing(module):
    require_library(module, True, "cryptography")
    assert module.failure is None


def test_require_library_absent_fails_with_the_import_traceback(module):
    with pytest.raises(Failed):
        require_library(module, False, "cryptography (python3-cryptography)", "Traceback ...")
    assert "cryptography (python3-cryptography)" in module.failure["msg"]
    assert module.failure["exception"] == "Traceback ..."


def test_require_library_without_traceback_leaves_exception_unset(module):
    with pytest.raises(Failed):
        require_library(module, False, "dnspython")
    assert "exception" not in module.failure
