"""A newcomer's inventory, written only from the README's inventory example, through `harden` and `audit`
as the README runs them (`ansible-playbook -i inventory mailauth.hardening.harden`, then `.audit`).

Adapted to this machine, and nothing more:

- the mail server mx1 is a lab container (the Postfix path, on the lab's mail image) reached with the
  podman connection;
- two domains in two zones at two providers: mail.example2.test, a subdomain below its zone
  example2.test - which also holds the parent domain's own SPF, DMARC and DKIM key - at a BIND over
  RFC 2136 with TSIG; and example.test at PowerDNS through dns-lexicon, its zone left out (found by SOA
  walk). example.test takes mail.example2.test's aggregate reports and authorises them;
- the credentials in an Ansible Vault file, as the README says;
- the lab's DNSBL zone instead of Spamhaus (nothing here may query a real blocklist);
- no package lists downloaded (mailauth_refresh_package_lists: false): the image has the packages.

Every name server listens on port 53, as its NS record implies: the BIND on 127.0.0.1 serves
example2.test and a root zone that delegates example.test to the PowerDNS on another loopback address
(127.53.N.1). That BIND also resolves (caching nothing), and the controller's runs use it as their
system resolver (a private mount namespace with its own /etc/resolv.conf), so the waits, the gates
and the audit find each zone's authoritative servers by NS lookup, as on a real network, without a
DNS setting the README does not show.

Needs podman and the lab network: run under the container lock
(flock -o /tmp/mailauth-containers.lock .venv/bin/pytest -q tests/system/test_newcomer_inventory.py).
"""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from dns_servers import free_loopback_addresses, run_named, run_pdns, served_txt, zone_records, zone_text

pytestmark = pytest.mark.lab

MAIL_IMAGE = "localhost/mailauth/debian12-mail:latest"
NETWORK = "mailauth-lab"
CONTAINER = "mailauth-newcomer-mx1"
SUB, SUB_ZONE, OTHER = "mail.example2.test", "example2.test", "example.test"
PARENT_KEY = "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC/parent"
OLD_SPF = "v=spf1 a ~all"
VERIFICATION = "google-site-verification=keep-me"
BOOT_SECONDS = 120
REMOVE_TRIES = 3


class MailHost(object):
    """The mail server container: its address, and a way to read what is on it."""

    def __init__(self, env):
        self.env = env
        self.ip = None

    def podman(self, *args, check=True):
        proc = subprocess.run(["podman"] + list(args), capture_output=True, text=True, check=False, env=self.env)
        assert proc.returncode == 0 or not check, "podman %s: exit %d: %s" % (
            " ".join(args), proc.returncode, proc.stderr.strip())
        return proc

    def remove(self):
        """Remove the container; a container caught mid-stop (podman rm exit 2) gets a second try."""
        for attempt in range(1, REMOVE_TRIES + 1):
            proc = self.podman("rm", "-f", "-t", "2", "--ignore", CONTAINER, check=False)
            if proc.returncode == 0:
                return
            if attempt < REMOVE_TRIES:
                time.sleep(2)
        raise AssertionError("podman rm %s: exit %d: %s" % (CONTAINER, proc.returncode, proc.stderr.strip()))

    def read(self, path):
        return self.podman("exec", CONTAINER, "cat", path).stdout


@pytest.fixture(scope="module")
def mx1(repo, ansible_environment):
    """The mail server: a systemd container on the lab network."""
    host = MailHost(ansible_environment)
    podman = host.podman

    for step in ("net", "mail-image"):
        subprocess.run([str(repo / "lab" / "lab.sh"), step], check=True)
    host.remove()
    podman("run", "-d", "--name", CONTAINER, "--label", "mailauth.lab=1", "--hostname", "mx1.%s" % SUB_ZONE,
           "--network", NETWORK, "--systemd=always", MAIL_IMAGE, "/lib/systemd/systemd")
    try:
        deadline = time.monotonic() + BOOT_SECONDS
        while podman("exec", CONTAINER, "systemctl", "is-system-running", "--wait",
                     check=False).stdout.strip() not in ("running", "degraded"):
            assert time.monotonic() < deadline, "%s did not boot" % CONTAINER
            time.sleep(0.5)  # systemd's bus may not be up right after the start
        host.ip = podman("inspect", "-f", '{{(index .NetworkSettings.Networks "%s").IPAddress}}' % NETWORK,
                         CONTAINER).stdout.strip()
        yield host
    finally:
        host.remove()


class World(object):
    """The two zones' name servers; the BIND is the system resolver too."""

    def __init__(self, bind, pdns):
        self.bind, self.pdns = bind, pdns

    def snapshot(self):
        return {SUB_ZONE: zone_records(self.bind, SUB_ZONE), OTHER: zone_records(self.pdns, OTHER)}

    def txt(self, name):
        server = self.pdns if name.endswith(OTHER + ".") and not name.endswith(SUB_ZONE + ".") else self.bind
        return served_txt(server, name)[0]


