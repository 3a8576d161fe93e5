"""The double's psa database: SQLite with the psa table and column names the modules query.

Only the tables and columns the collection reads are modelled. A fresh database holds what a
fresh Plesk 18.0.64 holds in them (see ../README.md for which defaults are [doc] and [guess]).
"""

import os
import sqlite3
import time
from contextlib import contextmanager

from plesk_double.env import DoubleError, db_path

SERVICE_NODE = 1
MAIL_SECTION = "mailServer"

SCHEMA = """
CREATE TABLE misc (param VARCHAR(255) NOT NULL PRIMARY KEY, val TEXT);
CREATE TABLE ServiceNodeEnvironment (
  serviceNodeId INT NOT NULL, section VARCHAR(255) NOT NULL, name VARCHAR(255) NOT NULL, value TEXT,
  PRIMARY KEY (serviceNodeId, section, name));
CREATE TABLE dns_zone (
  id INTEGER PRIMARY KEY AUTOINCREMENT, name VARCHAR(255) NOT NULL UNIQUE, displayName VARCHAR(255),
  email VARCHAR(255), status INT NOT NULL DEFAULT 0, type VARCHAR(16) NOT NULL DEFAULT 'master',
  ttl INT NOT NULL DEFAULT 86400);
CREATE TABLE dns_recs (
  id INTEGER PRIMARY KEY AUTOINCREMENT, dns_zone_id INT NOT NULL, type VARCHAR(16) NOT NULL,
  displayHost VARCHAR(255), host VARCHAR(255) NOT NULL, displayVal TEXT, val TEXT NOT NULL,
  opt VARCHAR(255) NOT NULL DEFAULT '', time_stamp TEXT, ttl INT);
CREATE TABLE domains (
  id INTEGER PRIMARY KEY AUTOINCREMENT, cr_date TEXT, name VARCHAR(255) NOT NULL UNIQUE,
  displayName VARCHAR(255), dns_zone_id INT, status INT NOT NULL DEFAULT 0,
  htype VARCHAR(16) NOT NULL DEFAULT 'vrt_hst', parentDomainId INT NOT NULL DEFAULT 0,
  webspace_id INT NOT NULL DEFAULT 0);
CREATE TABLE DomainServices (
  id INTEGER PRIMARY KEY AUTOINCREMENT, dom_id INT NOT NULL, type VARCHAR(16) NOT NULL,
  status INT NOT NULL DEFAULT 0, parameters_id INT, ipCollectionId INT);
CREATE TABLE Parameters (
  id INT NOT NULL, parameter VARCHAR(255) NOT NULL, value TEXT, PRIMARY KEY (id, parameter));
"""

# Plesk 18.0.64 keeps server-wide mail settings here; older versions used misc [guess].
SERVICE_NODE_CONFIGURATION = """
CREATE TABLE ServiceNodeConfiguration (
  serviceNodeId INT NOT NULL, section VARCHAR(255) NOT NULL, name VARCHAR(255) NOT NULL, value TEXT,
  PRIMARY KEY (serviceNodeId, section, name));
"""

# Mail settings rows of a fresh server. rbl, rbl_server, spf_rules, spf_guess and spf_exp are
# absent until first set [doc]; which values the present rows start with is marked in the README.
FRESH_MAIL_SETTINGS = (
    ("spf_enabled", "true"),
    ("spf_behavior", "1"),
    ("spf_dnserrignore", "false"),
    ("domain_keys_sign", "true"),
    ("domain_keys_verify", "true"),
    ("dmarc_policy", "true"),
    # Unrelated rows a real server has too, so that queries must filter by name.
    ("relay", "auth"),
    ("max_letter_size", ""),
)

FRESH_ENVIRONMENT = (
    ("mail", "SMTP_Server", "Postfix"),
    ("mail", "POP3_IMAP_Server", "Dovecot"),
)


def connect(legacy_misc=False):
    """Open the database, creating it with the fresh-server contents on first use."""
    path = db_path()
    fresh = not os.path.exists(path)
    if fresh:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    conn = sqlite3.connect(path, timeout=30, isolation_level=None)
    if fresh:
        _create(conn, legacy_misc)
    return conn


