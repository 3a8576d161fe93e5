"""The `plesk` entry point of the double: `plesk db ...`, `plesk bin UTILITY ...`, `plesk version`."""

import sys

from plesk_double import dns, domain, domain_pref, env, mailserver, sql
from plesk_double.env import DoubleError

UTILITIES = {
    "mailserver": mailserver.run,
    "domain_pref": domain_pref.run,
    "dns": dns.run,
    "domain": domain.run,
}

USAGE = """plesk: a TEST DOUBLE of the Plesk command line (not Plesk). It emulates:
  plesk db [-N] [-e] "SQL"
  plesk bin %s ...
  plesk version
""" % "|".join(sorted(UTILITIES))


def dispatch(args):
    if not args or args[0] in ("help", "--help", "-h"):
        sys.stdout.write(USAGE)
        return 0
    if args[0] == "db":
        return sql.run(args[1:])
    if args[0] == "version":
        sys.stdout.write("Product version: Plesk Obsidian 18.0.64.0 (test double)\n"
                         "     OS version: Debian 12.0 x86_64\n")
        return 0
    if args[0] == "bin":
        if len(args) < 2:
            raise DoubleError("plesk bin: a utility name is required (%s)" % ", ".join(sorted(UTILITIES)))
        if args[1] not in UTILITIES:
            raise DoubleError("plesk bin: unknown utility '%s' (this test double emulates %s)"
                              % (args[1], ", ".join(sorted(UTILITIES))))
        return UTILITIES[args[1]](args[2:])
    raise DoubleError("plesk: unknown command '%s'\n%s" % (args[0], USAGE))


def main(argv=None):
    args = sys.argv[1:] if argv is None else argv
    env.log_call(args)
    try:
        return dispatch(args)
    except DoubleError as err:
        sys.stderr.write("%s\n" % err)
        return err.rc
