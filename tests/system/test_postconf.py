"""The postconf module through ansible-playbook, against this host's real Postfix (postconf, postfix check).

Every test works on a scratch configuration directory (a copy of /etc/postfix/main.cf
and master.cf) passed as config_dir; /etc/postfix is never written.
"""
import fcntl
import grp
import hashlib
import json
import os
import shutil
import stat
import struct
import subprocess
import sys
import textwrap
import threading
import time

import pytest

POSTCONF = shutil.which("postconf") or "/usr/sbin/postconf"

pytestmark = pytest.mark.skipif(not shutil.which("postfix", path="/usr/sbin:/usr/bin:/sbin"),
                                reason="Postfix is not installed (lab/lab.sh deps installs it)")

PLAY = """\
- name: postconf
  hosts: localhost
  gather_facts: false
  vars:
    ansible_python_interpreter: {python}
  tasks:
    - name: Ensure Postfix settings
      mailauth.hardening.postconf:
        config_dir: {config_dir}
{args}
"""


@pytest.fixture
def config_dir(tmp_path):
    directory = tmp_path / "postfix"
    directory.mkdir()
    for name in ("main.cf", "master.cf"):
        shutil.copy2("/etc/postfix/" + name, directory / name)
    return directory


@pytest.fixture
def postconf_task(run_playbook, config_dir):
    """Run the module once with these options (a dict); return (rc, task result, raw output)."""
    def call(options, check=False, diff=False):
        # JSON is YAML: each option goes in as one flow value.
        args = textwrap.indent("\n".join("%s: %s" % (k, json.dumps(v)) for k, v in options.items()), " " * 8)
        rc, data, output = run_playbook(PLAY.format(python=sys.executable, config_dir=config_dir, args=args),
                                        check=check, diff=diff)
        result = data["plays"][0]["tasks"][0]["hosts"]["localhost"] if data else None
        return rc, result, output
    return call


def postconf(config_dir, *args):
    return subprocess.run([POSTCONF, "-c", str(config_dir)] + list(args), capture_output=True, text=True,
                          check=True).stdout


def value(config_dir, name):
    out = postconf(config_dir, "-n", name).strip()
    return out.partition(" = ")[2] if out else None


def digest(config_dir):
    return {name: hashlib.sha256((config_dir / name).read_bytes()).hexdigest() for name in ("main.cf", "master.cf")}


def test_several_parameters_in_one_task_then_unchanged(postconf_task, config_dir):
    options = {"parameters": {"milter_default_action": "accept", "smtpd_tls_security_level": "may",
                              "smtpd_helo_required": True, "mynetworks": ["127.0.0.0/8", "[::1]/128"]}}
    rc, first, output = postconf_task(options)
    assert rc == 0, output
    assert first["changed"] and first["reload_required"] and not first["restart_required"]
    assert len(first["commands"]) == 1 and " -e " in first["commands"][0]
    assert value(config_dir, "milter_default_action") == "accept"
    assert value(config_dir, "smtpd_helo_required") == "yes"
    assert value(config_dir, "mynetworks") == "127.0.0.0/8, [::1]/128"
    rc, second, output = postconf_task(options)
    assert rc == 0, output
    assert not second["changed"] and second["commands"] == [] and not second["reload_required"]


def test_check_mode_changes_nothing_and_reports_the_commands(postconf_task, config_dir):
    before = digest(config_dir)
    rc, result, output = postconf_task({"parameters": {"smtpd_tls_security_level": "may"}}, check=True)
    assert rc == 0, output
    assert result["changed"]
    assert result["commands"] == ["%s -c %s -e smtpd_tls_security_level=may" % (POSTCONF, config_dir)]
    assert digest(config_dir) == before


def test_diff_shows_the_changed_lines(postconf_task, config_dir):
    rc, result, output = postconf_task({"parameters": {"smtpd_tls_security_level": "may"},
                                        "services": [{"name": "smtp", "type": "inet", "process_limit": 50}]},
                                       diff=True)
    assert rc == 0, output
    main, master = result["diff"]
    assert main["before_header"] == "%s/main.cf" % config_dir
    assert main["before"] == "" and main["after"] == "smtpd_tls_security_level = may\n"
    assert master["before"] == "smtp inet n - y - - smtpd\n"
    assert master["after"] == "smtp inet n - y - 50 smtpd\n"


