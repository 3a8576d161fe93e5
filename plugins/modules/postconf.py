#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: postconf
short_description: Ensure Postfix main.cf parameters and master.cf services with postconf
version_added: 0.1.0
description:
  - Ensures many Postfix settings in one task, through Postfix's own C(postconf) command, so
    main.cf and master.cf keep their comments, layout and every setting the task does not name.
  - Reads the current state once per run (C(postconf -n), C(-M), C(-P)) and runs the fewest
    C(postconf) edits (C(-e), C(-X), C(-M), C(-F), C(-MX), C(-P), C(-PX)) that reach the wanted state.
  - List-valued parameters (restrictions, milters, C(postscreen_dnsbl_sites), ...) can be managed
    item by item, so entries added by other tools or by hand survive.
  - Values are compared the way Postfix reads them; in list-valued parameters commas and blanks
    both separate items, so C(a b) and C(a, b) are the same value.
  - Before anything is changed, the edits are tried on a scratch copy of main.cf and master.cf.
    A parameter name that Postfix does not know, or an edit C(postconf) refuses, fails the task
    there and the real configuration is never touched.
  - C(postconf) writes each file anew, which would leave it C(0644) and owned by the user running
    it; the module gives main.cf and master.cf their mode and owner back (a C(0640 root:postfix)
    main.cf stays that).
  - After the change C(postfix check) runs; when it or an edit fails, main.cf and master.cf get
    their content, mode and owner back, and the task fails with Postfix's message. When the
    roll-back cannot write either (an unwritable directory), the message gives both errors.
  - The module does not reload Postfix. Notify a handler on change (RV(reload_required));
    C(inet_interfaces) and C(inet_protocols) need a restart (RV(restart_required)).
author: mailauth.hardening contributors (!UNKNOWN)
extends_documentation_fragment:
  - mailauth.hardening.attributes
options:
  parameters:
    description:
      - main.cf parameters, a mapping of parameter name to wanted value.
      - A value is text, a number, a boolean (written V(yes)/V(no)) or a list (the whole
        value, items joined with C(, )).
      - 'Or a mapping with these keys:'
      - C(value) - the whole value, as above.
      - C(items) - list items to manage one by one; other items of the parameter are kept. An
        item is one list element as Postfix reads it; a restriction keeps its argument, so
        C(check_policy_service unix:private/policyd-spf) is one item.
      - C(state) - V(present) (default) or V(absent). With C(items), adds or removes those
        items. Without C(items) and C(value), V(absent) removes the parameter from main.cf
        (Postfix then uses its default).
      - C(before) / C(after) - with C(items) and V(present), an item to keep the managed items
        in front of or behind; items on the wrong side are moved. The anchor is an exact item,
        or the first word of one (V(check_policy_service)). When the anchor is not in the list,
        new items go to the end.
      - Items added to a parameter that main.cf does not set start from Postfix's default value
        (C(postconf -d)), so the default's items are kept.
      - A name of the form C(SERVICE/TYPE/NAME) is refused here; put it in O(service_parameters).
    type: dict
    default: {}
  services:
    description:
      - master.cf services (C(postconf -M)), each identified by O(services[].name) and O(services[].type).
      - Fields not given keep their current value; a new service gets C(-) for them.
      - Changing the command of an existing service rewrites the whole entry and keeps its
        C(-o) options.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Service name, the first master.cf column (V(smtp), V(submission), V(127.0.0.1:10025)).
        type: str
        required: true
      type:
        description: Service type, the second column.
        type: str
        required: true
        choices: [inet, unix, unix-dgram, fifo, pass]
      private:
        description: V(y), V(n) or V(-) (a boolean gives V(y)/V(n)).
        type: raw
      unprivileged:
        description: V(y), V(n) or V(-).
        type: raw
      chroot:
        description: V(y), V(n) or V(-).
        type: raw
      wakeup:
        description: Wake-up time in seconds, optionally with C(?), or V(-).
        type: raw
      process_limit:
        description: Maximal number of processes, or V(-).
        type: raw
      command:
        description:
          - Command name and arguments, without C(-o) options (those go in O(service_parameters)).
          - Required when the service does not exist yet.
        type: str
      state:
        description: V(absent) removes the service and its C(-o) options.
        type: str
        choices: [present, absent]
        default: present
  service_parameters:
    description:
      - master.cf C(-o) options (C(postconf -P)), a mapping of C(SERVICE/TYPE/NAME) to a value
        in the same forms as O(parameters) (including C(items)). List values are joined with
        commas. The service must exist or be added by the same task.
    type: dict
    default: {}
  config_dir:
    description:
      - Postfix configuration directory (C(postconf -c)). Default is Postfix's own
        C(config_directory), normally C(/etc/postfix).
    type: path
  postfix_check:
    description:
      - Run C(postfix check) after the change and restore main.cf and master.cf when it fails.
    type: bool
    default: true
  mask_values:
    description:
      - Strings to hide in the results, diff and messages (and the target's log of the module's
        arguments). They are still written to main.cf.
      - Spamhaus DQS keys in zone names (C(KEY.zen.dq.spamhaus.net)) are hidden without being listed
        here, in what the task sets and in what main.cf and master.cf already hold; listing them
        keeps them out of the target's log as well.
    type: list
    elements: str
    default: []
