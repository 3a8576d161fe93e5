"""No-change runs of playbooks/harden.yml over 1, 4 and 8 lab containers, side by side: the
podman connection with pipelining off (the baseline) and on, and Mitogen (mitogen_linear +
mitogen_podman). Prints per host: wall time, controller and container CPU, tasks run, module
runs and podman commands, and ratios against the baseline.

    .venv/bin/python benchmarks/fleet_harden.py [--sizes 1 4 8] [--variants podman podman_pipelining mitogen]
        [--every-size] [--ref GIT_REF] [--tasks] [--json FILE]

Needs the lab (lab/lab.sh up) and builds its mail image when missing. Starts containers
mailauth-bench-1..N from that image (systemd as PID 1) on the lab network, converges them
once (untimed), then times the no-change runs, each of which must report changed=0. The
containers are removed at the end, also on error or interrupt. Takes the team's container
lock, or runs under a parent's `flock` of it. Runs Ansible from .build/bench-venv
(benchmarks/bench_venv.py). --ref also runs each variant with the collection as of a git ref
(before/after in one run). Method and figures: benchmarks/fleet_harden.md.
"""
import argparse
import collections
import datetime
import fcntl
import json
import os
import platform
import re
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "tests"), str(Path(__file__).resolve().parent)]

from bench_venv import ensure_bench_venv  # noqa: E402
from conftest import ansible_env  # noqa: E402 - links the collection and gives the playbook environment

TEAM_LOCK = "/tmp/mailauth-containers.lock"
MAIL_IMAGE = "localhost/mailauth/debian12-mail:latest"
LAB_LABEL = "mailauth.lab=1"
HOST_PREFIX = "mailauth-bench-"
# The lab DNS serves lab.test; the fleet Molecule scenario uses fleet.test, so the two never meet.
DOMAIN = "lab.test"
BOOT_TIMEOUT = 120
RUN_TIMEOUT = 900

VARIANTS = collections.OrderedDict([
    ("podman", "podman, pipelining off (baseline)"),
    ("podman_pipelining", "podman, pipelining on"),
    ("mitogen", "Mitogen (mitogen_linear, mitogen_podman)"),
])
BASELINE = "podman"


# --- the team's container lock -------------------------------------------------------------

def _ancestor_pids():
    pid, out = os.getpid(), set()
    while pid > 1:
        out.add(pid)
        stat = Path("/proc/%d/stat" % pid).read_text()
        pid = int(stat.rsplit(")", 1)[1].split()[1])
    return out


def _lock_holders(path):
    inode = os.stat(path).st_ino
    holders = set()
    for line in Path("/proc/locks").read_text().splitlines():
        fields = line.split()
        # "N: FLOCK ADVISORY WRITE pid maj:min:inode start end"; waiters are "N: -> FLOCK ...".
        if len(fields) >= 6 and fields[1] == "FLOCK" and fields[5].rsplit(":", 1)[-1] == str(inode):
            holders.add(int(fields[4]))
    return holders


