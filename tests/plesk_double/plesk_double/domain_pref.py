"""`plesk bin domain_pref --update|-u DOMAIN -sign_outgoing_mail true|false` [seen].

Turning signing on sets the mail service's Parameters domain_keys_sign='true' and
activeDkimSelector='default' [doc: real dump], writes /etc/domainkeys/DOMAIN/default unless a key
is there (kept) [seen: path; guess: kept], and, when Plesk serves the domain's DNS, adds the
default._domainkey and _domainkey TXT records [doc]. Turning it off keeps the key and removes
those records [guess]. Only -sign_outgoing_mail is emulated; other options fail.
"""

import sys

from plesk_double import db, dns, env, keys
from plesk_double.env import DoubleError

USAGE = """Usage: domain_pref command <domain_name> [<option_1> [<param>]] ...

Available commands:
--update or -u   <domain_name>   Updates preferences of the domain.
--help or -h                     Displays this help page.

Available options:
-sign_outgoing_mail <true|false> Signs outgoing mail of the domain with DKIM.
                                 (the only option this test double emulates)
"""


def publish_dkim_records(conn, domain, zone_id, key_path):
    """What Plesk writes into a zone it serves: p= unsplit, no k=rsa, a trailing ; [doc]."""
    host = "%s._domainkey.%s." % (keys.SELECTOR, domain)
    dns.delete_records(conn, zone_id, "TXT", host)
    dns.add_record(conn, zone_id, "TXT", host, "v=DKIM1; p=%s;" % keys.public_key_b64(key_path))
    policy = "_domainkey.%s." % domain
    dns.delete_records(conn, zone_id, "TXT", policy)
    dns.add_record(conn, zone_id, "TXT", policy, "o=-")


def withdraw_dkim_records(conn, domain, zone_id):
    dns.delete_records(conn, zone_id, "TXT", "%s._domainkey.%s." % (keys.SELECTOR, domain))
    dns.delete_records(conn, zone_id, "TXT", "_domainkey.%s." % domain)


def zone_served_by_plesk(conn, zone_id):
    row = conn.execute("SELECT status FROM dns_zone WHERE id = ?", (zone_id,)).fetchone()
    return row is not None and row[0] == 0


def set_signing(conn, domain, value):
    dom_id, name, zone_id = db.find_domain(conn, domain)
    params_id = db.mail_parameters_id(conn, dom_id)
    if params_id is None:
        raise DoubleError("Unable to update domain '%s': the mail service is off for this domain" % name)
    if value == "true":
        if db.get_mail_setting(conn, "domain_keys_sign") != "true":
            raise DoubleError("Unable to update domain '%s': DKIM signing of outgoing mail is not allowed on"
                              " this server (Tools & Settings > Mail Server Settings)" % name)
        key_path = keys.ensure_key(name)
        db.set_parameter(conn, params_id, "domain_keys_sign", "true")
        db.set_parameter(conn, params_id, "activeDkimSelector", keys.SELECTOR)
        if zone_id is not None and zone_served_by_plesk(conn, zone_id):
            publish_dkim_records(conn, name, zone_id, key_path)
    else:
        db.set_parameter(conn, params_id, "domain_keys_sign", "false")
        if zone_id is not None and zone_served_by_plesk(conn, zone_id):
            withdraw_dkim_records(conn, name, zone_id)
    return name


def run(args, out=None):
    out = out or sys.stdout
    if env.command_word(args, ("--update", "-u"), USAGE, out) is None:
        return 0
    if len(args) < 2 or args[1].startswith("-"):
        raise DoubleError("Command %s requires a domain name" % args[0])
    domain, options = args[1], args[2:]
    if not options:
        raise DoubleError("Command %s requires at least one option" % args[0])
    if options[0] != "-sign_outgoing_mail":
        raise DoubleError("Unknown option '%s'\n\n%s" % (options[0], USAGE))
    if len(options) != 2:
        raise DoubleError("Option -sign_outgoing_mail requires exactly one value: true or false")
    value = options[1]
    if value not in ("true", "false"):
        raise DoubleError("Invalid value '%s' for option -sign_outgoing_mail: expected true or false" % value)
    with db.transaction() as conn:
        name = set_signing(conn, domain, value)
    out.write("SUCCESS: Update of domain '%s' complete.\n" % name)
    return 0
