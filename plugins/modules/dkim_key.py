#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: dkim_key
short_description: Ensure a DKIM private key file and return its DNS key record
version_added: 0.1.0
description:
  - Ensures a DKIM signing key (RSA or Ed25519) exists at O(path) on the target and returns the
    TXT record to publish at C(SELECTOR._domainkey.DOMAIN), already split into 255-octet strings.
  - An existing key is kept (V(changed=false)) unless O(regenerate) says otherwise, so the second
    run changes nothing and the published record stays valid.
  - A new key is written to a temporary file created with mode C(0600) in the same directory and
    renamed over O(path), so the key is never readable by others, not even for a moment, and a
    reader never sees half a key.
  - The private key never appears in results, diffs, warnings or logs; only the public record does.
  - Bad input (selector, domain, mode, owner, group, an unsafe directory) fails before anything is
    touched, with a message that names the option and the fix.
author: mailauth.hardening contributors (!UNKNOWN)
extends_documentation_fragment:
  - mailauth.hardening.attributes
options:
  path:
    description:
      - Absolute path of the private key file, for example C(/etc/dkimkeys/example.com.s2026.key).
      - Its directory must exist. The file and every directory from it up to C(/) (along the path
        as written and as resolved) are checked as OpenDKIM checks them before it signs ("key data is
        not secure"); the task fails, naming the node and the fix, when one of them is owned by
        anyone but root, the user running the module or O(owner), when one is writable by others,
        when the key file or its directory is writable by its group, or when a directory above is
        writable by a group that holds anyone else. A key found in such a place may have been
        planted, so it is never kept.
      - A directory above that every user can write but that is sticky (like C(/tmp)) is accepted
        with a warning; OpenDKIM's C(RequireSafeKeys) (on by default) refuses keys below it.
      - Must not be a symbolic link.
    type: path
    required: true
  selector:
    description:
      - DKIM selector the key is published under (one or more DNS labels, for example C(s202611)).
    type: str
    required: true
  domain:
    description:
      - Signing domain (C(d=)); the record goes to C(SELECTOR._domainkey.DOMAIN).
      - An internationalised domain must be given as its C(xn--) A-label.
    type: str
    required: true
  type:
    description:
      - Key algorithm. C(ed25519) (RFC 8463) is not verified by every receiver yet; publish it in
        addition to an RSA key (dual signing), not instead of one.
    type: str
    choices: [rsa, ed25519]
    default: rsa
  bits:
    description:
      - RSA modulus size in bits. Ignored for O(type=ed25519) (always 256).
      - V(1024) is allowed but below RFC 8301's recommendation of at least 2048 bits; the module
        warns when the key in use is 1024 bits.
      - The alias O(size) is deprecated and will be removed in version 1.0.0; write O(bits), the word
        the inventory (C(dkim.bits)) and the other modules use.
    type: int
    choices: [1024, 2048, 3072, 4096]
    default: 2048
    aliases: [size]
  owner:
    description:
      - Owner of the key file (name or uid), for example the signer's user C(opendkim).
      - Must exist before the module runs. Default is the user running the module.
      - Besides root, the user running the module and O(signer_user), the only user that may own the
        key file and the directories above it (see O(path)).
    type: str
  group:
    description:
      - Group of the key file (name or gid). Must exist before the module runs.
    type: str
  signer_user:
    description:
      - The user the signer runs as (OpenDKIM's C(UserID), for example C(opendkim)), name or uid. OpenDKIM
        accepts a key and directories owned by root or by its own user, so this user may own them too.
      - Default is O(owner). For a read of the key that sets no owner (an audit in check mode).
      - A name that does not exist on the host is ignored (nothing can be owned by it).
    type: str
  mode:
    description:
      - Octal permissions of the key file, quoted (V('0600'), V('0640')). An unquoted C(600) is the
        decimal number six hundred to YAML; it is refused with a message that says so.
      - Symbolic modes are refused, and so are modes that give others any access, give the group
        write access, or set setuid/setgid/sticky bits.
    type: raw
    default: '0600'
  regenerate:
    description:
      - V(never) keeps any usable existing key, even of another type or size in bits (with a warning);
        a file that is not a usable private key is an error.
      - V(on_mismatch) replaces the key when its type or RSA size differs from O(type)/O(bits), or
        when the file is not a usable private key.
      - V(always) makes a new key on every run (never idempotent; for explicit rotation only).
      - Replacing a key that is in use breaks signing until the new record is published; rotate
        with a new O(selector) instead.
    type: str
    choices: [never, on_mismatch, always]
    default: never
  dkimpy_path:
    description:
      - Also keep the key, in the form dkimpy-milter reads, at this absolute path (same directory
        rules, O(owner), O(group) and O(mode) as O(path)); written when missing or different.
      - For Ed25519 that is the base64 raw 32-byte seed (dkimpy has no PEM reader for Ed25519);
        for RSA the same PEM as O(path).
      - The copy follows O(path) - a new or replaced key rewrites it. Never shown in results or diffs.
    type: path
    version_added: 0.2.0
  testing:
    description:
      - Add C(t=y) to the returned record (RFC 6376 testing mode). Affects the record only, not
        the key file.
    type: bool
    default: false
notes:
  - >-
    File format: RSA keys are written as PKCS#1 PEM (C(BEGIN RSA PRIVATE KEY)), Ed25519 keys as
    PKCS#8 PEM (C(BEGIN PRIVATE KEY)). OpenDKIM 2.11 reads both; dkimpy reads the RSA file, but
    for Ed25519 its C(dkim.sign()) and dkimpy-milter want the base64 raw 32-byte seed instead.
  - Existing keys in any unencrypted PEM form (PKCS#1 or PKCS#8) are read and kept.
  - >-
    In check mode a key that does not exist yet is not generated, so RV(record),
    RV(record_strings) and RV(public_key) are not returned.
requirements:
  - cryptography >= 2.6 on the target (C(python3-cryptography))
attributes:
  diff_mode:
    details: The diff shows the public record, key type and bits, and file attributes; never the private key.
"""

EXAMPLES = r"""
- name: Ensure the RSA DKIM key for example.com
  mailauth.hardening.dkim_key:
    path: /etc/dkimkeys/example.com.s202611.key
    selector: s202611
    domain: example.com
    owner: opendkim
    group: opendkim
    mode: "0600"
  register: dkim

- name: Show the record to publish
  ansible.builtin.debug:
    msg: "{{ dkim.dns_name }} TXT {{ dkim.record_strings }}"

- name: Add an Ed25519 key for dual signing, replacing an older key of another type
  mailauth.hardening.dkim_key:
    path: /etc/dkimkeys/example.com.e202611.key
    selector: e202611
    domain: example.com
    type: ed25519
    regenerate: on_mismatch

- name: An Ed25519 key dkimpy-milter signs with (its KeyTableEd25519 names the .dkimpy file)
  mailauth.hardening.dkim_key:
    path: /etc/dkimkeys/example.com/e202611.private
    dkimpy_path: /etc/dkimkeys/example.com/e202611.dkimpy
    selector: e202611
    domain: example.com
    type: ed25519
    owner: opendkim
    mode: "0600"
"""

RETURN = r"""
record:
  description:
    - The full TXT value to publish at RV(dns_name), for example C(v=DKIM1; k=rsa; p=MIIB...).
    - Not returned in check mode when a key would be generated or replaced.
  returned: when a key exists after the run
  type: str
  sample: "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
record_strings:
  description:
    - RV(record) split into TXT character-strings of at most 255 octets each; joined with no
      separator they give RV(record) back. A 2048-bit RSA record needs two.
  returned: when RV(record) is returned
  type: list
  elements: str
  sample: ["v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="]
public_key:
  description:
    - The C(p=) value, base64 (DER SubjectPublicKeyInfo for RSA, raw 32 octets for Ed25519).
  returned: when RV(record) is returned
  type: str
  sample: "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
selector:
  description: The selector.
  returned: always
  type: str
  sample: s202611
domain:
  description: The signing domain, without a trailing dot.
  returned: always
  type: str
  sample: example.com
dns_name:
  description: Where the record is published, C(SELECTOR._domainkey.DOMAIN).
  returned: always
  type: str
  sample: s202611._domainkey.example.com
key_type:
  description: Type of the key in the file after the run (in check mode, of the key that would be there).
  returned: always
  type: str
  sample: rsa
bits:
  description: RSA modulus size in bits, or 256 for Ed25519.
  returned: always
  type: int
  sample: 2048
key_size:
  description:
    - The same as RV(bits). Deprecated, will be removed in version 1.0.0; read RV(bits).
  returned: always
  type: int
  sample: 2048
path:
  description: The key file.
  returned: always
  type: str
  sample: /etc/dkimkeys/example.com.s202611.key
dkimpy_path:
  description: The dkimpy-milter copy of the key (O(dkimpy_path)).
  returned: when O(dkimpy_path) is set
  type: str
  sample: /etc/dkimkeys/example.com/e202611.dkimpy
generated:
  description: Whether a new key was generated (in check mode, would be).
  returned: always
  type: bool
  sample: false
msg:
  description: What was done with the key and why.
  returned: always
  type: str
  sample: "kept: the key matches"
"""

import grp
import os
import pwd
import stat
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.mailauth.hardening.plugins.module_utils._dkim.keys import (
    GENERATE,
    KEEP,
    MAX_KEY_FILE_OCTETS,
    check_wanted,
    ANCESTOR,
    KEY_DIRECTORY,
    KEY_FILE,
    decide_action,
    describe_key,
    dkimpy_private_key,
    generate_private_key,
    load_private_key,
    node_fix,
    node_problem,
    opendkim_refuses,
    parse_key_mode,
    private_key_pem,
)
from ansible_collections.mailauth.hardening.plugins.module_utils._records.dkim_record import (
    CRYPTOGRAPHY_IMPORT_ERROR,
    HAS_CRYPTOGRAPHY,
    RSA_RECOMMENDED_BITS,
    build_dkim_record,
    dkim_dns_name,
    public_key_b64,
    validate_domain,
)
from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError
from ansible_collections.mailauth.hardening.plugins.module_utils._core.module_run import fail_json_on, require_library
from ansible_collections.mailauth.hardening.plugins.module_utils._records.txt import split_txt


def _user_id(name, field, lookup):
    """uid/gid for an owner/group option (name or number); None when not set."""
    if name is None:
        return None
    if name.isdigit():
        return int(name)
    try:
        return lookup(name)
    except KeyError:
        raise InputError(field, "%r does not exist on this host." % name,
                         "create it first (installing the signer usually does) or fix the name.")


def _user_name(uid):
    try:
        return "%s (uid %d)" % (pwd.getpwuid(uid).pw_name, uid)
    except KeyError:
        return "uid %d" % uid


def _group_outsider(gid, trusted):
    """A user other than the trusted ones in group gid (by primary group or membership), or None."""
    for entry in pwd.getpwall():
        if entry.pw_gid == gid and entry.pw_uid not in trusted:
            return entry.pw_name
    try:
        members = grp.getgrgid(gid).gr_mem
    except KeyError:
        return "whoever gets gid %d (no such group)" % gid
    for name in members:
        try:
            if pwd.getpwnam(name).pw_uid in trusted:
                continue
        except KeyError:
            pass
        return name
    return None


def _path_nodes(path):
    """(kind, node) from the key file up to /, along the path as written and as resolved, each once."""
    nodes, seen = [(KEY_FILE, path)], set([path])
    for start in (os.path.dirname(path), os.path.realpath(os.path.dirname(path))):
        current, kind = start, KEY_DIRECTORY
        while True:
            if current not in seen:
                seen.add(current)
                nodes.append((kind, current))
            parent = os.path.dirname(current)
            if parent == current:
                break
            current, kind = parent, ANCESTOR
    return nodes


def _signer_uid(name):
    """uid of signer_user, or None when it is not set or does not exist here."""
    try:
        return _user_id(name, "signer_user", lambda user: pwd.getpwnam(user).pw_uid)
    except InputError:
        return None


def _check_key_path(module, path, trusted_uids):
    """InputError when the key file or a directory above it lets anyone but root or the key's owner change it.

    Returns whether the key's directory exists. Missing nodes (check mode before the directory
    is made) are skipped; the ones that exist are judged as OpenDKIM would (node_problem).
    """
    trusted = set([0, os.geteuid()] + [uid for uid in trusted_uids if uid is not None])
    named = module.params["signer_user"] or module.params["owner"]
    owner_hint = (" (%s)" % named if named
                  else "; set owner (or signer_user) to the signer's user, e.g. opendkim, if that user owns them")
    for kind, node in _path_nodes(path):
        try:
            st = os.stat(node)
        except OSError:
            continue
        problem = node_problem(kind, st.st_mode, st.st_uid, trusted, _user_name,
                               lambda gid=st.st_gid: _group_outsider(gid, trusted))
        if problem:
            where = "%s %s" % (path, problem) if kind == KEY_FILE else "%s is in %s, which %s" % (path, node, problem)
            raise InputError("path", "%s: anyone who can write there can replace the key or plant one, and "
                             "OpenDKIM refuses such a key (\"key data is not secure\")." % where,
                             node_fix(kind, node, problem, owner_hint) + ".")
        if kind == ANCESTOR and opendkim_refuses(st.st_mode):
            module.warn("%s is below %s, which every user can write (sticky, so the key is safe); OpenDKIM's "
                        "RequireSafeKeys (on by default) still refuses keys there." % (path, node))
        if kind == KEY_FILE and stat.S_IMODE(st.st_mode) & stat.S_IROTH:
            module.warn("%s was readable by every user, so others may hold a copy of the key; the mode is set "
                        "again, but a new selector (rotate_dkim) makes a copied key useless." % path)
    return os.path.isdir(os.path.dirname(path))


def _read_existing(path):
    """(key or None, InputError or None) for the file at path."""
    if not os.path.exists(path):
        return None, None
    if not os.path.isfile(path):
        raise InputError("path", "%s exists and is not a regular file." % path, "choose another path.")
    with open(path, "rb") as handle:
        data = handle.read(MAX_KEY_FILE_OCTETS + 1)
    try:
        return load_private_key(data, source=path), None
    except InputError as err:
        return None, err


def _write_key(path, pem, uid, gid, mode):
    """Write the key beside path with 0600 from creation, set owner/mode, then rename it over path."""
    directory = os.path.dirname(path)
    # mkstemp creates the file with mode 0600, whatever the umask.
    fd, tmp = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
            handle.flush()
            os.fsync(handle.fileno())
            if uid is not None or gid is not None:
                os.fchown(handle.fileno(), -1 if uid is None else uid, -1 if gid is None else gid)
            os.fchmod(handle.fileno(), mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _check_copy_path(module, copy_path, path, trusted_uids):
    """InputError when dkimpy_path is unusable: relative, the key itself, a link, or in an unsafe directory."""
    if not os.path.isabs(copy_path):
        raise InputError("dkimpy_path", "%r is not absolute." % copy_path, "give the full path of the copy.")
    if os.path.normpath(copy_path) == os.path.normpath(path):
        raise InputError("dkimpy_path", "is the key file itself.", "give the copy its own name (SELECTOR.dkimpy).")
    if os.path.islink(copy_path):
        raise InputError("dkimpy_path", "%s is a symbolic link." % copy_path, "set dkimpy_path to a real file.")
    try:
        exists = _check_key_path(module, copy_path, trusted_uids)
    except InputError as err:
        raise InputError("dkimpy_path", err.problem, err.fix)
    if not exists and not module.check_mode:
        raise InputError("dkimpy_path", "the directory of %s does not exist." % copy_path,
                         "create it first, owned by root and not writable by group or others.")


def _ensure_dkimpy_copy(module, copy_path, key, action, uid, gid, mode, params):
    """Write dkimpy-milter's form of ``key`` at copy_path when it differs; True when it (would) change."""
    if key is None or (module.check_mode and action != KEEP):
        return True  # a key this run makes or replaces: its copy changes with it
    wanted = dkimpy_private_key(key)
    current = None
    if os.path.isfile(copy_path):
        with open(copy_path, "rb") as handle:
            current = handle.read(MAX_KEY_FILE_OCTETS + 1)
    changed = current != wanted
    if changed and not module.check_mode:
        try:
            _write_key(copy_path, wanted, uid, gid, mode)
        except OSError as err:
            module.fail_json(msg="dkimpy_path: cannot write %s: %s." % (copy_path, err.strerror))
    if os.path.exists(copy_path):
        file_args = module.load_file_common_arguments(params, path=copy_path)
        file_args["mode"] = mode
        changed = module.set_fs_attributes_if_different(file_args, changed)
    return changed


def _key_facts(key, testing):
    """Public facts of a key: never the private part."""
    key_type, bits = describe_key(key)
    record = build_dkim_record(key_type, public_key_b64(key), testing=testing)
    return dict(key_type=key_type, bits=bits, record=record, public_key=public_key_b64(key))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            selector=dict(type="str", required=True),
            domain=dict(type="str", required=True),
            type=dict(type="str", default="rsa", choices=["rsa", "ed25519"]),
            bits=dict(type="int", default=2048, choices=[1024, 2048, 3072, 4096], aliases=["size"],
                      deprecated_aliases=[dict(name="size", version="1.0.0", collection_name="mailauth.hardening")]),
            owner=dict(type="str"),
            group=dict(type="str"),
            signer_user=dict(type="str"),
            mode=dict(type="raw", default="0600"),
            regenerate=dict(type="str", default="never", choices=["never", "on_mismatch", "always"]),
            dkimpy_path=dict(type="path"),
            testing=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    require_library(module, HAS_CRYPTOGRAPHY, "cryptography (python3-cryptography)", CRYPTOGRAPHY_IMPORT_ERROR)
    params = module.params
    path = params["path"]
    existing = action = reason = None
    with fail_json_on(module):
        dns_name = dkim_dns_name(params["selector"], params["domain"])
        domain = validate_domain(params["domain"])
        if not os.path.isabs(path):
            raise InputError("path", "%r is not absolute." % path, "give the full path of the key file.")
        mode = parse_key_mode(params["mode"])
        uid = _user_id(params["owner"], "owner", lambda name: pwd.getpwnam(name).pw_uid)
        gid = _user_id(params["group"], "group", lambda name: grp.getgrnam(name).gr_gid)
        key_type, bits = check_wanted(params["type"], params["bits"])
        if os.path.islink(path):
            raise InputError("path", "%s is a symbolic link." % path, "set path to the real key file.")
        trusted_uids = (uid, _signer_uid(params["signer_user"]))
        directory_exists = _check_key_path(module, path, trusted_uids)
        if not directory_exists and not module.check_mode:
            raise InputError("path", "the directory of %s does not exist." % path,
                             "create it first, owned by root and not writable by group or others.")
        existing, load_error = _read_existing(path) if directory_exists else (None, None)
        action, reason = decide_action(existing, key_type, bits, params["regenerate"], load_error)
        dkimpy_path = params["dkimpy_path"]
        if dkimpy_path is not None:
            _check_copy_path(module, dkimpy_path, path, trusted_uids)

    result = dict(changed=False, path=path, selector=params["selector"], domain=domain, dns_name=dns_name,
                  key_type=key_type, bits=bits, generated=action != KEEP)
    before = dict(path=path)
    if existing is not None:
        before.update(_key_facts(existing, params["testing"]))
        before.pop("public_key")
    after = dict(path=path, key_type=key_type, bits=bits)

    if action == KEEP:
        facts = _key_facts(existing, params["testing"])
        result.update(facts)
        after.update(facts)
        after.pop("public_key")
        if reason != "the key matches":
            module.warn("%s: %s." % (path, reason))
        result["msg"] = "kept: %s" % reason
    elif module.check_mode:
        result["changed"] = True
        result["msg"] = "would %s: %s" % (action, reason)
    else:
        key = generate_private_key(key_type, bits)
        try:
            _write_key(path, private_key_pem(key), uid, gid, mode)
        except OSError as err:
            module.fail_json(msg="path: cannot write the key to %s: %s." % (path, err.strerror))
        existing = key
        facts = _key_facts(key, params["testing"])
        result.update(facts, changed=True)
        after.update(facts)
        after.pop("public_key")
        result["msg"] = "%sd: %s" % ("generate" if action == GENERATE else "replace", reason)

    diff = dict(before=before, after=after, before_header=path, after_header=path)
    if os.path.exists(path):
        file_args = module.load_file_common_arguments(params, path=path)
        file_args["mode"] = mode
        result["changed"] = module.set_fs_attributes_if_different(file_args, result["changed"], diff)
    if dkimpy_path is not None:
        result["dkimpy_path"] = dkimpy_path
        copy_changed = _ensure_dkimpy_copy(module, dkimpy_path, existing, action, uid, gid, mode, params)
        before["dkimpy_copy"] = "up to date" if not copy_changed else "missing or different"
        after["dkimpy_copy"] = "up to date"
        result["changed"] = result["changed"] or copy_changed
    if "record" in result:
        result["record_strings"] = split_txt(result["record"])
    if result["key_type"] == "rsa" and result["bits"] < RSA_RECOMMENDED_BITS:
        module.warn("%s is a %d-bit RSA key; RFC 8301 says signers should use at least %d bits."
                    % (path, result["bits"], RSA_RECOMMENDED_BITS))
    result["key_size"] = result["bits"]  # the deprecated name, until 1.0.0
    if module._diff:
        result["diff"] = diff
    module.exit_json(**result)


if __name__ == "__main__":
    main()
