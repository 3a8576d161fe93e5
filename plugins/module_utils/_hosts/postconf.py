# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Postfix configuration as data: read ``postconf`` output, plan the fewest ``postconf`` edits.

Pure: the module runs the commands. Postfix's own ``postconf`` does every edit
(it knows main.cf/master.cf syntax and line folding); this file only parses its
output and decides what to ask it. No Python library models Postfix's list
syntax or master.cf, hence the hand-written parsers.

Terms used throughout (``postconf(1)`` naming):
- parameter: a main.cf ``name = value``;
- service: a master.cf entry, keyed ``name/type`` (``smtp/inet``);
- service parameter: a ``-o name=value`` override of a service, keyed ``name/type/parameter``;
- item: one element of a list-valued parameter (a milter, a restriction with its argument).
"""

from __future__ import annotations

import collections
import re

from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError

SERVICE_TYPES = ("inet", "unix", "unix-dgram", "fifo", "pass")
FLAG_FIELDS = ("private", "unprivileged", "chroot")
SERVICE_FIELDS = FLAG_FIELDS + ("wakeup", "process_limit", "command")
# Parameters whose change needs "postfix stop; postfix start", not a reload (postconf(5)).
RESTART_PARAMETERS = ("inet_interfaces", "inet_protocols")

# List-valued parameters: Postfix reads their values as items separated by commas
# and/or whitespace, so "a b" and "a, b" are the same value. Postfix has no flag
# for this in its output; the names follow these conventions.
LIST_SUFFIXES = ("_restrictions", "_milters", "_maps", "_sites", "_domains", "_networks", "_interfaces",
                 "_protocols", "_classes", "_list", "_macros", "_options", "_exclude_ciphers", "_recipients")
LIST_NAMES = frozenset(("mydestination", "mynetworks", "inet_interfaces", "proxy_interfaces",
                        "authorized_submit_users", "authorized_mailq_users", "authorized_flush_users",
                        "smtpd_sasl_security_options", "masquerade_domains", "masquerade_exceptions",
                        "relay_domains", "permit_mx_backup_networks", "alias_database", "import_environment",
                        "export_environment"))

# smtpd restrictions that take the next list element as their argument
# (postconf(5), "SMTPD ACCESS RESTRICTIONS"). "check_policy_service unix:private/x"
# is one item, managed as a whole.
RESTRICTIONS_WITH_ARGUMENT = frozenset((
    "check_ccert_access", "check_sasl_access", "check_policy_service",
    "check_client_access", "check_client_a_access", "check_client_mx_access", "check_client_ns_access",
    "check_reverse_client_hostname_access", "check_reverse_client_hostname_a_access",
    "check_reverse_client_hostname_mx_access", "check_reverse_client_hostname_ns_access",
    "check_helo_access", "check_helo_a_access", "check_helo_mx_access", "check_helo_ns_access",
    "check_sender_access", "check_sender_a_access", "check_sender_mx_access", "check_sender_ns_access",
    "check_recipient_access", "check_recipient_a_access", "check_recipient_mx_access", "check_recipient_ns_access",
    "reject_rbl_client", "reject_rhsbl_client", "reject_rhsbl_reverse_client", "reject_rhsbl_helo",
    "reject_rhsbl_sender", "reject_rhsbl_recipient", "permit_dnswl_client", "permit_rhswl_client",
))
# A prefix that modifies the restriction after it.
RESTRICTION_PREFIXES = frozenset(("warn_if_reject",))

_PARAMETER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_SERVICE_NAME = re.compile(r"^[^\s/=]+$")
_LIMIT = re.compile(r"^(-|\d+)$")
_WAKEUP = re.compile(r"^(-|\d+\??)$")
_UNUSED = re.compile(r"warning: (?P<path>\S+): unused parameter: (?P<name>[^=\s]+)=")

ValueSpec = collections.namedtuple("ValueSpec", "state value items before after")
ServiceSpec = collections.namedtuple("ServiceSpec", "key name type fields state")
ServiceParameterSpec = collections.namedtuple("ServiceParameterSpec", "key service name spec")
Request = collections.namedtuple("Request", "parameters services service_parameters")
State = collections.namedtuple("State", "parameters services service_parameters")
Plan = collections.namedtuple("Plan", "commands parameters services service_parameters restart_required")
# Plan.parameters / .services / .service_parameters: {key: (before, after)} for what changes;
# None stands for "not there".


# ---------------------------------------------------------------------------
# Postfix list syntax

def split_list(text, separators=", \t\r\n", field=None):
    """Split a value the way Postfix does: on separators outside ``{}``.

    Braces nest anywhere in an element (``${name?{a b}}``, ``{ inet:host:port,
    timeout=10s }``), exactly like Postfix's mystrtokq(). With ``field`` set,
    unbalanced braces raise InputError; output read from postconf is trusted.
    """
    tokens, current, depth = [], "", 0
    for ch in text:
        if ch == "{":
            depth += 1
        elif ch == "}" and depth:
            depth -= 1
        elif ch == "}" and field:
            raise InputError(field, "unbalanced '}' in %r." % text, "close every { with a }.")
        if depth == 0 and ch in separators:
            if current:
                tokens.append(current)
            current = ""
            continue
        current += ch
    if depth and field:
        raise InputError(field, "missing '}' in %r." % text, "close every { with a }.")
    if current:
        tokens.append(current)
    return tokens


def normalise_item(token):
    """One item in a canonical spelling: single spaces; ``{ a, b=c }`` for brace groups."""
    text = " ".join(token.split())
    if text.startswith("{") and text.endswith("}"):
        inner = text[1:-1].strip()
        inner = re.sub(r"\s*,\s*", ", ", inner)
        inner = re.sub(r"\s*=\s*", "=", inner)
        return "{ %s }" % inner
    return " ".join(normalise_item(word) if word.startswith("{") else word for word in split_list(text, " "))


def is_restriction_list(name):
    return name.endswith("_restrictions")


def is_list_parameter(name):
    return name in LIST_NAMES or name.endswith(LIST_SUFFIXES)


def list_items(name, text, field=None):
    """The items of a list value; restrictions keep their argument (and warn_if_reject) with them."""
    tokens = [normalise_item(t) for t in split_list(text or "", field=field)]
    if not is_restriction_list(name):
        return tokens
    items, prefix, index = [], "", 0
    while index < len(tokens):
        token = tokens[index]
        if token.lower() in RESTRICTION_PREFIXES:
            prefix += token + " "
            index += 1
            continue
        if token.lower() in RESTRICTIONS_WITH_ARGUMENT and index + 1 < len(tokens):
            token = "%s %s" % (token, tokens[index + 1])
            index += 1
        items.append(prefix + token)
        prefix = ""
        index += 1
    if prefix:
        items.append(prefix.strip())
    return items


def same_value(name, left, right):
    """Equal as Postfix reads them: by items for list parameters, else by words."""
    if left is None or right is None:
        return left is right
    if is_list_parameter(name):
        return list_items(name, left) == list_items(name, right)
    return left.split() == right.split()


# ---------------------------------------------------------------------------
# Reading postconf output

def parse_parameters(text):
    """``postconf -n`` (or ``-d``, ``-x``): ``name = value`` lines -> {name: value}."""
    values = collections.OrderedDict()
    for line in text.splitlines():
        if not line.strip() or line[0].isspace():
            continue
        name, sep, value = line.partition(" =")
        if sep:
            values[name.strip()] = value.strip()
    return values


def strip_service_options(command):
    """A master.cf command without its ``-o name=value`` / ``-o {name=value}`` options (managed by -P)."""
    words = split_list(command, " \t")
    kept, index = [], 0
    while index < len(words):
        word = words[index]
        if word == "-o":
            index += 2
            continue
        if word.startswith("-o") and len(word) > 2:
            index += 1
            continue
        kept.append(word)
        index += 1
    return " ".join(kept)


def parse_services(text):
    """``postconf -M``: one entry a line -> {"name/type": {field: value}} (command without -o)."""
    services = collections.OrderedDict()
    for line in text.splitlines():
        if not line.strip() or line[0].isspace():
            continue
        parts = line.split(None, 7)
        if len(parts) < 8:
            continue
        fields = dict(zip(("private", "unprivileged", "chroot", "wakeup", "process_limit"), parts[2:7]))
        fields["command"] = strip_service_options(parts[7])
        services["%s/%s" % (parts[0], parts[1])] = fields
    return services


def parse_service_parameters(text):
    """``postconf -P``: ``name/type/parameter = value`` lines -> {key: value}."""
    return parse_parameters(text)


def unused_parameters(stderr):
    """{(file basename, name)} that postconf warns are unused, i.e. unknown to Postfix."""
    found = set()
    for match in _UNUSED.finditer(stderr or ""):
        found.add((match.group("path").rsplit("/", 1)[-1], match.group("name")))
    return found


# ---------------------------------------------------------------------------
# Validating the wanted state

def _text(field, value):
    """A scalar as Postfix writes it: booleans yes/no, numbers as digits, one line."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        return str(value)
    if not isinstance(value, str):
        raise InputError(field, "expected text, a number or a boolean, got %s." % type(value).__name__)
    if "\n" in value or "\r" in value:
        raise InputError(field, "a Postfix value is one line.", "join the lines with spaces or commas.")
    return value.strip()


