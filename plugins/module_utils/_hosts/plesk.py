# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plesk's mail authentication settings: read them from the psa database, change them with its CLI.

What is known about Plesk and what is guessed is in docs/plesk.md. In short: state is read with
``plesk db -Ne SQL``; server-wide settings live in ServiceNodeConfiguration (Plesk 18.0.64) or,
on older versions, in misc [guess]; a setting row that is absent means its default. Only some
``plesk bin mailserver`` option spellings are confirmed, so the others are discovered in the
utility's ``--help`` text and never guessed blindly. Nothing here runs a process: everything goes
through a ``run(argv) -> (rc, stdout, stderr)`` callable for ``plesk ARGV`` (the seam unit tests
feed with canned output). No library speaks Plesk, hence this file.
"""

from __future__ import annotations

import collections
import errno
import os
import re

from ansible_collections.mailauth.hardening.plugins.module_utils._records.dkim_record import (
    HAS_CRYPTOGRAPHY, build_dkim_record, key_type_of, public_key_b64, require_cryptography)
from ansible_collections.mailauth.hardening.plugins.module_utils._records.dnsbl import build_site
from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError

if HAS_CRYPTOGRAPHY:
    from cryptography.hazmat.primitives import serialization

PANEL_PATH = "Tools & Settings > Mail Server Settings"
SERVICE_NODE_ID = 1
MAIL_SECTION = "mailServer"
DKIM_SELECTOR = "default"  # Plesk signs with this fixed selector [seen]
SUPPORTED_MTA = "Postfix"

# Plesk's SPF modes in the order of its UI; spf_behavior stores the position 1..6 [guess: numbering].
SPF_MODES = ("headers_only", "temperror_on_dns", "reject_fail", "reject_softfail", "reject_neutral",
             "reject_unless_pass")

_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off", "")


class PleskError(Exception):
    """Plesk said no, or said something this collection does not understand."""


class Setting(collections.namedtuple("Setting", "name psa_name kind default")):
    """A server-wide mail setting: module name, psa row name, kind, value when the row is absent."""

    __slots__ = ()


SETTINGS = (
    Setting("dnsbl_enabled", "rbl", "bool", False),
    Setting("dnsbl_zones", "rbl_server", "zones", []),
    Setting("spf_enabled", "spf_enabled", "bool", False),
    Setting("spf_mode", "spf_behavior", "mode", "headers_only"),
    Setting("spf_local_rules", "spf_rules", "text", ""),
    Setting("spf_guess_rules", "spf_guess", "text", ""),
    Setting("spf_explanation", "spf_exp", "text", ""),
    Setting("dkim_sign", "domain_keys_sign", "bool", False),
    Setting("dkim_verify", "domain_keys_verify", "bool", False),
    Setting("dmarc_enabled", "dmarc_policy", "bool", False),
)
SETTING_NAMES = tuple(s.name for s in SETTINGS)
_BY_NAME = dict((s.name, s) for s in SETTINGS)

# What each change is called in cli_options, and the spellings looked for in `mailserver --help`,
# confirmed ones first. dnsbl_zones is changed by "replace" when offered, else by "add"/"remove".
OPTION_CANDIDATES = collections.OrderedDict((
    ("dnsbl_enabled", ("--set-maps-status",)),                                   # seen
    ("dnsbl_zones_replace", ("--set-maps-zone", "--set-maps-zones")),            # seen on Windows only
    ("dnsbl_zones_add", ("--add-maps-zone", "--add-maps-zones")),                # seen
    ("dnsbl_zones_remove", ("--remove-maps-zone", "--remove-maps-zones", "--del-maps-zone",
                            "--delete-maps-zone")),
    ("spf_enabled", ("--set-spf-status", "--spf-status", "--set-spf-enabled", "--set-spf")),
    ("spf_mode", ("--set-spf-behavior", "--spf-behavior", "--set-spf-mode", "--spf-mode")),
    ("spf_local_rules", ("--set-spf-rules", "--spf-rules", "--set-spf-local-rules")),
    ("spf_guess_rules", ("--set-spf-guess", "--spf-guess", "--set-spf-guess-rules")),
    ("spf_explanation", ("--set-spf-exp", "--spf-exp", "--set-spf-explanation")),
    ("dkim_sign", ("--sign-outgoing-mail",)),                                    # seen
    ("dkim_verify", ("--verify-incoming-mail",)),                                # seen
    ("dmarc_enabled", ("--set-dmarc-status", "--dmarc-status", "--set-dmarc", "--set-dmarc-policy")),
))
CLI_OPTION_NAMES = tuple(OPTION_CANDIDATES)

MTA_QUERY = ("SELECT value FROM ServiceNodeEnvironment WHERE serviceNodeId = %d AND section = 'mail'"
             " AND name = 'SMTP_Server'" % SERVICE_NODE_ID)
HELP_ARGV = ["bin", "mailserver", "--help"]

_NAME_LIST = ", ".join("'%s'" % s.psa_name for s in SETTINGS)
SETTINGS_QUERY = ("SELECT name, value FROM ServiceNodeConfiguration WHERE serviceNodeId = %d AND section = '%s'"
                  " AND name IN (%s)" % (SERVICE_NODE_ID, MAIL_SECTION, _NAME_LIST))
MISC_QUERY = "SELECT param, val FROM misc WHERE param IN (%s)" % _NAME_LIST


# --- running plesk -------------------------------------------------------------------------------

def _unescape(field):
    """Undo the mysql client's batch-mode escapes (\\t \\n \\0 \\\\); NULL is None."""
    if field == "NULL":
        return None
    if "\\" not in field:
        return field
    return re.sub(r"\\(.)", lambda m: {"t": "\t", "n": "\n", "0": "\0"}.get(m.group(1), m.group(1)), field)


