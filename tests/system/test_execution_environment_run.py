"""The execution environment built and run as AWX runs a job: ansible-runner with process isolation.

The image is ee/execution-environment.yml built by ansible-builder on the lab's Debian base
(`lab/lab.sh ee-image`, reused while its inputs are unchanged). Each job goes through AWX's pipeline
(ansible-runner transmit, `ansible-runner worker` as receptor starts it, process) with what AWX's
build_execution_environment_params gives ansible-runner for a podman execution node: the EE image,
`podman run` with `--user=root` plus the node's container options - here the lab network instead of
AWX's default slirp4netns, and `--pull=never` (no registry) - and a machine credential's SSH key
(runner's ssh_key, loaded into an ssh-agent inside the EE). The project holds only a playbook that
imports the collection's; the collection, ansible-core and the Python libraries come from the image.

The mail server is a lab container with an SSH server, reached over the lab network by ssh; the
domain's zone is served by a BIND on the lab network's gateway address, which the EE reaches too.
Job 1 hardens the host, then a setting on the host and a record at the DNS change behind the
collection's back, and job 2 - the drift playbook - finds exactly those two, read from the set_stats
data in the playbook_on_stats event of the runner's artifacts, as AWX reads it.

Needs podman and the lab network: run under the container lock
(flock -o /tmp/mailauth-containers.lock .venv/bin/pytest -q tests/system/test_execution_environment_run.py).
"""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import ansible_runner
import dns.query
import dns.tsigkeyring
import dns.update
import pytest
import yaml
from dns_servers import free_port, run_named, zone_text

pytestmark = pytest.mark.lab

NETWORK = "mailauth-lab"
HOST_IMAGE = "localhost/mailauth/debian12-mail-ssh:latest"
CONTAINER = "mailauth-ee-mx1"
ZONE = "ee.test"
HOST = "mx1.%s" % ZONE
BOOT_SECONDS = 120
BIN = Path(sys.executable).parent
IMAGE_COLLECTION = "/usr/share/ansible/collections/ansible_collections/mailauth/hardening/"


def podman(env, *args, check=True, stdin=None):
    proc = subprocess.run(["podman"] + list(args), input=stdin, capture_output=True, text=True, check=False, env=env)
    assert proc.returncode == 0 or not check, "podman %s: exit %d: %s" % (" ".join(args), proc.returncode,
                                                                          proc.stderr.strip())
    return proc


@pytest.fixture(scope="module")
def ee_image(repo, ansible_environment):
    """The EE image's name: built now, or the one built from the same inputs before."""
    started = time.monotonic()
    proc = subprocess.run([str(repo / "lab" / "lab.sh"), "ee-image"], capture_output=True, text=True, check=False,
                          env=dict(ansible_environment, ANSIBLE_BUILDER=str(BIN / "ansible-builder")))
    assert proc.returncode == 0, proc.stderr
    print("EE image %s in %.0f s" % (proc.stdout.strip(), time.monotonic() - started))
    return proc.stdout.strip()


@pytest.fixture(scope="module")
def ssh_key(tmp_path_factory):
    """The machine credential: a key pair made for this run."""
    key = tmp_path_factory.mktemp("ee-ssh") / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "mailauth-ee-test", "-f", str(key)], check=True)
    return key


@pytest.fixture(scope="module")
def mx1(repo, ansible_environment, ssh_key):
    """The mail server: a systemd container with sshd on the lab network, root's key authorised."""
    env = ansible_environment
    for step in ("net", "mail-ssh-image"):
        subprocess.run([str(repo / "lab" / "lab.sh"), step], check=True)
    podman(env, "rm", "-f", "-t", "2", "--ignore", CONTAINER)
    podman(env, "run", "-d", "--name", CONTAINER, "--label", "mailauth.lab=1", "--hostname", HOST,
           "--network", NETWORK, "--systemd=always", HOST_IMAGE, "/lib/systemd/systemd")
    try:
        deadline = time.monotonic() + BOOT_SECONDS
        while podman(env, "exec", CONTAINER, "systemctl", "is-system-running", "--wait",
                     check=False).stdout.strip() not in ("running", "degraded"):
            assert time.monotonic() < deadline, "%s did not boot" % CONTAINER
            time.sleep(0.5)  # systemd's bus may not be up right after the start
        assert podman(env, "exec", CONTAINER, "systemctl", "is-active", "ssh").stdout.strip() == "active"
        podman(env, "exec", "-i", CONTAINER, "sh", "-c",
               "install -d -m 700 /root/.ssh && cat > /root/.ssh/authorized_keys",
               stdin=ssh_key.with_suffix(".pub").read_text())
        network = json.loads(podman(env, "network", "inspect", NETWORK).stdout)[0]
        ip = podman(env, "inspect", "-f", '{{(index .NetworkSettings.Networks "%s").IPAddress}}' % NETWORK,
                    CONTAINER).stdout.strip()
        yield {"ip": ip, "gateway": network["subnets"][0]["gateway"], "env": env}
    finally:
        podman(env, "rm", "-f", "-t", "2", "--ignore", CONTAINER, check=False)


