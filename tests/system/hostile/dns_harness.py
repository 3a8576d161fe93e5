"""Hostile inputs and faults against the DNS side (dns_txt, dns_txt_wait, mail_audit, the record
filters), run against a real BIND or PowerDNS on loopback.

A test module lists its cases (``Case``), makes its ``outcomes`` fixture with ``hostile_fixture``
(ONE server for all its cases) and parametrizes one test per case over it. ``hostile_run``:

1. gives every case a zone of its own (``<case id>.test``) holding ``Case.zone`` plus a foreign
   TXT and an SPF record, and snapshots every zone (AXFR: SOA serial and all data);
2. runs all cases as the tasks of one playbook, once, with the default callback at ``-vvv --diff``
   (the most talkative output there is); each task's result is the JSON printed after its ``=>``;
3. snapshots the zones again.

``check_outcome`` then asserts for one case: the task failed; its message names the field and the
fix; its zone is unchanged; no secret (TSIG secret, API token, a case's own wrong secrets) appears
in the case's results, diffs or -vvv output.

Secrets reach the play the way an inventory passes them (Vault variables): from an extra-vars file,
referenced by templates, so the play text itself holds none.
"""
import base64
import collections
import json
import os
import re
import socket
import subprocess
import sys
from contextlib import contextmanager

import dns.query
import dns.tsig
import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from dns_servers import LOOPBACK, free_port, zone_text

FOREIGN = "google-site-verification=keep-me"
OLD_SPF = "v=spf1 a ~all"


class Case(object):
    """One hostile input or fault.

    ``args(ctx)`` returns the module's arguments (ctx: a ``Context``); ``names`` are the strings the
    failure must contain (the field and what is wrong; "^field:" must start it), ``fix`` what it must
    say to do;
    ``absent`` strings it must not contain (a wrong blame). ``zone`` lines are added to the
    case's zone; ``secrets(ctx)`` lists extra strings that must never appear.
    """

    def __init__(self, id, args, names, fix="Fix:", module="dns_txt", zone=(), absent=(), secrets=None,
                 check_mode=False, extra_task=None):
        self.id = id
        self.args = args
        self.names = list(names)
        self.fix = fix
        self.module = module
        self.zone = list(zone)
        self.absent = list(absent)
        self.secrets = secrets or (lambda ctx: [])
        self.check_mode = check_mode
        self.extra_task = extra_task or {}

    @property
    def zone_name(self):
        return "%s.test" % self.id

    def __repr__(self):
        return self.id


class Context(object):
    """What a case's ``args`` may use: the server, the case's zone, a silent and a closed port."""

    def __init__(self, server, case, blackhole, closed_port):
        self.server = server
        self.case = case
        self.zone = case.zone_name
        self.blackhole = blackhole
        self.closed_port = closed_port

    def rfc2136(self, **extra):
        """Arguments for dns_txt/dns_txt_wait through RFC 2136 at the BIND, secrets as variables."""
        args = {"provider": "rfc2136", "server": self.server.address, "key_name": self.server.key_name,
                "key_secret": "{{ hostile_tsig_secret }}", "zone": self.zone, "timeout": 3}
        args.update(extra)
        return args

    def powerdns(self, **extra):
        args = {"provider": "powerdns", "zone": self.zone, "nameservers": [self.server.address], "timeout": 3,
                "provider_options": {"auth_token": "{{ hostile_api_key }}", "pdns_server": self.server.api_url}}
        args.update(extra)
        return args