@contextmanager
def writing(conn):
    """One write transaction on ``conn``: committed when the block ends, rolled back when it raises."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except Exception:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


@contextmanager
def transaction(legacy_misc=False):
    """A connection of its own for one write transaction (what each changing command does)."""
    conn = connect(legacy_misc)
    try:
        with writing(conn):
            yield conn
    finally:
        conn.close()


def _create(conn, legacy_misc):
    with writing(conn):
        for statement in SCHEMA.split(";"):
            if statement.strip():
                conn.execute(statement)
        if legacy_misc:
            conn.executemany("INSERT INTO misc (param, val) VALUES (?, ?)", FRESH_MAIL_SETTINGS)
        else:
            conn.execute(SERVICE_NODE_CONFIGURATION)
            conn.executemany(
                "INSERT INTO ServiceNodeConfiguration VALUES (%d, '%s', ?, ?)" % (SERVICE_NODE, MAIL_SECTION),
                FRESH_MAIL_SETTINGS)
        conn.executemany("INSERT INTO ServiceNodeEnvironment VALUES (%d, ?, ?, ?)" % SERVICE_NODE, FRESH_ENVIRONMENT)


def has_table(conn, name):
    row = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone()
    return row is not None


def now():
    return time.strftime("%Y-%m-%d %H:%M:%S")


# --- server-wide mail settings, in whichever layout this database has -------------------------

def get_mail_setting(conn, name):
    if has_table(conn, "ServiceNodeConfiguration"):
        row = conn.execute(
            "SELECT value FROM ServiceNodeConfiguration WHERE serviceNodeId = ? AND section = ? AND name = ?",
            (SERVICE_NODE, MAIL_SECTION, name)).fetchone()
    else:
        row = conn.execute("SELECT val FROM misc WHERE param = ?", (name,)).fetchone()
    return None if row is None else row[0]


def set_mail_setting(conn, name, value):
    if has_table(conn, "ServiceNodeConfiguration"):
        conn.execute("INSERT OR REPLACE INTO ServiceNodeConfiguration VALUES (?, ?, ?, ?)",
                     (SERVICE_NODE, MAIL_SECTION, name, value))
    else:
        conn.execute("INSERT OR REPLACE INTO misc (param, val) VALUES (?, ?)", (name, value))


def unset_mail_setting(conn, name):
    if has_table(conn, "ServiceNodeConfiguration"):
        conn.execute("DELETE FROM ServiceNodeConfiguration WHERE serviceNodeId = ? AND section = ? AND name = ?",
                     (SERVICE_NODE, MAIL_SECTION, name))
    else:
        conn.execute("DELETE FROM misc WHERE param = ?", (name,))


def set_environment(conn, section, name, value):
    conn.execute("INSERT OR REPLACE INTO ServiceNodeEnvironment VALUES (?, ?, ?, ?)", (SERVICE_NODE, section, name, value))


# --- domains -----------------------------------------------------------------------------------

def find_domain(conn, name):
    """The domain row (id, name, dns_zone_id) or a Plesk-like failure."""
    row = conn.execute("SELECT id, name, dns_zone_id FROM domains WHERE name = ?", (name.lower().rstrip("."),)).fetchone()
    if row is None:
        raise DoubleError("Unable to find domain '%s': domain does not exist" % name)
    return row


def mail_parameters_id(conn, dom_id):
    row = conn.execute("SELECT parameters_id FROM DomainServices WHERE dom_id = ? AND type = 'mail'", (dom_id,)).fetchone()
    return None if row is None else row[0]


def set_parameter(conn, params_id, parameter, value):
    conn.execute("INSERT OR REPLACE INTO Parameters (id, parameter, value) VALUES (?, ?, ?)", (params_id, parameter, value))


def get_parameter(conn, params_id, parameter):
    row = conn.execute("SELECT value FROM Parameters WHERE id = ? AND parameter = ?", (params_id, parameter)).fetchone()
    return None if row is None else row[0]


def new_parameters_id(conn):
    """A Parameters group id nobody uses yet (groups are referenced before they hold rows)."""
    return conn.execute(
        "SELECT MAX(COALESCE((SELECT MAX(id) FROM Parameters), 0),"
        " COALESCE((SELECT MAX(parameters_id) FROM DomainServices), 0)) + 1").fetchone()[0]
