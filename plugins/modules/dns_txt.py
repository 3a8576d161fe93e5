#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: dns_txt
short_description: Ensure TXT records (SPF, DKIM, DMARC, ...) at names in a DNS zone
version_added: 0.1.0
description:
  - Ensures TXT values at names of a zone through a DNS provider (RFC 2136, Plesk, or a hosted API
    through dns-lexicon). Runs on the controller, or on the Plesk host for O(provider=plesk).
  - A value starting with C(v=spf1), C(v=DKIM1) or C(v=DMARC1) owns that tag at its name. With
    O(state=present) it replaces every TXT value with the same tag there and never touches the
    other TXT values at that name (site verifications and the like). Any other value is only
    ensured present or absent, exactly. Tags match case-insensitively.
  - A name that holds a CNAME (or lies below a delegation inside the zone) is refused before
    anything is sent, naming the CNAME and its target, since a server ignores a TXT there (BIND logs
    C(attempt to add non-CNAME alongside CNAME ignored)) or never serves it. After every change
    the module reads the changed names back from the primary (the RFC 2136 server, the API or
    Plesk) and fails, naming what is missing, when they do not show what was sent.
  - Values are compared as readers see them, after joining the record's character-strings; a
    value may be given as one long string or in quoted presentation format (C("a" "b")). Values
    over 255 octets are split as each provider needs.
  - For O(provider=rfc2136) all changes in a zone go in one update message whose prerequisites are
    the TXT records read before, so a concurrent edit makes the update fail instead of being
    overwritten, and nothing is half-applied. Zones are read and updated side by side over one kept
    TCP connection per server thread; a zone whose update fails does not stop the others', and the result
    lists every update that took effect. APIs and Plesk change record by record, one zone after the
    other, and stop at the first failure; the result lists exactly what was applied.
  - With O(wait=true) the module then waits until every authoritative name server of the zone
    serves the result, and fails naming each lagging server.
  - With O(domain) every record must be at one of that mail domain's own names, so a domain below
    its zone can never write the zone's apex or C(_dmarc) (they belong to the parent domain).
author: mailauth.hardening contributors (!UNKNOWN)
extends_documentation_fragment:
  - mailauth.hardening.dns_provider
  - mailauth.hardening.dns_provider.zone
  - mailauth.hardening.dns_provider.wait
  - mailauth.hardening.dns_provider.publish
options:
  records:
    description:
      - The TXT values to ensure.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description:
          - V(@) for the zone apex, a name relative to O(zone) such as V(_dmarc) or
            V(s202611._domainkey), or an absolute name ending in a dot.
        type: str
        required: true
      value:
        description:
          - The TXT value, unsplit (for example V(v=spf1 mx -all)), or quoted character-strings.
            Required.
          - Text only. A list, mapping, number or boolean is refused (quote it in YAML), since it would
            be published as its Python text.
          - Two values owning the same tag at one name are refused with O(state=present).
          - With O(state=present), a value starting with C(v=spf1), C(v=DKIM1) or C(v=DMARC1) is
            checked first, see O(validate).
        type: raw
      ttl:
        description:
          - TTL for values this task adds at this name; overrides O(ttl).
        type: int
      domain:
        description:
          - The mail domain this record belongs to; overrides O(domain) for this record. Its name must
            be one of that domain's own names (see O(domain)), else the task is refused before a query.
          - So one task can carry several domains' records (the roles publish once per provider account),
            each held to its own domain.
        type: str
      zone:
        description:
          - The zone this record's name is in (the name must be inside it); overrides O(zone) for this
            record, and its zone is then not looked for.
        type: str
  state:
    description:
      - V(present) adds missing values and replaces values with the same owned tag.
      - V(absent) removes exactly the given values (after joining); other values stay.
    type: str
    choices: [present, absent]
    default: present
  wait:
    description:
      - After a change (and also when nothing changed), wait until every authoritative server of
        the zone serves the wanted values and none of the removed ones. Skipped in check mode.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    description: Reads the records and reports the changes it would make; changes nothing.
  diff_mode:
    support: full
    description: One before/after entry per changed name, one value a line.
seealso:
  - module: mailauth.hardening.dns_txt_wait
"""

EXAMPLES = r"""
- name: Publish SPF, DKIM and DMARC with a TSIG-signed dynamic update
  mailauth.hardening.dns_txt:
    provider: rfc2136
    server: 192.0.2.53
    key_name: tsig-key
    key_secret: "{{ vault_tsig_secret }}"
    key_algorithm: hmac-sha256
    zone: example.com
    records:
      - {name: "@", value: "v=spf1 mx a -all"}
      - {name: s202611._domainkey, value: "v=DKIM1; k=rsa; p={{ dkim_public_key }}"}
      - {name: _dmarc, value: "v=DMARC1; p=none; rua=mailto:agg@example.com"}
    wait: true

