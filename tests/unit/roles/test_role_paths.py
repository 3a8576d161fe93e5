"""Every path a role reads is the path another role writes, per OS family (Debian, RedHat).

Each role's view of its variables is built from the roles' own YAML, with Ansible's precedence:
its defaults and those of the roles it includes with ``public: true`` (lowest), those roles'
exported vars, its own vars/main.yml, then the OS family's vars/<family>.yml that any task file
it runs loads with include_vars. The task files are followed through import_tasks/include_tasks
and include_role/import_role (tasks_from), so a path a role gets from another role is seen the
way Ansible sees it - not as a copy of its own that may say something else.
"""
import functools
import re
from pathlib import Path

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

ROLES = Path(__file__).resolve().parents[3] / "roles"
FAMILIES = ("Debian", "RedHat")
PREFIX = "mailauth.hardening."
FACTS = {"inventory_hostname": "mx1.example.test", "playbook_dir": "/play",
         "ansible_facts": {"fqdn": "mx1.example.test", "os_family": None}}


@functools.lru_cache(maxsize=None)
def _parsed(path):
    return yaml.safe_load(path.read_text()) if path.exists() else None


def load(path):
    return dict(_parsed(path) or {})


def task_list(role, name):
    """The tasks of roles/ROLE/tasks/NAME, blocks flattened."""
    def flat(tasks):
        for task in tasks or []:
            if "block" in task:
                yield from flat(task["block"] + task.get("rescue", []) + task.get("always", []))
            else:
                yield task
    return list(flat(_parsed(ROLES / role / "tasks" / name)))


def _task_file(role, tasks_from, scope):
    """tasks_from, with a variable in it taken from the including tasks' vars or else the including role's defaults."""
    def value(match):
        return str(scope.get(match.group(1), load(ROLES / role / "defaults" / "main.yml").get(match.group(1))))
    return "%s.yml" % re.sub(r"\{\{\s*(\w+)\s*\}\}", value, tasks_from)


def walk(role, name="main.yml", scope=None, seen=None):
    """(role, file, task) for every task ``role``'s ``name`` runs, through every include and import."""
    scope, seen = scope or {}, set() if seen is None else seen
    if (role, name) in seen:
        return
    seen.add((role, name))
    for task in task_list(role, name):
        yield role, name, task
        inner = dict(scope, **(task.get("vars") or {}))
        for key in ("ansible.builtin.import_tasks", "ansible.builtin.include_tasks"):
            if key in task:
                yield from walk(role, task[key], inner, seen)
        for key in ("ansible.builtin.include_role", "ansible.builtin.import_role"):
            if key in task:
                other = task[key]["name"].replace(PREFIX, "")
                yield from walk(other, _task_file(role, task[key].get("tasks_from", "main"), inner), inner, seen)


def public_roles(role, name):
    return [task[key]["name"].replace(PREFIX, "") for _r, _n, task in walk(role, name)
            for key in ("ansible.builtin.include_role", "ansible.builtin.import_role")
            if key in task and task[key].get("public")]


def family_files(role, name):
    """The roles whose vars/<family>.yml a task file loads (include_vars of the OS family)."""
    return [owner for owner, _n, task in walk(role, name)
            if "os_family" in str(task.get("ansible.builtin.include_vars", ""))]


def view(role, name, family, owner=None):
    """The variables a task of ``owner`` (default ``role``) sees when ``role``'s ``name`` runs on ``family``."""
    owner = owner or role
    public = public_roles(role, name)
    values = {}
    for layer in ([ROLES / r / "defaults" / "main.yml" for r in public + [owner]]
                  + [ROLES / r / "vars" / "main.yml" for r in public + [owner]]
                  + [ROLES / r / "vars" / ("%s.yml" % family) for r in family_files(role, name)]):
        values.update(load(layer))
    values.update(FACTS)
    return values


def render(values, expression):
    trusted = {k: trust_as_template(v) if isinstance(v, str) else v for k, v in values.items()}
    return Templar(loader=DataLoader(), variables=trusted).template(trust_as_template(expression))


def users(role, name, variable):
    """The roles whose tasks, run by ``role``'s ``name``, take a path from ``variable`` - directly or
    through a role variable of their vars/main.yml that the task names."""
    pattern = re.compile(r"\{\{\s*%s\b" % re.escape(variable))
    found = []
    for owner, _name, task in walk(role, name):
        role_vars = load(ROLES / owner / "vars" / "main.yml")
        text = str(task)
        text += "".join(str(value) for key, value in role_vars.items() if re.search(r"\b%s\b" % key, text))
        if pattern.search(text) and owner not in found:
            found.append(owner)
    return found