def parse_rows(out):
    """Rows of `plesk db -Ne` output (tab-separated, no header) as lists of strings or None."""
    return [[_unescape(field) for field in line.split("\t")] for line in out.splitlines() if line != ""]


def is_missing_table(err):
    return "ERROR 1146" in err or "doesn't exist" in err


class DbError(PleskError):
    def __init__(self, message, missing_table=False):
        super().__init__(message)
        self.missing_table = missing_table


class PleskCli(object):
    """``plesk`` through ``run(argv) -> (rc, out, err)``, where argv follows the word plesk."""

    def __init__(self, run):
        self.run = run
        self.commands = []

    def query(self, sql):
        rc, out, err = self.run(["db", "-Ne", sql])
        if rc != 0:
            raise DbError(db_failed_message(rc, err or out), missing_table=is_missing_table(err or out))
        return parse_rows(out)

    def help_text(self, utility):
        rc, out, err = self.run(["bin", utility, "--help"])
        if rc != 0 and not help_options(out):
            raise PleskError("`plesk bin %s --help` failed (exit %d): %s" % (utility, rc, _short(err or out)))
        return out

    def change(self, argv, applied):
        """Run a changing command; on failure say what had already been applied."""
        rc, out, err = self.run(argv)
        if rc != 0:
            raise PleskError(command_failed_message(argv, rc, err or out, applied))
        applied.append(command_text(argv))


PLESK_DIRS = ("/usr/sbin", "/usr/local/psa/bin", "/opt/psa/bin")


def command_runner(module, command="plesk"):
    """``run(argv after the word plesk)`` for an AnsibleModule, with LC_ALL=C: Plesk's messages are parsed in English.

    ``command`` is a path, or a name looked up on PATH and then in PLESK_DIRS; None when it is not found.
    """
    path = command if os.path.isabs(command) else module.get_bin_path(command, opt_dirs=list(PLESK_DIRS))
    if not path:
        return None
    return lambda argv: module.run_command([path] + list(argv), environ_update=dict(LC_ALL="C", LANG="C"))


def provider_adapter(module, params):
    """The Plesk CLI for the DNS modules' plesk back end (None for the others); a missing command is
    an OSError the back end explains (run the task on the Plesk host)."""
    if params.get("provider") != "plesk":
        return None

    def missing(argv):
        raise OSError(errno.ENOENT, "command not found")

    return PleskCli(command_runner(module, params["plesk_command"] or "plesk") or missing)


def module_cli(module):
    """A PleskCli for an AnsibleModule: find ``plesk`` (PATH first) or fail saying where we looked."""
    run = command_runner(module)
    if run is None:
        module.fail_json(msg=not_found_message(PLESK_DIRS))
    return PleskCli(run)


def _short(text, limit=400):
    text = (text or "").strip()
    return text if len(text) <= limit else text[:limit] + "..."


def command_text(argv):
    """`plesk ...` as a person would type it (for results and messages)."""
    return "plesk " + " ".join(a if a and re.match(r"^[\w.,:=@%+/\[\]-]+$", a) else "'%s'" % a.replace("'", "'\\''")
                               for a in argv)


