"""`plesk bin domain --info DOMAIN`: a short report of a domain [guess: layout and wording]."""

import sys

from plesk_double import db, env
from plesk_double.env import DoubleError

USAGE = """Usage: domain command <domain_name> [<option_1> [<param>]] ...

Available commands:
--info or -i     <domain_name>   Displays information about the domain.
--help or -h                     Displays this help page.
(the only commands this test double emulates)
"""


def run(args, out=None):
    out = out or sys.stdout
    if env.command_word(args, ("--info", "-i"), USAGE, out) is None:
        return 0
    if len(args) != 2:
        raise DoubleError("Command %s requires exactly one domain name" % args[0])
    conn = db.connect()
    try:
        dom_id, name, zone_id = db.find_domain(conn, args[1])
        cr_date = conn.execute("SELECT cr_date FROM domains WHERE id = ?", (dom_id,)).fetchone()[0]
        params_id = db.mail_parameters_id(conn, dom_id)
        zone = conn.execute("SELECT status FROM dns_zone WHERE id = ?", (zone_id,)).fetchone() if zone_id else None
        signing = params_id is not None and db.get_parameter(conn, params_id, "domain_keys_sign") == "true"
    finally:
        conn.close()
    rows = [
        ("Domain name", name),
        ("Owner's contact name", "Administrator (admin)"),
        ("Domain status", "OK"),
        ("Creation date", cr_date or ""),
        ("DNS zone", "Served by Plesk" if zone is not None and zone[0] == 0 else "Off (external DNS)"),
        ("Mail service", "On" if params_id is not None else "Off"),
        ("DKIM signing of outgoing mail", "On" if signing else "Off"),
    ]
    out.write("General\n=============================\n")
    for label, value in rows:
        out.write("%-40s%s\n" % (label + ":", value))
    out.write("\nSUCCESS: Gathering information for '%s' complete.\n" % name)
    return 0
