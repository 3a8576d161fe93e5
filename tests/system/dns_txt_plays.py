"""What the dns_txt system tests share whatever the back end (BIND, PowerDNS, Plesk): the play, its
results, and a DKIM key record long enough to need two character-strings.

    from dns_txt_plays import dkim_value, playbook, results  # noqa: F401 (dkim_value is a fixture)
"""
import json

import pytest

from ansible_collections.mailauth.hardening.plugins.module_utils._dkim.keys import generate_private_key
from ansible_collections.mailauth.hardening.plugins.module_utils._records.dkim_record import (
    build_dkim_record, public_key_b64)


def playbook(*tasks, **play):
    """One play on localhost running ``tasks`` with the playbook's Python; ``play`` adds play keywords."""
    body = {"hosts": "localhost", "gather_facts": False,
            "vars": {"ansible_python_interpreter": "{{ ansible_playbook_python }}"}, "tasks": list(tasks)}
    body.update(play)
    return json.dumps([body])


def results(data):
    """The result of each task of the first play on localhost, in order."""
    return [t["hosts"]["localhost"] for t in data["plays"][0]["tasks"]]


@pytest.fixture(scope="session")
def dkim_value():
    """A 2048-bit RSA DKIM key record (two character-strings on the wire)."""
    return build_dkim_record("rsa", public_key_b64(generate_private_key("rsa", 2048)))