def hold_team_lock():
    """Take the team's lock, or go on under a `flock` of a parent process (taking it again from a
    second open of the file would wait for ourselves)."""
    fd = os.open(TEAM_LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return fd
    except BlockingIOError:
        pass
    if _lock_holders(TEAM_LOCK) & _ancestor_pids():
        os.close(fd)
        return None
    print("waiting for %s (another container suite runs)" % TEAM_LOCK, flush=True)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


# --- lab and containers --------------------------------------------------------------------

def podman(*args, check=True, timeout=None):
    return subprocess.run(["podman"] + list(args), capture_output=True, text=True, check=check, timeout=timeout,
                          env=dict(os.environ, CONTAINERS_CONF=str(REPO / "lab" / "containers.conf")))


def lab_facts():
    path = REPO / ".lab" / "lab.json"
    if not path.exists() or podman("container", "exists", "mailauth-labdns", check=False).returncode != 0:
        sys.exit("the lab is not up: run lab/lab.sh up first")
    lab = json.loads(path.read_text())
    # The DNS container is shared by name: another checkout's `lab.sh up` leaves it serving that
    # checkout's zones and TSIG key, and every update from here fails with BADSIG.
    served = podman("inspect", "-f", "{{range .Mounts}}{{.Source}} {{end}}", "mailauth-labdns").stdout.split()
    if str(REPO / ".lab" / "dns") not in served:
        sys.exit("the lab DNS serves %s, not this checkout's .lab/dns: its TSIG key is not ours; restart it from "
                 "here (lab/lab.sh dns-down && lab/lab.sh dns-up) when nobody else uses it" % " ".join(served))
    if DOMAIN not in lab["zones"]:
        sys.exit("the lab DNS does not serve %s (lab/zones.txt)" % DOMAIN)
    if podman("image", "exists", MAIL_IMAGE, check=False).returncode != 0:
        print("building %s (lab/lab.sh mail-image)" % MAIL_IMAGE, flush=True)
        subprocess.run([str(REPO / "lab" / "lab.sh"), "mail-image"], check=True)
    return lab


def host_names(count):
    return ["%s%d" % (HOST_PREFIX, i) for i in range(1, count + 1)]


def remove_hosts(names):
    if names:
        podman("rm", "-f", "-t", "2", "--ignore", *names, check=False)


def start_hosts(names, lab):
    remove_hosts(names)  # leftovers of an interrupted run
    for i, name in enumerate(names, 1):
        podman("run", "-d", "--name", name, "--label", LAB_LABEL, "--hostname", "mx%d.%s" % (i, DOMAIN),
               "--network", lab["network"], "--dns", lab["dns_server"], "--systemd=always",
               MAIL_IMAGE, "/lib/systemd/systemd")
    deadline = time.monotonic() + BOOT_TIMEOUT
    for name in names:
        while True:
            state = podman("exec", name, "systemctl", "is-system-running", "--wait", check=False, timeout=BOOT_TIMEOUT)
            if state.stdout.strip() in ("running", "degraded"):
                break
            if time.monotonic() > deadline:
                raise RuntimeError("%s did not boot: %r %r" % (name, state.stdout, state.stderr))
            time.sleep(0.5)  # right after the start, systemd's bus may not be up yet ("Failed to connect to bus")


def cgroup_cpu_files(names):
    """Each container's CPU usage counter: cgroup v1 cpuacct.usage (ns) or v2 cpu.stat (usage_usec)."""
    files = {}
    for name in names:
        group = podman("inspect", "-f", "{{.State.CgroupPath}}", name).stdout.strip().lstrip("/")
        for path in (Path("/sys/fs/cgroup/cpuacct") / group / "cpuacct.usage", Path("/sys/fs/cgroup") / group / "cpu.stat"):
            if path.exists():
                files[name] = path
                break
    return files


def container_cpu_seconds(files):
    seconds = {}
    for name, path in files.items():
        text = path.read_text()
        if path.name == "cpuacct.usage":
            seconds[name] = int(text) / 1e9
        else:
            seconds[name] = int(re.search(r"usage_usec (\d+)", text).group(1)) / 1e6
    return seconds


# --- inventory and variants ----------------------------------------------------------------

def fleet_vars(lab):
    """molecule/fleet's group_vars, for lab.test, with the secret read from the lab's file."""
    subnet = lab["dns_server"].rsplit(".", 1)[0] + ".0/24"
    return {
        "mailauth_domains": [{
            "name": DOMAIN,
            "dns": {"provider": "rfc2136", "zone": DOMAIN, "server": lab["dns_server"], "key_name": lab["tsig_name"],
                    "key_algorithm": lab["tsig_algorithm"], "credentials": "lab"},
            "spf": {"mechanisms": ["ip4:" + subnet], "all": "fail"},
            "dkim": [{"selector": "{{ inventory_hostname }}", "type": "rsa", "bits": 2048}],
            "dmarc": {"p": "none", "rua": ["aggregate@" + DOMAIN]},
        }],
        "mailauth_dns_secrets": {"lab": {"key_secret": "{{ lookup('ansible.builtin.file', '%s') }}" % lab["tsig_secret_file"]}},
        "mailauth_audit_nameservers": [lab["dns_server"]],
        "mailauth_refresh_package_lists": False,
        "mailauth_dnsbl": [{"zone": "dnsbl.test", "reply": "127.0.0.[2..11]", "weight": 3}],
        "mailauth_postfix_dnsbl_threshold": 3,
        "mailauth_dkim_resolver_stub_zones": [{"name": "test", "addresses": [lab["dns_server"]]}],
    }


def variant_settings(variant, bin_dir):
    """(connection variables of the mail servers, environment) of one variant."""
    if variant == "mitogen":
        plugins = Path(subprocess.run([str(bin_dir / "python"), "-c", "import ansible_mitogen, os; "
                                       "print(os.path.dirname(ansible_mitogen.__file__))"],
                                      capture_output=True, text=True, check=True).stdout.strip()) / "plugins"
        return ({"ansible_connection": "mitogen_podman"},
                {"ANSIBLE_STRATEGY": "mitogen_linear", "ANSIBLE_STRATEGY_PLUGINS": str(plugins / "strategy"),
                 "ANSIBLE_CONNECTION_PLUGINS": str(plugins / "connection"), "ANSIBLE_PIPELINING": "False"})
    return ({"ansible_connection": "containers.podman.podman"},
            {"ANSIBLE_PIPELINING": "True" if variant == "podman_pipelining" else "False"})


def write_inventory(path, names, lab, connection_vars):
    servers = dict(connection_vars, ansible_python_interpreter="/usr/bin/python3")
    inventory = {"all": {"vars": fleet_vars(lab),
                         "children": {"mailservers": {"hosts": dict((n, {}) for n in names), "vars": servers}}}}
    path.write_text(json.dumps(inventory, indent=1))


def write_podman_wrapper(path):
    """podman, counting its calls: each call appends its arguments to $MAILAUTH_BENCH_PODMAN_LOG. It goes
    first on PATH, since mitogen_podman ignores mitogen_podman_path (Mitogen 0.3.54 never passes it on)."""
    real = subprocess.run(["sh", "-c", "command -v podman"], capture_output=True, text=True, check=True).stdout.strip()
    path.write_text('#!/bin/sh\nprintf \'%%s\\n\' "$*" >>"$MAILAUTH_BENCH_PODMAN_LOG"\nexec %s "$@"\n' % real)
    path.chmod(0o755)


# --- one run -------------------------------------------------------------------------------

def work_tree():
    return {"name": "work tree", "collections": REPO / ".build" / "collections", "root": REPO}


def tree_at(ref, workdir):
    """The collection as of a git ref (git archive into workdir, no worktree), for a before/after run."""
    root = workdir / "ref-tree"
    root.mkdir()
    archive = subprocess.run(["git", "-C", str(REPO), "archive", ref], capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(root)], input=archive, check=True)
    link = workdir / "ref-collections" / "ansible_collections" / "mailauth" / "hardening"
    link.parent.mkdir(parents=True)
    link.symlink_to(root)
    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", ref], capture_output=True, text=True,
                            check=True).stdout.strip()
    return {"name": "collection at %s" % commit, "collections": workdir / "ref-collections", "root": root}


