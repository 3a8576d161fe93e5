"""Real DNS servers for system tests: BIND (`named -g`) and PowerDNS (`pdns_server`).

Each server listens on 127.0.0.1 only, on a free port, runs in the foreground with
its output redirected into its own directory, and is stopped by its pid. Use the
context managers directly, or the pytest fixtures at the bottom from a test module:

    from dns_servers import named_server, pdns_server   # noqa: F401 (fixtures)
"""
import base64
import os
import shutil
import socket
import sqlite3
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdatatype
import dns.tsigkeyring
import dns.zone
import pytest

LOOPBACK = "127.0.0.1"
PDNS_SCHEMA = Path("/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql")
STARTUP_SECONDS = 30


def free_port(host=LOOPBACK):
    """A port free for both TCP and UDP on ``host`` (DNS needs both)."""
    for _attempt in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            tcp.bind((host, 0))
            port = tcp.getsockname()[1]
            if _bindable(host, port, socket.SOCK_DGRAM):
                return port
    raise RuntimeError("no free port on %s" % host)


def _bindable(host, port, kind):
    with socket.socket(socket.AF_INET, kind) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_loopback_addresses(count, port=53):
    """``count`` addresses of one 127.53.N.0/24 whose ``port`` is free for TCP and UDP, so that servers can
    listen on the DNS port their NS and glue records imply (every name server on port 53)."""
    for _attempt in range(50):
        prefix = "127.53.%d." % int.from_bytes(os.urandom(1), "big")
        addresses = [prefix + str(host) for host in range(1, count + 1)]
        if all(_bindable(a, port, kind) for a in addresses for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM)):
            return addresses
    raise RuntimeError("no 127.53.N.0/24 with port %d free" % port)


def tsig_secret():
    """A fresh base64 secret, as `tsig-keygen` makes."""
    return base64.b64encode(os.urandom(32)).decode()


def zone_text(zone, records=(), ns_address=LOOPBACK, serial=1):
    """A minimal zone file: SOA, one NS (ns1.ZONE with an A record) and `records` lines."""
    lines = [
        "$TTL 60",
        "@ IN SOA ns1.%s. hostmaster.%s. %d 60 60 600 60" % (zone, zone, serial),
        "@ IN NS ns1.%s." % zone,
        "ns1 IN A %s" % ns_address,
    ]
    lines += list(records)
    return "\n".join(lines) + "\n"


def served_txt(server, name):
    """The TXT values ``server`` serves at ``name``, joined and sorted, and the raw strings of each record."""
    reply = dns.query.tcp(dns.message.make_query(name, "TXT"), server.host, port=server.port, timeout=5)
    strings = [rdata.strings for rrset in reply.answer if rrset.rdtype == dns.rdatatype.TXT for rdata in rrset]
    return sorted(b"".join(s).decode() for s in strings), strings


def zone_records(server, zone):
    """Every record of ``zone`` but its SOA, by zone transfer (TSIG-signed where the server has a key):
    {(absolute name, type): sorted rdata texts}, TXT as joined values."""
    key_secret = getattr(server, "key_secret", None)
    keyring = dns.tsigkeyring.from_text({server.key_name: server.key_secret}) if key_secret else None
    transfer = dns.query.xfr(server.host, zone, port=server.port, timeout=5, keyring=keyring,
                             keyname=getattr(server, "key_name", None), keyalgorithm=getattr(server, "key_algorithm", None))
    records = {}
    for name, node in dns.zone.from_xfr(transfer).nodes.items():
        absolute = name.derelativize(dns.name.from_text(zone)).to_text().lower()
        for rdataset in node.rdatasets:
            if rdataset.rdtype == dns.rdatatype.SOA:
                continue
            values = [b"".join(r.strings).decode() if rdataset.rdtype == dns.rdatatype.TXT else r.to_text()
                      for r in rdataset]
            records[(absolute, dns.rdatatype.to_text(rdataset.rdtype))] = sorted(values)
    return records


