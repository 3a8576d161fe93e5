"""Publish SPF + DKIM + DMARC for N domains (default 200) into a throwaway local BIND, three ways,
side by side in one run, repeated, medians:

- floor: a bare dnspython script (one TSIG UPDATE per zone on the first run, N x 3 plain queries on
  the no-change run), run as its own Python process;
- role: a playbook running the mailauth.hardening.dns_records role (one dns_txt task per provider
  account) on an inventory of N domains;
- nsupdate: community.general.nsupdate through the looped role-shaped path (one task per record
  type, each looped over the domains: N x 3 module calls).

    .venv/bin/python benchmarks/dns_publish.py [--domains 200] [--repeat 3] [--nsupdate-repeat 1] [--no-zone]

Each variant has its own N zones on `named -g` (127.0.0.1, a free port, TSIG hmac-sha256); before
each repetition its zones are emptied again, then the first run publishes into empty zones, every
record is checked to be served exactly once, and the second run is the no-change run. Wall times
include each process's start-up. Nothing leaves loopback. See benchmarks/dns_publish.md.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "tests"), str(REPO / "tests" / "system")]

import dns.message  # noqa: E402
import dns.query  # noqa: E402
import dns.tsigkeyring  # noqa: E402
import dns.update  # noqa: E402
from conftest import ansible_env  # noqa: E402 - links the collection and gives the playbook environment
from dns_servers import run_named, zone_text  # noqa: E402

from ansible_collections.mailauth.hardening.plugins.module_utils._dkim.keys import generate_private_key  # noqa: E402
from ansible_collections.mailauth.hardening.plugins.module_utils._records.dkim_record import (  # noqa: E402
    build_dkim_record, public_key_b64)

SELECTOR = "s202611"
VARIANTS = ("floor", "role", "nsupdate")
PYTHON = str(REPO / ".venv" / "bin" / "python")
PROFILE = os.environ.get("BENCH_PROFILE") == "1"  # print the profile_tasks lines of each playbook run
TASK_TIME = re.compile(r"^(?P<task>.*?) -{3,} (?P<seconds>[0-9.]+)s$")

# The floor: what a person would write with dnspython alone, given the records and the server.
FLOOR = r'''
import json, sys
import dns.message, dns.query, dns.tsigkeyring, dns.update, dns.rdtypes.ANY.TXT
spec = json.load(open(sys.argv[1]))
keyring = dns.tsigkeyring.from_text({spec["key_name"]: spec["key_secret"]})
host, port = spec["host"], spec["port"]
if spec["mode"] == "first":
    for d in spec["domains"]:
        update = dns.update.UpdateMessage(d["name"], keyring=keyring, keyalgorithm="hmac-sha256")
        for name, value in d["records"]:
            strings = [value[i:i + 255] for i in range(0, len(value), 255)]
            update.add(name, 3600, dns.rdtypes.ANY.TXT.TXT(1, 16, strings))
        reply = dns.query.tcp(update, host, port=port, timeout=5)
        assert reply.rcode() == 0, reply
else:
    for d in spec["domains"]:
        for name, value in d["records"]:
            reply = dns.query.tcp(dns.message.make_query(name, "TXT"), host, port=port, timeout=5)
            assert [b"".join(r.strings).decode() for rrset in reply.answer for r in rrset] == [value]
'''


def records_of(domain):
    return [(domain["name"] + ".", domain["spf"]), ("%s._domainkey.%s." % (SELECTOR, domain["name"]), domain["dkim"]),
            ("_dmarc.%s." % domain["name"], domain["dmarc"])]


def domains_for(variant, count, dkim):
    out = []
    for i in range(count):
        name = "%s%03d.test" % (variant, i)
        out.append({"name": name, "spf": "v=spf1 mx a -all", "dkim": dkim,
                    "dmarc": "v=DMARC1; p=none; rua=mailto:dmarc-reports@%s" % name})
    return out


def connection(named):
    return {"server": named.host, "port": named.port, "key_name": named.key_name, "key_algorithm": named.key_algorithm}


def play(tasks, variables):
    variables = dict(variables, ansible_python_interpreter="{{ ansible_playbook_python }}")
    return [{"hosts": "localhost", "gather_facts": False, "vars": variables, "tasks": tasks}]


def role_book(named, domains, zone_given):
    """The harden path's publish step: the dns_records role on an inventory of domains."""
    dns = dict(connection(named), provider="rfc2136", credentials="lab")
    inventory = [{"name": d["name"], "dns": dict(dns, zone=d["name"]) if zone_given else dns,
                  "spf": {"mechanisms": ["mx", "a"], "all": "fail"},
                  "dmarc": {"p": "none", "rua": ["dmarc-reports@%s" % d["name"]]}} for d in domains]
    keys = [{"domain": d["name"], "selector": SELECTOR, "record": d["dkim"]} for d in domains]
    return play([{"name": "Publish", "ansible.builtin.include_role": {"name": "mailauth.hardening.dns_records"}}],
                {"mailauth_domains": inventory, "mailauth_dkim_records": keys, "mailauth_dns_wait": False,
                 "mailauth_dns_secrets": {"lab": {"key_secret": named.key_secret}}})