def run_harden(bin_dir, workdir, variant, names, limit, lab, tree, cpu_files=None):
    connection_vars, variant_env = variant_settings(variant, bin_dir)
    inventory = workdir / ("inventory-%s.json" % variant)
    write_inventory(inventory, names, lab, connection_vars)
    log = workdir / "podman-calls.log"
    log.write_text("")
    env = ansible_env(ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_FORKS=str(len(names)),
                      ANSIBLE_COLLECTIONS_PATH=str(tree["collections"]),
                      ANSIBLE_PYTHON_INTERPRETER=str(bin_dir / "python"), MAILAUTH_BENCH_PODMAN_LOG=str(log),
                      PATH="%s:%s:%s" % (workdir / "wrapper", bin_dir, os.environ["PATH"]), **variant_env)
    cmd = [str(bin_dir / "ansible-playbook"), "-i", str(inventory), "--limit", ",".join(limit),
           str(tree["root"] / "playbooks" / "harden.yml")]
    load = os.getloadavg()[0]
    hosts_before = container_cpu_seconds(dict((n, f) for n, f in (cpu_files or {}).items() if n in limit))
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=RUN_TIMEOUT, check=False)
    elapsed = time.monotonic() - start
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    hosts_after = container_cpu_seconds(dict((n, f) for n, f in (cpu_files or {}).items() if n in limit))
    try:
        data = json.loads(proc.stdout)
    except ValueError:
        data = None
    return {"variant": variant, "roles": tree["name"], "hosts": len(limit), "seconds": elapsed, "load": load,
            # ansible-playbook, its workers and the podman clients; not what runs inside the containers.
            "controller_cpu": (cpu_after.ru_utime + cpu_after.ru_stime) - (cpu_before.ru_utime + cpu_before.ru_stime),
            # Inside the containers: the modules, and whatever the mail daemons did meanwhile.
            "hosts_cpu": sum(hosts_after[n] - hosts_before[n] for n in hosts_after) if hosts_after else None,
            "rc": proc.returncode, "data": data, "output": proc.stdout[-3000:] + proc.stderr[-3000:],
            "podman_calls": log.read_text().splitlines()}


