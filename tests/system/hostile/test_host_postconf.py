"""Hostile inputs and faults for postconf against this host's Postfix, on copies of its configuration.

Each case has its own configuration directory (main.cf and master.cf copied from /etc/postfix,
made 0640 root:postfix as on a hardened host); none may change a byte, a mode or an owner.
"""
import grp
import os
import shutil

import pytest

from hostile.host_harness import Case, immutable, hostile_tests

pytestmark = pytest.mark.skipif(not shutil.which("postfix", path="/usr/sbin:/usr/bin:/sbin"),
                                reason="Postfix is not installed (lab/lab.sh deps installs it)")
DQS_SITE = "{{ vault_dqs_key }}.zen.dq.spamhaus.net=127.0.0.[2..11]*3"


def config(directory):
    target = directory / "postfix"
    target.mkdir(mode=0o755)
    for name in ("main.cf", "master.cf"):
        shutil.copy2("/etc/postfix/" + name, str(target / name))
        os.chown(str(target / name), 0, grp.getgrnam("postfix").gr_gid)
        os.chmod(str(target / name), 0o640)


def unwritable_config(directory):
    """The configuration directory made immutable (chattr +i); undone after the run."""
    config(directory)
    immutable(directory / "postfix")


def task(**options):
    return {"mailauth.hardening.postconf": dict(dict(config_dir="{dir}/postfix"), **options)}


CASES = [
    Case("unknown_parameter", task(parameters={"smtpd_miltres": "inet:localhost:8891"}),
         "parameters.smtpd_miltres", "check the spelling", setup=config),
    Case("unknown_parameter_check_mode", task(parameters={"smtpd_miltres": "inet:localhost:8891"}),
         "parameters.smtpd_miltres", "check the spelling", setup=config, check=True),
    Case("unknown_service_parameter", task(service_parameters={"smtp/inet/smtpd_tls_securty_level": "may"}),
         "service_parameters.smtp/inet/smtpd_tls_securty_level", "check the spelling", setup=config),
    Case("per_service_name_in_parameters", task(parameters={"smtp/inet/smtpd_tls_security_level": "may"}),
         "parameters.smtp/inet/smtpd_tls_security_level", "service_parameters", setup=config),
    Case("value_on_two_lines", task(parameters={"smtpd_banner": "one\ntwo"}), "parameters.smtpd_banner",
         "join the lines", setup=config),
    Case("unbalanced_brace", task(parameters={"smtpd_milters": "{ inet:localhost:8891, timeout=10s"}),
         "parameters.smtpd_milters", "close every {", setup=config),
    Case("two_items_in_one", task(parameters={"smtpd_milters": {"items": ["inet:a:1, inet:b:2"]}}),
         "parameters.smtpd_milters.items[0]", "its own list element", setup=config),
    Case("value_and_items", task(parameters={"smtpd_milters": {"value": "x", "items": ["y"]}}),
         "parameters.smtpd_milters", "use value for the whole value", setup=config),
    Case("before_and_after", task(parameters={"smtpd_milters": {"items": ["y"], "before": "a", "after": "b"}}),
         "parameters.smtpd_milters", "anchor the items to one neighbour", setup=config),
    Case("unknown_key_in_spec", task(parameters={"smtpd_milters": {"itmes": ["y"]}}),
         "parameters.smtpd_milters", "use value, items", setup=config),
    Case("new_service_without_command", task(services=[{"name": "policyd-spf", "type": "unix"}]),
         "services.policyd-spf/unix.command", "give the daemon", setup=config),
    Case("service_command_with_options", task(services=[{"name": "smtp", "type": "inet",
                                                         "command": "smtpd -o smtpd_tls_security_level=may"}]),
         "services[0].command", "put them in service_parameters", setup=config),
    Case("service_parameter_bad_type", task(service_parameters={"smtp/tcp/smtpd_tls_security_level": "may"}),
         "service_parameters.smtp/tcp/smtpd_tls_security_level", "use one of", setup=config),
    Case("service_parameter_missing_service", task(service_parameters={"nosuch/inet/smtpd_tls_security_level": "may"}),
         "service_parameters.nosuch/inet/smtpd_tls_security_level", "add it under services", setup=config),
    Case("config_dir_without_files", task(config_dir="{dir}/empty", parameters={"smtpd_helo_required": True}),
         "config_dir", "point config_dir at a Postfix configuration directory",
         setup=lambda directory: (directory / "empty").mkdir()),
    Case("value_postfix_check_rejects", task(parameters={"inet_protocols": "bogus"}), "parameters.inet_protocols",
         "mend the value Postfix names", setup=config),
    Case("unwritable_config_dir", task(parameters={"smtpd_helo_required": True}), "parameters.smtpd_helo_required",
         "config_dir and its files must be writable", setup=unwritable_config),
    Case("dqs_key_in_unknown_parameter", task(parameters={"postscreen_dnsbl_sitez": [DQS_SITE]}),
         "parameters.postscreen_dnsbl_sitez", "check the spelling", setup=config),
    Case("dqs_key_in_rejected_change", task(parameters={"postscreen_dnsbl_sites": [DQS_SITE], "inet_protocols": "x"}),
         "parameters.postscreen_dnsbl_sites, parameters.inet_protocols", "mend the value Postfix names", setup=config),
    Case("masked_value_in_refused_value", task(parameters={"smtpd_banner": "token-{{ vault_dqs_key }}\nx"},
                                               mask_values=["{{ vault_dqs_key }}"]),
         "parameters.smtpd_banner", "join the lines", setup=config),
]
outcomes, test_hostile_postconf, test_hostile_postconf_run_shows_no_secret = hostile_tests(CASES)