def test_items_before_after_keep_a_foreign_milter(postconf_task, config_dir):
    postconf(config_dir, "-e", "smtpd_milters=unix:/run/foreign/milter.sock inet:localhost:8893")
    # Unset, smtpd_relay_restrictions takes its compatibility-level-conditional default.
    postconf(config_dir, "-X", "smtpd_relay_restrictions")
    options = {"parameters": {
        "smtpd_milters": {"items": ["inet:localhost:8891"], "before": "inet:localhost:8893"},
        "non_smtpd_milters": {"items": ["inet:localhost:8891"]},
        "smtpd_relay_restrictions": {"items": ["check_policy_service unix:private/policyd-spf"],
                                     "after": "defer_unauth_destination"},
    }}
    rc, first, output = postconf_task(options)
    assert rc == 0, output
    assert value(config_dir, "smtpd_milters") == \
        "unix:/run/foreign/milter.sock, inet:localhost:8891, inet:localhost:8893"
    assert value(config_dir, "non_smtpd_milters") == "inet:localhost:8891"
    assert value(config_dir, "smtpd_relay_restrictions") == ("permit_mynetworks, permit_sasl_authenticated, "
                                                             "defer_unauth_destination, "
                                                             "check_policy_service unix:private/policyd-spf")
    rc, second, output = postconf_task(options)
    assert rc == 0 and not second["changed"], output
    rc, third, output = postconf_task({"parameters": {"smtpd_milters": {"items": ["inet:localhost:8891"],
                                                                        "state": "absent"}}})
    assert rc == 0 and third["changed"], output
    assert value(config_dir, "smtpd_milters") == "unix:/run/foreign/milter.sock, inet:localhost:8893"


def test_services_and_service_derived_parameters_in_one_task(postconf_task, config_dir):
    options = {
        "parameters": {"policyd-spf_time_limit": 3600},
        "services": [{"name": "policyd-spf", "type": "unix", "private": "n", "unprivileged": "n", "chroot": "n",
                      "process_limit": 0, "command": "spawn user=policyd-spf argv=/usr/bin/policyd-spf"},
                     {"name": "smtp", "type": "inet", "process_limit": 1, "command": "postscreen"},
                     {"name": "smtpd", "type": "pass", "chroot": "y", "command": "smtpd"}],
        "service_parameters": {"smtpd/pass/smtpd_tls_security_level": "may",
                               "relay/unix/smtpd_client_restrictions": ["permit_mynetworks", "reject"]},
    }
    rc, first, output = postconf_task(options)
    assert rc == 0, output
    assert first["changed"]
    services = postconf(config_dir, "-M")
    assert "policyd-spf unix n       n       n       -       0       spawn" in services
    assert postconf(config_dir, "-F", "smtp/inet/command").strip() == "smtp/inet/command = postscreen"
    assert "smtpd/pass/smtpd_tls_security_level = may" in postconf(config_dir, "-P")
    assert "relay/unix/smtpd_client_restrictions = permit_mynetworks,reject" in postconf(config_dir, "-P")
    assert value(config_dir, "policyd-spf_time_limit") == "3600"
    rc, second, output = postconf_task(options)
    assert rc == 0 and not second["changed"], output


def test_unknown_parameter_fails_before_any_change(postconf_task, config_dir):
    before = digest(config_dir)
    for check in (True, False):
        rc, result, output = postconf_task({"parameters": {"smtpd_tls_security_level": "may",
                                                           "smtpd_miltres": "inet:localhost:8891"}}, check=check)
        assert rc != 0
        assert result["msg"].startswith("parameters.smtpd_miltres: Postfix does not know smtpd_miltres"), result["msg"]
        assert digest(config_dir) == before


