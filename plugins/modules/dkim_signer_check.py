#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: dkim_signer_check
short_description: Pass a test message through a DKIM signing milter and check its signatures
version_added: 0.2.0
description:
  - Talks to the milter at O(milter) the way Postfix does (milter protocol version 6), as a local
    client (C(localhost), C(127.0.0.1)), and sends one test message per domain of O(keys), from
    C(mailauth-probe@DOMAIN). Nothing is queued or delivered; the milter only sees the message.
  - Fails unless the milter signed each domain's message with exactly the selectors and algorithms
    of O(keys) (C(rsa-sha256), C(ed25519-sha256)) and each signature verifies with dkimpy against
    the key's record in O(keys) (not DNS, so it works before the record is visible everywhere).
  - Use it to test a new signer before Postfix depends on it, for example before the old signer
    leaves C(smtpd_milters).
  - Changes nothing; runs in check mode as well.
author: mailauth.hardening contributors (!UNKNOWN)
extends_documentation_fragment:
  - mailauth.hardening.attributes
options:
  milter:
    description: The milter's address as in C(smtpd_milters), V(inet:127.0.0.1:8892) or V(unix:/PATH).
    type: str
    required: true
  keys:
    description:
      - The keys the milter should sign with, one per selector, each a mapping with C(domain), C(selector),
        C(type) (V(rsa) default, or V(ed25519)) and C(record) (the key's DNS record, C(v=DKIM1; k=...; p=...))
        or C(path) (its private key file, whose public half makes the record). Other keys are ignored, so
        the dkim role's key lists and M(mailauth.hardening.dkim_key) results work as they are.
      - A key with neither C(record) nor C(path) is read from C(KEY_DIR/DOMAIN/SELECTOR.private) (O(key_dir)).
    type: list
    elements: dict
    required: true
  key_dir:
    description: Where keys without C(record) or C(path) are, as the dkim role keeps them.
    type: path
  connect_macros:
    description:
      - Milter macros sent with the connection, as Postfix would (C(j), C({daemon_name}), ...).
        A signer that verifies mail whose C({daemon_name}) it lists as inbound (dkimpy-milter's
        C(MacroListVerify)) needs another name here.
    type: dict
    default: {}
  timeout:
    description: Seconds to wait for the milter to accept the connection (it may be starting) and for each reply.
    type: int
    default: 30
notes:
  - The test message's header and body are fixed; it carries no secret and reaches no mailbox.
requirements:
  - dkimpy (C(python3-dkim)) on the target, for the verification
  - cryptography (C(python3-cryptography)) on the target, for keys given by C(path)
attributes:
  check_mode:
    details: Runs as usual; it changes nothing.
  diff_mode:
    support: none
    details: Changes nothing, so there is nothing to diff.
seealso:
  - module: mailauth.hardening.dkim_key
"""

EXAMPLES = r"""
- name: Check that dkimpy-milter signs example.com with RSA and Ed25519
  mailauth.hardening.dkim_signer_check:
    milter: inet:127.0.0.1:8892
    keys:
      - {domain: example.com, selector: s202611, type: rsa, record: "v=DKIM1; k=rsa; p=MIIB..."}
      - {domain: example.com, selector: e202611, type: ed25519, record: "v=DKIM1; k=ed25519; p=11qY..."}
    connect_macros: {j: mx1.example.com, "{daemon_name}": mailauth-check}

- name: The same, with the public keys taken from the key files
  mailauth.hardening.dkim_signer_check:
    milter: inet:127.0.0.1:8891
    keys:
      - {domain: example.com, selector: s202611, type: rsa, path: /etc/dkimkeys/example.com/s202611.private}
"""

RETURN = r"""
signatures:
  description: The signatures the milter added, per domain, and whether each verified.
  returned: always
  type: dict
  sample:
    example.com:
      - {domain: example.com, selector: s202611, algorithm: rsa-sha256, verified: true}
      - {domain: example.com, selector: e202611, algorithm: ed25519-sha256, verified: true}
msg:
  description: What was checked, or every problem found.
  returned: always
  type: str
"""

import socket
import time
import traceback
import uuid

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.mailauth.hardening.plugins.module_utils._dkim import signer_check as check
from ansible_collections.mailauth.hardening.plugins.module_utils._hosts import milter as _milter
from ansible_collections.mailauth.hardening.plugins.module_utils._dkim.keys import MAX_KEY_FILE_OCTETS, load_private_key
from ansible_collections.mailauth.hardening.plugins.module_utils._records.dkim_record import (
    HAS_CRYPTOGRAPHY,
    build_dkim_record,
    key_type_of,
    public_key_b64,
)
from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError
from ansible_collections.mailauth.hardening.plugins.module_utils._core.module_run import fail_json_on, require_library

try:
    import dkim
    HAS_DKIM, DKIM_IMPORT_ERROR = True, None
except ImportError:
    HAS_DKIM, DKIM_IMPORT_ERROR = False, traceback.format_exc()


def _connect(kind, address, timeout):
    """A socket connected to the milter, retrying until ``timeout`` while it refuses (starting up)."""
    deadline = time.monotonic() + timeout
    while True:
        family = socket.AF_UNIX if kind == "unix" else (socket.AF_INET6 if ":" in address[0] else socket.AF_INET)
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        try:
            sock.connect(address)
            return sock
        except OSError as err:
            sock.close()
            if time.monotonic() >= deadline:
                raise _milter.MilterError("cannot connect to the milter: %s." % (err.strerror or err))
            time.sleep(0.5)


def _with_records(keys, key_dir):
    """The keys, each with its record: given, or made from the key file's public half."""
    result = []
    for index, key in enumerate(keys):
        key = dict(key)
        if not key.get("record") and not key.get("path"):
            if not key_dir or not key.get("domain") or not key.get("selector"):
                raise InputError("keys[%d]" % index, "has no record, no path, and no key_dir to find its file in.",
                                 "give record or path, or set key_dir.")
            key["path"] = "%s/%s/%s.private" % (key_dir.rstrip("/"), key["domain"], key["selector"])
        if not key.get("record"):
            if not HAS_CRYPTOGRAPHY:
                raise InputError("keys[%d].path" % index, "reading a key file needs cryptography on the target.",
                                 "install python3-cryptography, or give the record instead.")
            try:
                with open(key["path"], "rb") as handle:
                    private = load_private_key(handle.read(MAX_KEY_FILE_OCTETS + 1), source=key["path"])
            except (IOError, OSError) as err:
                raise InputError("keys[%d].path" % index, "cannot read %s: %s." % (key["path"], err.strerror),
                                 "make the key first (dkim_key), or fix the path.")
            except InputError as err:
                raise InputError("keys[%d].path" % index, err.problem, err.fix)
            key["record"] = build_dkim_record(key_type_of(private), public_key_b64(private))
        result.append(key)
    return result


def _check_domain(kind, address, timeout, macros, domain, wanted, records):
    """(signatures, problems) for one domain's test message."""
    sender, recipient, headers, body = check.probe_message(domain, uuid.uuid4().hex)
    sock = _connect(kind, address, timeout)
    try:
        changes = _milter.Session(sock.sendall, sock.recv).message(sender, recipient, headers, body, macros)
    except OSError as err:
        raise _milter.MilterError("the connection to the milter failed: %s." % (err.strerror or err))
    finally:
        sock.close()
    signed = _milter.apply_header_changes(headers, changes)
    message = _milter.render(signed, body)

    def verify(index):
        def lookup(name, timeout=5):
            return records.get(name.decode("ascii", "replace").lower().rstrip(".") + ".", "").encode("ascii")
        try:
            return dkim.DKIM(message).verify(idx=index, dnsfunc=lookup)
        except dkim.DKIMException:
            return False

    return check.judge(domain, wanted, check.found_signatures(signed), verify)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            milter=dict(type="str", required=True),
            keys=dict(type="list", elements="dict", required=True, no_log=False),
            key_dir=dict(type="path"),
            connect_macros=dict(type="dict", default={}),
            timeout=dict(type="int", default=30),
        ),
        supports_check_mode=True,
    )
    require_library(module, HAS_DKIM, "dkimpy (python3-dkim)", DKIM_IMPORT_ERROR)
    params = module.params
    result = dict(changed=False, signatures={})
    with fail_json_on(module, _milter.MilterError, result=result):
        kind, address = _milter.parse_socket(params["milter"])
        keys = _with_records(params["keys"], params["key_dir"])
        wanted = check.expected_signatures(keys)
        records = check.records_by_name(keys)
        macros = dict((str(k), str(v)) for k, v in params["connect_macros"].items())
        problems = []
        for domain in sorted(wanted):
            try:
                signatures, found = _check_domain(kind, address, params["timeout"], macros, domain,
                                                  wanted[domain], records)
            except _milter.MilterError as err:
                raise _milter.MilterError("%s: %s" % (domain, err))
            result["signatures"][domain] = signatures
            problems.extend(found)
        if problems:
            module.fail_json(msg="The signer at %s does not sign as it should: %s" % (params["milter"], " ".join(problems)),
                             **result)
    result["msg"] = "%s signs %d domain(s) with the expected selectors; every signature verifies." % (
        params["milter"], len(result["signatures"]))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