def rsa_key_b64(bits):
    """The base64 SubjectPublicKeyInfo of a new RSA key (under 1024 bits: a modulus of that size only,
    since cryptography makes no such key and a public key needs nothing more)."""
    if bits < 1024:
        public = rsa.RSAPublicNumbers(65537, int.from_bytes(os.urandom(bits // 8), "big") | 1 << (bits - 1) | 1).public_key()
    else:
        public = rsa.generate_private_key(65537, bits).public_key()
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode()


def case_zone_text(case):
    return zone_text(case.zone_name, ['@ IN TXT "%s"' % FOREIGN, '@ IN TXT "%s"' % OLD_SPF] + case.zone)


def case_pdns_records(case):
    return ['@ 300 TXT "%s"' % FOREIGN, '@ 300 TXT "%s"' % OLD_SPF] + case.zone


@contextmanager
def blackhole():
    """A UDP socket and a TCP listener on one loopback port that never answer (a silent server)."""
    port = free_port()
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        udp.bind((LOOPBACK, port))
        tcp.bind((LOOPBACK, port))
        tcp.listen(64)
        yield "%s:%d" % (LOOPBACK, port)
    finally:
        udp.close()
        tcp.close()


def snapshot(server, zone):
    """Every record of ``zone`` (SOA serial included) as the server hands it out by AXFR."""
    keyring = None
    if getattr(server, "key_secret", None):
        keyring = dns.tsig.Key(server.key_name, server.key_secret, server.key_algorithm)
    xfr = dns.query.xfr(server.host, zone, port=server.port, timeout=5, lifetime=10,
                        keyring={keyring.name: keyring} if keyring else None,
                        keyname=keyring.name if keyring else None,
                        keyalgorithm=keyring.algorithm if keyring else None)
    lines = set()
    for message in xfr:
        for rrset in message.answer:
            lines.update(rrset.to_text().splitlines())
    return sorted(lines)


def _task(case, ctx):
    if case.module in ("dns_txt", "dns_txt_wait", "mail_audit"):
        body = {"mailauth.hardening.%s" % case.module: case.args(ctx)}
    else:  # a raw task (e.g. set_fact with a filter)
        body = case.args(ctx)
    task = {"name": case.id, "ignore_errors": True}
    task.update(body)
    task.update(case.extra_task)
    if case.check_mode:
        task["check_mode"] = True
    return task


def _playbook(tasks):
    return json.dumps([{"hosts": "localhost", "gather_facts": False,
                        "vars": {"ansible_python_interpreter": "{{ ansible_playbook_python }}"},
                        "tasks": tasks}])


def _run(environment, directory, book, secrets_file, *args, **env):
    cmd = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,", "-c", "local",
           "-e", "@%s" % secrets_file, str(book)] + list(args)
    proc = subprocess.run(cmd, capture_output=True, text=True, env=dict(environment, **env), check=False, cwd=directory)
    return proc.stdout, proc.stderr


_BANNER = re.compile(r"^TASK \[(.+?)\] \*+", re.MULTILINE)
_RESULT = re.compile(r"^(?:ok|changed|fatal|failed|skipping): \[localhost\](?:: FAILED!)? => ", re.MULTILINE)


def per_task(verbose, ids):
    """The -vvv output of the default callback cut at the TASK banners: {case id: (text, result)}.

    The result is the JSON the callback prints after ``=>`` (at -vvv: the whole result, but for
    ``failed``, which it states in the banner).
    """
    parts = {}
    marks = [(m.group(1), m.start()) for m in _BANNER.finditer(verbose)]
    for index, (name, start) in enumerate(marks):
        end = marks[index + 1][1] if index + 1 < len(marks) else len(verbose)
        if name not in ids:
            continue
        text = verbose[start:end]
        found = _RESULT.search(text)
        result = json.JSONDecoder().raw_decode(text, found.end())[0] if found else None
        if result is not None and "FAILED!" in found.group(0):
            result["failed"] = True  # the callback says it in the banner and drops the key
        parts[name] = (text, result)
    return parts


# What one case did: its result, its -vvv text, its zone before and after, the secrets to look for.
Outcome = collections.namedtuple("Outcome", "case result verbose before after secrets")


def hostile_run(cases, server, directory, secrets, environment):
    """Run every case against ``server`` (one playbook run); return {case id: Outcome}.

    ``secrets``: {variable name: secret} the play may use (hostile_tsig_secret, hostile_api_key);
    ``environment``: the ``ansible_environment`` fixture (tests/conftest.py).
    """
    ids = [case.id for case in cases]
    assert len(set(ids)) == len(ids), "case ids must be unique"
    directory.mkdir(parents=True, exist_ok=True)
    secrets_file = directory / "secrets.yml"
    secrets_file.write_text(yaml.safe_dump(secrets))
    with blackhole() as silent:
        closed = free_port()
        contexts = dict((case.id, Context(server, case, silent, closed)) for case in cases)
        book = directory / "hostile.yml"
        book.write_text(_playbook([_task(case, contexts[case.id]) for case in cases]))
        before = dict((case.id, snapshot(server, case.zone_name)) for case in cases)
        verbose, stderr = _run(environment, directory, book, secrets_file, "-vvv", "--diff",
                               ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default")
        after = dict((case.id, snapshot(server, case.zone_name)) for case in cases)
    (directory / "output.txt").write_text(verbose + stderr)
    parts = per_task(verbose, ids)
    outcomes = {}
    for case in cases:
        own = [s for s in case.secrets(contexts[case.id]) if s]
        text, result = parts.get(case.id, ("", None))
        outcomes[case.id] = Outcome(case, result, text + stderr, before[case.id], after[case.id],
                                    list(secrets.values()) + own)
    return outcomes


def failure_text(result):
    """Everything a person reads about a failed task: msg, and each finding's message and fix."""
    parts = [str(result.get("msg", ""))]
    for finding in result.get("findings") or []:
        if isinstance(finding, dict):
            parts.append("%s %s: %s Fix: %s" % (finding.get("check"), finding.get("severity"),
                                                finding.get("message"), finding.get("fix")))
    return "\n".join(parts)


def check_outcome(outcome):
    """The assertions every hostile case makes (see the module docstring)."""
    case, result = outcome.case, outcome.result
    assert result is not None, "%s: the task did not run" % case.id
    assert result.get("failed") is True, "%s: the task did not fail: %s" % (case.id, json.dumps(result)[:1500])
    text = failure_text(result)
    for name in case.names:
        # A word of the case's own zone name (its id) is no proof: look for it elsewhere.
        haystack = text if case.zone_name in name else text.replace(case.zone_name, "<zone>")
        found = haystack.startswith(name[1:]) if name.startswith("^") else name in haystack
        assert found, "%s: the failure does not name %r: %s" % (case.id, name, text)
    assert case.fix in text, "%s: the failure gives no fix (%r): %s" % (case.id, case.fix, text)
    for wrong in case.absent:
        assert wrong not in text, "%s: the failure says %r: %s" % (case.id, wrong, text)
    assert outcome.after == outcome.before, "%s: the zone changed" % case.id
    dumped = json.dumps(result)
    for secret in outcome.secrets:
        assert secret not in dumped, "%s: a secret is in the result" % case.id
        assert secret not in outcome.verbose, "%s: a secret is in the -vvv output" % case.id


def with_defaults(defaults, **extra):
    """``args(ctx)``: ``defaults(ctx)`` updated by ``extra``, whose values may be callables of ctx."""
    def args(ctx):
        base = defaults(ctx)
        base.update((key, value(ctx) if callable(value) else value) for key, value in extra.items())
        return base
    return args


def hostile_fixture(cases, start, zone_data, secrets_of):
    """The module-scoped ``outcomes`` fixture of a test module: ``start(zones, directory=...)`` one
    server with ``zone_data(case)`` for each case, run them all, {case id: Outcome}.
    ``secrets_of(server)`` gives the play's secret variables."""
    @pytest.fixture(scope="module")
    def outcomes(tmp_path_factory, ansible_environment):
        zones = dict((case.zone_name, zone_data(case)) for case in cases)
        with start(zones, directory=tmp_path_factory.mktemp("hostile-server")) as server:
            yield hostile_run(cases, server, tmp_path_factory.mktemp("hostile-play"), secrets_of(server),
                              ansible_environment)
    return outcomes


def ids(cases):
    return [case.id for case in cases]