def db_failed_message(rc, err):
    return "`plesk db` failed (exit %d): %s" % (rc, _short(err))


def command_failed_message(argv, rc, err, applied):
    return ("`%s` failed (exit %d): %s. Applied before this failure: %s."
            % (command_text(argv), rc, _short(err), "; ".join(applied) if applied else "nothing"))


def not_found_message(dirs):
    return ("The plesk command was not found in PATH or in %s: these modules run on a Plesk server "
            "(Plesk Obsidian 18 for Linux)." % ", ".join(dirs))


# --- the MTA ---------------------------------------------------------------------------------------

def check_mta(cli):
    """Refuse anything but Postfix: Plesk's qmail behaves differently and is not modelled."""
    try:
        rows = cli.query(MTA_QUERY)
    except DbError as err:
        if not err.missing_table:
            raise
        rows = []
    mta = rows[0][0] if rows and rows[0] and rows[0][0] else None
    if mta is None:
        raise PleskError("Cannot tell which mail server this Plesk uses: ServiceNodeEnvironment has no mail/"
                         "SMTP_Server row. mailauth.hardening supports Plesk Obsidian 18 with Postfix only and "
                         "does not guess.")
    if mta.lower() != SUPPORTED_MTA.lower():
        raise PleskError("This Plesk server uses %s as its mail server (ServiceNodeEnvironment SMTP_Server=%s). "
                         "mailauth.hardening supports Plesk with Postfix only and will not guess how %s behaves: "
                         "switch the mail server to Postfix (Tools & Settings > Updates > Add/Remove Components) "
                         "or leave this host out." % (mta, mta, mta))
    return mta


# --- reading settings --------------------------------------------------------------------------------

def read_raw_settings(cli):
    """psa name -> value: ServiceNodeConfiguration first, then misc for names it lacks."""
    raw = {}
    try:
        raw.update((row[0], row[1]) for row in cli.query(SETTINGS_QUERY) if len(row) >= 2)
    except DbError as err:
        if not err.missing_table:  # older Plesk: no such table, everything is in misc
            raise
    if len(raw) < len(SETTINGS):
        try:
            rows = cli.query(MISC_QUERY)
        except DbError as err:
            if not err.missing_table:
                raise
            rows = []
        for row in rows:
            if len(row) >= 2 and row[0] not in raw:
                raw[row[0]] = row[1]
    return raw


def _not_understood(setting, value):
    return PleskError("Plesk's %s setting (%s) holds %r, which this module does not understand. Check it in %s."
                      % (setting.name, setting.psa_name, value, PANEL_PATH))


def parse_zones(value):
    """rbl_server text -> zone list; Plesk's separator is unconfirmed, so ; , and blanks all split."""
    return [z for z in re.split(r"[;,\s]+", value or "") if z]


def decode_setting(setting, value):
    """A psa value (None when the row is absent) -> the module's value."""
    if value is None:
        return list(setting.default) if isinstance(setting.default, list) else setting.default
    if setting.kind == "bool":
        low = value.strip().lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        raise _not_understood(setting, value)
    if setting.kind == "mode":
        if value.strip() in [str(i) for i in range(1, len(SPF_MODES) + 1)]:
            return SPF_MODES[int(value) - 1]
        raise _not_understood(setting, value)
    if setting.kind == "zones":
        return parse_zones(value)
    return value


def settings_from_raw(raw):
    return dict((s.name, decode_setting(s, raw.get(s.psa_name))) for s in SETTINGS)


def read_settings(cli):
    return settings_from_raw(read_raw_settings(cli))


# --- wanted state --------------------------------------------------------------------------------

def plesk_zone(entry, field, dqs_key=None):
    """A DNSBL entry (text or {zone, reply, dqs_key}) -> Plesk's ``zone[=filter]`` item.

    The Spamhaus reply-filter rule of _dnsbl applies: Plesk hands the item to Postfix as
    ``reject_rbl_client ITEM`` [seen]. Plesk has no weights; positive ones are ignored.
    ``dqs_key`` moves public Spamhaus zones without a key of their own to the Data Query Service.
    """
    site = build_site(entry, field, dqs_key or None)
    if site.allowlist:
        raise InputError(field, "%s has a negative weight (an allowlist); Plesk's DNSBL protection only blocks."
                         % site.shown, "leave allowlists out of dnsbl_zones.")
    return site.zone + ("=" + site.reply if site.reply else "")