def _wait_for_dns(proc, host, port, zone, log):
    deadline = time.monotonic() + STARTUP_SECONDS
    query = dns.message.make_query(zone.rstrip(".") + ".", "SOA")
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("DNS server exited with %s:\n%s" % (proc.returncode, log.read_text()[-3000:]))
        try:
            reply = dns.query.udp(query, host, port=port, timeout=0.5)
            if reply.rcode() == dns.rcode.NOERROR and reply.answer:
                return
        except (OSError, dns.exception.DNSException):
            pass
        time.sleep(0.1)
    raise RuntimeError("DNS server on %s:%d did not serve %s:\n%s" % (host, port, zone, log.read_text()[-3000:]))


def _stop(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Named:
    """A running `named -g`: port, TSIG key, zone directory."""

    def __init__(self, directory, host, port, key_name, key_secret, algorithm, zones):
        self.directory = Path(directory)
        self.host = host
        self.port = port
        self.key_name = key_name
        self.key_secret = key_secret
        self.key_algorithm = algorithm
        self.zones = list(zones)
        self.proc = None

    @property
    def address(self):
        return "%s:%d" % (self.host, self.port)

    def zone_file(self, zone):
        return self.directory / ("%s.zone" % (zone if zone != "." else "root"))


@contextmanager
def run_named(zones, key_name="mailauth-test", algorithm="hmac-sha256", allow_update=True, directory=None,
              host=LOOPBACK, port=None, recursion=False):
    """Start BIND on ``host`` (a free port unless given) serving `zones` ({name: zone file text}) as
    primary, updatable with a TSIG key.

    With allow_update=False the zones are static copies (a lagging secondary in tests). With
    recursion=True it also resolves names it is not authoritative for, caching nothing; give it a
    root zone "." delegating the other zones, so that no name is looked for beyond the machine.
    """
    own_dir = directory is None
    directory = Path(directory or tempfile.mkdtemp(prefix="mailauth-named-"))
    directory.mkdir(parents=True, exist_ok=True)
    server = Named(directory, host, port or free_port(host), key_name, tsig_secret(), algorithm, zones)
    update = 'allow-update { key "%s"; };' % key_name if allow_update else ""
    # A resolver in a test caches nothing: each question sees what the servers serve now.
    resolving = ["  recursion yes;", "  allow-recursion { any; };", "  max-cache-ttl 0;", "  max-ncache-ttl 0;"] \
        if recursion else ["  recursion no;"]
    conf = [
        "options {",
        '  directory "%s";' % directory,
        '  pid-file "%s/named.pid";' % directory,
        '  session-keyfile "%s/session.key";' % directory,
        '  managed-keys-directory "%s";' % directory,
        "  listen-on port %d { %s; };" % (server.port, host),
        "  listen-on-v6 { none; };",
    ] + resolving + [
        "  notify no;",
        "  dnssec-validation no;",
        '  allow-transfer { key "%s"; };' % key_name,
        "};",
        'key "%s" { algorithm %s; secret "%s"; };' % (key_name, algorithm, server.key_secret),
        'controls { };',
    ]
    for zone, text in zones.items():
        server.zone_file(zone).write_text(text)
        conf.append('zone "%s" { type primary; file "%s"; %s };' % (zone, server.zone_file(zone), update))
    (directory / "named.conf").write_text("\n".join(conf) + "\n")
    log = directory / "named.log"
    with open(log, "wb") as out, open(os.devnull, "rb") as devnull:
        server.proc = subprocess.Popen(
            ["named", "-g", "-c", str(directory / "named.conf")],
            stdin=devnull, stdout=out, stderr=subprocess.STDOUT, cwd=directory)
    try:
        for zone in zones:
            _wait_for_dns(server.proc, host, server.port, zone, log)
        yield server
    finally:
        _stop(server.proc)
        if own_dir:
            shutil.rmtree(directory, ignore_errors=True)


class Pdns:
    """A running `pdns_server` with the sqlite3 back end and its HTTP API."""

    def __init__(self, directory, host, port, api_port, api_key):
        self.directory = Path(directory)
        self.host = host
        self.port = port
        self.api_port = api_port
        self.api_key = api_key
        self.proc = None

    @property
    def address(self):
        return "%s:%d" % (self.host, self.port)

    @property
    def api_url(self):
        return "http://%s:%d" % (self.host, self.api_port)

    def pdnsutil(self, *args):
        return subprocess.run(["pdnsutil", "--config-dir=%s" % self.directory] + list(args),
                              capture_output=True, text=True, check=True, stdin=subprocess.DEVNULL)


@contextmanager
def run_pdns(zones, directory=None, host=LOOPBACK, port=None):
    """Start PowerDNS on ``host`` (DNS on a free port unless given, the API on a free port) serving
    `zones` ({name: [extra "NAME TTL TYPE CONTENT" lines]}); each zone's ns1 is ``host``."""
    own_dir = directory is None
    directory = Path(directory or tempfile.mkdtemp(prefix="mailauth-pdns-"))
    directory.mkdir(parents=True, exist_ok=True)
    server = Pdns(directory, host, port or free_port(host), free_port(host),
                  base64.b16encode(os.urandom(16)).decode().lower())
    database = directory / "pdns.sqlite3"
    with sqlite3.connect(database) as db:
        db.executescript(PDNS_SCHEMA.read_text())
    (directory / "pdns.conf").write_text("\n".join([
        "launch=gsqlite3",
        "gsqlite3-database=%s" % database,
        "local-address=%s" % host,
        "local-port=%d" % server.port,
        "api=yes",
        "api-key=%s" % server.api_key,
        "webserver=yes",
        "webserver-address=%s" % host,
        "webserver-port=%d" % server.api_port,
        "webserver-allow-from=127.0.0.0/8",
        "security-poll-suffix=",
        "daemon=no",
        "guardian=no",
        "disable-syslog=yes",
        "socket-dir=%s" % directory,
        "query-cache-ttl=0",
        "negquery-cache-ttl=0",
        "cache-ttl=0",
        "zone-cache-refresh-interval=0",
    ]) + "\n")
    for zone, records in zones.items():
        server.pdnsutil("create-zone", zone, "ns1.%s" % zone)
        server.pdnsutil("add-record", zone, "ns1", "A", host)
        for line in records:
            name, ttl, rtype, content = line.split(None, 3)
            server.pdnsutil("add-record", zone, name, rtype, ttl, content)
    log = directory / "pdns.log"
    with open(log, "wb") as out, open(os.devnull, "rb") as devnull:
        server.proc = subprocess.Popen(
            ["pdns_server", "--config-dir=%s" % directory],
            stdin=devnull, stdout=out, stderr=subprocess.STDOUT, cwd=directory)
    try:
        for zone in zones:
            _wait_for_dns(server.proc, host, server.port, zone, log)
        _wait_for_api(server, log)
        yield server
    finally:
        _stop(server.proc)
        if own_dir:
            shutil.rmtree(directory, ignore_errors=True)


def _wait_for_api(server, log):
    deadline = time.monotonic() + STARTUP_SECONDS
    request = urllib.request.Request(server.api_url + "/api/v1/servers/localhost",
                                     headers={"X-API-Key": server.api_key})
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(request, timeout=1) as reply:
                if reply.status == 200:
                    return
        except (OSError, urllib.error.URLError):
            pass
        time.sleep(0.1)
    raise RuntimeError("PowerDNS API on port %d did not answer:\n%s" % (server.api_port, log.read_text()[-3000:]))


# Session fixtures: a test module imports them by name.

BIND_ZONES = ("example.test", "example2.test")
PDNS_ZONES = ("example.test",)


@pytest.fixture(scope="session")
def named_server(tmp_path_factory):
    """BIND with TSIG (hmac-sha256) serving BIND_ZONES as updatable primaries."""
    zones = {zone: zone_text(zone) for zone in BIND_ZONES}
    with run_named(zones, directory=tmp_path_factory.mktemp("named")) as server:
        yield server


@pytest.fixture(scope="session")
def pdns_server(tmp_path_factory):
    """PowerDNS (sqlite3, HTTP API) serving PDNS_ZONES."""
    with run_pdns({zone: [] for zone in PDNS_ZONES}, directory=tmp_path_factory.mktemp("pdns")) as server:
        yield server
