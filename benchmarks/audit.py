"""Audit N mail domains (default 1,000 and 10,000) served by a throwaway local BIND, three ways, side by
side in one run, repeated, medians:

- floor: a bare dnspython script asking, per domain, what the checks need (TXT at the apex, at
  `_dmarc` and at the DKIM selector; MX; the A records `mx a` name), one query after another;
- audit: a playbook running mailauth.hardening.mail_audit once for all domains (SPF with its `mx`
  and `a` lookups and the senders, DKIM key and strength, DMARC policy and report authorisation);
- checkdmarc: its Python API on the same domains, the SPF and DMARC checks the audit has in common
  with it (query and parse SPF, following its lookups; query and parse DMARC), as tests/system/
  test_audit_judge.py calls it.

    .venv/bin/python benchmarks/audit.py [--sizes 1000,10000] [--repeat 3] [--checkdmarc-sizes 1000]

All domains are children of one zone (`bench.test`) on `named -g` (127.0.0.1, a free port, no
recursion); every variant asks that server only. Wall times include each process's start-up.
Nothing leaves loopback. See benchmarks/audit.md.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "tests"), str(REPO / "tests" / "system")]

from conftest import ansible_env  # noqa: E402 - links the collection and gives the playbook environment
from dns_servers import run_named  # noqa: E402

from ansible_collections.mailauth.hardening.plugins.module_utils._dkim.keys import generate_private_key  # noqa: E402
from ansible_collections.mailauth.hardening.plugins.module_utils._records.dkim_record import (  # noqa: E402
    build_dkim_record, public_key_b64)
from ansible_collections.mailauth.hardening.plugins.module_utils._records.txt import quote_txt  # noqa: E402

ZONE = "bench.test"
SELECTOR = "s1"
PYTHON = str(REPO / ".venv" / "bin" / "python")
VARIANTS = ("floor", "audit", "checkdmarc")

FLOOR = r'''
import json, sys
import dns.message, dns.query
spec = json.load(open(sys.argv[1]))
host, port, bad = spec["host"], spec["port"], 0
def ask(name, rtype):
    return dns.query.udp(dns.message.make_query(name, rtype), host, port=port, timeout=5).answer
for d in spec["domains"]:
    spf = [b"".join(r.strings).decode() for rrset in ask(d, "TXT") for r in rrset]
    dmarc = [b"".join(r.strings).decode() for rrset in ask("_dmarc." + d, "TXT") for r in rrset]
    dkim = [b"".join(r.strings).decode() for rrset in ask(spec["selector"] + "._domainkey." + d, "TXT") for r in rrset]
    mx = [r.exchange.to_text() for rrset in ask(d, "MX") for r in rrset]
    ask(d, "A")
    for host_name in mx:
        ask(host_name, "A")
    bad += not (spf[0].startswith("v=spf1") and dmarc[0].startswith("v=DMARC1") and "p=" in dkim[0])
print(bad)
'''

CHECKDMARC = r'''
import json, sys
import dns.nameserver
from checkdmarc import dmarc, spf
spec = json.load(open(sys.argv[1]))
servers = [dns.nameserver.Do53Nameserver(spec["host"], port=spec["port"])]
bad = 0
for d in spec["domains"]:
    record = spf.query_spf_record(d, nameservers=servers, timeout=5)["record"]
    parsed = spf.parse_spf_record(record, d, nameservers=servers, timeout=5)
    query = dmarc.query_dmarc_record(d, nameservers=servers, timeout=5)
    policy = dmarc.parse_dmarc_record(query["record"], d, nameservers=servers, timeout=5)
    bad += parsed["parsed"]["all"] != "fail" or policy["tags"]["p"]["value"] != "reject"
print(bad)
'''


def domain_names(count):
    return ["d%05d.%s" % (i, ZONE) for i in range(count)]


def zone_of(names, dkim):
    """One zone holding every domain: SPF `mx a -all`, an MX, an A, a 2048-bit DKIM key, DMARC p=reject."""
    lines = ["$TTL 3600", "@ IN SOA ns1.%s. hostmaster.%s. 1 3600 600 86400 60" % (ZONE, ZONE), "@ IN NS ns1.%s." % ZONE,
             "ns1 IN A 127.0.0.1", "mx IN A 192.0.2.25"]
    dkim_text = quote_txt(dkim)
    for name in names:
        label = name[:-len(ZONE) - 1]
        lines += ['%s IN TXT "v=spf1 mx a -all"' % label, "%s IN MX 10 mx.%s." % (label, ZONE),
                  "%s IN A 192.0.2.%d" % (label, 1 + int(label[1:]) % 200),
                  "%s._domainkey.%s IN TXT %s" % (SELECTOR, label, dkim_text),
                  '_dmarc.%s IN TXT "v=DMARC1; p=reject; rua=mailto:dmarc@%s"' % (label, name)]
    return "\n".join(lines) + "\n"


def timed(argv, env=None):
    start = time.monotonic()
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    elapsed = time.monotonic() - start
    if proc.returncode != 0:
        sys.exit("%s failed:\n%s" % (argv[:2], proc.stdout[-4000:] + proc.stderr[-2000:]))
    return elapsed, proc.stdout


def run_script(script, named, names, workdir):
    """A script of its own process over ``names``; it prints how many domains it found wrong (must be 0)."""
    spec = workdir / "spec.json"
    spec.write_text(json.dumps({"host": named.host, "port": named.port, "selector": SELECTOR, "domains": names}))
    path = workdir / "script.py"
    path.write_text(script)
    elapsed, out = timed([PYTHON, str(path), str(spec)])
    if out.strip() != "0":
        sys.exit("%s domains judged wrong by %s" % (out.strip(), script.split("\n")[2]))
    return elapsed


def run_audit(named, names, workdir):
    specs = [{"name": name, "sending_ips": ["192.0.2.25"], "spf_all": "fail", "dkim": [{"selector": SELECTOR}],
              "dmarc_policy": "reject"} for name in names]
    book = [{"hosts": "localhost", "gather_facts": False,
             "vars": {"ansible_python_interpreter": "{{ ansible_playbook_python }}"},
             "tasks": [{"name": "Audit", "register": "audit",
                        "mailauth.hardening.mail_audit": {"domains": specs, "nameservers": [named.address]}},
                       {"name": "Every domain passes", "ansible.builtin.assert": {
                           "that": ["audit.summary.counts.error == 0", "audit.summary.counts.warning == 0",
                                    "audit.summary.domains == %d" % len(names)], "quiet": True}}]}]
    path = workdir / "audit.json"
    path.write_text(json.dumps(book))
    # The json callback would print every finding and the grid: the default one prints a line per task.
    return timed([str(REPO / ".venv" / "bin" / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(path)],
                 ansible_env(ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default"))[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--sizes", default="1000,10000", help="numbers of domains, comma-separated")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--checkdmarc-sizes", default="1000", help="sizes checkdmarc runs at (slow at 10,000)")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    checkdmarc_sizes = [int(size) for size in args.checkdmarc_sizes.split(",") if size]
    names = domain_names(max(sizes))
    dkim = build_dkim_record("rsa", public_key_b64(generate_private_key("rsa", 2048)))
    times = {}
    with tempfile.TemporaryDirectory(prefix="mailauth-bench-") as tmp, \
            run_named({ZONE: zone_of(names, dkim)}, directory=Path(tmp) / "named", allow_update=False) as named:
        work = Path(tmp)
        print("BIND %s on %s: one zone, %d domains (SPF mx a -all, MX, A, 2048-bit DKIM, DMARC p=reject)"
              % (subprocess.run(["named", "-v"], capture_output=True, text=True, check=True).stdout.strip(), named.address,
                 len(names)), flush=True)
        for rep in range(args.repeat):
            for size in sizes:
                for variant in VARIANTS:
                    if variant == "checkdmarc" and size not in checkdmarc_sizes:
                        continue
                    subset = names[:size]
                    if variant == "audit":
                        elapsed = run_audit(named, subset, work)
                    else:
                        elapsed = run_script(FLOOR if variant == "floor" else CHECKDMARC, named, subset, work)
                    times.setdefault((variant, size), []).append(elapsed)
                    print("run %d  %-10s %6d domains %8.2f s" % (rep + 1, variant, size, elapsed), flush=True)
    med = dict((key, statistics.median(values)) for key, values in times.items())
    print("\nmedians (s)" + "".join("%12d" % size for size in sizes))
    for variant in VARIANTS:
        print("%-12s" % variant + "".join("%12s" % ("%.2f" % med[(variant, size)] if (variant, size) in med else "-")
                                          for size in sizes))
    print("\nratios")
    for size in sizes:
        if ("checkdmarc", size) in med:
            print("checkdmarc / audit at %d: %.1fx (target >= 5x)" % (size, med[("checkdmarc", size)] / med[("audit", size)]))
        print("audit / floor at %d: %.1fx" % (size, med[("audit", size)] / med[("floor", size)]))
    if len(sizes) > 1:
        small, large = min(sizes), max(sizes)
        print("audit at %d / audit at %d: %.1fx for %.0fx the domains (target <= 12x at 10x)"
              % (large, small, med[("audit", large)] / med[("audit", small)], large / small))
    print("(repetitions: %d; %d CPUs, Python %s, load average %.1f at the end)"
          % (args.repeat, os.cpu_count(), sys.version.split()[0], os.getloadavg()[0]))


if __name__ == "__main__":
    main()