def test_unknown_service_parameter_is_named(postconf_task, config_dir):
    before = digest(config_dir)
    rc, result, output = postconf_task({"service_parameters": {"smtp/inet/smtpd_tls_securty_level": "may"}})
    assert rc != 0
    assert result["msg"].startswith("service_parameters.smtp/inet/smtpd_tls_securty_level: "), result["msg"]
    assert digest(config_dir) == before


def test_per_service_name_in_parameters_is_refused(postconf_task, config_dir):
    rc, result, output = postconf_task({"parameters": {"smtp/inet/smtpd_tls_security_level": "may"}})
    assert rc != 0 and "service_parameters" in result["msg"]


@pytest.mark.parametrize("name, bad, message", [
    ("inet_protocols", "bogus", 'unknown inet_protocols value "bogus"'),
    ("command_directory", "/nonexistent/sbin", "chdir(/nonexistent/sbin)"),
])
def test_value_postfix_check_rejects_is_rolled_back(postconf_task, config_dir, name, bad, message):
    before = digest(config_dir)
    rc, result, output = postconf_task({"parameters": {name: bad, "smtpd_tls_security_level": "may"}})
    assert rc != 0
    assert "postfix check failed" in result["msg"] and "restored" in result["msg"]
    assert message in result["msg"], result["msg"]
    assert not result["changed"]
    assert digest(config_dir) == before
    assert value(config_dir, "smtpd_tls_security_level") is None


def test_masked_values_never_show(postconf_task, config_dir):
    key = "abcdefghijklmnopqrstuvwxyz"
    rc, result, output = postconf_task({
        "parameters": {"postscreen_dnsbl_sites": {"items": ["%s.zen.dq.spamhaus.net=127.0.0.[2..11]*3" % key]}},
        "mask_values": [key]}, diff=True)
    assert rc == 0, output
    assert key not in output
    assert key in value(config_dir, "postscreen_dnsbl_sites")


# --- mode and owner survive every write; a roll-back that cannot write says so beside postconf's error ---

POSTFIX_GID = grp.getgrnam("postfix").gr_gid if "postfix" in [g.gr_name for g in grp.getgrall()] else None
FS_IOC_GETFLAGS, FS_IOC_SETFLAGS, FS_IMMUTABLE_FL = 0x80086601, 0x40086602, 0x10


def attributes(config_dir):
    return {name: (stat.S_IMODE((config_dir / name).stat().st_mode), (config_dir / name).stat().st_uid,
                   (config_dir / name).stat().st_gid) for name in ("main.cf", "master.cf")}


def set_immutable(path, on):
    """chattr +i / -i through the ioctl (fast enough to act between two postconf runs)."""
    fd = os.open(str(path), os.O_RDONLY)
    try:
        flags = struct.unpack("l", fcntl.ioctl(fd, FS_IOC_GETFLAGS, struct.pack("l", 0)))[0]
        flags = flags | FS_IMMUTABLE_FL if on else flags & ~FS_IMMUTABLE_FL
        fcntl.ioctl(fd, FS_IOC_SETFLAGS, struct.pack("l", flags))
    finally:
        os.close(fd)


@pytest.fixture
def postfix_owned(config_dir):
    """main.cf and master.cf as Debian ships them on hardened hosts: 0640 root:postfix."""
    if POSTFIX_GID is None:
        pytest.skip("no postfix group")
    for name in ("main.cf", "master.cf"):
        os.chown(str(config_dir / name), 0, POSTFIX_GID)
        os.chmod(str(config_dir / name), 0o640)
    return attributes(config_dir)


@pytest.fixture
def unwritable(config_dir):
    """Make paths immutable (even for root); always undone."""
    made = []

    def make(*paths):
        for path in paths:
            try:
                set_immutable(path, True)
            except OSError:
                pytest.skip("the immutable attribute cannot be set here")
            made.append(path)
    yield make
    for path in made:
        set_immutable(path, False)


def test_a_change_keeps_mode_and_owner(postconf_task, config_dir, postfix_owned):
    rc, result, output = postconf_task({"parameters": {"smtpd_helo_required": True},
                                        "services": [{"name": "smtp", "type": "inet", "process_limit": 50}]})
    assert rc == 0 and result["changed"], output
    assert value(config_dir, "smtpd_helo_required") == "yes"
    assert attributes(config_dir) == postfix_owned


