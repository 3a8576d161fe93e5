"""`plesk bin dns`: records of a domain's Plesk DNS zone, kept in dns_zone / dns_recs.

Hosts are stored absolute with a trailing dot and TXT values unsplit [doc: real dump].
--add of a record that exists exits 2 [doc]. Message texts are [guess].
"""

import sys

from plesk_double import db, env
from plesk_double.env import DoubleError

USAGE = """Usage: dns command <domain_name> [<option_1> [<param>]] ...

Available commands:
--add or -a      <domain_name>   Adds a DNS record to the domain's zone.
--del or -d      <domain_name>   Removes a DNS record from the domain's zone.
--info or -i     <domain_name>   Lists the records of the domain's zone.
--help or -h                     Displays this help page.

Available options (with --add and --del):
-txt <text>            TXT record value; owner name given by -domain.
-domain <subdomain>    Owner of a TXT record, relative to the domain ("" for the domain itself).
-a <subdomain>         A record owner; address given by -ip.
-aaaa <subdomain>      AAAA record owner; address given by -ip.
-ip <address>          Address of an A or AAAA record.
-cname <subdomain>     CNAME record owner; target given by -canonical.
-canonical <name>      Target of a CNAME record.
-mx <subdomain>        MX record owner; exchanger given by -mailexchanger.
-mailexchanger <name>  Mail exchanger of an MX record.
-priority <number>     MX priority (default 10).
-ns <subdomain>        NS record owner; name server given by -nameserver.
-nameserver <name>     Name server of an NS record.
"""

# record option -> (type, option naming the owner or None when the owner is -domain, value option)
RECORD_OPTIONS = {
    "-txt": ("TXT", "-domain", None),
    "-a": ("A", None, "-ip"),
    "-aaaa": ("AAAA", None, "-ip"),
    "-cname": ("CNAME", None, "-canonical"),
    "-mx": ("MX", None, "-mailexchanger"),
    "-ns": ("NS", None, "-nameserver"),
}
VALUE_OPTIONS = ("-domain", "-ip", "-canonical", "-mailexchanger", "-priority", "-nameserver")


def absolute(domain, label):
    label = (label or "").strip().rstrip(".")
    if label in ("", "@"):
        return domain + "."
    if label == domain or label.endswith("." + domain):
        return label + "."
    return "%s.%s." % (label, domain)


def zone_of(conn, domain):
    dom = db.find_domain(conn, domain)
    if dom[2] is None:
        raise DoubleError("Unable to find DNS zone of domain '%s'" % domain)
    return dom[1], dom[2]


def find_record(conn, zone_id, rtype, host, val, opt):
    return conn.execute(
        "SELECT id FROM dns_recs WHERE dns_zone_id = ? AND type = ? AND host = ? AND val = ? AND opt = ?",
        (zone_id, rtype, host, val, opt)).fetchone()


def add_record(conn, zone_id, rtype, host, val, opt=""):
    conn.execute(
        "INSERT INTO dns_recs (dns_zone_id, type, displayHost, host, displayVal, val, opt, time_stamp)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (zone_id, rtype, host, host, val, val, opt, db.now()))


def delete_records(conn, zone_id, rtype, host):
    conn.execute("DELETE FROM dns_recs WHERE dns_zone_id = ? AND type = ? AND host = ?", (zone_id, rtype, host))


def parse_record(domain, options):
    """Turn -txt/-domain, -a/-ip, ... into (type, host, val, opt)."""
    given = dict(options)
    kinds = [opt for opt in given if opt in RECORD_OPTIONS]
    if len(kinds) != 1:
        raise DoubleError("Exactly one record type option (-txt, -a, -aaaa, -cname, -mx, -ns) is required")
    kind = kinds[0]
    rtype, owner_option, value_option = RECORD_OPTIONS[kind]
    if owner_option:
        host, val = absolute(domain, given.get(owner_option, "")), given[kind]
    else:
        if value_option not in given:
            raise DoubleError("Option %s requires %s" % (kind, value_option))
        host, val = absolute(domain, given[kind]), given[value_option]
    opt = given.get("-priority", "10") if rtype == "MX" else ""
    if rtype in ("CNAME", "MX", "NS") and not val.endswith("."):
        val += "."
    return rtype, host, val, opt


def parse_options(args):
    options = []
    i = 0
    while i < len(args):
        opt = args[i]
        if opt not in RECORD_OPTIONS and opt not in VALUE_OPTIONS:
            raise DoubleError("Unknown option '%s'\n\n%s" % (opt, USAGE))
        if i + 1 >= len(args):
            raise DoubleError("Option %s requires a value" % opt)
        options.append((opt, args[i + 1]))
        i += 2
    return options


def info_lines(conn, zone_id):
    rows = conn.execute("SELECT host, type, val, opt FROM dns_recs WHERE dns_zone_id = ? ORDER BY id", (zone_id,))
    for host, rtype, val, opt in rows:
        if rtype == "MX":
            yield "%s %s (%s) %s" % (host, rtype, opt, val)
        else:
            yield "%s %s %s" % (host, rtype, val)


def run(args, out=None):
    out = out or sys.stdout
    command = env.command_word(args, ("--add", "-a", "--del", "-d", "--info", "-i"), USAGE, out)
    if command is None:
        return 0
    if len(args) < 2 or args[1].startswith("-"):
        raise DoubleError("Command %s requires a domain name" % command)
    domain = args[1].lower().rstrip(".")
    conn = db.connect()
    try:
        name, zone_id = zone_of(conn, domain)
        if command in ("--info", "-i"):
            if len(args) > 2:
                raise DoubleError("Command --info takes no options")
            for line in info_lines(conn, zone_id):
                out.write(line + "\n")
            out.write("SUCCESS: Getting information for Domain '%s' complete.\n" % name)
            return 0
        rtype, host, val, opt = parse_record(name, parse_options(args[2:]))
        with db.writing(conn):
            existing = find_record(conn, zone_id, rtype, host, val, opt)
            if command in ("--add", "-a"):
                if existing:
                    raise DoubleError("Unable to add DNS record: the record %s %s %s already exists"
                                      % (host, rtype, val), rc=2)
                add_record(conn, zone_id, rtype, host, val, opt)
                done = "Creation"
            else:
                if not existing:
                    raise DoubleError("Unable to remove DNS record: no record %s %s %s" % (host, rtype, val))
                conn.execute("DELETE FROM dns_recs WHERE id = ?", (existing[0],))
                done = "Removal"
        out.write("SUCCESS: %s of DNS record in Domain '%s' complete.\n" % (done, name))
        return 0
    finally:
        conn.close()