def _items(name, field, raw):
    """Wanted items, each checked to be exactly one item of ``name``'s list."""
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, (list, tuple)) or not raw:
        raise InputError(field, "items must be a non-empty list.", "write items: [item, ...].")
    items = []
    for index, value in enumerate(raw):
        item_field = "%s[%d]" % (field, index)
        parsed = list_items(name, _text(item_field, value), item_field)
        if len(parsed) != 1:
            raise InputError(item_field, "%r holds %d list items, not one." % (value, len(parsed)),
                             "give each item as its own list element.")
        if parsed[0] not in items:
            items.append(parsed[0])
    return items


def parse_value_spec(name, field, raw):
    """A wanted value: scalar, list (the whole value) or ``{value|items, state, before, after}``."""
    if raw is None:
        raise InputError(field, "no value given.", "give a value, or {state: absent} to remove it.")
    if not isinstance(raw, dict):
        if isinstance(raw, (list, tuple)):
            return ValueSpec("present", _items(name, field, raw), None, None, None)
        text = _text(field, raw)
        if is_list_parameter(name):
            split_list(text, field=field)  # refuse unbalanced braces before postconf sees them
        return ValueSpec("present", text, None, None, None)
    unknown = sorted(set(raw) - {"value", "items", "state", "before", "after"})
    if unknown:
        raise InputError(field, "unknown key(s) %s." % ", ".join(unknown), "use value, items, state, before, after.")
    state = raw.get("state", "present")
    if state not in ("present", "absent"):
        raise InputError(field + ".state", "must be present or absent, not %r." % (state,))
    if "value" in raw and "items" in raw:
        raise InputError(field, "value and items exclude each other.",
                         "use value for the whole value, items to manage single list items.")
    if raw.get("before") is not None and raw.get("after") is not None:
        raise InputError(field, "before and after exclude each other.", "anchor the items to one neighbour.")
    if "items" in raw:
        items = _items(name, field + ".items", raw["items"])
        anchors = {}
        for key in ("before", "after"):
            if raw.get(key) is not None:
                anchor = list_items(name, _text(field + "." + key, raw[key]), field + "." + key)
                if len(anchor) != 1:
                    raise InputError(field + "." + key, "must be one list item, not %r." % (raw[key],))
                if anchor[0] in items:
                    raise InputError(field + "." + key, "%r is one of the items it anchors." % anchor[0],
                                     "anchor to an item outside the list you manage.")
                anchors[key] = anchor[0]
        return ValueSpec(state, None, items, anchors.get("before"), anchors.get("after"))
    if raw.get("before") is not None or raw.get("after") is not None:
        raise InputError(field, "before/after apply to items only.", "use items: [...] with before/after.")
    if state == "absent":
        if "value" in raw:
            raise InputError(field, "state absent removes the parameter; it takes no value.", "drop value.")
        return ValueSpec("absent", None, None, None, None)
    if "value" not in raw:
        raise InputError(field, "no value and no items given.", "give value: or items:.")
    return parse_value_spec(name, field, raw["value"])