notes:
  - >-
    Parameter names are judged by C(postconf) itself: a name it reports as unused is unknown.
    That covers built-in names, names derived from master.cf services (C(policyd-spf_time_limit)),
    legacy aliases and user-defined names that another value references as C($name); a plain
    C(postconf -d) list would refuse the last three.
  - C(postconf -P) cannot write values with blanks; such C(-o) options are written as a whole
    master.cf entry in C(-o { name = value }) form (Postfix 3.0 or later).
requirements:
  - Postfix 3.0 or later (C(postconf), C(postfix)) on the target
attributes:
  check_mode:
    details: The edits are still tried on a scratch copy, so unknown names fail in check mode too.
  diff_mode:
    details: One diff for the main.cf parameters and one for the master.cf entries and options that change.
"""

EXAMPLES = r"""
- name: Milters and SPF policy, keeping what other tools put there
  mailauth.hardening.postconf:
    parameters:
      milter_default_action: accept
      smtpd_milters:
        items: [inet:localhost:8891]
        before: inet:localhost:8893
      non_smtpd_milters:
        items: [inet:localhost:8891]
      smtpd_recipient_restrictions:
        items: [check_policy_service unix:private/policyd-spf]
        after: reject_unauth_destination
      policyd-spf_time_limit: 3600
    services:
      - name: policyd-spf
        type: unix
        unprivileged: n
        chroot: n
        process_limit: 0
        command: spawn user=policyd-spf argv=/usr/bin/policyd-spf
  notify: Reload postfix

- name: postscreen in front of smtpd
  mailauth.hardening.postconf:
    parameters:
      postscreen_dnsbl_sites:
        - zen.spamhaus.org=127.0.0.[2..11]*3
        - list.dnswl.org=127.0.[0..255].[1..3]*-2
      postscreen_dnsbl_threshold: 3
    services:
      - {name: smtp, type: inet, process_limit: 1, command: postscreen}
      - {name: smtpd, type: pass, chroot: y, command: smtpd}
      - {name: dnsblog, type: unix, chroot: y, process_limit: 0, command: dnsblog}
      - {name: tlsproxy, type: unix, chroot: y, process_limit: 0, command: tlsproxy}
  notify: Reload postfix

- name: A submission-only override and the removal of a stale parameter
  mailauth.hardening.postconf:
    service_parameters:
      submission/inet/smtpd_tls_security_level: encrypt
    parameters:
      smtpd_use_tls: {state: absent}
"""

RETURN = r"""
commands:
  description: The postconf commands run (in check mode, that would be run), in order, shell-quoted.
  returned: always
  type: list
  elements: str
  sample: ["postconf -c /etc/postfix -e 'milter_default_action=accept' 'smtpd_milters=inet:localhost:8891'"]
reload_required:
  description: Whether Postfix must be reloaded (C(postfix reload)) for the change to take effect.
  returned: always
  type: bool
  sample: true
restart_required:
  description: Whether the change touches C(inet_interfaces) or C(inet_protocols), which need a stop and start.
  returned: always
  type: bool
  sample: false
config_dir:
  description: The configuration directory the module worked on.
  returned: always
  type: str
  sample: /etc/postfix