- name: Publish a subdomain's records; its zone is found by SOA walk, the parent's names are refused
  mailauth.hardening.dns_txt:
    provider: rfc2136
    server: 192.0.2.53
    key_name: tsig-key
    key_secret: "{{ vault_tsig_secret }}"
    domain: mail.example.com
    records:
      - {name: mail.example.com., value: "v=spf1 mx -all"}
      - {name: s202611._domainkey.mail.example.com., value: "v=DKIM1; k=rsa; p={{ dkim_public_key }}"}
      - {name: _dmarc.mail.example.com., value: "v=DMARC1; p=none"}

- name: Publish two domains' records in one task; each record is held to its own domain's names
  mailauth.hardening.dns_txt:
    provider: rfc2136
    server: 192.0.2.53
    key_name: tsig-key
    key_secret: "{{ vault_tsig_secret }}"
    records:
      - {name: example.com., value: "v=spf1 mx -all", domain: example.com, zone: example.com}
      - {name: _dmarc.example.com., value: "v=DMARC1; p=none", domain: example.com, zone: example.com}
      - {name: _dmarc.mail.example.org., value: "v=DMARC1; p=none", domain: mail.example.org}

- name: Credentials once for every module of the dns group
  module_defaults:
    group/mailauth.hardening.dns:
      provider: powerdns
      provider_options:
        pdns_server: https://pdns.example.net:8081
        auth_token: "{{ vault_pdns_api_key }}"
  block:
    - name: Publish the DMARC record of each domain
      mailauth.hardening.dns_txt:
        zone: "{{ item.name }}"
        records:
          - {name: _dmarc, value: "v=DMARC1; p=quarantine; rua=mailto:agg@{{ item.name }}"}
      loop: "{{ mailauth_domains }}"

- name: Remove a retired DKIM selector (exactly this value)
  mailauth.hardening.dns_txt:
    provider: cloudflare
    provider_options: {auth_token: "{{ vault_cloudflare_token }}"}
    zone: example.com
    records:
      - {name: s202511._domainkey, value: "v=DKIM1; k=rsa; p={{ old_public_key }}"}
    state: absent

- name: Publish in Plesk's own DNS (runs plesk bin dns on the Plesk host)
  mailauth.hardening.dns_txt:
    provider: plesk
    zone: example.com
    records:
      - {name: "@", value: "v=spf1 +a +mx -all"}
  delegate_to: plesk1.example.net
"""

RETURN = r"""
changes:
  description:
    - The names whose TXT values changed (or would change in check mode), by absolute name.
  returned: always
  type: dict
  sample:
    example.com.:
      before: ["google-site-verification=abc", "v=spf1 mx ~all"]
      after: ["google-site-verification=abc", "v=spf1 mx -all"]
      added: ["v=spf1 mx -all"]
      removed: ["v=spf1 mx ~all"]
  contains:
    before:
      description: TXT values at the name before, joined.
      type: list
      elements: str
    after:
      description: TXT values at the name after.
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
  sample: [{name: example.com., action: add, value: "v=spf1 mx -all"}]
zones:
  description: The zones the records are in (absolute names).
  returned: success
  type: list
  elements: str
  sample: [example.com.]
findings:
  description:
    - What the record logic says about the values with a known tag (see O(validate)) beyond what
      refuses them; with O(validate=false) their errors too. Each is also shown as a warning.
  returned: always
  type: list
  elements: dict
  sample: [{field: "records[2].value", check: dmarc.obsolete, severity: warning,
            message: "pct=50: RFC 9989 removed pct ...", fix: remove pct.}]
served_by:
  description: The authoritative servers that were seen serving the result.
  returned: when O(wait=true) and not in check mode
  type: list
  elements: str
  sample: ["ns1.example.com. (192.0.2.53:53)"]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mailauth.hardening.plugins.module_utils._dns.errors import ProviderError
from ansible_collections.mailauth.hardening.plugins.module_utils._hosts.plesk import provider_adapter
from ansible_collections.mailauth.hardening.plugins.module_utils._publish.dns_txt_task import (
    PROVIDER_ARGS, PUBLISH_ARGS, RECORD_ARGS, WAIT_ARGS, TaskError, publish, wait_for_servers)
from ansible_collections.mailauth.hardening.plugins.module_utils._core.module_run import fail_json_on, warn_findings
from ansible_collections.mailauth.hardening.plugins.module_utils._records.txt_changes import diff_of


def main():
    spec = dict(PROVIDER_ARGS)
    spec.update(RECORD_ARGS)
    spec.update(WAIT_ARGS)
    spec.update(PUBLISH_ARGS)
    spec.update(wait=dict(type="bool", default=False))
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    params = module.params
    result = {"changed": False, "changes": {}, "applied": [], "findings": []}
    with fail_json_on(module, TaskError, ProviderError, result=result):
        outcome = publish(params, module.check_mode, provider_adapter(module, params))
        result.update(changed=outcome["changed"], changes=outcome["changes"], applied=outcome["applied"],
                      zones=outcome["zones"], findings=outcome["findings"])
        warn_findings(module, outcome["findings"])
        if module._diff:
            result["diff"] = diff_of(outcome["plan"])
        if params["wait"] and not module.check_mode:
            result["served_by"] = wait_for_servers(params, outcome["wanted"], outcome["plan"])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
