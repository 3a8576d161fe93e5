#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: dns_txt_wait
short_description: Wait until every authoritative name server serves TXT values
version_added: 0.1.0
description:
  - Asks every authoritative name server of the zone directly (no recursion, no cache) for the TXT
    values at each name, until each server serves every wanted value (O(state=present)) or none of
    them (O(state=absent)). Fails at O(wait_timeout) naming each lagging server and what it lacks.
  - The servers are the addresses of the zone's NS set, looked up through O(nameservers) (or
    O(server) for O(provider=rfc2136), or the system resolver), or exactly O(wait_servers).
  - Use it before signing with a new DKIM selector, when the records were published earlier or by
    someone else; M(mailauth.hardening.dns_txt) with O(mailauth.hardening.dns_txt#module:wait=true)
    does the same right after publishing.
  - Changes nothing. In check mode it does not wait (a preceding publish did not happen either).
author: mailauth.hardening contributors (!UNKNOWN)
extends_documentation_fragment:
  - mailauth.hardening.dns_provider
  - mailauth.hardening.dns_provider.zone
  - mailauth.hardening.dns_provider.wait
options:
  records:
    description:
      - The TXT values to look for, as given to M(mailauth.hardening.dns_txt).
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: V(@), a name relative to O(zone), or an absolute name ending in a dot.
        type: str
        required: true
      value:
        description:
          - The TXT value, unsplit, or quoted character-strings. Required; text only (quote it in YAML).
        type: raw
      ttl:
        description: Ignored; accepted so the same list serves both modules.
        type: int
      domain:
        description:
          - The mail domain the record belongs to; its name must be one of that domain's own names, as
            for M(mailauth.hardening.dns_txt).
        type: str
      zone:
        description: The zone the record's name is in; overrides O(zone) for this record, which is then not looked for.
        type: str
  state:
    description:
      - V(present) waits until the values are served, V(absent) until they are gone.
    type: str
    choices: [present, absent]
    default: present
attributes:
  check_mode:
    support: full
    description: Does not wait; reports nothing changed.
  diff_mode:
    support: none
    description: Changes nothing, so there is nothing to diff.
seealso:
  - module: mailauth.hardening.dns_txt
"""

EXAMPLES = r"""
- name: Wait until every name server of example.com serves the new DKIM key
  mailauth.hardening.dns_txt_wait:
    zone: example.com
    records:
      - {name: s202611._domainkey, value: "v=DKIM1; k=rsa; p={{ dkim_public_key }}"}
    wait_timeout: 600

- name: Ask two given servers on a non-standard port
  mailauth.hardening.dns_txt_wait:
    zone: example.com
    records:
      - {name: _dmarc, value: "v=DMARC1; p=none"}
    wait_servers: ["192.0.2.53:5353", "198.51.100.53:5353"]
"""

RETURN = r"""
served_by:
  description: The authoritative servers that were seen serving the values.
  returned: success, not in check mode
  type: list
  elements: str
  sample: ["ns1.example.com. (192.0.2.53:53)", "ns2.example.com. (198.51.100.53:53)"]
zones:
  description: The zones the records are in (absolute names).
  returned: success
  type: list
  elements: str
  sample: [example.com.]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mailauth.hardening.plugins.module_utils._dns.errors import ProviderError
from ansible_collections.mailauth.hardening.plugins.module_utils._publish.dns_txt_task import (
    PROVIDER_ARGS, RECORD_ARGS, WAIT_ARGS, wait_for_servers, wanted_by_zone)
from ansible_collections.mailauth.hardening.plugins.module_utils._core.module_run import fail_json_on


def main():
    spec = dict(PROVIDER_ARGS)
    spec.update(RECORD_ARGS)
    spec.update(WAIT_ARGS)
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    result = {"changed": False}
    with fail_json_on(module, ProviderError, result=result):
        zones = wanted_by_zone(module.params)  # checks options and records before asking any server
        result["zones"] = list(zones)
        if not module.check_mode:
            result["served_by"] = wait_for_servers(module.params, zones, {})
    module.exit_json(**result)


if __name__ == "__main__":
    main()
