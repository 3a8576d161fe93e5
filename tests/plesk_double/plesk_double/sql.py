"""`plesk db`: run SQL against the double's database and print it the way the mysql client does.

The real command hands its arguments to the mysql client [doc]. Output in batch mode (not a
terminal) is tab-separated with a header line unless -N is given, NULL prints as NULL, and tab,
newline, NUL and backslash inside values are escaped as \\t \\n \\0 \\\\ [seen: mysql client].
"""

import re
import sqlite3
import sys

from plesk_double import db
from plesk_double.env import DoubleError

USAGE = 'usage: plesk db [-N] [-e] "SQL"   (SQL is read from stdin when not given)'


def parse_args(args):
    """Return (sql or None, header) from the forms -Ne SQL, -N -e SQL, -e SQL, SQL."""
    header = True
    sql = None
    expect_sql = False
    for arg in args:
        if expect_sql:
            sql, expect_sql = arg, False
        elif arg in ("-N", "--skip-column-names"):
            header = False
        elif arg in ("-e", "--execute"):
            expect_sql = True
        elif arg in ("-Ne", "-eN"):
            header, expect_sql = False, True
        elif arg.startswith("-"):
            raise DoubleError("plesk db: unknown option '%s'\n%s" % (arg, USAGE))
        elif sql is None:
            sql = arg
        else:
            raise DoubleError("plesk db: more than one SQL argument\n%s" % USAGE)
    if expect_sql:
        raise DoubleError("plesk db: option -e requires an argument\n%s" % USAGE)
    return sql, header


def escape(value):
    if value is None:
        return "NULL"
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\0", "\\0")


def statements(sql):
    """Split SQL into complete statements (a ; inside a string literal does not end one)."""
    pending = ""
    for piece in sql.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \t\r\n;"):
                yield pending
            pending = ""
    if pending.strip(" \t\r\n;"):
        yield pending


def mysql_error(err):
    """Word SQLite's errors like the MySQL errors a script checks for."""
    text = str(err)
    match = re.match(r"no such table: (?:\w+\.)?(\w+)", text)
    if match:
        return "ERROR 1146 (42S02) at line 1: Table 'psa.%s' doesn't exist" % match.group(1)
    match = re.match(r"no such column: (\S+)", text)
    if match:
        return "ERROR 1054 (42S22) at line 1: Unknown column '%s' in 'field list'" % match.group(1)
    if isinstance(err, sqlite3.IntegrityError):
        return "ERROR 1062 (23000) at line 1: Duplicate entry (%s)" % text
    return "ERROR 1064 (42000) at line 1: You have an error in your SQL syntax (%s)" % text


def run(args, out=None):
    sql, header = parse_args(args)
    if sql is None:
        sql = sys.stdin.read()
    out = out or sys.stdout
    conn = db.connect()
    try:
        for statement in statements(sql):
            try:
                cursor = conn.execute(statement)
                rows = cursor.fetchall()
            except sqlite3.Error as err:
                raise DoubleError(mysql_error(err)) from None
            if cursor.description and rows:
                if header:
                    out.write("\t".join(col[0] for col in cursor.description) + "\n")
                for row in rows:
                    out.write("\t".join(escape(v) for v in row) + "\n")
    finally:
        conn.close()
    return 0
