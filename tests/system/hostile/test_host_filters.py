"""Hostile data for the filters the roles validate with: dnsbl_sites, dkim_selectors, harden_plan,
dkim_rotation_plan. Each fails the task naming the variable (or entry) and the fix; none shows the
DQS key or another secret it was handed."""

from hostile.host_harness import Case, hostile_tests

DOMAIN = {"name": "example.com", "dns": {"provider": "rfc2136", "zone": "example.com"}, "dkim": [{"selector": "s1"}]}
KEY = {"domain": "example.com", "selector": "s1", "dns_name": "s1._domainkey.example.com",
       "record": "v=DKIM1; k=rsa; p=AAAA"}
STATUS = {"domain": "example.com", "selector": "s1", "type": "rsa", "bits": 2048, "phase": "none",
          "old_selector": "s1", "new_selector": None, "new_type": None, "new_bits": None, "next": "started",
          "due": True, "due_at": None, "since": None, "stale_inventory": False, "new_key_present": None}
REPORT = {"rotations": [STATUS], "used_selectors": {"example.com": ["s1"]}, "keys_dir": "/etc/dkimkeys"}


def filtered(expression, **data):
    """A debug task that renders the filter expression over ``data`` (task vars)."""
    return {"ansible.builtin.debug": {"msg": "{{ %s }}" % expression}, "vars": data}


def dnsbl(entries, **arguments):
    args = "".join(", %s=%s" % item for item in arguments.items())
    return filtered("entries | mailauth.hardening.dnsbl_sites(%s)" % args.lstrip(", "), entries=entries)


def host(name="mx1", path="postfix", domains=(DOMAIN,), keys=(KEY,), ips=("203.0.113.10",)):
    return {"host": name, "path": path, "domains": list(domains), "dkim_keys": list(keys), "sending_ips": list(ips)}


def plan(hosts):
    return filtered("hosts | mailauth.hardening.harden_plan", hosts=hosts)


def rotation_plan(step, reports, hosts=("mx1",), **options):
    return filtered("reports | mailauth.hardening.dkim_rotation_plan('%s', hosts, options)" % step,
                    reports=reports, hosts=list(hosts), options=options)


