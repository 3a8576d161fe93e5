#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: plesk_domain_dkim
short_description: DKIM signing of a Plesk domain, and the public key record to publish
version_added: 0.1.0
description:
  - Switches DKIM signing of outgoing mail on or off for one domain of a Plesk server
    (C(plesk bin domain_pref --update DOMAIN -sign_outgoing_mail true|false)), and only when it
    differs - Plesk may make a new key when signing is switched off and on again, so the module
    never toggles it needlessly.
  - Returns Plesk's selector (C(default)), the path of the key Plesk made, and the DKIM key record
    derived from that key, so that M(mailauth.hardening.dns_txt) can publish it at an external DNS
    provider. When Plesk serves the domain's DNS itself it publishes the record on its own; with
    external DNS nobody does, which is the gap this module closes.
  - Reads the state from Plesk's C(psa) database through C(plesk db) and reads it again after a
    change to confirm it. Refuses a Plesk whose mail server is not Postfix.
  - The private key is read on the target to derive the public key; it never appears in results,
    diffs, warnings or messages.
author: mailauth.hardening contributors (!UNKNOWN)
extends_documentation_fragment:
  - mailauth.hardening.attributes
options:
  domain:
    description:
      - The domain as Plesk knows it. An internationalised domain is given as its C(xn--) A-label.
    type: str
    required: true
    aliases: [name]
  state:
    description:
      - V(enabled) switches signing on (Plesk then creates the key if there is none),
        V(disabled) switches it off (the key file stays).
    type: str
    choices: [enabled, disabled]
    default: enabled
  keys_dir:
    description: Where Plesk keeps DKIM keys; the key is at C(KEYS_DIR/DOMAIN/SELECTOR).
    type: path
    default: /etc/domainkeys
