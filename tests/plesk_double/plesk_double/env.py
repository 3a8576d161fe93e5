"""Where the double keeps its state, all overridable by environment for tests on the host."""

import json
import os

DEFAULT_DB = "/var/lib/plesk-double/psa.sqlite3"


class DoubleError(Exception):
    """A failure the double reports like Plesk does: a message on stderr and an exit code."""

    def __init__(self, message, rc=1):
        super().__init__(message)
        self.rc = rc


def db_path():
    return os.environ.get("PLESK_DOUBLE_DB") or DEFAULT_DB


def root():
    """Prefix for files Plesk writes (/etc/domainkeys); "/" inside a lab container."""
    return os.environ.get("PLESK_DOUBLE_ROOT") or "/"


def guessed_options_enabled():
    """PLESK_DOUBLE_GUESSED_OPTIONS=0 hides the [guess] mailserver options (help and parsing)."""
    return os.environ.get("PLESK_DOUBLE_GUESSED_OPTIONS", "1") != "0"


def log_call(argv):
    """Append each invocation as a JSON line to $PLESK_DOUBLE_LOG, so tests can see what ran."""
    path = os.environ.get("PLESK_DOUBLE_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as log:
            log.write(json.dumps(argv) + "\n")


def command_word(args, commands, usage, out):
    """The utility's command (args[0]) if it is one of ``commands``; None after printing ``usage``
    when there is none or it asks for help. An unknown command fails with the usage."""
    if not args or args[0] in ("--help", "-h"):
        out.write(usage)
        return None
    if args[0] not in commands:
        raise DoubleError("Unknown command '%s'\n\n%s" % (args[0], usage))
    return args[0]


def parse_bool(option, value):
    """Plesk CLI booleans are the words true and false."""
    if value in ("true", "false"):
        return value
    raise DoubleError("Invalid value '%s' for option %s: expected true or false" % (value, option))