def check_parameter_name(field, name):
    if not isinstance(name, str) or not name:
        raise InputError(field, "a parameter name must be non-empty text.")
    if "/" in name:
        raise InputError(field, "%r is a per-service (master.cf -o) parameter, not a main.cf one." % name,
                         "put it under service_parameters as SERVICE/TYPE/NAME.")
    if not _PARAMETER_NAME.match(name):
        raise InputError(field, "%r is not a Postfix parameter name." % name,
                         "use letters, digits and underscores as in postconf(5).")
    return name


def _flag(field, value):
    if isinstance(value, bool):
        return "y" if value else "n"
    text = str(value).strip().lower()
    text = {"yes": "y", "no": "n", "true": "y", "false": "n"}.get(text, text)
    if text not in ("y", "n", "-"):
        raise InputError(field, "must be y, n or - (the default), not %r." % (value,))
    return text


def _limit(field, value, pattern, example):
    if isinstance(value, bool):
        raise InputError(field, "must be a number or -, not a boolean.")
    text = str(value).strip()
    if not pattern.match(text):
        raise InputError(field, "%r is not a number or -." % (value,), "use e.g. %s." % example)
    return text


def parse_service(field, raw):
    """A wanted master.cf service: {name, type, private, unprivileged, chroot, wakeup, process_limit, command, state}."""
    if not isinstance(raw, dict):
        raise InputError(field, "a service must be a mapping with name and type.")
    known = set(SERVICE_FIELDS) | {"name", "type", "state"}
    unknown = sorted(k for k, v in raw.items() if k not in known and v is not None)
    if unknown:
        raise InputError(field, "unknown key(s) %s." % ", ".join(unknown),
                         "use name, type, %s, state; -o options go in service_parameters." % ", ".join(SERVICE_FIELDS))
    name = raw.get("name")
    if not isinstance(name, str) or not _SERVICE_NAME.match(name):
        raise InputError(field + ".name", "%r is not a master.cf service name." % (name,), "e.g. smtp or submission.")
    stype = raw.get("type")
    if stype not in SERVICE_TYPES:
        raise InputError(field + ".type", "%r is not a master.cf service type." % (stype,),
                         "use one of %s." % ", ".join(SERVICE_TYPES))
    state = raw.get("state") or "present"
    if state not in ("present", "absent"):
        raise InputError(field + ".state", "must be present or absent, not %r." % (state,))
    fields = collections.OrderedDict()
    for key in FLAG_FIELDS:
        if raw.get(key) is not None:
            fields[key] = _flag("%s.%s" % (field, key), raw[key])
    if raw.get("wakeup") is not None:
        fields["wakeup"] = _limit(field + ".wakeup", raw["wakeup"], _WAKEUP, "60 or 1000?")
    if raw.get("process_limit") is not None:
        fields["process_limit"] = _limit(field + ".process_limit", raw["process_limit"], _LIMIT, "0 or 100")
    if raw.get("command") is not None:
        command = _text(field + ".command", raw["command"])
        if not command:
            raise InputError(field + ".command", "the command is empty.", "name the daemon, e.g. smtpd.")
        words = split_list(command, " \t", field + ".command")
        if any(word == "-o" or word.startswith("-o") for word in words):
            raise InputError(field + ".command", "holds -o options.",
                             "put them in service_parameters as %s/%s/NAME: VALUE." % (name, stype))
        fields["command"] = " ".join(normalise_item(w) if w.startswith("{") else w for w in words)
    return ServiceSpec("%s/%s" % (name, stype), name, stype, fields, state)


