"""`plesk bin mailserver`: server-wide mail settings (Tools & Settings > Mail Server Settings).

Each option below carries its confidence mark. The SPF and DMARC spellings are NOT known for
Linux Plesk; the double emulates one plausible spelling so that the modules' help-text discovery
has something to find. PLESK_DOUBLE_GUESSED_OPTIONS=0 removes the [guess] options from the help
text and from parsing, which is what a server without them would look like.

One command per call [guess: the real utility may accept several].
"""

import sys

from plesk_double import db, env
from plesk_double.env import DoubleError


def _bool_setting(name):
    def apply(conn, option, value):
        db.set_mail_setting(conn, name, env.parse_bool(option, value))
    return apply


def _text_setting(name):
    def apply(conn, option, value):
        db.set_mail_setting(conn, name, value)
    return apply


def _spf_behavior(conn, option, value):
    if value not in ("1", "2", "3", "4", "5", "6"):
        raise DoubleError("Invalid value '%s' for option %s: expected a number from 1 to 6" % (value, option))
    db.set_mail_setting(conn, "spf_behavior", value)


def _zones(option, value):
    zones = [z.strip() for z in value.split(",") if z.strip()]
    if not zones:
        raise DoubleError("Option %s requires a comma-separated list of DNS zones" % option)
    return zones


def _stored_zones(conn):
    value = db.get_mail_setting(conn, "rbl_server") or ""
    return [z for z in value.split(";") if z]


def _add_zones(conn, option, value):
    zones = _stored_zones(conn)
    zones += [z for z in _zones(option, value) if z not in zones]
    db.set_mail_setting(conn, "rbl_server", ";".join(zones))


def _remove_zones(conn, option, value):
    unwanted = _zones(option, value)
    db.set_mail_setting(conn, "rbl_server", ";".join(z for z in _stored_zones(conn) if z not in unwanted))


def _verify_incoming(conn, option, value):
    value = env.parse_bool(option, value)
    if value == "false" and db.get_mail_setting(conn, "dmarc_policy") == "true":
        raise DoubleError("Unable to switch off DKIM verification of incoming mail: DMARC checking is on."
                          " Switch off DMARC checking first.")
    db.set_mail_setting(conn, "domain_keys_verify", value)


# option -> (argument shown in help, help text, confidence, handler)
OPTIONS = {
    "--set-maps-status": ("<true|false>", "Switches DNSBL (MAPS) spam protection on or off.", "seen",
                          _bool_setting("rbl")),
    "--add-maps-zone": ("<zone>[,<zone>...]", "Adds DNS zones to the DNSBL service.", "seen", _add_zones),
    "--remove-maps-zone": ("<zone>[,<zone>...]", "Removes DNS zones from the DNSBL service.", "guess",
                           _remove_zones),
    "--sign-outgoing-mail": ("<true|false>", "Allows DKIM signing of outgoing mail.", "seen",
                             _bool_setting("domain_keys_sign")),
    "--verify-incoming-mail": ("<true|false>", "Verifies DKIM signatures of incoming mail. Cannot be"
                               " switched off while DMARC checking is on.", "seen", _verify_incoming),
    "--set-spf-status": ("<true|false>", "Switches SPF checking of incoming mail on or off.", "guess",
                         _bool_setting("spf_enabled")),
    "--set-spf-behavior": ("<1..6>", "Sets the SPF checking mode: 1 only create Received-SPF headers, never"
                           " block; 2 temporary error on DNS lookup problems; 3 reject when SPF resolves to"
                           " fail; 4 ... to softfail; 5 ... to neutral; 6 reject unless SPF resolves to pass.",
                           "guess", _spf_behavior),
    "--set-spf-rules": ("<rules>", "Sets SPF local rules.", "guess", _text_setting("spf_rules")),
    "--set-spf-guess": ("<rules>", "Sets SPF guess rules.", "guess", _text_setting("spf_guess")),
    "--set-spf-exp": ("<text>", "Sets the SPF explanation text.", "guess", _text_setting("spf_exp")),
    "--set-dmarc-status": ("<true|false>", "Switches DMARC checking of incoming mail on or off.", "guess",
                           _bool_setting("dmarc_policy")),
}


def available_options():
    return {name: spec for name, spec in OPTIONS.items() if spec[2] != "guess" or env.guessed_options_enabled()}


def help_text():
    lines = ["Usage: mailserver command [<param>]", "", "Available commands:"]
    for name, (arg, text, _confidence, _handler) in available_options().items():
        lines.append("%-24s %-20s %s" % (name, arg, text))
    lines.append("%-24s %-20s %s" % ("--help or -h", "", "Displays this help page."))
    return "\n".join(lines) + "\n"


def run(args, out=None):
    options = available_options()
    command = env.command_word(args, options, help_text(), out or sys.stdout)
    if command is None:
        return 0
    if len(args) != 2:
        raise DoubleError("Command %s requires exactly one value" % command)
    with db.transaction() as conn:
        options[command][3](conn, command, args[1])
    return 0
