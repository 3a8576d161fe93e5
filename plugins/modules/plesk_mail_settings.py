#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: plesk_mail_settings
short_description: Server-wide DNSBL, SPF, DKIM and DMARC settings of a Plesk mail server
version_added: 0.1.0
description:
  - Manages what Plesk shows under C(Tools & Settings > Mail Server Settings) for mail
    authentication - DNSBL protection and its zones, SPF checking of incoming mail, DKIM signing
    and verification, DMARC checking of incoming mail.
  - Reads the current values from Plesk's C(psa) database through C(plesk db), changes only the
    settings that differ through C(plesk bin mailserver), reads them again to confirm, and reports
    a diff. Options left unset are not touched.
  - The C(plesk bin mailserver) spellings for SPF and DMARC are not documented for Linux. The
    module looks each needed option up in C(plesk bin mailserver --help) and, when none is found,
    fails before changing anything, naming the setting and the panel page where it can be set by
    hand. O(cli_options) names an option the help text lists under an unexpected name.
  - Refuses to act on a Plesk whose mail server is not Postfix (qmail behaves differently).
  - Plesk does not let incoming DKIM checks be switched off while DMARC checking is on; the
    module fails with an explanation before changing anything when the wanted state breaks that
    rule, and orders its commands so that the rule holds at every step.
  - See C(docs/plesk.md) in the collection for which Plesk behaviours are confirmed and which are
    assumptions.
author: mailauth.hardening contributors (!UNKNOWN)
extends_documentation_fragment:
  - mailauth.hardening.attributes
options:
  dnsbl_enabled:
    description: Switch DNSBL spam protection on or off.
    type: bool
  dnsbl_zones:
    description:
      - The DNSBL zones Plesk queries, exactly (zones not listed are removed). Order is not managed.
      - Each item is C(zone[=reply filter]) text or a mapping with C(zone), C(reply) and
        C(dqs_key) (Spamhaus Data Query Service), like C(mailauth_dnsbl) in the inventory.
      - Spamhaus zones must carry a reply filter such as C(zen.spamhaus.org=127.0.0.[2..11]).
        Spamhaus answers queries from public resolvers with 127.255.255.254, which without a filter
        counts as "listed" and rejects all mail.
      - Plesk has no weights; positive weights are ignored and allowlists (negative weights) are refused.
      - A Spamhaus DQS key is a secret wherever it is - in C(dqs_key), in a C(KEY.zen.dq.spamhaus.net)
        zone, in O(dqs_key), or in the zones Plesk already holds; RV(settings), RV(commands), the diff,
        messages and the invocation show it as C(********).
    type: list
    elements: raw
  dqs_key:
    description:
      - Spamhaus Data Query Service key for the public Spamhaus zones of O(dnsbl_zones) without a key
        of their own; Plesk then queries C(KEY.zen.dq.spamhaus.net). Never shown, never logged on the
        target (a key inside O(dnsbl_zones) is masked in the result, but the target's log of the
        module's arguments only masks it when it is given here).
    type: str
  spf_enabled:
    description: Switch SPF checking of incoming mail on or off.
    type: bool
  spf_mode:
    description:
      - What Plesk does with the SPF result of incoming mail.
      - V(headers_only) only creates Received-SPF headers and never blocks (the recommended start),
        V(temperror_on_dns) answers a temporary error on DNS lookup problems, V(reject_fail),
        V(reject_softfail) and V(reject_neutral) reject when SPF resolves to that result (or a
        worse one), V(reject_unless_pass) rejects unless SPF resolves to pass.
    type: str
    choices: [headers_only, temperror_on_dns, reject_fail, reject_softfail, reject_neutral, reject_unless_pass]
  spf_local_rules:
    description: Plesk's "SPF local rules" (applied before the sender's record is checked); empty text clears them.
    type: str
  spf_guess_rules:
    description: Plesk's "SPF guess rules" (used for domains without an SPF record); empty text clears them.
    type: str
  spf_explanation:
    description: Plesk's "SPF explanation text" sent with a rejection; empty text clears it.
    type: str
  dkim_sign:
    description: Allow DKIM signing of outgoing mail on the server (signing is then switched on per domain).
    type: bool
  dkim_verify:
    description: Verify DKIM signatures of incoming mail. Cannot be V(false) while DMARC checking is on.
    type: bool
  dmarc_enabled:
    description: Check incoming mail with DMARC. Needs O(dkim_verify) on.
    type: bool
  cli_options:
    description:
      - C(plesk bin mailserver) option to use for a change, when C(--help) on your server lists it
        under a name the module does not look for. Keys are V(dnsbl_enabled), V(dnsbl_zones_replace),
        V(dnsbl_zones_add), V(dnsbl_zones_remove), V(spf_enabled), V(spf_mode), V(spf_local_rules),
        V(spf_guess_rules), V(spf_explanation), V(dkim_sign), V(dkim_verify), V(dmarc_enabled);
        values are options such as C(--set-spf-behavior). The option must appear in the help text.
      - Values are passed as Plesk's CLI takes them - V(true)/V(false), the SPF mode as its number
        1-6, zones comma-separated.
    type: dict
    default: {}