@pytest.fixture(scope="module")
def named(mx1, tmp_path_factory):
    """The domain's zone, at a BIND on the lab network's gateway address: where host and EE both reach it."""
    records = ["@ IN MX 10 mx1", "mx1 IN A %s" % mx1["ip"]]
    gateway = mx1["gateway"]
    with run_named({ZONE: zone_text(ZONE, records, ns_address=gateway)}, host=gateway, port=free_port(gateway),
                   directory=tmp_path_factory.mktemp("ee-named")) as server:
        yield server


def inventory(mx1, named):
    domain = {"name": ZONE,
              "dns": {"provider": "rfc2136", "zone": ZONE, "server": named.address, "key_name": named.key_name,
                      "key_algorithm": "hmac-sha256", "credentials": "lab"},
              "spf": {"mechanisms": ["mx"], "all": "fail"},
              "dkim": [{"selector": "s202612", "type": "rsa", "bits": 2048}],
              "dmarc": {"p": "none", "rua": ["aggregate@%s" % ZONE]}}
    host = {"ansible_host": mx1["ip"], "ansible_user": "root", "ansible_python_interpreter": "/usr/bin/python3"}
    return {"all": {"children": {"mailservers": {"hosts": {HOST: host}}},
                    "vars": {"mailauth_domains": [domain],
                             # In AWX these come from a credential; the test's BIND key is made per run.
                             "mailauth_dns_secrets": {"lab": {"key_secret": named.key_secret}},
                             # The zone's NS record names port 53, where this BIND does not listen.
                             "mailauth_gate_nameservers": [named.address], "mailauth_dns_wait": False,
                             "mailauth_dnsbl": [{"zone": "dnsbl.test", "reply": "127.0.0.[2..11]", "weight": 3}],
                             "mailauth_refresh_package_lists": False}}}


class Job(object):
    """One job's status and what the events in its artifacts (job_events/, written by `process`) say."""

    def __init__(self, runner):
        self.runner = runner
        artifacts = Path(runner.artifact_dir)
        self.rc = int((artifacts / "rc").read_text())
        self.command = json.loads((artifacts / "command").read_text())["command"]
        events = [json.loads(path.read_text()) for path in (artifacts / "job_events").glob("*.json")]
        events.sort(key=lambda event: event["counter"])
        self.stdout = "\n".join(event.get("stdout", "") for event in events)
        [stats] = [e for e in events if e["event"] == "playbook_on_stats"]
        self.changed = stats["event_data"]["changed"]
        self.artifact_data = stats["event_data"]["artifact_data"]
        self.task_paths = set(e["event_data"]["task_path"].rsplit(":", 1)[0] for e in events
                              if e["event"] == "playbook_on_task_start")


