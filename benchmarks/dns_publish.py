"""Publish SPF + DKIM + DMARC for N domains (default 200) into a throwaway local BIND:
mailauth.hardening.dns_txt against community.general.nsupdate (one task per record).

    .venv/bin/python benchmarks/dns_publish.py [--domains 200]

Starts `named -g` on 127.0.0.1 and a free port with 3 x N empty zones (one set per
variant, so each variant publishes into empty zones), runs each playbook twice
(first publish, then the no-change run a scheduled drift check would do), checks
that every record is served, and prints wall times and ratios. Nothing leaves
loopback. See benchmarks/dns_publish.md for what the playbooks look like.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "tests"), str(REPO / "tests" / "system")]

import dns.message  # noqa: E402
import dns.query  # noqa: E402
from conftest import ansible_env  # noqa: E402 - links the collection and gives the playbook environment
from dns_servers import run_named, zone_text  # noqa: E402

from ansible_collections.mailauth.hardening.plugins.module_utils._dkim.keys import generate_private_key  # noqa: E402
from ansible_collections.mailauth.hardening.plugins.module_utils._records.dkim_record import (  # noqa: E402
    build_dkim_record, public_key_b64)

SELECTOR = "s202611"
VARIANTS = ("dns_txt_loop", "dns_txt_one_task", "nsupdate")


def domains_for(variant, count, dkim):
    out = []
    for i in range(count):
        name = "%s%03d.test" % (variant.replace("_", ""), i)
        out.append({"name": name, "spf": "v=spf1 mx a -all", "dkim": dkim,
                    "dmarc": "v=DMARC1; p=none; rua=mailto:dmarc-reports@%s" % name})
    return out


def connection(named):
    return {"server": named.host, "port": named.port, "key_name": named.key_name,
            "key_secret": named.key_secret, "key_algorithm": named.key_algorithm}


def play(tasks, domains, extra_vars=None):
    variables = {"ansible_python_interpreter": "{{ ansible_playbook_python }}", "domains": domains}
    variables.update(extra_vars or {})
    return [{"hosts": "localhost", "gather_facts": False, "vars": variables, "tasks": tasks}]


def dns_txt_loop(named, domains):
    """What a user writes: one dns_txt task, looped over the inventory's domains."""
    args = dict(connection(named), provider="rfc2136", zone="{{ item.name }}", records=[
        {"name": "@", "value": "{{ item.spf }}"},
        {"name": "%s._domainkey" % SELECTOR, "value": "{{ item.dkim }}"},
        {"name": "_dmarc", "value": "{{ item.dmarc }}"}])
    return play([{"name": "Publish mail TXT records", "mailauth.hardening.dns_txt": args,
                  "loop": "{{ domains }}", "loop_control": {"label": "{{ item.name }}"}}], domains)


def dns_txt_one_task(named, domains):
    """One dns_txt task for all domains: absolute names, zones found by SOA walk, one UPDATE per zone."""
    records = []
    for d in domains:
        records += [{"name": d["name"] + ".", "value": d["spf"]},
                    {"name": "%s._domainkey.%s." % (SELECTOR, d["name"]), "value": d["dkim"]},
                    {"name": "_dmarc.%s." % d["name"], "value": d["dmarc"]}]
    args = dict(connection(named), provider="rfc2136", records="{{ mail_txt_records }}")
    return play([{"name": "Publish mail TXT records", "mailauth.hardening.dns_txt": args}], domains,
                {"mail_txt_records": records})


def nsupdate(named, domains):
    """community.general.nsupdate: one task per record type, looped; the DKIM value must be
    split and quoted by hand (nsupdate quotes a value as ONE string, and a string over 255
    octets is refused)."""
    base = dict(connection(named), protocol="tcp", zone="{{ item.name }}", type="TXT")
    dkim_split = "\"{{ item.dkim | mailauth.hardening.txt_split | join('\" \"') }}\""
    tasks = []
    for label, record, value in (("SPF", "{{ item.name }}.", "{{ item.spf }}"),
                                 ("DKIM", "%s._domainkey.{{ item.name }}." % SELECTOR, dkim_split),
                                 ("DMARC", "_dmarc.{{ item.name }}.", "{{ item.dmarc }}")):
        tasks.append({"name": "Publish %s" % label, "community.general.nsupdate": dict(base, record=record, value=value),
                      "loop": "{{ domains }}", "loop_control": {"label": "{{ item.name }}"}})
    return play(tasks, domains)


def run(book, workdir):
    path = workdir / "play.json"
    path.write_text(json.dumps(book))
    env = ansible_env(ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default")
    start = time.monotonic()
    proc = subprocess.run([str(REPO / ".venv" / "bin" / "ansible-playbook"), "-i", "localhost,", "-c", "local",
                           str(path)], capture_output=True, text=True, env=env, check=False)
    elapsed = time.monotonic() - start
    if proc.returncode != 0:
        sys.exit("playbook failed:\n%s" % (proc.stdout[-4000:] + proc.stderr[-2000:]))
    recap = [line for line in proc.stdout.splitlines() if line.startswith("localhost")]
    return elapsed, recap[-1] if recap else ""


def check_served(named, domains):
    """Every record is served, joined, exactly once per owned tag."""
    for d in domains:
        for name, value in ((d["name"], d["spf"]), ("%s._domainkey.%s" % (SELECTOR, d["name"]), d["dkim"]),
                            ("_dmarc." + d["name"], d["dmarc"])):
            reply = dns.query.tcp(dns.message.make_query(name, "TXT"), named.host, port=named.port, timeout=5)
            values = [b"".join(r.strings).decode() for rrset in reply.answer for r in rrset]
            if values != [value]:
                sys.exit("%s serves %r, expected %r" % (name, values, value))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--domains", type=int, default=200)
    count = parser.parse_args().domains
    dkim = build_dkim_record("rsa", public_key_b64(generate_private_key("rsa", 2048)))
    sets = dict((variant, domains_for(variant, count, dkim)) for variant in VARIANTS)
    zones = dict((d["name"], zone_text(d["name"])) for domains in sets.values() for d in domains)
    builders = {"dns_txt_loop": dns_txt_loop, "dns_txt_one_task": dns_txt_one_task, "nsupdate": nsupdate}
    times = {}
    with tempfile.TemporaryDirectory(prefix="mailauth-bench-") as tmp, run_named(zones, directory=Path(tmp) / "named") as named:
        print("BIND %s on %s: %d zones, %d domains per variant, 3 TXT records each (2048-bit DKIM)"
              % (subprocess.run(["named", "-v"], capture_output=True, text=True, check=True).stdout.strip(), named.address,
                 len(zones), count))
        for variant in VARIANTS:
            book = builders[variant](named, sets[variant])
            first, recap1 = run(book, Path(tmp))
            check_served(named, sets[variant])
            second, recap2 = run(book, Path(tmp))
            times[variant] = (first, second)
            print("%-17s first run %7.1f s   second run %7.1f s   | %s | %s"
                  % (variant, first, second, recap1.split(":", 1)[-1].split("unreachable")[0].strip(),
                     recap2.split(":", 1)[-1].split("unreachable")[0].strip()))
    base_first, base_second = times["nsupdate"]
    print()
    for variant in ("dns_txt_loop", "dns_txt_one_task"):
        first, second = times[variant]
        print("nsupdate / %-16s  first run x%.1f   second run x%.1f" % (variant, base_first / first, base_second / second))
    print("(machine: %d CPUs, Python %s, pid %d)" % (os.cpu_count(), sys.version.split()[0], os.getpid()))


if __name__ == "__main__":
    main()