def nsupdate_book(named, domains):
    """community.general.nsupdate, role-shaped: one task per record type, looped over the domains; the
    DKIM value split and quoted by hand (nsupdate quotes a value as ONE string, over 255 octets refused)."""
    base = dict(connection(named), key_secret=named.key_secret, protocol="tcp", zone="{{ item.name }}", type="TXT")
    dkim_split = "\"{{ item.dkim | mailauth.hardening.txt_split | join('\" \"') }}\""
    tasks = []
    for label, record, value in (("SPF", "{{ item.name }}.", "{{ item.spf }}"),
                                 ("DKIM", "%s._domainkey.{{ item.name }}." % SELECTOR, dkim_split),
                                 ("DMARC", "_dmarc.{{ item.name }}.", "{{ item.dmarc }}")):
        tasks.append({"name": "Publish %s" % label, "community.general.nsupdate": dict(base, record=record, value=value),
                      "loop": "{{ domains }}", "loop_control": {"label": "{{ item.name }}"}})
    return play(tasks, {"domains": domains})


def timed(argv, env=None):
    start = time.monotonic()
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    elapsed = time.monotonic() - start
    if proc.returncode != 0:
        sys.exit("%s failed:\n%s" % (argv[:2], proc.stdout[-4000:] + proc.stderr[-2000:]))
    return elapsed, proc.stdout