def wanted_settings(params):
    """Module parameters -> {setting: value} for the settings the user set (None = leave alone)."""
    wanted = {}
    for name in SETTING_NAMES:
        value = params.get(name)
        if value is None:
            continue
        if name == "dnsbl_zones":
            value = _unique([plesk_zone(entry, "dnsbl_zones[%d]" % i, params.get("dqs_key"))
                             for i, entry in enumerate(value)])
        elif name == "spf_mode" and value not in SPF_MODES:
            raise InputError("spf_mode", "%r is not one of Plesk's SPF modes." % value,
                             "use one of: %s." % ", ".join(SPF_MODES))
        wanted[name] = value
    unknown = sorted(set(params.get("cli_options") or {}) - set(CLI_OPTION_NAMES))
    if unknown:
        raise InputError("cli_options", "unknown key(s) %s." % ", ".join(unknown),
                         "use some of: %s." % ", ".join(CLI_OPTION_NAMES))
    return wanted


def _unique(items):
    seen = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen


def _same(name, left, right):
    if name == "dnsbl_zones":
        return set(z.lower() for z in left) == set(z.lower() for z in right)
    return left == right


def check_dkim_dmarc_rule(current, wanted):
    """Plesk will not switch incoming DKIM checks off while DMARC checking is on [doc]."""
    target = dict(current, **wanted)
    if not (target["dmarc_enabled"] and not target["dkim_verify"]):
        return
    if "dkim_verify" in wanted:
        raise InputError("dkim_verify", "Plesk does not let incoming DKIM checks be switched off while DMARC "
                         "checking of incoming mail is on: DMARC needs the DKIM result.",
                         "set dmarc_enabled: false as well, or keep dkim_verify: true.")
    raise InputError("dmarc_enabled", "DMARC checking of incoming mail needs incoming DKIM checks, which are "
                     "off on this server, and Plesk keeps the two together.", "set dkim_verify: true as well.")


# --- help-text option discovery ----------------------------------------------------------------------

def help_options(text):
    """Every --option a help text mentions."""
    return set(re.findall(r"(?<![\w-])(--[A-Za-z][A-Za-z0-9-]*)", text or ""))


def find_option(name, available, overrides):
    """The option for the change ``name``: the one named in cli_options, else the first candidate found."""
    override = (overrides or {}).get(name)
    if override:
        if override not in available:
            raise PleskError("cli_options.%s: names %s, but `plesk bin mailserver --help` on this server does not "
                             "list it. Fix: name an option the help text lists, or drop it to let the module look "
                             "for the known spellings." % (name, override))
        return override
    for candidate in OPTION_CANDIDATES[name]:
        if candidate in available:
            return candidate
    return None


def missing_options_message(missing):
    """One message naming every setting that cannot be changed, and where to change it by hand."""
    parts = ["%s (looked for %s)" % (name, ", ".join(OPTION_CANDIDATES[name])) for name in missing]
    return ("%s: `plesk bin mailserver --help` on this server offers no option to change %s. Nothing was changed. "
            "Fix: change it in Plesk under %s, or, if the help text lists the option under another name, give it "
            "with cli_options (e.g. cli_options: {%s: --the-option})."
            % (", ".join(missing), "; ".join(parts), PANEL_PATH, missing[0]))


def _value(setting_name, value):
    kind = _BY_NAME[setting_name].kind
    if kind == "bool":
        return "true" if value else "false"
    if kind == "mode":
        return str(SPF_MODES.index(value) + 1)
    return value


def changed_settings(current, wanted):
    """Names of the wanted settings whose current value differs, in SETTINGS order."""
    return [name for name in SETTING_NAMES if name in wanted and not _same(name, current[name], wanted[name])]