def root_zone(pdns_address):
    lines = ["$TTL 60", "@ IN SOA ns.root. hostmaster.root. 1 60 60 600 60", "@ IN NS ns.root.",
             "ns.root. IN A 127.0.0.1"]
    for zone, address in ((SUB_ZONE, "127.0.0.1"), (OTHER, pdns_address)):
        lines += ["%s. IN NS ns1.%s." % (zone, zone), "ns1.%s. IN A %s" % (zone, address)]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def world(mx1, tmp_path_factory):
    parent = ["@ IN MX 10 mx1", "mx1 IN A %s" % mx1.ip, "www IN A 192.0.2.80",
              '@ IN TXT "v=spf1 mx -all"', '@ IN TXT "%s"' % VERIFICATION,
              '_dmarc IN TXT "v=DMARC1; p=reject; rua=mailto:postmaster@example2.test"',
              'p1._domainkey IN TXT "%s"' % PARENT_KEY,
              # The subdomain's mail host names, as its admin set them up before the newcomer came.
              "mail IN MX 10 mx1", "mail IN A %s" % mx1.ip]
    other = ["@ 300 MX 10 mx1.example2.test.", "www 300 A 192.0.2.81",
             '@ 300 TXT "%s"' % VERIFICATION, '@ 300 TXT "%s"' % OLD_SPF]
    directory = tmp_path_factory.mktemp("newcomer-dns")
    [pdns_address] = free_loopback_addresses(1)
    with run_pdns({OTHER: other}, directory=directory / "pdns", host=pdns_address, port=53) as pdns:
        zones = {".": root_zone(pdns_address), SUB_ZONE: zone_text(SUB_ZONE, parent)}
        # 127.0.0.1:53 must be free (BIND says so in its log otherwise).
        with run_named(zones, key_name="tsig-key", directory=directory / "bind", port=53, recursion=True) as bind:
            yield World(bind, pdns)


def readme_inventory(world, path, vault_password, env):
    """The README's inventory, adapted as the module docstring says; the secrets in a vault file."""
    hosts = {"mx1.example2.test": {"ansible_connection": "containers.podman.podman", "ansible_host": CONTAINER}}
    domains = [
        {"name": SUB,
         "dns": {"provider": "rfc2136", "zone": SUB_ZONE, "server": world.bind.host, "key_name": "tsig-key",
                 "key_algorithm": "hmac-sha256"},
         "spf": {"mechanisms": ["mx", "a"], "all": "fail"},
         "dkim": [{"selector": "s202611", "type": "rsa", "bits": 2048}, {"selector": "e202611", "type": "ed25519"}],
         "dmarc": {"p": "none", "rua": ["aggregate@%s" % OTHER], "ruf": ["forensics@%s" % SUB], "fo": "1"},
         "report_authorizations": ["client.example"]},
        {"name": OTHER,
         "dns": {"provider": "powerdns"},
         "spf": {"mechanisms": ["mx"], "all": "fail"},
         "dkim": [{"selector": "s202611", "type": "rsa", "bits": 2048}],
         "dmarc": {"p": "quarantine", "rua": ["aggregate@%s" % OTHER]},
         "report_authorizations": [SUB]},
    ]
    inventory = {"all": {"children": {"mailservers": {"hosts": hosts}},
                         "vars": {"mailauth_domains": domains,
                                  "mailauth_dnsbl": [{"zone": "dnsbl.test", "reply": "127.0.0.[2..11]", "weight": 3}],
                                  "mailauth_refresh_package_lists": False}}}
    (path / "group_vars" / "all").mkdir(parents=True)
    (path / "hosts.yml").write_text(yaml.safe_dump(inventory, sort_keys=False))
    vault = path / "group_vars" / "all" / "vault.yml"
    vault.write_text(yaml.safe_dump({"mailauth_dns_secrets": {
        SUB: {"key_secret": world.bind.key_secret},
        OTHER: {"provider_options": {"pdns_server": world.pdns.api_url, "auth_token": world.pdns.api_key}}}}))
    password = path.parent / "vault-password"
    password.write_text(vault_password)
    subprocess.run([str(Path(sys.executable).parent / "ansible-vault"), "encrypt", "--vault-password-file",
                    str(password), str(vault)], check=True, capture_output=True, env=env)
    return password


@pytest.fixture(scope="module")
def newcomer(world, tmp_path_factory, ansible_environment):
    """Run a playbook of the collection as the README does, with the world's resolver as the system's."""
    base = tmp_path_factory.mktemp("newcomer")
    password = readme_inventory(world, base / "inventory", os.urandom(12).hex(), ansible_environment)
    resolv = base / "resolv.conf"
    resolv.write_text("nameserver 127.0.0.1\n")
    env = dict(ansible_environment)
    env.pop("ANSIBLE_PYTHON_INTERPRETER")  # discovery on mx1, as for a newcomer; the controller's own Python locally
    secrets = [world.bind.key_secret, world.pdns.api_key]

    def run(playbook, *args):
        cmd = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
               'mount --bind "$0" /etc/resolv.conf && exec "$@"', str(resolv),
               str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(base / "inventory"),
               "--vault-password-file", str(password), playbook] + list(args)
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
        for secret in secrets:
            assert secret not in proc.stdout + proc.stderr, "a secret reached the output of %s" % playbook
        try:
            data = json.loads(proc.stdout)
        except ValueError:
            data = None
        return proc.returncode, data, proc.stdout[-20000:] + proc.stderr[-5000:]

    run.report_dir = base / "reports"
    return run