def run_playbook(book, workdir):
    """(wall seconds, seconds of the publishing tasks as profile_tasks measured them, recap)."""
    path = workdir / "play.json"
    path.write_text(json.dumps(book))
    elapsed, out = timed([str(REPO / ".venv" / "bin" / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(path)],
                         ansible_env(ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default",
                                     ANSIBLE_CALLBACKS_ENABLED="ansible.posix.profile_tasks"))
    tasks = [TASK_TIME.match(line.strip()) for line in out.splitlines()]
    tasks = [(m.group("task"), float(m.group("seconds"))) for m in tasks if m]
    if PROFILE:
        print("\n".join("  %6.2f s  %s" % (seconds, task) for task, seconds in tasks))
    publishing = sum(seconds for task, seconds in tasks if "Publish" in task)
    recap = [line for line in out.splitlines() if line.startswith("localhost")]
    return elapsed, publishing, recap[-1].split(":", 1)[-1].split("unreachable")[0].strip() if recap else ""


def run_floor(named, domains, mode, workdir):
    path = workdir / "floor.json"
    path.write_text(json.dumps({"host": named.host, "port": named.port, "key_name": named.key_name,
                                "key_secret": named.key_secret, "mode": mode,
                                "domains": [{"name": d["name"], "records": records_of(d)} for d in domains]}))
    script = workdir / "floor.py"
    script.write_text(FLOOR)
    elapsed = timed([PYTHON, str(script), str(path)])[0]
    what = "%d updates" % len(domains) if mode == "first" else "%d queries" % (3 * len(domains))
    return elapsed, elapsed, what


def empty_zones(named, domains):
    """Remove every TXT the variants publish, so that the next first run starts from empty zones."""
    keyring = dns.tsigkeyring.from_text({named.key_name: named.key_secret})
    for d in domains:
        update = dns.update.UpdateMessage(d["name"], keyring=keyring, keyalgorithm="hmac-sha256")
        for name, _value in records_of(d):
            update.delete(name, "TXT")
        dns.query.tcp(update, named.host, port=named.port, timeout=5)


def check_served(named, domains):
    """Every record is served, joined, exactly once per owned tag."""
    for d in domains:
        for name, value in records_of(d):
            reply = dns.query.tcp(dns.message.make_query(name, "TXT"), named.host, port=named.port, timeout=5)
            values = [b"".join(r.strings).decode() for rrset in reply.answer for r in rrset]
            if values != [value]:
                sys.exit("%s serves %r, expected %r" % (name, values, value))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--domains", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3, help="repetitions of the floor and the role path")
    parser.add_argument("--nsupdate-repeat", type=int, default=1, help="repetitions of nsupdate (slow; 0 skips it)")
    parser.add_argument("--no-zone", action="store_true", help="inventory without dns.zone: zones are found")
    args = parser.parse_args()
    dkim = build_dkim_record("rsa", public_key_b64(generate_private_key("rsa", 2048)))
    sets = dict((variant, domains_for(variant, args.domains, dkim)) for variant in VARIANTS)
    zones = dict((d["name"], zone_text(d["name"])) for domains in sets.values() for d in domains)
    times = dict((variant, ([], [], [], [])) for variant in VARIANTS)  # first, no-change; wall, then tasks
    with tempfile.TemporaryDirectory(prefix="mailauth-bench-") as tmp, run_named(zones, directory=Path(tmp) / "named") as named:
        work = Path(tmp)
        print("BIND %s on %s: %d zones, %d domains per variant, SPF + 2048-bit DKIM + DMARC each; inventory %s dns.zone"
              % (subprocess.run(["named", "-v"], capture_output=True, text=True, check=True).stdout.strip(), named.address,
                 len(zones), args.domains, "without" if args.no_zone else "with"))
        for rep in range(max(args.repeat, args.nsupdate_repeat)):
            for variant in VARIANTS:
                if rep >= (args.nsupdate_repeat if variant == "nsupdate" else args.repeat):
                    continue
                domains = sets[variant]
                empty_zones(named, domains)
                if variant == "floor":
                    runs = [run_floor(named, domains, "first", work)]
                    check_served(named, domains)
                    runs.append(run_floor(named, domains, "again", work))
                else:
                    book = role_book(named, domains, not args.no_zone) if variant == "role" else nsupdate_book(named, domains)
                    runs = [run_playbook(book, work)]
                    check_served(named, domains)
                    runs.append(run_playbook(book, work))
                for index, value in enumerate((runs[0][0], runs[1][0], runs[0][1], runs[1][1])):
                    times[variant][index].append(value)
                print("run %d  %-8s first %7.2f s (tasks %6.2f s)  no-change %7.2f s (tasks %6.2f s)  | %s | %s"
                      % (rep + 1, variant, runs[0][0], runs[0][1], runs[1][0], runs[1][1], runs[0][2], runs[1][2]), flush=True)
    med = dict((v, [statistics.median(t) for t in ts]) for v, ts in times.items() if ts[0])
    print("\nmedians (s)        first run  no-change run   | publishing tasks only: first  no-change")
    for variant in med:
        print("%-18s %9.2f %14.2f   | %30.2f %10.2f" % tuple([variant] + med[variant]))
    print("\nratios (wall; tasks only)       first run        no-change run   target")
    pairs = [("role / floor", "role", "floor", "<= 3x"), ("nsupdate / role", "nsupdate", "role", ">= 20x")]
    for label, top, bottom, target in pairs:
        if top in med:
            ratios = [med[top][i] / med[bottom][i] for i in range(4)]
            print("%-22s %8.1fx; %5.1fx %10.1fx; %5.1fx   %s" % (label, ratios[0], ratios[2], ratios[1], ratios[3], target))
    print("(repetitions: %d, nsupdate %d; %d CPUs, Python %s; floor tasks = floor wall)"
          % (args.repeat, args.nsupdate_repeat, os.cpu_count(), sys.version.split()[0]))


if __name__ == "__main__":
    main()