def parse_request(parameters=None, services=None, service_parameters=None):
    """Validate everything a task asks for; raise InputError before anything is touched."""
    wanted_parameters = collections.OrderedDict()
    for name, raw in (parameters or {}).items():
        field = "parameters.%s" % name
        check_parameter_name(field, name)
        wanted_parameters[name] = parse_value_spec(name, field, raw)
    wanted_services = collections.OrderedDict()
    for index, raw in enumerate(services or []):
        service = parse_service("services[%d]" % index, raw)
        if service.key in wanted_services:
            raise InputError("services[%d]" % index, "%s is listed twice." % service.key, "merge the two entries.")
        wanted_services[service.key] = service
    wanted_service_parameters = collections.OrderedDict()
    for key, raw in (service_parameters or {}).items():
        field = "service_parameters.%s" % key
        parts = key.split("/") if isinstance(key, str) else []
        if len(parts) != 3 or not all(parts):
            raise InputError(field, "%r is not SERVICE/TYPE/PARAMETER." % (key,), "e.g. submission/inet/smtpd_tls_security_level.")
        if parts[1] not in SERVICE_TYPES:
            raise InputError(field, "%r is not a master.cf service type." % parts[1],
                             "use one of %s." % ", ".join(SERVICE_TYPES))
        check_parameter_name(field, parts[2])
        spec = parse_value_spec(parts[2], field, raw)
        wanted_service_parameters[key] = ServiceParameterSpec(key, "%s/%s" % (parts[0], parts[1]), parts[2], spec)
    return Request(wanted_parameters, wanted_services, wanted_service_parameters)