def unchanged_problems(run, limit):
    """What makes a run not a clean no-change run ([] when it is one)."""
    if run["data"] is None:
        return ["no JSON output (rc %d):\n%s" % (run["rc"], run["output"])]
    problems = []
    for host in limit:
        stats = run["data"]["stats"].get(host)
        if stats is None:
            problems.append("%s: no result" % host)
        elif stats["changed"] or stats["failures"] or stats["unreachable"]:
            problems.append("%s: changed=%d failed=%d unreachable=%d"
                            % (host, stats["changed"], stats["failures"], stats["unreachable"]))
    if run["rc"] != 0 and not problems:
        problems.append("rc %d:\n%s" % (run["rc"], run["output"]))
    for task, host in changed_tasks(run["data"]):
        problems.append("changed: %s on %s" % (task, host))
    return problems


def changed_tasks(data):
    for play in data["plays"]:
        for task in play["tasks"]:
            for host, result in task["hosts"].items():
                if result.get("changed"):
                    yield task["task"]["name"], host


# --- counting ------------------------------------------------------------------------------

def _short_action(action):
    return action.rsplit(".", 1)[-1]


def _loop_items(result):
    items = result.get("results")
    if isinstance(items, list) and items and all(isinstance(i, dict) and "ansible_loop_var" in i for i in items):
        return items
    return None


def task_runs(data):
    """Per host: [(task name, action)] for every task result that was not skipped, each loop item
    counted, from the json callback's per-host task results. A run_once task counts for the one
    host that carries its result."""
    out = collections.defaultdict(list)
    for play in data["plays"]:
        for task in play["tasks"]:
            for host, result in task["hosts"].items():
                if result.get("skipped"):
                    continue
                for item in _loop_items(result) or [result]:
                    if not item.get("skipped"):
                        out[host].append((task["task"]["name"], _short_action(result["action"])))
    return out


# A module the podman connection runs: `podman exec NAME /bin/sh -c '/usr/bin/python3 .../AnsiballZ_x.py && ...'`.
MODULE_CALL = re.compile(r"^exec .*python\S* \S*/AnsiballZ_\w+\.py")


def podman_calls(lines, limit):
    """Per host: (podman calls, modules run through them) from the wrapper's log."""
    calls, modules = collections.Counter(), collections.Counter()
    for line in lines:
        for token in line.split():
            name = token.split(":", 1)[0]
            if name in limit:
                calls[name] += 1
                modules[name] += 1 if MODULE_CALL.match(line) else 0
                break
    return calls, modules


def podman_commands(lines, host):
    """podman subcommands (exec, mount, cp, ...) run for one host; the exec lines by what they ran."""
    counts = collections.Counter()
    for line in lines:
        words = line.split()
        if any(w.split(":", 1)[0] == host for w in words):
            what = words[0]
            if what == "exec":
                shell = line.split("-c ", 1)[-1]
                first = re.search(r"[A-Za-z][\w.-]*", shell)
                what = "exec " + ("module" if MODULE_CALL.match(line) else first.group(0) if first else "?")
            counts[what] += 1
    return counts


def figures(run, limit):
    runs = task_runs(run["data"])
    per_host = [len(runs.get(h, [])) for h in limit]
    calls, modules = podman_calls(run["podman_calls"], limit)
    return {"variant": run["variant"], "roles": run["roles"], "hosts": run["hosts"], "seconds": round(run["seconds"], 2),
            "controller_cpu": round(run["controller_cpu"], 1), "load_before": round(run["load"], 2),
            "hosts_cpu_per_host": None if run["hosts_cpu"] is None else round(run["hosts_cpu"] / run["hosts"], 2),
            "seconds_per_host": round(run["seconds"] / run["hosts"], 2),
            "tasks_per_host": sum(per_host) / len(per_host), "tasks_min_max": [min(per_host), max(per_host)],
            "modules_on_host_per_host": sum(modules[h] for h in limit) / len(limit),
            "podman_calls_per_host": sum(calls[h] for h in limit) / len(limit)}


def print_tasks(run, host):
    """The tasks a host ran, by where they ran, with the slowest of the run."""
    counted = collections.Counter(task_runs(run["data"]).get(host, []))
    print("\nTasks run for %s (%s, %d hosts): %d" % (host, run["variant"], run["hosts"], sum(counted.values())))
    for (name, action), count in counted.items():
        print("  %-18s x%d  %s" % (action, count, name))
    durations = []
    for play in run["data"]["plays"]:
        for task in play["tasks"]:
            span = task["task"]["duration"]
            if "end" in span and host in task["hosts"] and not task["hosts"][host].get("skipped"):
                seconds = (_iso(span["end"]) - _iso(span["start"])).total_seconds()
                durations.append((seconds, task["task"]["name"]))
    print("Slowest tasks of that run (task start to last host's end):")
    for seconds, name in sorted(durations, reverse=True)[:12]:
        print("  %6.2f s  %s" % (seconds, name))


