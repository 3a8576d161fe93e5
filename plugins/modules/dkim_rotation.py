#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: dkim_rotation
short_description: Keep the phase of each DKIM key rotation in a state file on the host
version_added: 0.1.0
description:
  - Records on the mail host how far each DKIM key rotation has come, so that a later run of the
    C(mailauth.hardening.rotate_dkim) playbook knows what to do next and when. It does not touch
    keys, tables or DNS; the playbook does, and records each phase with this module once its work
    is done.
  - "A rotation replaces one selector, in the phases of the M3AAWG practice: V(started) (new selector
    chosen, key made), V(published) (its record is served by every authoritative server),
    V(signing) (the SigningTable names it; the overlap starts), V(revoked) (the old record says
    C(v=DKIM1; p=)), V(removed) (the old record is gone), V(done) (the old private key is gone)."
  - A phase can only be recorded after the one before it, and only once that phase's wait is over
    (O(publish_wait) after publishing, O(overlap) after the switch, O(revoke_hold) after revoking).
  - A second rotation of a selector whose rotation is not done is refused, and so is a new selector
    the domain had before. Every request is checked before the state file changes.
  - Returns each selector's phase, what comes next and when, and the keys the host must hold
    (RV(key_domains)) and sign with (RV(signing_selectors)) in that phase.
  - An inventory selector whose rotation is done stands for the rotation's new selector (and so on,
    through every finished rotation), so a new start replaces the key that signs now.
author: mailauth.hardening contributors (!UNKNOWN)
extends_documentation_fragment:
  - mailauth.hardening.attributes
options:
  state_file:
    description:
      - The JSON file holding the rotations of this host. Its directory is created when missing.
    type: path
    default: /var/lib/mailauth/dkim_rotation.json
  keys_dir:
    description:
      - Where the DKIM keys are (C(KEYS_DIR/DOMAIN/SELECTOR.private)). When given, the module
        reports which new keys exist (RV(rotations[].new_key_present)) and counts the key files
        among the selectors a domain has used.
    type: path
  selectors:
    description:
      - The selectors the inventory names, as the C(mailauth.hardening.dkim_selectors) filter returns
        them (C(domain), C(selector), C(type), C(bits)). Each is reported with its rotation.
    type: list
    elements: dict
    required: true
  start:
    description:
      - Rotations to start, one per selector. Starting a rotation that is already under way with the
        same new selector changes nothing.
    type: list
    elements: dict
    default: []
    suboptions:
      domain:
        description: The domain.
        type: str
        required: true
      selector:
        description: The selector to replace, as O(selectors) names it.
        type: str
        required: true
      new_selector:
        description: The selector that replaces it; one the domain never had.
        type: str
        required: true
      type:
        description: Key type of the new key; default the old key's.
        type: str
        choices: [rsa, ed25519]
      bits:
        description: RSA size of the new key; default the old key's, at least 2048.
        type: int
        choices: [1024, 2048, 3072, 4096]
  advance:
    description:
      - Phases to record, after the work of each is done.
    type: list
    elements: dict
    default: []
    suboptions:
      domain:
        description: The domain.
        type: str
        required: true
      selector:
        description: The old or the new selector of the rotation.
        type: str
        required: true
      phase:
        description: The phase reached.
        type: str
        required: true
        choices: [published, signing, revoked, removed, done]
  publish_wait:
    description:
      - How long after publishing the new record signing may switch to it, so that caches that
        asked for the name before (negative answers) have expired. V(7d), V(12h), V(30m), V(30s);
        a bare number counts days.
    type: str
    default: 1h
  overlap:
    description:
      - How long the old record stays published after the switch, for mail still in flight or in
        queues. Same format as O(publish_wait). M3AAWG advises days; under two days warns.
    type: str
    default: 7d
  revoke_hold:
    description:
      - How long the revocation (C(v=DKIM1; p=)) stays published before the record is removed.
    type: str
    default: 7d
notes:
  - The state file holds no secret; it names selectors and times (UTC).
attributes:
  diff_mode:
    details: The state file before and after.