# ---------------------------------------------------------------------------
# Planning

def default_names(request, state):
    """Parameters whose built-in default is the base for item edits (not set where the items go).

    Adding an item to a parameter main.cf does not set must start from Postfix's
    default, not from nothing: starting smtpd_relay_restrictions from nothing would
    drop its default defer_unauth_destination and make an open relay.
    """
    names = []
    for name, spec in request.parameters.items():
        if spec.items is not None and name not in state.parameters:
            names.append(name)
    for key, sp in request.service_parameters.items():
        if sp.spec.items is not None and key not in state.service_parameters and sp.name not in state.parameters:
            names.append(sp.name)
    return sorted(set(names))


def needs_expansion(defaults):
    """Defaults written as compatibility-level conditionals (``${{$compatibility_level} <level ...}``):
    only their expanded value (``postconf -x``) is a usable list."""
    return sorted(name for name, value in defaults.items() if "${{" in value)


def place_items(current, spec):
    """The item list after applying ``spec`` (present/absent, before/after) to ``current``."""
    result = list(current)
    if spec.state == "absent":
        return [item for item in result if item not in spec.items]
    anchor = spec.before or spec.after
    anchor_at = _find_anchor(result, anchor) if anchor else None
    misplaced = []
    if anchor_at is not None:
        for item in spec.items:
            if item in result:
                at = result.index(item)
                if (spec.before and at > anchor_at) or (spec.after and at < anchor_at):
                    misplaced.append(item)
    to_place = [item for item in spec.items if item not in result or item in misplaced]
    if not to_place:
        return result
    result = [item for item in result if item not in to_place]
    anchor_at = _find_anchor(result, anchor) if anchor else None
    if anchor_at is None:
        position = len(result)
    else:
        position = anchor_at if spec.before else anchor_at + 1
    return result[:position] + to_place + result[position:]


def _find_anchor(items, anchor):
    """Index of the anchor: the exact item, else the first item whose first word it is."""
    if anchor in items:
        return items.index(anchor)
    for index, item in enumerate(items):
        if item.split(" ", 1)[0] == anchor:
            return index
    return None


def _wanted_value(name, spec, current, base, separator):
    """The value to write, None to remove, or ``current`` itself when nothing changes.

    ``current`` is what the file sets (None: not set, so Postfix uses ``base``,
    the default or the main.cf value a service inherits). Items already in the
    effective value leave an unset parameter unset.
    """
    if spec.state == "absent" and spec.items is None:
        return None
    if spec.items is not None:
        start = current if current is not None else (base or "")
        before = list_items(name, start)
        after = place_items(before, spec)
        if after == before:
            return current
        return separator.join(after)
    if isinstance(spec.value, list):
        return separator.join(spec.value)
    return spec.value


