#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: dns_record
short_description: Ensure DNS records of type TXT, TLSA, CNAME, MX, A and AAAA in a zone
version_added: 0.2.0
description:
  - Ensures the records mail authentication needs beyond TXT, through the same DNS providers as
    M(mailauth.hardening.dns_txt) (RFC 2136, Plesk, or a hosted API through dns-lexicon). DANE TLSA
    at C(_25._tcp.MX), the CNAME or A/AAAA of C(mta-sts.DOMAIN), a DKIM selector delegated by CNAME,
    MX records, and TXT.
  - TXT records keep the ownership rules of M(mailauth.hardening.dns_txt), computed by the same code.
    A value starting with C(v=spf1), C(v=DKIM1) or C(v=DMARC1) owns that tag at its name and
    replaces only the values with the same tag; other TXT values are only ensured present or absent.
  - "Every other type owns its whole RRset (all its records of that type) at a name, and only at the
    names the task lists for that type: with O(state=present) the RRset becomes exactly the values
    listed, so a TLSA of a retired key or an old MX goes; with O(state=absent) the values listed are
    removed and the others stay. Types and names the task does not list are never touched."
  - A CNAME is alone at its name (RFC 1034 3.6.2). A task listing a CNAME and another record at one
    name is refused; so is a CNAME at a name that holds other records, and any record at a name
    that holds a CNAME (or lies below a delegation), each before anything is sent.
  - Values are checked and written one way before anything is asked of a server, and a bad one is
    refused naming C(records[N].value) and the fix. TLSA is C(USAGE SELECTOR MATCHING DATA) (usage 0-3,
    selector 0-1, matching 0-2, data in hex, 64 digits for SHA-256 and 128 for SHA-512); MX is
    C(PREFERENCE HOST.); CNAME an absolute target; A and AAAA an address.
  - For O(provider=rfc2136) all changes in a zone go in one update message whose prerequisites are
    the RRsets read before (and "the name is empty" for a new CNAME), so a concurrent edit makes the
    update fail and nothing is half-applied. APIs and Plesk change record by record; on failure the
    result lists exactly what was applied. After every change the module reads the changed RRsets
    back from the primary and fails, naming what is missing, when they do not show what was sent.
  - V(rfc2136) and V(powerdns) write every type here. Other dns-lexicon providers write
    TXT, CNAME, A and AAAA (lexicon has no field for the MX preference or the TLSA parameters on most
    APIs). Through V(powerdns) a CNAME target must lie inside the zone (lexicon would append the zone
    to any other). V(plesk) writes TXT, CNAME, MX, A and AAAA (C(plesk bin dns) has no TLSA). A type the back end
    cannot write is refused, naming the record and the provider, before anything is touched.
  - To wait for the authoritative servers, use M(mailauth.hardening.dns_txt_wait) for TXT records.
author: mailauth.hardening contributors (!UNKNOWN)
extends_documentation_fragment:
  - mailauth.hardening.dns_provider
  - mailauth.hardening.dns_provider.zone
  - mailauth.hardening.dns_provider.publish
options:
  records:
    description:
      - The records to ensure, one value each; several items with the same O(records[].name) and
        O(records[].type) make one RRset.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description:
          - V(@) for the zone apex, a name relative to O(zone) such as V(_25._tcp.mx1) or
            V(mta-sts), or an absolute name ending in a dot.
        type: str
        required: true
      type:
        description:
          - The record type.
        type: str
        required: true
        choices: [TXT, TLSA, CNAME, MX, A, AAAA]
      value:
        description:
          - The value in zone-file (presentation) format, text only. Required.
          - TXT as for M(mailauth.hardening.dns_txt), unsplit or as quoted character-strings.
          - TLSA V(3 1 1 HEX) for SMTP DANE (DANE-EE, SubjectPublicKeyInfo, SHA-256); blanks inside
            the data are dropped and hex is written in lower case.
          - MX V(10 mx1.example.com.); V(0 .) is a null MX (RFC 7505).
          - CNAME the absolute target with its trailing dot, for example V(sts.provider.example.).
          - A V(192.0.2.25); AAAA V(2001:db8::25) (written in its compressed form).
        type: raw
      ttl:
        description:
          - TTL for the values this task adds to this RRset; overrides O(ttl).
        type: int
  state:
    description:
      - V(present) makes each listed non-TXT RRset exactly the listed values, and adds or replaces TXT
        values as M(mailauth.hardening.dns_txt) does.
      - V(absent) removes exactly the listed values; other values stay.
    type: str
    choices: [present, absent]
    default: present
  mx_hosts:
    description:
      - With O(domain), the MX hosts of the domain (absolute or not), whose C(_25._tcp.MX) names may
        then hold its DANE TLSA records.
    type: list
    elements: str
    default: []
attributes:
  check_mode:
    support: full
    description: Reads the records and reports the changes it would make; changes nothing.
  diff_mode:
    support: full
    description: One before/after entry per changed RRset (header C(NAME TYPE)), one value a line.
seealso:
  - module: mailauth.hardening.dns_txt
  - module: mailauth.hardening.dns_txt_wait
"""

EXAMPLES = r"""
- name: Publish the DANE TLSA record of an MX (DANE-EE, SPKI, SHA-256) with a TSIG-signed update
  mailauth.hardening.dns_record:
    provider: rfc2136
    server: 192.0.2.53
    key_name: tsig-key
    key_secret: "{{ vault_tsig_secret }}"
    zone: example.com
    records:
      - name: _25._tcp.mx.example.com.
        type: TLSA
        value: "3 1 1 {{ mx_spki_sha256 }}"