notes:
  - Runs on the Plesk server. The C(plesk) command is looked for in E(PATH), then C(/usr/sbin),
    C(/usr/local/psa/bin) and C(/opt/psa/bin).
  - Signing must be allowed server-wide first (M(mailauth.hardening.plesk_mail_settings) with
    O(mailauth.hardening.plesk_mail_settings#module:dkim_sign=true)); otherwise switching it on
    fails (in check mode, it warns).
  - Plesk starts signing as soon as signing is on, before anyone can publish the new key at an
    external DNS provider; receivers see failing DKIM signatures until the record is visible.
    Switch signing on while the domain's DMARC policy is still C(p=none).
  - In check mode a key Plesk has not made yet cannot be read, so RV(record) is null then.
requirements:
  - cryptography >= 2.6 on the target (C(python3-cryptography))
  - Plesk Obsidian 18 for Linux with Postfix as its mail server.
seealso:
  - module: mailauth.hardening.plesk_mail_settings
  - module: mailauth.hardening.dns_txt
"""

EXAMPLES = r"""
- name: Sign mail of example.com and get its key record
  mailauth.hardening.plesk_domain_dkim:
    domain: example.com
  register: dkim

- name: Publish the key at the domain's real DNS provider
  mailauth.hardening.dns_txt:
    provider: rfc2136
    server: 192.0.2.53
    key_name: tsig-key
    key_secret: "{{ vault_tsig_secret }}"
    zone: example.com
    records:
      - name: "{{ dkim.selector }}._domainkey"
        value: "{{ dkim.record }}"
  delegate_to: localhost
  when: dkim.record is not none
"""

RETURN = r"""
domain:
  description: The domain, lower-case, without a trailing dot.
  returned: always
  type: str
  sample: example.com
signing:
  description: Whether Plesk signs the domain's outgoing mail after the run (predicted in check mode).
  returned: success
  type: bool
  sample: true
selector:
  description: The DKIM selector Plesk signs with.
  returned: success
  type: str
  sample: default
key_path:
  description: The private key file Plesk uses for the domain.
  returned: success
  type: str
  sample: /etc/domainkeys/example.com/default
dns_name:
  description: Where the key record belongs, C(SELECTOR._domainkey.DOMAIN).
  returned: success
  type: str
  sample: default._domainkey.example.com
key_type:
  description: The key algorithm (C(rsa)); null when there is no key file.
  returned: success
  type: str
  sample: rsa
record:
  description:
    - The DKIM key record for the key file, C(v=DKIM1; k=rsa; p=...); null when there is no key
      file (signing never switched on, or check mode before Plesk made the key).
  returned: success
  type: str
  sample: "v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA..."
record_strings:
  description: RV(record) split into TXT character-strings of at most 255 octets; empty without a key.
  returned: success
  type: list
  elements: str
commands:
  description: The C(plesk) commands run (in check mode, the ones that would run).
  returned: success
  type: list
  elements: str
  sample: ["plesk bin domain_pref --update example.com -sign_outgoing_mail true"]
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mailauth.hardening.plugins.module_utils._records.dkim_record import (
    CRYPTOGRAPHY_IMPORT_ERROR, HAS_CRYPTOGRAPHY, validate_domain)
from ansible_collections.mailauth.hardening.plugins.module_utils._core.module_run import fail_json_on, require_library
from ansible_collections.mailauth.hardening.plugins.module_utils._hosts.plesk import (
    PleskError, check_mta, command_text, dkim_record_from_pem, domain_pref_argv, module_cli, read_domain_dkim,
    read_settings, signing_not_allowed_message)
from ansible_collections.mailauth.hardening.plugins.module_utils._records.txt import split_txt


def read_key_record(path):
    """(key_type, record) from the key file, or (None, None) when there is none."""
    try:
        with open(path, "rb") as handle:
            pem = handle.read()
    except FileNotFoundError:
        return None, None
    except OSError as err:
        raise PleskError("keys_dir: cannot read the DKIM key %s: %s. Fix: check keys_dir and the file's "
                         "permissions." % (path, err.strerror))
    return dkim_record_from_pem(pem, path)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            domain=dict(type="str", required=True, aliases=["name"]),
            state=dict(type="str", default="enabled", choices=["enabled", "disabled"]),
            keys_dir=dict(type="path", default="/etc/domainkeys"),
        ),
        supports_check_mode=True,
    )
    require_library(module, HAS_CRYPTOGRAPHY, "cryptography (python3-cryptography)", CRYPTOGRAPHY_IMPORT_ERROR)
    want = module.params["state"] == "enabled"
    steps = []
    failure = {}  # a failure names the domain once it is known to be valid
    with fail_json_on(module, PleskError, result=failure):
        domain = failure["domain"] = validate_domain(module.params["domain"]).lower()
        cli = module_cli(module)
        check_mta(cli)
        before = read_domain_dkim(cli, domain)
        if before["signing"] != want:
            if want and not read_settings(cli)["dkim_sign"]:
                if not module.check_mode:
                    raise PleskError(signing_not_allowed_message(domain))
                module.warn(signing_not_allowed_message(domain))
            steps.append(domain_pref_argv(domain, want))
        if steps and not module.check_mode:
            cli.change(steps[0], [])
            after = read_domain_dkim(cli, domain)
            if after["signing"] != want:
                raise PleskError("`%s` succeeded but Plesk's database still says signing is %s for %s."
                                 % (command_text(steps[0]), "on" if after["signing"] else "off", domain))
        else:
            after = dict(before, signing=want)
        key_path = os.path.join(module.params["keys_dir"], domain, after["selector"])
        key_type, record = read_key_record(key_path)
        if record is None and after["signing"] and module.check_mode:
            module.warn("Check mode: Plesk makes the key of %s when signing is switched on, so there is no record "
                        "to return yet." % domain)
        elif record is None and after["signing"]:
            raise PleskError("keys_dir: Plesk signs mail of %s but there is no key at %s. Fix: check keys_dir, or "
                             "switch signing off and on in Plesk (Websites & Domains > %s > Mail Settings) to make "
                             "Plesk write it." % (domain, key_path, domain))

    result = dict(changed=bool(steps), domain=domain, signing=after["signing"], selector=after["selector"],
                  key_path=key_path, dns_name="%s._domainkey.%s" % (after["selector"], domain),
                  key_type=key_type, record=record, record_strings=split_txt(record) if record else [],
                  commands=[command_text(argv) for argv in steps])
    if module._diff:
        result["diff"] = dict(before=dict(domain=domain, signing=before["signing"]),
                              after=dict(domain=domain, signing=after["signing"]),
                              before_header="DKIM signing of %s" % domain, after_header="DKIM signing of %s" % domain)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