def _entry(key, fields, options):
    """A master.cf entry for ``postconf -M``; -o values with blanks in brace form (Postfix >= 3.0)."""
    name, stype = key.split("/", 1)
    words = [name, stype] + [fields.get(f, "-") for f in SERVICE_FIELDS[:-1]] + [fields["command"]]
    for option, value in options:
        if any(ch.isspace() for ch in value):
            words.append("-o { %s = %s }" % (option, value))
        else:
            words.append("-o %s=%s" % (option, value))
    return " ".join(words)


def _service_options(key, service_parameters):
    prefix = key + "/"
    return [(k[len(prefix):], v) for k, v in service_parameters.items() if k.startswith(prefix)]


def plan(request, state, defaults=None):
    """The postconf commands (argument lists after ``postconf -c DIR``) and the before/after of each change.

    Commands come in the order their effects depend on: services exist before
    their -o parameters, and service-derived main.cf names (``policyd-spf_time_limit``)
    are set after their service.
    """
    defaults = defaults or {}
    services_after = collections.OrderedDict((k, dict(v)) for k, v in state.services.items())
    rewrite, field_edits, removed = [], [], []
    for key, spec in request.services.items():
        current = state.services.get(key)
        if spec.state == "absent":
            if current is not None:
                removed.append(key)
                del services_after[key]
            continue
        if current is None:
            if "command" not in spec.fields:
                raise InputError("services.%s.command" % key, "%s does not exist yet and has no command." % key,
                                 "give the daemon, e.g. command: smtpd.")
            services_after[key] = dict(spec.fields)
            rewrite.append(key)
            continue
        after = services_after[key]
        for field, value in spec.fields.items():
            if field == "command":
                if value.split() != after["command"].split():
                    after["command"] = value
                    if key not in rewrite:
                        rewrite.append(key)
            elif after.get(field) != value:
                after[field] = value
                field_edits.append((key, field, value))

    options_after = collections.OrderedDict(state.service_parameters)
    for key in list(options_after):
        if key.rsplit("/", 1)[0] in removed:
            del options_after[key]
    option_sets, option_unsets = [], []
    for key, sp in request.service_parameters.items():
        field = "service_parameters.%s" % key
        if sp.service not in services_after:
            raise InputError(field, "service %s is not in master.cf%s." % (
                sp.service, " (this task removes it)" if sp.service in removed else ""),
                "add it under services, or fix the name.")
        current = options_after.get(key)
        base = state.parameters.get(sp.name, defaults.get(sp.name))
        value = _wanted_value(sp.name, sp.spec, current, base, ",")
        if value is None:
            if current is not None:
                del options_after[key]
                option_unsets.append(key)
        elif current is None or not same_value(sp.name, current, value):
            options_after[key] = value
            option_sets.append(key)
            if any(ch.isspace() for ch in value) and sp.service not in rewrite:
                # postconf -P refuses blanks in a value; only a whole -M entry can carry them.
                rewrite.append(sp.service)

    parameters_after = collections.OrderedDict(state.parameters)
    parameter_sets, parameter_unsets = [], []
    for name, spec in request.parameters.items():
        current = state.parameters.get(name)
        value = _wanted_value(name, spec, current, defaults.get(name), ", ")
        if value is None:
            if current is not None:
                del parameters_after[name]
                parameter_unsets.append(name)
        elif current is None or not same_value(name, current, value):
            parameters_after[name] = value
            parameter_sets.append(name)

    commands = []
    if rewrite:
        commands.append(["-M"] + ["%s=%s" % (key, _entry(key, services_after[key], _service_options(key, options_after)))
                                  for key in rewrite])
    edits = ["%s/%s=%s" % (key, field, value) for key, field, value in field_edits if key not in rewrite]
    if edits:
        commands.append(["-F"] + edits)
    if removed:
        commands.append(["-MX"] + removed)
    sets = [k for k in option_sets if k.rsplit("/", 1)[0] not in rewrite]
    if sets:
        commands.append(["-P"] + ["%s=%s" % (k, options_after[k]) for k in sets])
    unsets = [k for k in option_unsets if k.rsplit("/", 1)[0] not in rewrite]
    if unsets:
        commands.append(["-PX"] + unsets)
    if parameter_sets:
        commands.append(["-e"] + ["%s=%s" % (n, parameters_after[n]) for n in parameter_sets])
    if parameter_unsets:
        commands.append(["-X"] + parameter_unsets)

    changed_services = collections.OrderedDict()
    for key in rewrite + [k for k, _f, _v in field_edits] + removed:
        changed_services[key] = (_line(key, state.services.get(key)), _line(key, services_after.get(key)))
    changed_options = collections.OrderedDict(
        (k, (state.service_parameters.get(k), options_after.get(k)))
        for k in option_sets + option_unsets)
    # A command change drops the old -o options unless they are written back: show all of them.
    for key in rewrite:
        for option, value in _service_options(key, options_after):
            full = "%s/%s" % (key, option)
            if full not in changed_options and state.service_parameters.get(full) != value:
                changed_options[full] = (state.service_parameters.get(full), value)
    changed_parameters = collections.OrderedDict(
        (n, (state.parameters.get(n), parameters_after.get(n))) for n in parameter_sets + parameter_unsets)
    restart = any(n in RESTART_PARAMETERS for n in changed_parameters)
    return Plan(commands, changed_parameters, changed_services, changed_options, restart)