# The next tasks take the provider options from module_defaults (group/mailauth.hardening.dns), as below.
- name: Roll the MX key - the next key's TLSA beside the current one (the RRset becomes both)
  mailauth.hardening.dns_record:
    zone: example.com
    records:
      - {name: _25._tcp.mx.example.com., type: TLSA, value: "3 1 1 {{ current_spki_sha256 }}"}
      - {name: _25._tcp.mx.example.com., type: TLSA, value: "3 1 1 {{ next_spki_sha256 }}"}

- name: The MTA-STS policy host as a CNAME to the host that serves the policy
  mailauth.hardening.dns_record:
    zone: example.com
    records:
      - {name: mta-sts.example.com., type: CNAME, value: "sts.mail-host.example.net."}
      - {name: _mta-sts.example.com., type: TXT, value: "v=STSv1; id=20261202"}

- name: Delegate a DKIM selector to the sending service by CNAME
  mailauth.hardening.dns_record:
    zone: example.com
    domain: example.com
    records:
      - {name: s1._domainkey, type: CNAME, value: "s1.domainkey.u123.esp.example.net."}

- name: MX records, the MX host's addresses and SPF of one domain, credentials from the dns group
  module_defaults:
    group/mailauth.hardening.dns:
      provider: powerdns
      provider_options:
        pdns_server: https://pdns.example.net:8081
        auth_token: "{{ vault_pdns_api_key }}"
  mailauth.hardening.dns_record:
    zone: example.com
    ttl: 3600
    records:
      - {name: "@", type: MX, value: "10 mx1.example.com."}
      - {name: "@", type: MX, value: "20 mx2.example.com."}
      - {name: mx1, type: A, value: 192.0.2.25}
      - {name: mx1, type: AAAA, value: "2001:db8::25"}
      - {name: "@", type: TXT, value: "v=spf1 mx -all"}

- name: Remove the TLSA record of a retired key (exactly this value)
  mailauth.hardening.dns_record:
    zone: example.com
    records:
      - {name: _25._tcp.mx.example.com., type: TLSA, value: "3 1 1 {{ old_spki_sha256 }}"}
    state: absent
"""

RETURN = r"""
changes:
  description:
    - The RRsets that changed (or would change in check mode), keyed C(NAME TYPE) with the absolute
      name.
  returned: always
  type: dict
  sample:
    "_25._tcp.mx.example.com. TLSA":
      before: ["3 1 1 0b9fa5a59eed715c26c1020c711b4f6ec42d58b0015e14337a39dad301c5afc3"]
      after: ["3 1 1 1a5bd0c1e2f00ee0e3d4b8e1d2c9a4d6f3e7e8c7b6a5f4e3d2c1b0a9f8e7d6c5"]
      added: ["3 1 1 1a5bd0c1e2f00ee0e3d4b8e1d2c9a4d6f3e7e8c7b6a5f4e3d2c1b0a9f8e7d6c5"]
      removed: ["3 1 1 0b9fa5a59eed715c26c1020c711b4f6ec42d58b0015e14337a39dad301c5afc3"]
  contains:
    before:
      description: Values of the RRset before (TXT joined, others as written in O(records[].value)).
      type: list
      elements: str
    after:
      description: Values of the RRset after.
      type: list
      elements: str
    added:
      description: Values added.
      type: list
      elements: str
    removed:
      description: Values removed.
      type: list
      elements: str
applied:
  description:
    - What was applied, one entry per value, in order. Empty in check mode. On failure, what took
      effect before it (always nothing for O(provider=rfc2136)).
  returned: always
  type: list
  elements: dict
  sample: [{name: mta-sts.example.com., type: CNAME, action: add, value: sts.mail-host.example.net.}]
zones:
  description: The zones the records are in (absolute names).
  returned: success
  type: list
  elements: str
  sample: [example.com.]
findings:
  description:
    - What the record logic says about TXT values with a known tag (see O(validate)) beyond what
      refuses them; with O(validate=false) their errors too. Each is also shown as a warning.
  returned: always
  type: list
  elements: dict
  sample: []
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mailauth.hardening.plugins.module_utils._core.module_run import fail_json_on, warn_findings
from ansible_collections.mailauth.hardening.plugins.module_utils._dns.errors import ProviderError
from ansible_collections.mailauth.hardening.plugins.module_utils._hosts.plesk import provider_adapter
from ansible_collections.mailauth.hardening.plugins.module_utils._publish.dns_txt_task import (
    PROVIDER_ARGS, PUBLISH_ARGS, TaskError)
from ansible_collections.mailauth.hardening.plugins.module_utils._publish.record_task import RECORD_ARGS, publish
from ansible_collections.mailauth.hardening.plugins.module_utils._records.rrset_changes import diff_rrsets


def main():
    spec = dict(PROVIDER_ARGS)
    spec.update(RECORD_ARGS)
    spec.update(PUBLISH_ARGS)
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    params = module.params
    result = {"changed": False, "changes": {}, "applied": [], "findings": []}
    with fail_json_on(module, TaskError, ProviderError, result=result):
        outcome = publish(params, module.check_mode, provider_adapter(module, params))
        result.update(changed=outcome["changed"], changes=outcome["changes"], applied=outcome["applied"],
                      zones=outcome["zones"], findings=outcome["findings"])
        warn_findings(module, outcome["findings"])
        if module._diff:
            result["diff"] = diff_rrsets(outcome["plan"])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