def test_a_roll_back_restores_content_mode_and_owner(postconf_task, config_dir, postfix_owned):
    before = digest(config_dir)
    rc, result, output = postconf_task({"parameters": {"inet_protocols": "bogus"},
                                        "services": [{"name": "smtp", "type": "inet", "process_limit": 50}]})
    assert rc != 0 and result["msg"].startswith("parameters.inet_protocols, services.smtp/inet: postfix check failed")
    assert "restored (content, mode and owner)" in result["msg"] and "Fix: mend the value Postfix names" in result["msg"]
    assert digest(config_dir) == before and attributes(config_dir) == postfix_owned


def test_an_unwritable_directory_gives_postconfs_own_error(postconf_task, config_dir, postfix_owned, unwritable):
    before = digest(config_dir)
    unwritable(config_dir)
    rc, result, output = postconf_task({"parameters": {"smtpd_helo_required": True}})
    assert rc != 0 and "Traceback" not in output and "MODULE FAILURE" not in output
    assert result["msg"].startswith("parameters.smtpd_helo_required: postconf -e smtpd_helo_required=yes failed: ")
    assert "Operation not permitted" in result["msg"] and "were restored" in result["msg"]
    assert "Fix: mend what postconf names" in result["msg"]
    assert not result["changed"]
    assert digest(config_dir) == before and attributes(config_dir) == postfix_owned


def test_a_roll_back_that_cannot_write_reports_both_errors(postconf_task, config_dir, postfix_owned, unwritable):
    """The directory and master.cf turn immutable right after the first edit (-M) rewrote master.cf:
    the second edit (-e) fails, and so does putting master.cf back."""
    master = config_dir / "master.cf"
    first_inode = master.stat().st_ino
    stop = threading.Event()

    def watch():
        while not stop.is_set():
            try:
                if master.stat().st_ino != first_inode:
                    unwritable(config_dir, master)
                    return
            except FileNotFoundError:
                pass
            time.sleep(0.0002)
    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        rc, result, output = postconf_task({"parameters": {"smtpd_helo_required": True},
                                            "services": [{"name": "smtp", "type": "inet", "process_limit": 50}]})
    finally:
        stop.set()
        watcher.join()
    if rc == 0:
        pytest.skip("the watcher was too slow to catch the moment between the two edits")
    assert "Traceback" not in output and "MODULE FAILURE" not in output
    assert result["msg"].startswith("parameters.smtpd_helo_required, services.smtp/inet: postconf -e "
                                    "smtpd_helo_required=yes failed: "), result["msg"]
    assert "The roll-back failed as well (%s: Operation not permitted)" % master in result["msg"]
    assert "compare `postconf -n` and `postconf -M`" in result["msg"]
    assert result["changed"]


def test_a_dqs_key_is_hidden_without_mask_values_and_when_main_cf_already_holds_one(run_playbook, config_dir):
    key, old_key = "dqskeyofthisaccount0123456", "formerkeyofthisaccount9876"
    postconf(config_dir, "-e", "postscreen_dnsbl_sites=%s.zen.dq.spamhaus.net=127.0.0.[2..11]*3" % old_key)
    options = {"parameters": {"postscreen_dnsbl_sites": ["%s.zen.dq.spamhaus.net=127.0.0.[2..11]*3" % key]}}
    args = textwrap.indent("\n".join("%s: %s" % (k, json.dumps(v)) for k, v in options.items()), " " * 8)
    rc, data, output = run_playbook(PLAY.format(python=sys.executable, config_dir=config_dir, args=args), "-vvv",
                                    diff=True)
    assert rc == 0, output
    result = data["plays"][0]["tasks"][0]["hosts"]["localhost"]
    assert result["diff"][0]["before"] == "postscreen_dnsbl_sites = ********.zen.dq.spamhaus.net=127.0.0.[2..11]*3\n"
    assert key not in output and old_key not in output
    assert key in value(config_dir, "postscreen_dnsbl_sites")