notes:
  - Runs on the Plesk server (Plesk Obsidian 18 for Linux with Postfix). The C(plesk) command is
    looked for in E(PATH), then C(/usr/sbin), C(/usr/local/psa/bin) and C(/opt/psa/bin).
  - Settings Plesk has never stored read as their defaults (DNSBL off, no zones, SPF mode
    V(headers_only), no rules).
requirements:
  - Plesk Obsidian 18 for Linux with Postfix as its mail server.
seealso:
  - module: mailauth.hardening.plesk_domain_dkim
"""

EXAMPLES = r"""
- name: Recommended mail authentication settings
  mailauth.hardening.plesk_mail_settings:
    dnsbl_enabled: true
    dnsbl_zones:
      - zen.spamhaus.org=127.0.0.[2..11]
    spf_enabled: true
    spf_mode: headers_only
    dkim_sign: true
    dkim_verify: true
    dmarc_enabled: true

- name: Reject mail whose SPF check fails, with a Spamhaus DQS key
  mailauth.hardening.plesk_mail_settings:
    spf_mode: reject_fail
    dnsbl_zones:
      - zen.spamhaus.org=127.0.0.[2..11]
    dqs_key: "{{ vault_spamhaus_dqs_key }}"

- name: This server's help text names the SPF mode option differently
  mailauth.hardening.plesk_mail_settings:
    spf_mode: headers_only
    cli_options:
      spf_mode: --spf-mode-number
"""

RETURN = r"""
settings:
  description: The settings as Plesk stores them after the run (predicted in check mode).
  returned: success
  type: dict
  sample:
    dnsbl_enabled: true
    dnsbl_zones: ["zen.spamhaus.org=127.0.0.[2..11]"]
    spf_enabled: true
    spf_mode: headers_only
    spf_local_rules: ""
    spf_guess_rules: ""
    spf_explanation: ""
    dkim_sign: true
    dkim_verify: true
    dmarc_enabled: true
commands:
  description: The C(plesk) commands run (in check mode, the ones that would run), in order.
  returned: success
  type: list
  elements: str
  sample: ["plesk bin mailserver --add-maps-zone zen.spamhaus.org=127.0.0.[2..11]", "plesk bin mailserver --set-maps-status true"]
mta:
  description: The mail server Plesk reports (always C(Postfix) on success).
  returned: success
  type: str
  sample: Postfix
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mailauth.hardening.plugins.module_utils._records.dnsbl import dqs_keys, mask_dqs
from ansible_collections.mailauth.hardening.plugins.module_utils._core.module_run import fail_json_on, hide
from ansible_collections.mailauth.hardening.plugins.module_utils._hosts.plesk import (
    SPF_MODES, PleskError, changed_settings, check_dkim_dmarc_rule, check_mta, command_text, confirm,
    module_cli, plan_changes, read_settings, wanted_settings)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            dnsbl_enabled=dict(type="bool"),
            dnsbl_zones=dict(type="list", elements="raw"),
            dqs_key=dict(type="str", no_log=True),
            spf_enabled=dict(type="bool"),
            spf_mode=dict(type="str", choices=list(SPF_MODES)),
            spf_local_rules=dict(type="str"),
            spf_guess_rules=dict(type="str"),
            spf_explanation=dict(type="str"),
            dkim_sign=dict(type="bool"),
            dkim_verify=dict(type="bool"),
            dmarc_enabled=dict(type="bool"),
            cli_options=dict(type="dict", default={}),
        ),
        supports_check_mode=True,
    )
    overrides = module.params["cli_options"]
    steps = []
    # DQS keys ride in zone names: Ansible masks them everywhere from here on, and mask_dqs
    # catches any other key the zones Plesk holds carry.
    hide(module, dqs_keys([module.params["dnsbl_zones"], {"dqs_key": module.params["dqs_key"]}]))
    with fail_json_on(module, PleskError):
        wanted = wanted_settings(module.params)
        cli = module_cli(module)
        mta = check_mta(cli)
        before = read_settings(cli)
        hide(module, dqs_keys(before["dnsbl_zones"]))
        check_dkim_dmarc_rule(before, wanted)
        if changed_settings(before, wanted):
            steps = plan_changes(before, wanted, cli.help_text("mailserver"), overrides)
        if steps and not module.check_mode:
            applied = []
            for argv in steps:
                cli.change(argv, applied)
            after = read_settings(cli)
            confirm(after, wanted)
        else:
            after = dict(before, **wanted)

    result = dict(changed=bool(steps), settings=after, commands=[command_text(argv) for argv in steps], mta=mta)
    if module._diff:
        result["diff"] = dict(before=before, after=after, before_header="Plesk mail server settings",
                              after_header="Plesk mail server settings")
    module.exit_json(**mask_dqs(result))


if __name__ == "__main__":
    main()
