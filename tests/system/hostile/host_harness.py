"""Hostile inputs and faults against the host side (key files, Postfix, Plesk, the gates, the filters).

A test module lists its cases (``Case``) and parametrizes one test per case over ``outcome`` of
``hostile_run``, which:

1. gives every case a directory of its own (``Case.setup(directory)`` plants its files there, and
   may make some immutable with ``immutable``, undone after the run) and,
   for Plesk cases, a Plesk test double of its own (``Case.plesk(double)`` seeds it);
2. snapshots what the case must leave alone: every file under its directory (bytes, mode, owner)
   and its double's database;
3. runs all cases as the tasks of one playbook twice, with the json callback (the results) and
   with the default callback at ``-vvv --diff`` (the most talkative output there is);
4. snapshots again.

``check_outcome`` then asserts for one case: the task failed; its message names the field
(``FIELD: ``) and carries the fix; nothing changed; no secret (the Spamhaus DQS key, a private
key in the case's files, the case's own ``secrets``) shows in its result, diff or its part of the
-vvv output. ``check_run`` asserts the same of the whole -vvv run.

Secrets reach the play the way an inventory passes them (Vault variables): from an extra-vars
file, referenced by templates, so the play text itself holds none.
"""
import hashlib
import json
import os
import re
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from plesk_double_env import PleskDouble

# The secrets every case's play can reach (as extra vars).
DQS_KEY = "dqskeyofthisaccount0123456"
SECRETS = {"vault_dqs_key": DQS_KEY}
_PEM_BODY = re.compile(r"^[A-Za-z0-9+/=]{40,}$")


class Case(object):
    """One hostile task: ``task`` is the module (or debug with a filter) and its options.

    ``field``: the message starts with ``FIELD: `` (or holds it, for filter errors, which Ansible
    wraps). ``fix``: words the message's ``Fix:`` part must carry. ``setup(directory)`` plants files;
    ``plesk(double)`` seeds the case's own Plesk double (and may set ``double.env``); ``check``: run in
    check mode.
    Options may use ``{dir}`` for the case's directory and ``{plesk_keys}`` for its double's key directory.
    """

    def __init__(self, case_id, task, field, fix, setup=None, plesk=None, check=False, secrets=()):
        self.id = case_id
        self.task = task
        self.field = field
        self.fix = fix
        self.setup = setup
        self.plesk = plesk
        self.check = check
        self.secrets = list(secrets)

    def __repr__(self):
        return self.id


_IMMUTABLE = []


def immutable(path):
    """chattr +i on path (even root cannot write there then), undone when the run is over."""
    subprocess.run(["chattr", "+i", str(path)], check=True)
    _IMMUTABLE.append(str(path))


def _undo_immutable():
    while _IMMUTABLE:
        subprocess.run(["chattr", "-i", _IMMUTABLE.pop()], check=False)


def _fill(value, places):
    """``value`` with each placeholder of ``places`` ({dir}, {plesk_keys}) in its text replaced."""
    if isinstance(value, str):
        for place, text in places.items():
            value = value.replace(place, str(text))
        return value
    if isinstance(value, dict):
        return dict((k, _fill(v, places)) for k, v in value.items())
    if isinstance(value, list):
        return [_fill(v, places) for v in value]
    return value


def _files(directory):
    """{relative path: (sha256 or 'dir'/'link', mode, uid, gid)} of everything under directory."""
    state = {}
    for root, dirs, names in os.walk(str(directory)):
        for name in dirs + names:
            path = os.path.join(root, name)
            st = os.lstat(path)
            if stat.S_ISLNK(st.st_mode):
                kind = "link:" + os.readlink(path)
            elif stat.S_ISDIR(st.st_mode):
                kind = "dir"
            else:
                with open(path, "rb") as handle:
                    kind = hashlib.sha256(handle.read()).hexdigest()
            state[os.path.relpath(path, str(directory))] = (kind, stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid)
    return state


def _double_state(double):
    """The double's database (as SQL) and the files Plesk "wrote" (its key root)."""
    if double is None:
        return None
    connection = sqlite3.connect(double.env["PLESK_DOUBLE_DB"])
    try:
        dump = list(connection.iterdump())
    finally:
        connection.close()
    return dump, _files(double.root)


def _private_key_lines(directory):
    """The base64 lines of every PEM file under directory: none may show anywhere."""
    lines = []
    for root, _dirs, names in os.walk(str(directory)):
        for name in names:
            try:
                text = Path(root, name).read_text()
            except (OSError, UnicodeDecodeError):
                continue
            if "PRIVATE KEY-----" in text:
                lines += [line for line in text.splitlines() if _PEM_BODY.match(line)]
    return lines


def _play(cases, directories, doubles):
    tasks = []
    for case in cases:
        places = {"{dir}": directories[case.id]}
        if case.id in doubles:
            places["{plesk_keys}"] = doubles[case.id].keys_dir
        task = dict(_fill(case.task, places), name=case.id, ignore_errors=True, check_mode=case.check)
        if case.id in doubles:
            task["environment"] = doubles[case.id].env
        tasks.append(task)
    return [{"name": "hostile", "hosts": "localhost", "gather_facts": False,
             "vars": {"ansible_python_interpreter": sys.executable}, "tasks": tasks}]