seealso:
  - module: mailauth.hardening.dkim_key
  - module: mailauth.hardening.dns_txt
"""

EXAMPLES = r"""
- name: Read the rotations of the host's selectors
  mailauth.hardening.dkim_rotation:
    selectors: "{{ mailauth_domains | mailauth.hardening.dkim_selectors }}"
    keys_dir: /etc/dkimkeys
  register: rotation

- name: Start replacing s202611 of example.com with s202705
  mailauth.hardening.dkim_rotation:
    selectors: [{domain: example.com, selector: s202611, type: rsa, bits: 2048}]
    start:
      - {domain: example.com, selector: s202611, new_selector: s202705}

- name: Record that the SigningTable now names the new selector
  mailauth.hardening.dkim_rotation:
    selectors: [{domain: example.com, selector: s202611, type: rsa, bits: 2048}]
    advance:
      - {domain: example.com, selector: s202611, phase: signing}
    overlap: 7d
"""

RETURN = r"""
changes:
  description: The starts and phases recorded by this run (in check mode, that would be).
  returned: always
  type: list
  elements: dict
  sample: [{domain: example.com, selector: s202611, phase: signing}]
rotations:
  description: One entry per O(selectors) entry, with its latest rotation after the run.
  returned: success
  type: list
  elements: dict
  contains:
    domain:
      description: The domain.
      type: str
    selector:
      description: The selector as the inventory names it.
      type: str
    type:
      description: Key type of the inventory's selector.
      type: str
    bits:
      description: Key size of the inventory's selector.
      type: int
    phase:
      description: V(none) without a rotation, else the phase reached.
      type: str
    old_selector:
      description: The selector being replaced.
      type: str
    new_selector:
      description: The selector replacing it; null without a rotation.
      type: str
    new_type:
      description: Key type of the new key.
      type: str
    new_bits:
      description: Key size of the new key.
      type: int
    next:
      description: The phase that comes next; null when there is none.
      type: str
    due:
      description: Whether the next phase may be reached now (its wait is over).
      type: bool
    due_at:
      description: When the next phase's wait ends (UTC); null when there is no wait.
      type: str
    since:
      description: When the current phase was reached (UTC).
      type: str
    stale_inventory:
      description:
        - The rotation is done but the inventory still names a selector it retired. Nothing needs
          editing - C(harden), C(audit) and C(rotate_dkim) follow this state to the selector that signs now.
      type: bool
    new_key_present:
      description: Whether the new key file exists; null without O(keys_dir).
      type: bool
    message:
      description: The phase in a sentence.
      type: str
  sample:
    - domain: example.com
      selector: s202611
      type: rsa
      bits: 2048
      phase: signing
      old_selector: s202611
      new_selector: s202705
      new_type: rsa
      new_bits: 2048
      next: revoked
      due: false
      due_at: "2027-05-10T09:00:00Z"
      since: "2027-05-03T09:00:00Z"
      stale_inventory: false
      new_key_present: true
      message: signing with s202705 since 2027-05-03T09:00:00Z; s202611 stays published for the overlap, ...
key_domains:
  description:
    - The keys the host holds in this phase, in the shape of C(mailauth_domains) (C(name), C(dkim)) for
      the dkim role. Before the switch the old and the new key, after it the new one.
  returned: success
  type: list
  elements: dict
  sample: [{name: example.com, dkim: [{selector: s202611, type: rsa, bits: 2048}, {selector: s202705, type: rsa, bits: 2048}]}]
signing_selectors:
  description: The selectors the host signs with in this phase, for the dkim role's SigningTable.
  returned: success
  type: list
  elements: dict
  sample: [{domain: example.com, selector: s202611}]
used_selectors:
  description: Per domain, every selector it has had (rotations, and key files when O(keys_dir) is given).
  returned: success
  type: dict
  sample: {example.com: [s202511, s202611]}
key_files:
  description: Per domain, the selectors with a key file under O(keys_dir); empty without O(keys_dir).
  returned: success
  type: dict
  sample: {example.com: [s202611, s202705]}