def results_of(data, name):
    """Every result of the tasks called ``name`` (after the role's prefix), over all hosts."""
    return [result for play in data["plays"] for task in play["tasks"]
            if task["task"]["name"].split(" : ")[-1] == name for result in task["hosts"].values()]


def changed_names(before, after):
    """{zone: sorted (name, type) whose records differ}."""
    return dict((zone, sorted(key for key in set(before[zone]) | set(after[zone])
                              if before[zone].get(key) != after[zone].get(key))) for zone in before)


def test_the_readme_inventory_hardens_two_zones_at_two_providers_and_audits_clean(world, newcomer, mx1):
    before = world.snapshot()

    rc, data, out = newcomer("mailauth.hardening.harden")
    assert rc == 0, out
    after = world.snapshot()
    # The subdomain's records at its own names; the parent's apex, _dmarc and key as they were.
    assert changed_names(before, after) == {
        SUB_ZONE: sorted([("%s." % SUB, "TXT"), ("_dmarc.%s." % SUB, "TXT"),
                          ("client.example._report._dmarc.%s." % SUB, "TXT"),
                          ("e202611._domainkey.%s." % SUB, "TXT"), ("s202611._domainkey.%s." % SUB, "TXT")]),
        OTHER: sorted([("%s." % OTHER, "TXT"), ("_dmarc.%s." % OTHER, "TXT"),
                       ("%s._report._dmarc.%s." % (SUB, OTHER), "TXT"), ("s202611._domainkey.%s." % OTHER, "TXT")])}
    assert world.txt("%s." % SUB) == ["v=spf1 mx a -all"]
    assert world.txt("%s." % SUB_ZONE) == sorted(["v=spf1 mx -all", VERIFICATION])
    assert world.txt("_dmarc.%s." % SUB) == [
        "v=DMARC1; p=none; rua=mailto:aggregate@example.test; ruf=mailto:forensics@mail.example2.test; fo=1"]
    assert world.txt("_dmarc.%s." % SUB_ZONE) == ["v=DMARC1; p=reject; rua=mailto:postmaster@example2.test"]
    assert world.txt("%s._report._dmarc.%s." % (SUB, OTHER)) == ["v=DMARC1"]
    assert world.txt("%s." % OTHER) == sorted(["v=spf1 mx -all", VERIFICATION])
    # example.test was held at p=none, audited clean in the same run, then raised to its stage.
    assert world.txt("_dmarc.%s." % OTHER) == ["v=DMARC1; p=quarantine; rua=mailto:aggregate@example.test"]
    [signing] = results_of(data, "Signing gate - sign only with keys every authoritative server serves")
    assert signing["passed"] is True
    assert sorted((s["domain"], s["selector"]) for s in signing["selectors"]["mx1.example2.test"]) == [
        (OTHER, "s202611"), (SUB, "e202611"), (SUB, "s202611")]
    # OpenDKIM signs with the RSA keys only; the Ed25519 key is published (README, "Ed25519").
    assert sorted(line for line in mx1.read("/etc/opendkim/SigningTable").splitlines() if not line.startswith("#")) == [
        "*@%s s202611._domainkey.%s" % (OTHER, OTHER), "*@%s s202611._domainkey.%s" % (SUB, SUB)]

    rc, data, out = newcomer("mailauth.hardening.harden")
    assert rc == 0, out
    assert dict((host, stats["changed"]) for host, stats in data["stats"].items()) == {"mx1.example2.test": 0}, out
    assert world.snapshot() == after

    rc, data, out = newcomer("mailauth.hardening.audit", "-e", "mailauth_audit_report_dir=%s" % newcomer.report_dir)
    assert rc == 0, out
    [audit] = results_of(data, "Audit every domain once, from the controller")
    assert [f for f in audit["findings"] if f["severity"] in ("error", "warning")] == []
    assert sorted(audit["summary"]["grid"]) == [OTHER, SUB]
    # Every SPF, DKIM and DMARC check ran on both domains and found nothing worse than an info.
    cells = set(status for domain in (OTHER, SUB) for check, status in audit["summary"]["grid"][domain].items()
                if check.startswith(("spf.", "dkim.", "dmarc.")))
    assert cells <= {"ok", "info"}, audit["summary"]["grid"]
    report = json.loads((newcomer.report_dir / "audit.json").read_text())
    assert report["summary"]["counts"]["error"] == 0 and report["summary"]["counts"]["warning"] == 0
    assert world.snapshot() == after