def _task_segments(output):
    """{task name: its part of the default callback's output}, from its TASK [...] line to the next."""
    segments, name = {}, None
    for line in output.splitlines(True):
        header = re.match(r"^TASK \[(.*?)\]", line)
        if header or line.startswith("PLAY RECAP"):
            name = header.group(1) if header else None
        if name is not None:
            segments[name] = segments.get(name, "") + line
    return segments


def hostile_run(cases, workdir, run_playbook):
    """Run every case (see the module text) through the run_playbook fixture; return {case id: outcome}."""
    try:
        return _run_cases(cases, Path(workdir), run_playbook)
    finally:
        _undo_immutable()


def _run_cases(cases, workdir, run_playbook):
    directories, doubles = {}, {}
    for case in cases:
        directory = workdir / "cases" / case.id
        directory.mkdir(parents=True, mode=0o700)
        directories[case.id] = directory
        if case.setup:
            case.setup(directory)
        if case.plesk:
            double = PleskDouble(workdir / "plesk" / case.id)
            double.admin("init")
            case.plesk(double)
            doubles[case.id] = double
    before = dict((c.id, (_files(directories[c.id]), _double_state(doubles.get(c.id)))) for c in cases)
    keys = dict((c.id, _private_key_lines(directories[c.id])
                 + (_private_key_lines(doubles[c.id].root) if c.id in doubles else [])) for c in cases)
    play = yaml.safe_dump(_play(cases, directories, doubles), sort_keys=False)
    extra_vars = workdir / "secrets.yml"
    extra_vars.write_text(yaml.safe_dump(SECRETS))
    _rc, data, results_output = run_playbook(play, "-e", "@%s" % extra_vars, diff=True)
    _rc, _text, verbose_output = run_playbook(play, "-e", "@%s" % extra_vars, "-vvv", diff=True,
                                              extra_env={"ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.default"})
    assert data is not None, results_output[-3000:]
    tasks = dict((task["task"]["name"], task["hosts"].get("localhost")) for task in data["plays"][0]["tasks"])
    segments = _task_segments(verbose_output)
    outcomes = {}
    for case in cases:
        outcomes[case.id] = {
            "result": tasks.get(case.id), "before": before[case.id],
            "after": (_files(directories[case.id]), _double_state(doubles.get(case.id))),
            "private_key_lines": keys[case.id], "output": segments.get(case.id, ""), "run_output": verbose_output,
            "directory": directories[case.id]}
    return outcomes


def check_outcome(case, outcome):
    """The assertions every hostile case must pass (see the module text)."""
    result = outcome["result"]
    assert result is not None, "the task did not run: %s" % outcome["output"][-2000:]
    msg = result.get("msg", "")
    assert result.get("failed") is True, "%s did not fail: %s" % (case.id, json.dumps(result)[:2000])
    assert "Traceback" not in json.dumps(result) and "MODULE FAILURE" not in msg, msg
    named = msg.startswith(case.field + ": ") or ((": %s: " % case.field) in msg and case.task.get("ansible.builtin.debug"))
    assert named, "%s: the message does not name %s: %s" % (case.id, case.field, msg)
    assert " Fix: " in msg and case.fix in msg.split(" Fix: ", 1)[1], \
        "%s: the message lacks the fix %r: %s" % (case.id, case.fix, msg)
    assert not result.get("changed"), case.id
    assert outcome["after"] == outcome["before"], "%s changed its files or database" % case.id
    assert outcome["output"], "%s: no -vvv output of its own" % case.id
    shown = json.dumps(result) + outcome["output"]
    for secret in [DQS_KEY] + case.secrets + outcome["private_key_lines"]:
        assert secret not in shown, "%s: a secret shows: %s..." % (case.id, secret[:12])


def check_run(outcomes):
    """No secret anywhere in the whole -vvv run either (the play's start and its recap included)."""
    run_output = next(iter(outcomes.values()))["run_output"]
    for outcome in outcomes.values():
        for secret in [DQS_KEY] + outcome["private_key_lines"]:
            assert secret not in run_output, "a secret shows in the run: %s..." % secret[:12]


def hostile_tests(cases):
    """A hostile test module's tests: its cases run once in one -vvv play, then judged one by one
    (the first function) and the whole run searched for secrets (the second). Bind both to names
    starting with test_ in the module, and the fixture to the name ``outcomes``."""
    cache = {}

    @pytest.fixture
    def outcomes(tmp_path_factory, run_playbook):
        if not cache:
            cache.update(hostile_run(cases, tmp_path_factory.mktemp("hostile"), run_playbook))
        return cache

    @pytest.mark.parametrize("case", cases, ids=repr)
    def each_case(case, outcomes):
        check_outcome(case, outcomes[case.id])

    def whole_run_shows_no_secret(outcomes):
        check_run(outcomes)

    return outcomes, each_case, whole_run_shows_no_secret