CASES = [
    Case("dnsbl_unfiltered_spamhaus_with_dqs_key", dnsbl([{"zone": "zen.spamhaus.org", "weight": 3}],
                                                         dqs_key="vault_dqs_key"),
         "mailauth_dnsbl[0]", "add the filter"),
    Case("dnsbl_dqs_zone_with_error_code_filter",
         dnsbl(["{{ vault_dqs_key }}.zen.dq.spamhaus.net=127.[0..255].[0..255].[0..255]*3"]),
         "mailauth_dnsbl[0]", "narrow it"),
    Case("dnsbl_restrictions_unfiltered_dqs", dnsbl([{"zone": "zen.spamhaus.org", "dqs_key": "{{ vault_dqs_key }}"}],
                                                    mode="'reject_rbl_client'"),
         "mailauth_dnsbl[0]", "add the filter"),
    Case("dnsbl_threshold_unreachable", dnsbl(["bl.spamcop.net*1"], threshold=5), "mailauth_dnsbl_threshold",
         "lower the threshold"),
    Case("dnsbl_threshold_zero", dnsbl(["bl.spamcop.net*1"], threshold=0), "mailauth_dnsbl_threshold",
         "use 1 or more"),
    Case("dnsbl_weight_not_a_number", dnsbl([{"zone": "bl.spamcop.net", "weight": "heavy"}]),
         "mailauth_dnsbl[0].weight", "e.g. 3"),
    Case("dnsbl_weight_zero", dnsbl(["bl.spamcop.net*0"]), "mailauth_dnsbl[0]", "positive weight"),
    Case("dnsbl_mode_unknown", dnsbl(["bl.spamcop.net"], mode="'rbl'"), "mode", "name one of them"),
    Case("dnsbl_entries_not_a_list", dnsbl("zen.spamhaus.org=127.0.0.[2..11]"), "mailauth_dnsbl",
         "write a YAML list"),
    Case("dnsbl_unknown_key", dnsbl([{"zone": "bl.spamcop.net", "filter": "127.0.0.2"}]), "mailauth_dnsbl[0]",
         "use zone, reply, weight and dqs_key"),
    Case("selectors_bad_selector", filtered("domains | mailauth.hardening.dkim_selectors",
                                            domains=[dict(DOMAIN, dkim=[{"selector": "s_1"}])]),
         "mailauth_domains[0].dkim[0].selector", "letters, digits and hyphens only"),
    Case("selectors_listed_twice", filtered("domains | mailauth.hardening.dkim_selectors",
                                            domains=[dict(DOMAIN, dkim=[{"selector": "s1"}, {"selector": "S1"}])]),
         "mailauth_domains[0].dkim[1].selector", "list each selector once"),
    Case("selectors_bits_512", filtered("domains | mailauth.hardening.dkim_selectors",
                                        domains=[dict(DOMAIN, dkim=[{"selector": "s1", "bits": 512}])]),
         "mailauth_domains[0].dkim[0].bits", "use one of"),
    Case("selectors_dkim_as_text", filtered("domains | mailauth.hardening.dkim_selectors",
                                            domains=[dict(DOMAIN, dkim="s1")]),
         "mailauth_domains[0].dkim", "write e.g. dkim: [{selector"),
    Case("selectors_domain_without_name", filtered("domains | mailauth.hardening.dkim_selectors",
                                                   domains=[{"dkim": [{"selector": "s1"}]}]),
         "mailauth_domains[0].name", "name: example.com"),
    Case("plan_host_without_path", plan([dict(host(), path=None)]), "hosts[0].path", "path: postfix"),
    Case("plan_hosts_not_a_list", plan("mx1"), "hosts", "one {host, path"),
    Case("plan_two_keys_one_selector", plan([host(), host("mx2", keys=[dict(KEY, record="v=DKIM1; k=rsa; p=BBBB")])]),
         "mailauth_domains of mx2", "its own selector"),
    Case("plan_secret_in_the_domain", plan([host(domains=[dict(DOMAIN, dns=dict(DOMAIN["dns"],
                                                                                key_secret="{{ vault_dqs_key }}"))])]),
         "mailauth_domains[0] of mx1.dns.key_secret", "mailauth_dns_secrets"),
    Case("plan_defined_differently", plan([host(), host("mx2", domains=[dict(DOMAIN, spf={"mechanisms": ["a"]})])]),
         "mailauth_domains[0] of mx2.spf", "the same definition"),
    Case("plan_sending_ip_a_name", plan([host(ips=["mx1.example.com"])]), "mailauth_sending_ips of mx1[0]",
         "outbound IPv4 or IPv6"),
    Case("rotation_plan_step_unknown", rotation_plan("start", [REPORT]), "step", "name one of them"),
    Case("rotation_plan_one_report_short", rotation_plan("keys", [REPORT], hosts=("mx1", "mx2")), "reports",
         "one dkim_rotation result per host"),
    Case("rotation_plan_report_of_another_shape", rotation_plan("starts", ["ok"]), "reports[0] (mx1)",
         "registered results of the dkim_rotation module"),
    Case("rotation_plan_rotation_lacking_keys", rotation_plan("switch", [{"rotations": [{"domain": "example.com"}]}]),
         "reports[0] (mx1).rotations[0]", "registered results of the dkim_rotation module"),
    Case("rotation_plan_bad_selector_pattern", rotation_plan("starts", [REPORT], start=True,
                                                             patterns={"rsa": "s_%Y%m"}),
         "mailauth_dkim_rotation_selector_patterns", "default is s%Y%m"),
    Case("rotation_plan_stop_after_unknown", rotation_plan("finish", [{"rotations": [dict(
        STATUS, phase="removed", new_selector="s2", new_type="rsa", new_bits=2048, next="done",
        since="2026-11-01T10:00:00Z")]}], stop_after="soon"),
        "mailauth_dkim_rotation_stop_after", "use one of"),
]
outcomes, test_hostile_filter, test_hostile_filter_run_shows_no_secret = hostile_tests(CASES)