def _iso(stamp):
    return datetime.datetime.strptime(stamp.rstrip("Z"), "%Y-%m-%dT%H:%M:%S.%f")


# --- report --------------------------------------------------------------------------------

def machine():
    mem_kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
    return "%s, %d CPUs, %.1f GiB RAM, Python %s, %s" % (
        datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"), os.cpu_count(), mem_kb / 1048576.0,
        platform.python_version(), podman("--version").stdout.strip())


def label(variant, roles):
    return VARIANTS[variant] + ("" if roles == "work tree" else " [%s]" % roles)


def print_table(rows, failures):
    print("\n%-56s %5s %7s %7s %7s %7s %8s %9s %8s %7s %5s"
          % ("variant", "hosts", "wall s", "s/host", "ctl s/h", "host s/h", "tasks/h", "modules/h", "podman/h", "vs base", "load"))
    base = dict((r["hosts"], r["seconds"]) for r in rows if r["variant"] == BASELINE and r["roles"] == "work tree")
    for r in rows:
        ratio = "x%.2f" % (base[r["hosts"]] / r["seconds"]) if r["hosts"] in base else "-"
        modules = "%.1f" % r["modules_on_host_per_host"] if r["variant"] != "mitogen" else "-"
        host_cpu = "-" if r["hosts_cpu_per_host"] is None else "%.1f" % r["hosts_cpu_per_host"]
        print("%-56s %5d %7.1f %7.2f %7.1f %7s %8s %9s %8.1f %7s %5.1f" % (
            label(r["variant"], r["roles"]), r["hosts"], r["seconds"], r["seconds_per_host"], r["controller_cpu"] / r["hosts"], host_cpu,
            "%d-%d" % tuple(r["tasks_min_max"]), modules, r["podman_calls_per_host"], ratio, r["load_before"]))
    for variant in VARIANTS:
        for roles in sorted(set(r["roles"] for r in rows)):
            mine = sorted((r["hosts"], r["seconds"]) for r in rows if r["variant"] == variant and r["roles"] == roles)
            if len(mine) >= 2 and mine[-1][0] > mine[0][0]:
                print("%-56s each host beyond the first adds %.2f s" % (
                    label(variant, roles), (mine[-1][1] - mine[0][1]) / (mine[-1][0] - mine[0][0])))
    for before in (r for r in rows if r["roles"] != "work tree"):
        after = [r for r in rows if r["roles"] == "work tree" and (r["variant"], r["hosts"]) == (before["variant"], before["hosts"])]
        if after:
            print("%-56s %d hosts: %s -> work tree: wall x%.2f, controller CPU x%.2f, host CPU x%s, tasks %d -> %d"
                  % (VARIANTS[before["variant"]], before["hosts"], before["roles"], before["seconds"] / after[0]["seconds"],
                     before["controller_cpu"] / after[0]["controller_cpu"],
                     "%.2f" % (before["hosts_cpu_per_host"] / after[0]["hosts_cpu_per_host"]) if after[0]["hosts_cpu_per_host"] else "-",
                     before["tasks_min_max"][0], after[0]["tasks_min_max"][0]))
    for (variant, hosts, roles), text in failures.items():
        print("\n%s, %d hosts, FAILED:\n%s" % (label(variant, roles), hosts, text))
    print("ctl s/h: CPU seconds of ansible-playbook and the podman clients per host; host s/h: CPU\n"
          "seconds inside each container (its cgroup: the modules, and the idle mail daemons); tasks/h:\n"
          "task results per host, not skipped, loop items counted (the run_once tasks count on the first\n"
          "host only, hence the range); modules/h: module processes the podman connection started on each\n"
          "host (Mitogen runs modules inside one interpreter per host); podman/h: podman commands per host;\n"
          "vs base: baseline wall time / this wall time at the same number of hosts (> 1 is faster); load:\n"
          "1-minute load average when the run started (above the number of CPUs: other work competed).")