def _line(key, fields):
    if fields is None:
        return None
    return _entry(key, fields, [])


# ---------------------------------------------------------------------------
# After the change

def unknown_parameters(request, plan_, stderr):
    """Raise InputError naming every planned parameter postconf calls unused (= unknown to Postfix).

    postconf knows built-in names, names derived from master.cf services
    (``policyd-spf_time_limit``), legacy aliases and user-defined names that other
    values reference as ``$name``; anything else it reports as unused. That is
    why the plan is applied to a scratch copy first and this judged there:
    ``postconf -d`` alone misses the derived and user-defined names.
    """
    unused = unused_parameters(stderr)
    bad = ["parameters.%s" % name for name, (_b, after) in plan_.parameters.items()
           if after is not None and ("main.cf", name) in unused]
    for key, (_b, after) in plan_.service_parameters.items():
        if after is not None and ("master.cf", key.rsplit("/", 1)[1]) in unused:
            bad.append("service_parameters.%s" % key)
    if bad:
        raise InputError(bad[0] if len(bad) == 1 else "parameters",
                         "Postfix does not know %s (postconf reports %s unused)." % (
                             ", ".join(b.split(".", 1)[1] for b in bad), "it" if len(bad) == 1 else "them"),
                         "check the spelling against `postconf -d`; a user-defined parameter must be referenced "
                         "as $name by another value.")


def diff(plan_, config_dir):
    """Ansible diffs of the lines that change: main.cf parameters; master.cf entries and -o options."""
    result = []
    main_before, main_after = [], []
    for name, (before, after) in plan_.parameters.items():
        if before is not None:
            main_before.append(("%s = %s" % (name, before)).rstrip())
        if after is not None:
            main_after.append(("%s = %s" % (name, after)).rstrip())
    if plan_.parameters:
        result.append({"before_header": "%s/main.cf" % config_dir, "after_header": "%s/main.cf" % config_dir,
                       "before": _lines(main_before), "after": _lines(main_after)})
    master_before, master_after = [], []
    for _key, (before, after) in plan_.services.items():
        if before is not None:
            master_before.append(before)
        if after is not None:
            master_after.append(after)
    for key, (before, after) in plan_.service_parameters.items():
        if before is not None:
            master_before.append("%s = %s" % (key, before))
        if after is not None:
            master_after.append("%s = %s" % (key, after))
    if plan_.services or plan_.service_parameters:
        result.append({"before_header": "%s/master.cf" % config_dir, "after_header": "%s/master.cf" % config_dir,
                       "before": _lines(master_before), "after": _lines(master_after)})
    return result


def _lines(lines):
    return "".join(line + "\n" for line in lines)
