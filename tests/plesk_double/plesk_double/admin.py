"""plesk-double-admin: set up the double's state (there is no such command in Plesk).

  plesk-double-admin init [--legacy-misc]       create the database (a fresh 18.0.64, or the older
                                                layout with mail settings in misc only)
  plesk-double-admin add-domain NAME [--external-dns] [--no-mail] [--signing]
  plesk-double-admin set-mta Postfix|qmail      ServiceNodeEnvironment mail/SMTP_Server
  plesk-double-admin set-setting NAME VALUE     a server-wide mail setting (mailServer section)
  plesk-double-admin unset-setting NAME         remove it, as on a server where it was never set
"""

import argparse
import sys

from plesk_double import db, dns, domain_pref
from plesk_double.env import DoubleError

ADDRESS = "192.0.2.10"  # TEST-NET-1: the double's "server address" in seeded zones


def seed_zone(conn, zone_id, name):
    """Records Plesk's default DNS template gives a new domain [guess: the exact set]."""
    for rtype, label, val, opt in (
            ("NS", "", "ns.%s." % name, ""),
            ("A", "ns", ADDRESS, ""),
            ("A", "", ADDRESS, ""),
            ("A", "mail", ADDRESS, ""),
            ("MX", "", "mail.%s." % name, "10"),
            ("TXT", "", "v=spf1 +a +mx -all", ""),
            ("TXT", "_dmarc", "v=DMARC1; p=none", "")):
        dns.add_record(conn, zone_id, rtype, dns.absolute(name, label), val, opt)


def add_domain(conn, name, external_dns=False, mail=True, signing=False):
    name = name.lower().rstrip(".")
    if conn.execute("SELECT 1 FROM domains WHERE name = ?", (name,)).fetchone():
        raise DoubleError("Domain '%s' already exists" % name)
    zone_id = conn.execute("INSERT INTO dns_zone (name, displayName, email, status) VALUES (?, ?, ?, ?)",
                           (name, name, "admin@" + name, 2 if external_dns else 0)).lastrowid
    seed_zone(conn, zone_id, name)
    dom_id = conn.execute("INSERT INTO domains (cr_date, name, displayName, dns_zone_id) VALUES (?, ?, ?, ?)",
                          (db.now(), name, name, zone_id)).lastrowid
    if mail:
        params_id = db.new_parameters_id(conn)
        conn.execute("INSERT INTO DomainServices (dom_id, type, parameters_id) VALUES (?, 'mail', ?)", (dom_id, params_id))
        db.set_parameter(conn, params_id, "domain_keys_sign", "false")
        if signing:
            domain_pref.set_signing(conn, name, "true")


def parser():
    top = argparse.ArgumentParser(prog="plesk-double-admin", description="Set up the Plesk TEST DOUBLE's state.")
    sub = top.add_subparsers(dest="command", required=True)
    init = sub.add_parser("init", help="create the database")
    init.add_argument("--legacy-misc", action="store_true", help="keep mail settings in misc, no ServiceNodeConfiguration")
    add = sub.add_parser("add-domain", help="add a domain with a mail service and a DNS zone")
    add.add_argument("name")
    add.add_argument("--external-dns", action="store_true", help="Plesk does not serve the domain's DNS")
    add.add_argument("--no-mail", action="store_true", help="no mail service for the domain")
    add.add_argument("--signing", action="store_true", help="turn DKIM signing on (creates the key)")
    mta = sub.add_parser("set-mta", help="set ServiceNodeEnvironment mail/SMTP_Server")
    mta.add_argument("name", help="Postfix or qmail")
    setting = sub.add_parser("set-setting", help="set a server-wide mail setting")
    setting.add_argument("name")
    setting.add_argument("value")
    unset = sub.add_parser("unset-setting", help="remove a server-wide mail setting row")
    unset.add_argument("name")
    return top


def run(args):
    opts = parser().parse_args(args)
    with db.transaction(legacy_misc=getattr(opts, "legacy_misc", False)) as conn:
        if opts.command == "add-domain":
            add_domain(conn, opts.name, opts.external_dns, not opts.no_mail, opts.signing)
        elif opts.command == "set-mta":
            db.set_environment(conn, "mail", "SMTP_Server", opts.name)
        elif opts.command == "set-setting":
            db.set_mail_setting(conn, opts.name, opts.value)
        elif opts.command == "unset-setting":
            db.unset_mail_setting(conn, opts.name)
    return 0


def main(argv=None):
    try:
        return run(sys.argv[1:] if argv is None else argv)
    except DoubleError as err:
        sys.stderr.write("plesk-double-admin: %s\n" % err)
        return err.rc