"""

import os
import pty
import shlex
import shutil
import tempfile

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mailauth.hardening.plugins.module_utils._records.dnsbl import dqs_keys
from ansible_collections.mailauth.hardening.plugins.module_utils._core.module_run import fail_json_on, hide
from ansible_collections.mailauth.hardening.plugins.module_utils._hosts import file_snapshot as _file_snapshot
from ansible_collections.mailauth.hardening.plugins.module_utils._hosts import postconf as _postconf

CONFIG_FILES = ("main.cf", "master.cf")
SBIN = ["/usr/sbin", "/usr/local/sbin", "/sbin"]


def run_with_terminal(argv):
    """Run argv on a pseudo-terminal; return (exit status, output).

    `postfix` writes its fatal messages to stderr only when stderr is a terminal
    (otherwise only to syslog, which may not exist), so this is the way to get
    `postfix check`'s reason back to the user.
    """
    pid, terminal = pty.fork()
    if pid == 0:  # the child: stdin, stdout and stderr are the terminal
        try:
            os.execv(argv[0], argv)
        finally:
            os._exit(127)
    chunks = []
    while True:
        try:
            chunk = os.read(terminal, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(terminal)
    status = os.waitpid(pid, 0)[1]
    code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)
    return code, b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n").strip()


class Postconf(object):
    """The postconf command for one configuration directory."""

    def __init__(self, module, binary, config_dir):
        self.module = module
        self.binary = binary
        self.config_dir = config_dir

    def argv(self, args):
        return [self.binary, "-c", self.config_dir] + list(args)

    def read(self, *args):
        rc, out, err = self.module.run_command(self.argv(args))
        if rc != 0:
            self.module.fail_json(msg="%s failed: %s" % (" ".join(self.argv(args)), err.strip() or out.strip()))
        return out, err

    def run(self, args):
        """Run one edit; return None or postconf's error text."""
        rc, out, err = self.module.run_command(self.argv(args))
        return None if rc == 0 else (err.strip() or out.strip() or "exit status %d" % rc)


def read_state(postconf):
    return _postconf.State(
        _postconf.parse_parameters(postconf.read("-n")[0]),
        _postconf.parse_services(postconf.read("-M")[0]),
        _postconf.parse_service_parameters(postconf.read("-P")[0]),
    )


def read_defaults(postconf, names):
    """Built-in defaults of names whose items are edited while main.cf does not set them."""
    if not names:
        return {}
    defaults = _postconf.parse_parameters(postconf.read("-d", *names)[0])
    conditional = _postconf.needs_expansion(defaults)
    if conditional:
        # Not set in main.cf, so -x gives the default as this compatibility_level evaluates it.
        defaults.update(_postconf.parse_parameters(postconf.read("-x", *conditional)[0]))
    return defaults


def try_on_copy(module, postconf, request, plan):
    """Apply the plan to a scratch copy; fail on a refused edit or an unknown name."""
    scratch = tempfile.mkdtemp(prefix="mailauth-postconf-")
    try:
        for name in CONFIG_FILES:
            shutil.copy2(os.path.join(postconf.config_dir, name), os.path.join(scratch, name))
        trial = Postconf(module, postconf.binary, scratch)
        for args in plan.commands:
            error = trial.run(args)
            if error:
                module.fail_json(msg="postconf refused %s (nothing was changed): %s" % (
                    shlex.join(args), error.replace(scratch, postconf.config_dir)))
        _postconf.unknown_parameters(request, plan, trial.read("-n")[1])
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def config_paths(config_dir):
    return [os.path.join(config_dir, name) for name in CONFIG_FILES]


def changed_fields(plan):
    """The options a plan changes, as the task names them (parameters.NAME, services.NAME/TYPE, ...)."""
    return (["parameters.%s" % name for name in plan.parameters] + ["services.%s" % key for key in plan.services]
            + ["service_parameters.%s" % key for key in plan.service_parameters])