@pytest.fixture
def job(tmp_path, ee_image, mx1, named, ssh_key, repo):
    """Run a playbook of the collection in the EE as an AWX job; secrets never reach its output.

    The three steps of AWX's pipeline: the controller's `transmit` packs the job (private data dir,
    runner arguments), receptor feeds it to `ansible-runner worker` on the execution node, which
    starts the EE with podman, and the controller's `process` turns the worker's stream into events
    and artifacts."""
    runs = []

    def run(playbook, **extravars):
        runs.append(playbook)
        private = tmp_path / ("job-%d" % len(runs))
        (private / "project").mkdir(parents=True)
        (private / "inventory").mkdir()
        # An AWX project's playbook: the collection's, from the image.
        (private / "project" / "site.yml").write_text(
            "- name: The collection's %s playbook\n  ansible.builtin.import_playbook: mailauth.hardening.%s\n"
            % (playbook, playbook))
        (private / "inventory" / "hosts.yml").write_text(yaml.safe_dump(inventory(mx1, named)))
        started = time.monotonic()
        job_stream, results_stream = tmp_path / ("job-%d.stream" % len(runs)), tmp_path / ("results-%d.stream" % len(runs))
        with open(job_stream, "wb") as out:
            ansible_runner.run(
                streamer="transmit", _output=out, private_data_dir=str(private), playbook="site.yml",
                extravars=extravars, ssh_key=ssh_key.read_text(),
                envvars={"ANSIBLE_HOST_KEY_CHECKING": "False", "ANSIBLE_PIPELINING": "True", "ANSIBLE_NOCOLOR": "1"},
                process_isolation=True, process_isolation_executable="podman", container_image=ee_image,
                container_options=["--user=root", "--network=%s" % NETWORK, "--pull=never"])
        # receptor's ansible-runner work type: a worker process with a private data dir of its own.
        with open(job_stream, "rb") as job_in, open(results_stream, "wb") as results_out:
            worker = subprocess.run([str(BIN / "ansible-runner"), "worker", "--private-data-dir",
                                     str(tmp_path / ("worker-%d" % len(runs))), "--delete"],
                                    stdin=job_in, stdout=results_out, stderr=subprocess.PIPE, check=False,
                                    env=dict(os.environ, CONTAINERS_CONF=str(repo / "lab" / "containers.conf")))
        with open(results_stream, "rb") as results_in:
            runner = ansible_runner.run(streamer="process", _input=results_in, private_data_dir=str(private),
                                        quiet=True)
        # The worker exits with the playbook's code; a broken stream is status "error".
        assert runner.status in ("successful", "failed"), worker.stderr.decode()
        print("job %s: %s in %.0f s" % (playbook, runner.status, time.monotonic() - started))
        result = Job(runner)
        assert named.key_secret not in result.stdout, "the TSIG secret reached the output of %s" % playbook
        assert ssh_key.read_text().split()[1] not in result.stdout
        return result

    return run


def replace_txt(named, name, value):
    update = dns.update.UpdateMessage(ZONE, keyring=dns.tsigkeyring.from_text({named.key_name: named.key_secret}),
                                      keyalgorithm="hmac-sha256")
    update.replace(name, 60, "TXT", '"%s"' % value)
    dns.query.tcp(update, named.host, port=named.port, timeout=5)


def test_the_ee_hardens_a_host_over_ssh_and_its_drift_job_reports_what_changed_behind_its_back(
        job, mx1, named, ee_image):
    harden = job("harden")
    assert (harden.runner.status, harden.rc) == ("successful", 0), harden.stdout
    assert harden.changed.get(HOST, 0) > 0
    # The worker started the EE with podman, as AWX's parameters say, with the key in an ssh-agent there;
    # Ansible ran from the image's copy of the collection.
    image = harden.command.index(ee_image)
    assert harden.command[:2] == ["podman", "run"] and harden.command[image - 3:image] == [
        "--user=root", "--network=%s" % NETWORK, "--pull=never"] and harden.command[image + 1] == "ssh-agent"
    assert harden.task_paths and all(path.startswith(IMAGE_COLLECTION) for path in harden.task_paths), harden.task_paths

    podman(mx1["env"], "exec", CONTAINER, "postconf", "-e", "disable_vrfy_command=no")
    replace_txt(named, "@", "v=spf1 a -all")

    drift = job("drift")
    assert (drift.runner.status, drift.rc) == ("failed", 2), drift.stdout  # drift found: the job fails
    stats = drift.artifact_data["mailauth_drift_stats"]
    assert (stats["ok"], stats["total"], stats["hosts"]) == (False, 2, {HOST: 2}), stats
    assert stats["drifted_hosts"] == [HOST] and stats["failed_hosts"] == []
    assert stats["items"] == [
        {"host": HOST, "component": "dns_publish", "setting": ZONE + ". TXT",
         "expected": ["v=spf1 mx -all"], "actual": ["v=spf1 a -all"]},
        {"host": HOST, "component": "postfix_hardening", "setting": "disable_vrfy_command",
         "expected": "yes", "actual": "no"}], stats
    # The report the playbook wrote inside the EE, in the job's artifacts on the host.
    # The report the playbook wrote inside the EE stays in the worker's (deleted) directory: AWX users
    # read the artifacts, as above.
    assert podman(mx1["env"], "exec", CONTAINER, "postconf", "-h", "disable_vrfy_command").stdout.strip() == "no"
