"""Hostile plans for mail_gate: a gate that cannot decide fails closed, naming what is missing.

Before, a malformed plan passed with nothing checked (gate: spf, domains: [{foo: bar}] -> passed)
or crashed ('str' object has no attribute 'get', Module failed: 'dns').
"""

from hostile.host_harness import Case, hostile_tests

D = "example.com"
RECORD = "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
PLAN = {"name": D, "dns": {"provider": "rfc2136", "zone": D, "server": "127.0.0.1:1"}, "publish": True,
        "sending_ips": ["203.0.113.10"], "spf": {"mechanisms": ["a"], "all": "fail"}, "dmarc": {"p": "reject"},
        "hosts": ["mx1"], "paths": ["postfix"],
        "dkim_records": [{"domain": D, "selector": "e1", "dns_name": "e1._domainkey." + D, "record": RECORD,
                          "public_key": RECORD, "hosts": ["mx1"], "path": "postfix"}]}
PENDING = {"name": D, "dns": PLAN["dns"], "dmarc": {"p": "reject"}, "target": "reject", "held": "none",
           "published": None, "audit": {"name": D}}
SUMMARY = {"grid": {D: {"spf.missing": "ok"}}}
# No name server listens on port 1: a gate that got this far would fail on DNS, not pass.
SILENT = ["127.0.0.1:1"]


def gate(gate_name, domains, step="hold", **options):
    return {"mailauth.hardening.mail_gate": dict(gate=gate_name, step=step, domains=domains, nameservers=SILENT,
                                                 timeout=1, **options)}


def plan(**changes):
    return dict(PLAN, **changes)


CASES = [
    Case("spf_plan_of_another_shape", gate("spf", [{"foo": "bar"}]), "domains[0]",
         "pass the plans of the harden_plan filter"),
    Case("spf_no_plans", gate("spf", []), "domains", "leave the gate out when there is nothing to decide"),
    Case("spf_inventory_domain_not_a_plan", gate("spf", [{"name": D, "dns": PLAN["dns"], "spf": PLAN["spf"]}]),
         "domains[0]", "not the inventory's mailauth_domains"),
    Case("spf_dns_as_text", gate("spf", [plan(dns="rfc2136")]), "domains[0].dns", "as a mapping"),
    Case("spf_sending_ips_as_text", gate("spf", [plan(sending_ips="203.0.113.10")]), "domains[0].sending_ips",
         "write a YAML list"),
    Case("spf_sending_ip_a_name", gate("spf", [plan(sending_ips=["mx1.example.com"])]),
         "domains[0].sending_ips[0]", "outbound IPv4 or IPv6"),
    Case("spf_publish_as_text", gate("spf", [plan(publish="yes")]), "domains[0].publish", "harden_plan"),
    Case("hold_dmarc_as_text", gate("dmarc", [plan(dmarc="p=reject")]), "domains[0].dmarc", "e.g. {p: none}"),
    Case("hold_silent_name_server", gate("dmarc", [plan()]), "nameservers", "make the name servers answer"),
    Case("signing_record_as_text", gate("signing", [plan(dkim_records=["e1._domainkey.example.com"])]),
         "domains[0].dkim_records[0]", "harden_plan"),
    Case("signing_record_lacking_keys", gate("signing", [plan(dkim_records=[{"selector": "e1"}])]),
         "domains[0].dkim_records[0]", "harden_plan"),
    Case("signing_record_without_hosts", gate("signing", [plan(dkim_records=[dict(PLAN["dkim_records"][0], hosts=[])])]),
         "domains[0].dkim_records[0].hosts", "harden_plan"),
    Case("raise_pending_without_dns", gate("dmarc", [{"name": D, "dmarc": {"p": "reject"}, "target": "reject",
                                                     "held": "none"}], step="raise", summary=SUMMARY),
         "domains[0]", "pending list of the hold step"),
    Case("raise_plans_instead_of_pending", gate("dmarc", [plan()], step="raise", summary=SUMMARY), "domains[0]",
         "pending list of the hold step"),
    Case("raise_target_misspelt", gate("dmarc", [dict(PENDING, target="rejetc")], step="raise", summary=SUMMARY),
         "domains[0].target", "use one of none, quarantine, reject"),
    Case("raise_without_audit_summary", gate("dmarc", [PENDING], step="raise"), "summary",
         "of the same mail_audit run"),
    Case("raise_summary_without_grid", gate("dmarc", [PENDING], step="raise", summary={"domains": 1}),
         "summary.grid", "as it is"),
    Case("raise_findings_of_another_shape", gate("dmarc", [PENDING], step="raise", summary=SUMMARY,
                                                 findings=[{"check": "dkim.missing"}]),
         "findings[0]", "pass the findings of mail_audit as they are"),
]
outcomes, test_hostile_mail_gate, test_hostile_mail_gate_run_shows_no_secret = hostile_tests(CASES)