def roll_back(module, saved, result, plan, msg, fix):
    """Restore the saved files (bytes, mode, owner) and fail naming the fields, msg, the roll-back's own errors and fix."""
    failed = _file_snapshot.restore(saved)
    if failed:
        msg += (" The roll-back failed as well (%s), so main.cf or master.cf may hold part of the change: "
                "compare `postconf -n` and `postconf -M` with what you expect and mend them by hand."
                % "; ".join(failed))
    else:
        msg += " main.cf and master.cf were restored (content, mode and owner)."
    result.update(changed=bool(failed), reload_required=False, restart_required=False,
                  msg="%s: %s Fix: %s" % (", ".join(changed_fields(plan)), msg, fix))
    module.fail_json(**result)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            parameters=dict(type="dict", default={}),
            services=dict(type="list", elements="dict", default=[], options=dict(
                name=dict(type="str", required=True),
                type=dict(type="str", required=True, choices=list(_postconf.SERVICE_TYPES)),
                private=dict(type="raw"),
                unprivileged=dict(type="raw"),
                chroot=dict(type="raw"),
                wakeup=dict(type="raw"),
                process_limit=dict(type="raw"),
                command=dict(type="str"),
                state=dict(type="str", choices=["present", "absent"], default="present"),
            )),
            service_parameters=dict(type="dict", default={}),
            config_dir=dict(type="path"),
            postfix_check=dict(type="bool", default=True),
            mask_values=dict(type="list", elements="str", default=[], no_log=True),
        ),
        supports_check_mode=True,
    )
    # A Spamhaus DQS key rides in a DNSBL zone name; hidden like mask_values, without being named.
    hide(module, dqs_keys([module.params["parameters"], module.params["service_parameters"]]))
    with fail_json_on(module):
        request = _postconf.parse_request(module.params["parameters"], module.params["services"],
                                          module.params["service_parameters"])

    binary = module.get_bin_path("postconf", required=True, opt_dirs=SBIN)
    config_dir = module.params["config_dir"]
    if not config_dir:
        rc, out, err = module.run_command([binary, "-h", "config_directory"], check_rc=True)
        config_dir = out.strip()
    missing = [path for path in config_paths(config_dir) if not os.path.isfile(path)]
    if missing:
        module.fail_json(msg="config_dir: %s has no %s. Fix: point config_dir at a Postfix configuration directory "
                         "(the one `postconf -h config_directory` names, normally /etc/postfix)."
                         % (config_dir, " and no ".join(os.path.basename(path) for path in missing)))
    postconf = Postconf(module, binary, config_dir)
    result = dict(changed=False, commands=[], reload_required=False, restart_required=False, config_dir=config_dir)

    state = read_state(postconf)
    hide(module, dqs_keys([dict(state.parameters), dict(state.service_parameters)]))
    with fail_json_on(module, result=result):
        plan = _postconf.plan(request, state, read_defaults(postconf, _postconf.default_names(request, state)))
        if plan.commands:
            try_on_copy(module, postconf, request, plan)

    if not plan.commands:
        module.exit_json(**result)
    result.update(changed=True, reload_required=True, restart_required=plan.restart_required,
                  commands=[shlex.join(postconf.argv(args)) for args in plan.commands])
    if module._diff:
        result["diff"] = _postconf.diff(plan, config_dir)
    if module.check_mode:
        module.exit_json(**result)

    try:
        saved = _file_snapshot.snapshot(config_paths(config_dir))
    except OSError as err:
        result.update(changed=False, reload_required=False, restart_required=False)
        module.fail_json(msg="config_dir: cannot read %s (nothing was changed): %s" % (err.filename, err.strerror),
                         **result)
    for args in plan.commands:
        error = postconf.run(args)
        if error:
            roll_back(module, saved, result, plan, "postconf %s failed: %s." % (shlex.join(args), error),
                      "mend what postconf names (config_dir and its files must be writable), then run again.")
    # postconf writes a new file: the old one's mode and owner (0640 root:postfix) go with it.
    for failed in _file_snapshot.keep_attributes(saved):
        module.warn("could not give back the mode and owner of %s." % failed)
    if module.params["postfix_check"]:
        postfix = module.get_bin_path("postfix", required=True, opt_dirs=SBIN)
        rc, output = run_with_terminal([postfix, "-c", config_dir, "check"])
        if rc != 0:
            roll_back(module, saved, result, plan, "postfix check failed after the change. Postfix says: %s."
                      % (output or "exit status %d (no message)" % rc),
                      "mend the value Postfix names, then run again.")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
