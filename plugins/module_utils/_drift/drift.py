# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Drift: what a check-mode run of the hardening roles would change, as items a person or a machine reads.

The roles register every task that changes a host under a name starting with ``mailauth_result_``.
A check-mode + diff run of them leaves, per host, those results; this file turns the changed ones
into drift items ``{host, component, setting, expected, actual}`` (component: the registered name
without the prefix) and folds a fleet's items into a report of the audit report's family.

Items come from the diffs Ansible modules return, whatever the module: ``main.cf``/``master.cf``
diffs give one item per parameter, service or ``-o`` option, named as postconf names them
(``NAME``, ``SERVICE/TYPE``, ``SERVICE/TYPE/NAME``), ``NAME TXT`` diffs one per DNS name, mapping diffs
one per key that differs, file-content diffs one per changed line. No Ansible callback collects
this, so the drift playbook works from a plain ``ansible-playbook`` and in AWX alike. Secrets are
masked in every item: private keys, Spamhaus DQS keys, values under secret-looking keys and the
values the caller names. Pure: no I/O.
"""

from __future__ import annotations

import difflib
import re

from ansible_collections.mailauth.hardening.plugins.module_utils._records.dnsbl import MASK, mask_dqs

PREFIX = "mailauth_result_"

# main.cf diff lines are "name = value" (or "name =" for an empty value), see _postconf.diff.
_MAIN_LINE = re.compile(r"^(?P<name>[^\s=]+) =(?: (?P<value>.*))?$")
# master.cf -o options are written "service/type/name = value".
_MASTER_OPTION = re.compile(r"^(?P<key>\S+/\S+/\S+) = (?P<value>.*)$")
_PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)", re.DOTALL)
_SECRET_KEY_NAME = re.compile(r"secret|password|passwd|token|private|api_?key|dqs_key", re.IGNORECASE)
# Keys of a mapping diff that say which object it is about rather than how it is.
_IDENTITY_KEYS = ("path", "dest", "domain", "name")
# The setting of a DNS item: an absolute name and the record type (dns_txt's diff header).
_DNS_SETTING = re.compile(r"^\S+\. TXT$")


# --- masking -------------------------------------------------------------------------------------

def _plain(value):
    """Plain JSON types: Ansible hands templated data in as subclasses of str, dict and list."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, dict):
        return dict((str(k), _plain(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return str(value)


class Masker(object):
    """Hides secrets in text: the caller's values, private keys and Spamhaus DQS keys."""

    def __init__(self, values=()):
        # Longest first, so a secret that contains another is hidden whole.
        self.values = sorted(set(str(v) for v in values or () if v not in (None, "") and str(v)),
                             key=len, reverse=True)

    def text(self, text):
        for value in self.values:
            text = text.replace(value, MASK)
        text = _PRIVATE_KEY.sub(MASK + " (private key)", text)
        return mask_dqs(text)

    def __call__(self, value, key=None):
        if key is not None and _SECRET_KEY_NAME.search(str(key)) and value not in (None, "", [], {}):
            return MASK
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return dict((k, self(v, k)) for k, v in value.items())
        if isinstance(value, list):
            return [self(v) for v in value]
        return value


# --- items from one result -----------------------------------------------------------------------

def _item(host, component, setting, expected, actual):
    return {"host": host, "component": component, "setting": setting, "expected": expected, "actual": actual}


def _lines(text):
    return (text or "").splitlines()


def _main_cf(before, after):
    """{parameter: (actual, expected)} from a main.cf diff; None where the parameter is not set."""
    found = {}
    for side, text in ((0, before), (1, after)):
        for line in _lines(text):
            match = _MAIN_LINE.match(line)
            if match:
                pair = found.setdefault(match.group("name"), [None, None])
                pair[side] = match.group("value") or ""
    return found


def _master_cf(before, after):
    """{service/type or service/type/option: (actual, expected)} from a master.cf diff."""
    found = {}
    for side, text in ((0, before), (1, after)):
        for line in _lines(text):
            option = _MASTER_OPTION.match(line)
            if option:
                key, value = option.group("key"), option.group("value")
            else:
                fields = line.split()
                if len(fields) < 2:
                    continue
                key, value = "%s/%s" % (fields[0], fields[1]), line
            found.setdefault(key, [None, None])[side] = value
    return found


def _file_lines(path, before, after):
    """(setting, actual, expected) per changed line of a file, paired in the order they differ."""
    old, new = _lines(before), _lines(after)
    changes = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        for offset in range(max(i2 - i1, j2 - j1)):
            actual = old[i1 + offset] if i1 + offset < i2 else None
            expected = new[j1 + offset] if j1 + offset < j2 else None
            line = j1 + offset + 1 if expected is not None else i1 + offset + 1
            changes.append(("%s:%d" % (path, line), actual, expected))
    return changes


def _header(diff):
    """The file or object a diff is about: a path-like header first (template's after_header is its source)."""
    headers = [diff.get("before_header"), diff.get("after_header")]
    for header in headers:
        if isinstance(header, str) and header.startswith("/"):
            return header
    return next((h for h in headers if isinstance(h, str) and h), "")


def _mapping_items(before, after, header):
    """(setting, actual, expected) per key whose value differs; an identity key names the object."""
    before, after = before or {}, after or {}
    context = next((str(after.get(k, before.get(k))) for k in _IDENTITY_KEYS
                    if after.get(k, before.get(k)) is not None and before.get(k) == after.get(k)), None)
    if context is None and header.startswith("/"):
        context = header
    changes = []
    for key in sorted(set(before) | set(after), key=str):
        if key in _IDENTITY_KEYS and before.get(key) == after.get(key):
            continue
        if before.get(key) != after.get(key):
            setting = "%s: %s" % (context, key) if context else str(key)
            changes.append((setting, before.get(key), after.get(key), key))
    return changes


def _diff_changes(diff, masker):
    """(setting, actual, expected, key) for one Ansible diff entry; [] when its shape is not known.

    Mappings are compared as they are (a changed secret is still a change) and masked per item
    later; text is masked whole before it is cut into lines, since a PEM block spans lines.
    """
    if not isinstance(diff, dict):
        return []
    before, after = diff.get("before"), diff.get("after")
    header = _header(diff)
    if isinstance(before, dict) or isinstance(after, dict):
        return _mapping_items(before if isinstance(before, dict) else {},
                              after if isinstance(after, dict) else {}, header)
    if not isinstance(before, (str, type(None))) or not isinstance(after, (str, type(None))):
        return []
    before, after = masker(before), masker(after)
    if header.endswith("/main.cf"):
        return [(name, pair[0], pair[1], name) for name, pair in _main_cf(before, after).items() if pair[0] != pair[1]]
    if header.endswith("/master.cf"):
        return [(key, pair[0], pair[1], key) for key, pair in _master_cf(before, after).items() if pair[0] != pair[1]]
    if header.endswith(" TXT"):
        # dns_txt: one item per name, the TXT values there one a line (joined strings).
        return [(header, _lines(before), _lines(after), None)]
    if header:
        return [(setting, actual, expected, None) for setting, actual, expected in _file_lines(header, before, after)]
    return []


def _fallback(entry, component):
    """A changed result without a diff this file reads (service, package, command): say what changed."""
    for key in ("dest", "path", "name", "domain"):
        if isinstance(entry.get(key), str) and entry[key]:
            setting = entry[key]
            break
    else:
        label = entry.get("_ansible_item_label", entry.get("item"))
        setting = label if isinstance(label, str) and label else component
    expected = entry.get("state") if isinstance(entry.get("state"), str) else "changed"
    return setting, None, expected, None


def _entries(result):
    """The result of each loop item, or the result itself when the task had no loop."""
    if isinstance(result, dict) and isinstance(result.get("results"), list):
        return [entry for entry in result["results"] if isinstance(entry, dict)]
    return [result] if isinstance(result, dict) else []


def items_from_results(results, host, mask=()):
    """Drift items of one host from its ``mailauth_result_*`` results (name -> registered result).

    Only results (or loop items) that changed count; failed and skipped ones do not. Items are
    sorted by component and setting, so two runs of the same state give the same list.
    """
    masker = Masker(mask)
    items = []
    for name in sorted(results or {}):
        component = name[len(PREFIX):] if name.startswith(PREFIX) else name
        for entry in _entries(results[name]):
            if not entry.get("changed") or entry.get("failed") or entry.get("skipped"):
                continue
            diffs = entry.get("diff")
            diffs = diffs if isinstance(diffs, list) else [diffs] if diffs else []
            changes = [change for diff in diffs for change in _diff_changes(_plain(diff), masker)]
            for setting, actual, expected, key in changes or [_fallback(entry, component)]:
                items.append(_item(str(host), component, masker(_plain(setting)),
                                   masker(_plain(expected), key), masker(_plain(actual), key)))
    return sorted(items, key=_order)


def _order(item):
    return (item["host"], item["component"], item["setting"])


# --- the fleet -----------------------------------------------------------------------------------

def is_dns_item(item):
    return bool(_DNS_SETTING.match(item["setting"]))


def _dns_key(item):
    return (item["setting"], repr(item["expected"]), repr(item["actual"]))


def fold(items_by_host):
    """{host: items} with each DNS drift kept once, under one of the hosts that report it.

    DNS records live at the provider, not on a host: a record published once from the controller
    (run_once) is registered on every host of the play, but it is one drift in the world. It stays
    with the first reporting host (by name) that drifted anyway, else the first: remediating the
    drifted hosts then fixes it without touching a host that has no drift of its own.
    """
    hosts = sorted(items_by_host)
    drifted = set(h for h in hosts if any(not is_dns_item(i) for i in items_by_host[h] or []))
    reporters = {}
    for host in hosts:
        for item in items_by_host[host] or []:
            if is_dns_item(item):
                reporters.setdefault(_dns_key(item), []).append(host)
    owner = dict((key, next((h for h in found if h in drifted), found[0])) for key, found in reporters.items())
    folded = {}
    for host in hosts:
        kept, seen = [], set()
        for item in items_by_host[host] or []:
            if is_dns_item(item):
                if owner[_dns_key(item)] != host or _dns_key(item) in seen:
                    continue
                seen.add(_dns_key(item))
            kept.append(item)
        folded[host] = kept
    return folded


def _plural(count, word):
    return "%d %s%s" % (count, word, "" if count == 1 else "s")


def summary_line(report):
    summary = report["summary"]
    hosts, drifted = summary["hosts"], summary["drifted_hosts"]
    if not hosts:
        return "no host was checked (the host pattern matched none)"
    if summary["items"]:
        line = "drift: %s on %d of %s" % (_plural(summary["items"], "item"), len(drifted), _plural(hosts, "host"))
    else:
        line = "no drift on %s" % _plural(hosts, "host")
    if report["remediate"] and summary["items"]:
        line += "; fixed %s on %s" % (_plural(summary["fixed"], "item"), _plural(len(summary["fixed_hosts"]), "host"))
    if summary["failed_hosts"]:
        line += "; %s failed or unreachable: %s" % (_plural(len(summary["failed_hosts"]), "host"),
                                                    ", ".join(summary["failed_hosts"]))
    return line


def build_report(checked, drift_by_host, fixed_by_host=None, remediate=False, generated=None):
    """The drift report: {ok, remediate, generated, drift, fixed, summary, text, report_text}.

    ``checked``: every host the run meant to check; a host missing from ``drift_by_host`` failed
    or was unreachable during the check. With ``remediate``, a drifted host missing from
    ``fixed_by_host`` failed during the fix. ``ok`` is true when hosts were checked and nothing is
    left drifted or failed.
    """
    drift_by_host = fold(dict((str(h), _plain(v)) for h, v in (drift_by_host or {}).items()))
    fixed_by_host = fold(dict((str(h), _plain(v)) for h, v in (fixed_by_host or {}).items()))
    hosts = sorted(set(str(h) for h in checked or ()) | set(drift_by_host))
    drift = [item for host in sorted(drift_by_host) for item in drift_by_host[host]]
    drifted = sorted(set(item["host"] for item in drift))
    failed = [h for h in hosts if h not in drift_by_host]
    fixed_hosts = []
    fixed = []
    if remediate:
        fixed_hosts = [h for h in drifted if h in fixed_by_host]
        fixed = [item for host in fixed_hosts for item in fixed_by_host[host] or []]
        failed += [h for h in drifted if h not in fixed_by_host]
    counts, grid = {}, {}
    for item in drift:
        counts[item["component"]] = counts.get(item["component"], 0) + 1
        row = grid.setdefault(item["host"], {})
        row[item["component"]] = row.get(item["component"], 0) + 1
    summary = {"hosts": len(hosts), "checked_hosts": hosts, "drifted_hosts": drifted, "items": len(drift),
               "fixed": len(fixed), "fixed_hosts": fixed_hosts, "failed_hosts": sorted(set(failed)),
               "counts": counts, "grid": grid}
    ok = bool(hosts) and not summary["failed_hosts"] and (not drift or (remediate and fixed_hosts == drifted))
    report = {"ok": ok, "remediate": bool(remediate), "generated": generated, "drift": drift, "fixed": fixed,
              "summary": summary}
    # "text" is the one-line summary: chat webhooks (Slack, Mattermost) show it as the message.
    report["text"] = summary_line(report)
    report["report_text"] = render_text(report)
    return report


def _shown(value):
    if value is None:
        return "(absent)"
    if isinstance(value, list):
        return " | ".join(str(v) for v in value) if value else "(none)"
    return str(value)


def _table(items, width):
    rows = [(i["host"], i["component"], i["setting"], "%s -> %s" % (_shown(i["actual"]), _shown(i["expected"])))
            for i in items]
    header = ("host", "component", "setting", "actual -> expected")
    widths = [max(len(r[n]) for r in rows + [header]) for n in range(3)]
    lines = []
    for row in [header] + rows:
        line = "  ".join("%-*s" % (widths[n], row[n]) for n in range(3)) + "  " + row[3]
        lines.append(line if len(line) <= width else line[:width - 3] + "...")
    return lines


def render_text(report, width=160):
    """The summary line, then a table of the drift (and of what was fixed)."""
    lines = [summary_line(report)]
    if report["drift"]:
        lines.extend(_table(report["drift"], width))
    if report["remediate"] and report["fixed"]:
        lines.append("fixed:")
        lines.extend(_table(report["fixed"], width))
    return "\n".join(lines) + "\n"


def stats(report):
    """What set_stats publishes (AWX shows it and passes it on in a workflow): totals and per host."""
    summary = report["summary"]
    per_host = dict((host, sum(summary["grid"].get(host, {}).values())) for host in summary["checked_hosts"])
    return {"ok": report["ok"], "total": summary["items"], "hosts": per_host,
            "drifted_hosts": summary["drifted_hosts"], "failed_hosts": summary["failed_hosts"],
            "fixed": summary["fixed"], "fixed_hosts": summary["fixed_hosts"], "items": report["drift"],
            "text": report["text"]}