def plan_changes(current, wanted, help_text, overrides=None):
    """The ``plesk bin mailserver`` argv lists that take current to wanted, in a safe order.

    Order: DNSBL zones before switching DNSBL on (after, when switching off); SPF details before
    SPF on; incoming DKIM checks on before DMARC, off after it. Raises PleskError naming every
    setting whose option is missing, before anything runs.
    """
    available = help_options(help_text)
    changes = changed_settings(current, wanted)
    steps, missing = [], []

    def step(name, value):
        option = find_option(name, available, overrides)
        if option is None:
            missing.append(name)
        else:
            steps.append(["bin", "mailserver", option, value])

    def zone_steps():
        have = [z.lower() for z in current["dnsbl_zones"]]
        want = [z.lower() for z in wanted["dnsbl_zones"]]
        if find_option("dnsbl_zones_replace", available, overrides):
            step("dnsbl_zones_replace", ",".join(wanted["dnsbl_zones"]))
            return
        extra = [z for z in current["dnsbl_zones"] if z.lower() not in want]
        new = [z for z in wanted["dnsbl_zones"] if z.lower() not in have]
        if extra:
            step("dnsbl_zones_remove", ",".join(extra))
        if new:
            step("dnsbl_zones_add", ",".join(new))

    order = []
    if "dnsbl_enabled" in changes and wanted["dnsbl_enabled"]:
        order += ["dnsbl_zones", "dnsbl_enabled"]
    else:
        order += ["dnsbl_enabled", "dnsbl_zones"]
    order += ["spf_local_rules", "spf_guess_rules", "spf_explanation", "spf_mode", "spf_enabled", "dkim_sign"]
    verify_on = "dkim_verify" in changes and wanted["dkim_verify"]
    order += ["dkim_verify", "dmarc_enabled"] if verify_on else ["dmarc_enabled", "dkim_verify"]
    for name in order:
        if name not in changes:
            continue
        if name == "dnsbl_zones":
            zone_steps()
        else:
            step(name, _value(name, wanted[name]))
    if missing:
        raise PleskError(missing_options_message(missing))
    return steps


def confirm(after, wanted):
    """Raise when a setting does not read back as wanted after Plesk accepted the change."""
    wrong = ["%s is %r, wanted %r" % (name, after[name], value)
             for name, value in wanted.items() if not _same(name, after[name], value)]
    if wrong:
        raise PleskError("Plesk accepted the changes but its database then reads: %s. The option found in "
                         "`plesk bin mailserver --help` may not do what its name suggests: check %s and name the "
                         "right option with cli_options." % ("; ".join(wrong), PANEL_PATH))


# --- per-domain DKIM -------------------------------------------------------------------------------

def domain_dkim_query(domain):
    # The domain is validated (letters, digits, hyphens, dots) before it gets here.
    return ("SELECT d.id, s.id, p.parameter, p.value FROM domains d"
            " LEFT JOIN DomainServices s ON s.dom_id = d.id AND s.type = 'mail'"
            " LEFT JOIN Parameters p ON p.id = s.parameters_id"
            " AND p.parameter IN ('domain_keys_sign', 'activeDkimSelector')"
            " WHERE d.name = '%s'" % domain)


def read_domain_dkim(cli, domain):
    """{'signing': bool, 'selector': str} for a domain with a mail service; PleskError otherwise."""
    rows = cli.query(domain_dkim_query(domain))
    if not rows:
        raise PleskError("domain: %s is not a domain on this Plesk server (no row in psa.domains). Fix: add it in "
                         "Plesk first, or check the spelling (an internationalised name is given as its xn-- form)."
                         % domain)
    if all(len(row) < 2 or row[1] is None for row in rows):
        raise PleskError("domain: %s has no mail service in Plesk, so there is nothing to sign. Fix: switch mail on "
                         "for it (Websites & Domains > %s > Mail Settings) or leave it out." % (domain, domain))
    params = dict((row[2], row[3]) for row in rows if len(row) >= 4 and row[2] is not None)
    signing = decode_setting(Setting("signing", "domain_keys_sign", "bool", False), params.get("domain_keys_sign"))
    return {"signing": signing, "selector": params.get("activeDkimSelector") or DKIM_SELECTOR}


def domain_pref_argv(domain, signing):
    return ["bin", "domain_pref", "--update", domain, "-sign_outgoing_mail", "true" if signing else "false"]


def signing_not_allowed_message(domain):
    return ("state: DKIM signing is not allowed server-wide on this Plesk (%s: allow signing outgoing mail), so %s "
            "cannot sign. Fix: run mailauth.hardening.plesk_mail_settings with dkim_sign: true first."
            % (PANEL_PATH, domain))


def dkim_record_from_pem(pem, path):
    """(key_type, record) for the private key Plesk wrote; the key itself never leaves here."""
    require_cryptography()
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as err:
        # Never echo the file: the message names the path and the kind of problem only.
        raise PleskError("keys_dir: %s is not a PEM private key this module can read (%s). Plesk writes an "
                         "unencrypted PEM RSA key there. Fix: check keys_dir, or switch signing off and on in Plesk "
                         "to make it write the key again." % (path, type(err).__name__))
    key_type = key_type_of(key)
    return key_type, build_dkim_record(key_type, public_key_b64(key))