def paths(role, name, variable, family):
    """{owner role: the path} for every role whose task, run by ``role``'s ``name``, uses ``variable``."""
    return dict((owner, render(view(role, name, family, owner), "{{ %s }}" % variable))
                for owner in users(role, name, variable))


# (role, task file, the variable its path comes from) that reads, and the one that writes it.
LINKS = [
    # The DKIM private keys: made by the dkim role, read by the audit and by the rotation, which copies them.
    (("audit", "main.yml", "mailauth_dkim_key_dir"), ("dkim", "main.yml", "mailauth_dkim_key_dir")),
    (("dkim_rotation", "current.yml", "mailauth_dkim_key_dir"), ("dkim", "main.yml", "mailauth_dkim_key_dir")),
    (("dkim_rotation", "main.yml", "mailauth_dkim_key_dir"), ("dkim", "main.yml", "mailauth_dkim_key_dir")),
    (("mail_auth", "postfix.yml", "mailauth_dkim_key_dir"), ("dkim", "main.yml", "mailauth_dkim_key_dir")),
    # The rotation state: written by rotate_dkim, read by harden (mail_auth) and the audit.
    (("mail_auth", "postfix.yml", "mailauth_dkim_rotation_state_file"),
     ("dkim_rotation", "main.yml", "mailauth_dkim_rotation_state_file")),
    (("audit", "main.yml", "mailauth_dkim_rotation_state_file"),
     ("dkim_rotation", "main.yml", "mailauth_dkim_rotation_state_file")),
    # OpenDKIM's tables: the rotation's switch writes them where the dkim role's opendkim.conf points.
    (("dkim", "main.yml", "mailauth_dkim_tables_dir"), ("dkim_rotation", "main.yml", "mailauth_dkim_tables_dir")),
    # Plesk's keys: the rotation reads them where the plesk role does.
    (("dkim_rotation", "plesk.yml", "mailauth_plesk_dkim_keys_dir"), ("plesk", "main.yml", "mailauth_plesk_dkim_keys_dir")),
]
LINK_IDS = ["%s/%s <- %s/%s" % (r[0], r[1], w[0], w[1]) for r, w in LINKS]


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("reader, writer", LINKS, ids=LINK_IDS)
def test_every_path_a_role_reads_is_where_another_role_writes(reader, writer, family):
    (r_role, r_file, r_var), (w_role, w_file, w_var) = reader, writer
    read, written = paths(r_role, r_file, r_var, family), paths(w_role, w_file, w_var, family)
    assert read, "%s/%s does not read through %s: update LINKS" % (r_role, r_file, r_var)
    assert written, "%s/%s does not write through %s: update LINKS" % (w_role, w_file, w_var)
    assert len(set(written.values())) == 1 and list(written.values())[0].startswith("/"), written
    assert set(read.values()) == set(written.values()), "%s: %s/%s reads %s, %s/%s writes %s" % (
        family, r_role, r_file, read, w_role, w_file, written)


def test_the_key_directory_differs_per_family_and_follows_the_dkim_role():
    seen = dict((family, render(view("audit", "main.yml", family), "{{ mailauth_dkim_key_dir }}")) for family in FAMILIES)
    assert seen == {"Debian": "/etc/dkimkeys", "RedHat": "/etc/opendkim/keys"}
    moved = dict(view("audit", "main.yml", "RedHat"), mailauth_dkim_keys_dir="/srv/keys")
    assert render(moved, "{{ mailauth_dkim_key_dir }}") == "/srv/keys"


ROLE_NAMES = sorted(p.name for p in ROLES.iterdir() if (p / "tasks" / "main.yml").exists())


@pytest.mark.parametrize("family", FAMILIES)
def test_no_two_roles_give_one_path_variable_different_values(family):
    """A role's own default for a path another role also defines would drift apart from it (the audit's
    /etc/dkimkeys against the dkim role's /etc/opendkim/keys on EL)."""
    values = {}
    for role in ROLE_NAMES:
        seen = view(role, "main.yml", family)
        own = set(load(ROLES / role / "defaults" / "main.yml")) | set(load(ROLES / role / "vars" / "main.yml"))
        for name in own:
            if re.search(r"_(dir|file|path)$", name) and "playbook_dir" not in str(seen[name]):
                values.setdefault(name, {})[role] = render(seen, "{{ %s }}" % name)
    differing = dict((name, by_role) for name, by_role in values.items() if len(set(by_role.values())) > 1)
    assert differing == {}
