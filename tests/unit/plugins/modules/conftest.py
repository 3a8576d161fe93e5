"""Module unit tests run modules in-process, as on a target."""
import json

import pytest
from ansible.module_utils import _internal as module_utils_internal
from ansible.module_utils.testing import patch_module_args


@pytest.fixture(autouse=True)
def run_as_target(monkeypatch):
    # Once any test imports controller code (filters), module warnings go to the controller's
    # Display instead of the result; a module on a target never sees that flag set.
    monkeypatch.setattr(module_utils_internal, "is_controller", False)


@pytest.fixture
def run_main(capsys):
    """Run a module's main() with these arguments; return (failed?, result)."""
    def call(main, check=False, **args):
        with patch_module_args(dict(args, _ansible_check_mode=check)):
            with pytest.raises(SystemExit) as exit_info:
                main()
        return exit_info.value.code != 0, json.loads(capsys.readouterr().out)
    return call