keys_dir:
  description: O(keys_dir) as given (null when not given); the controller finds a key to copy with it.
  returned: success
  type: str
  sample: /etc/dkimkeys
state_file:
  description: The state file.
  returned: always
  type: str
  sample: /var/lib/mailauth/dkim_rotation.json
"""

import os
import tempfile
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mailauth.hardening.plugins.module_utils._dkim import rotation
from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError

KEY_SUFFIX = ".private"
SHORT_OVERLAP_SECONDS = 2 * 86400


def read_text(path):
    try:
        with open(path) as handle:
            return handle.read()
    except FileNotFoundError:
        return None
    except OSError as err:
        raise InputError("state_file", "%s cannot be read: %s." % (path, err.strerror),
                         "point state_file at a readable file (the module creates it when it is missing).")


def key_files(keys_dir, domains):
    """{domain: [selectors with a key file]} under KEYS_DIR/DOMAIN/."""
    found = {}
    for domain in domains:
        try:
            names = os.listdir(os.path.join(keys_dir, domain))
        except OSError:
            names = []
        found[domain] = sorted(n[:-len(KEY_SUFFIX)] for n in names if n.endswith(KEY_SUFFIX))
    return found


def write_text(module, path, text):
    """Write the state next to its place, then rename it there: a reader never sees half a file."""
    directory = os.path.dirname(path) or "."
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o755)
    handle, temp = tempfile.mkstemp(dir=directory, prefix=".dkim_rotation.")
    with os.fdopen(handle, "w") as out:
        out.write(text)
    os.chmod(temp, 0o644)
    module.atomic_move(temp, path)


def main():
    def unit(**more):
        return dict(domain=dict(type="str", required=True), selector=dict(type="str", required=True), **more)

    module = AnsibleModule(
        argument_spec=dict(
            state_file=dict(type="path", default="/var/lib/mailauth/dkim_rotation.json"),
            keys_dir=dict(type="path"),
            selectors=dict(type="list", elements="dict", required=True),
            start=dict(type="list", elements="dict", default=[], options=unit(
                new_selector=dict(type="str", required=True),
                type=dict(type="str", choices=["rsa", "ed25519"]),
                bits=dict(type="int", choices=[1024, 2048, 3072, 4096]))),
            advance=dict(type="list", elements="dict", default=[], options=unit(
                phase=dict(type="str", required=True, choices=list(rotation.PHASES[1:])))),
            publish_wait=dict(type="str", default="1h"),
            overlap=dict(type="str", default="7d"),
            revoke_hold=dict(type="str", default="7d"),
        ),
        supports_check_mode=True,
    )
    params = module.params
    path = params["state_file"]
    result = dict(changed=False, changes=[], state_file=path)
    try:
        waits = dict((name, rotation.parse_duration(params[name], name))
                     for name in ("publish_wait", "overlap", "revoke_hold"))
        before = read_text(path)
        state = rotation.load_state(before)
        now = time.time()
        units, changes = rotation.apply(state, params["selectors"], params["start"], params["advance"], now, waits)
    except InputError as err:
        module.fail_json(msg=str(err), **result)
    after = rotation.dump_state(state)
    if changes and not module.check_mode:
        try:
            write_text(module, path, after)
        except OSError as err:
            module.fail_json(msg="state_file: %s cannot be written: %s; nothing was recorded. Fix: make its "
                             "directory writable, or point state_file elsewhere." % (path, err.strerror), **result)
    if waits["overlap"] < SHORT_OVERLAP_SECONDS and any(c["phase"] == "signing" for c in changes):
        module.warn("overlap is under two days: mail signed with the old key and still queued or in flight may "
                    "be verified after that key is revoked.")
    files = key_files(params["keys_dir"], sorted(set(u["domain"] for u in units))) if params["keys_dir"] else None
    result.update(rotation.report(state, units, now, waits, files), changed=bool(changes), changes=changes,
                  keys_dir=params["keys_dir"])
    if module._diff:
        result["diff"] = dict(before=before or "", after=after if changes else (before or ""),
                              before_header=path, after_header=path)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