def podman_connection_pipelines(bin_dir):
    """containers.podman.podman declares has_pipelining = False: Ansible then ignores ANSIBLE_PIPELINING."""
    code = "from ansible_collections.containers.podman.plugins.connection.podman import Connection as C; print(C.has_pipelining)"
    return subprocess.run([str(bin_dir / "python"), "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip() == "True"


def planned_runs(args, bin_dir):
    """(hosts, variant) in run order: the variants side by side at each size. Where the podman connection
    refuses pipelining, "pipelining on" is the baseline's code path again: it runs at the smallest size only,
    as evidence, unless --every-size."""
    refuses = not args.every_size and "podman_pipelining" in args.variants and not podman_connection_pipelines(bin_dir)
    if refuses:
        print("containers.podman.podman refuses pipelining (has_pipelining = False): 'pipelining on' runs the "
              "baseline's code path; measured at %d host(s) only (--every-size for all)" % min(args.sizes), flush=True)
    return [(size, variant) for size in args.sizes for variant in args.variants
            if not (refuses and variant == "podman_pipelining" and size != min(args.sizes))]


def benchmark(args, lab, bin_dir, workdir):
    names = host_names(max(args.sizes))
    (workdir / "wrapper").mkdir()
    write_podman_wrapper(workdir / "wrapper" / "podman")
    plan = planned_runs(args, bin_dir)
    # --ref: each run once with the collection as of that ref, then with the work tree, back to back.
    trees = ([tree_at(args.ref, workdir)] if args.ref else []) + [work_tree()]
    print("starting %d containers from %s" % (len(names), MAIL_IMAGE), flush=True)
    start_hosts(names, lab)
    cpu_files = cgroup_cpu_files(names)
    # Untimed. With Mitogen when it is measured (3x faster here); a Mitogen converge that left anything
    # different would then show as a change in the podman runs.
    converge_variant = "mitogen" if "mitogen" in args.variants else BASELINE
    converge = run_harden(bin_dir, workdir, converge_variant, names, names, lab, work_tree())
    if converge["rc"] != 0:
        raise RuntimeError("converge failed:\n%s" % converge["output"])
    print("converged %d hosts in %.0f s (%s, untimed)" % (len(names), converge["seconds"], converge_variant), flush=True)
    rows, failures = [], {}
    for size, variant in plan:
        limit = names[:size]
        for tree in trees:
            run = run_harden(bin_dir, workdir, variant, names, limit, lab, tree, cpu_files)
            problems = unchanged_problems(run, limit)
            if problems:
                failures[(variant, size, tree["name"])] = "\n".join(problems)[-4000:]
                print("%-56s %d hosts: FAILED (see below)" % (label(variant, tree["name"]), size), flush=True)
                continue
            rows.append(figures(run, limit))
            print("%-56s %d hosts: %.1f s, changed=0" % (label(variant, tree["name"]), size, run["seconds"]), flush=True)
            if args.tasks and size == min(args.sizes):
                print_tasks(run, limit[0])
                print("podman commands for %s: %s" % (limit[0], dict(podman_commands(run["podman_calls"], limit[0]))))
    return rows, failures


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 4, 8])
    parser.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
    parser.add_argument("--every-size", action="store_true", help="measure 'pipelining on' at every size even where it is a no-op")
    parser.add_argument("--tasks", action="store_true", help="list the tasks each variant ran on one host")
    parser.add_argument("--ref", help="also run each variant with the collection as of this git ref (before/after)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    bin_dir = ensure_bench_venv()
    versions = subprocess.run([str(bin_dir / "python"), "-c", "import ansible.release as a, mitogen; "
                               "print('ansible-core %s, Mitogen %s' % (a.__version__, '.'.join(map(str, mitogen.__version__))))"],
                              capture_output=True, text=True, check=True).stdout.strip()
    lock = hold_team_lock()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that the finally below runs
    names = host_names(max(args.sizes))
    started = time.monotonic()
    try:
        lab = lab_facts()
        print("%s | %s" % (machine(), versions), flush=True)
        with tempfile.TemporaryDirectory(prefix="mailauth-bench-") as tmp:
            rows, failures = benchmark(args, lab, bin_dir, Path(tmp))
    finally:
        remove_hosts(names)
        if lock is not None:
            os.close(lock)
    print_table(rows, failures)
    print("(whole benchmark: %.0f s)" % (time.monotonic() - started))
    if args.json:
        args.json.write_text(json.dumps({"machine": machine(), "versions": versions, "rows": rows,
                                         "failures": dict(("%s/%d/%s" % k, v) for k, v in failures.items())}, indent=1))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
