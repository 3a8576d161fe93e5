"""The postfix and dkim roles refuse bad input before anything changes (ansible-playbook on localhost).

Every case fails in the roles' validation tasks, which only read facts; nothing on this host is
touched (the tasks that would change something are never reached: no task reports changed).
"""
import json
import sys

import pytest

PLAY = """\
- name: Role validation
  hosts: localhost
  gather_facts: false
  vars:
    ansible_python_interpreter: {python}
  tasks:
    - name: Run the role
      ansible.builtin.include_role:
        name: mailauth.hardening.{role}
      vars: {variables}
"""
DOMAINS = [{"name": "example.test", "dkim": [{"selector": "s1"}]}]


def run_role(run_playbook, role, **variables):
    rc, data, output = run_playbook(PLAY.format(python=sys.executable, role=role, variables=json.dumps(variables)))
    tasks = data["plays"][0]["tasks"] if data else []
    results = [task["hosts"].get("localhost", {}) for task in tasks]
    return rc, results, output


@pytest.mark.parametrize("role, variables, words", [
    ("postfix", {"mailauth_dnsbl": ["zen.spamhaus.org*3"]},
     "mailauth_postfix_dnsbl_sites[0]: zen.spamhaus.org has no reply filter"),
    ("postfix", {"mailauth_dnsbl": [{"zone": "bl.spamcop.net"}, {"zone": "zen.spamhaus.org", "reply": "127.0.0.[11..2]"}]},
     "mailauth_postfix_dnsbl_sites[1]: range '11..2' in the reply filter runs backwards"),
    ("postfix", {"mailauth_dnsbl": [{"zone": "bl.spamcop.net", "weight": 2}], "mailauth_postfix_dnsbl_threshold": 3},
     "mailauth_postfix_dnsbl_threshold: the blocklists' weights add up to 2"),
    ("postfix", {"mailauth_postfix_spf_mode": "reject_everything"}, "mailauth_postfix_spf_mode"),
    ("dkim", {"mailauth_domains": [{"name": "example.test", "dkim": [{"selector": "bad selector"}]}]},
     "mailauth_domains[0].dkim[0].selector: 'bad selector' is not a valid DKIM selector"),
    ("dkim", {"mailauth_domains": DOMAINS, "mailauth_dkim_signing_selectors": [{"domain": "example.test",
                                                                               "selector": "s2"}]},
     "mailauth_dkim_signing_selectors[0]: s2._domainkey.example.test has no key on this host"),
])
def test_bad_input_fails_before_any_change(run_playbook, role, variables, words):
    rc, results, output = run_role(run_playbook, role, **variables)
    assert rc != 0
    assert words in output, output
    assert not any(result.get("changed") for result in results), output
