"""Module unit tests run modules in-process, as on a target."""
import pytest
from ansible.module_utils import _internal as module_utils_internal


@pytest.fixture(autouse=True)
def run_as_target(monkeypatch):
    # Once any test imports controller code (filters), module warnings go to the controller's
    # Display instead of the result; a module on a target never sees that flag set.
    monkeypatch.setattr(module_utils_internal, "is_controller", False)
