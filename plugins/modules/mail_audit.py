#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: mail_audit
short_description: Check the SPF, DKIM, DMARC and DNSBL state of mail domains from the outside
version_added: 0.1.0
description:
  - Reads each domain's records the way receivers do (over DNS, with dnspython) and compares them
    with what the hosts hold (their sending addresses and DKIM public keys).
  - Reports every problem as a finding C({domain, check, severity, message, fix}); the checks are
    C(spf.missing), C(spf.multiple), C(spf.syntax), C(spf.lookups), C(spf.all), C(spf.sender),
    C(dkim.missing), C(dkim.syntax), C(dkim.mismatch), C(dkim.weak), C(dmarc.missing),
    C(dmarc.syntax), C(dmarc.obsolete), C(dmarc.policy), C(dmarc.report_auth) and C(dnsbl.listed).
  - A record that cannot be read is never reported as missing. A name server that gives no usable
    answer (time-out, refused, SERVFAIL) is C(dns.unreachable), a CNAME chain that leads back to
    itself is C(dns.cname_loop). Both are errors (the audit cannot decide, so it fails closed), and
    the record's checks show as not run.
  - Without O(nameservers) every authoritative server of each domain's zone is found through its NS
    records and asked in turn; a finding only some servers show names those servers, and names whose
    answers differ between servers are listed in RV(disagreements).
  - With O(dmarc_reports) (the reports M(mailauth.hardening.dmarc_reports) read) it adds the evidence
    per domain - RV(dmarc_readiness), RV(dmarc_stats) - and a "DMARC readiness" section to the reports.
  - Never changes anything (V(changed=false)). With O(report_dir) it writes C(audit.json) and
    C(audit.html) there, also in check mode, since a report is the point of an audit.
  - "Run it on the controller: C(hosts: localhost) or C(delegate_to: localhost)."
author: mailauth.hardening contributors (!UNKNOWN)
options:
  domains:
    description: The domains to check and what the hosts expect of each.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: The mail domain, for example C(example.com).
        type: str
        required: true
      sending_ips:
        description:
          - The hosts' outbound addresses. Each must pass the published SPF record (C(spf.sender))
            and is looked up in O(dnsbl_zones) (C(dnsbl.listed)).
        type: list
        elements: str
        default: []
      spf_all:
        description:
          - The qualifier the record's C(all) should have; C(spf.all) reports a different one (followed
            through C(redirect=)) or none. Without it only C(+all), C(?all) and a missing C(all) are reported.
        type: str
        choices: [fail, softfail, neutral]
      dkim:
        description:
          - The selectors the hosts sign with. Each must be published (C(dkim.missing)), parse
            (C(dkim.syntax); whitespace or a truncated key inside C(p=) included), hold an RSA key of
            at least 2048 bits (C(dkim.weak)) and, with O(domains[].dkim[].public_key), be that key (C(dkim.mismatch)).
        type: list
        elements: dict
        default: []
        suboptions:
          selector:
            description: The DKIM selector.
            type: str
            required: true
          public_key:
            description:
              - The public key the host signs with, as the base64 C(p=) value (what
                M(mailauth.hardening.dkim_key) returns), a whole key record, or a PEM public key.
                Compared by the decoded key, so line breaks and blanks do not matter.
            type: str
      dmarc_policy:
        description: The stage C(_dmarc) should publish now; C(dmarc.policy) reports a different C(p=).
        type: str
        choices: [none, quarantine, reject]
      mta_sts:
        description:
          - Check MTA-STS (RFC 8461) as a sending MTA sees it - the record C(_mta-sts.DOMAIN)
            (C(mta_sts.missing), C(mta_sts.syntax) - one C(v=STSv1) record with an C(id) of 1-32 letters and
            digits), then the policy it announces, fetched from C(https://mta-sts.DOMAIN/.well-known/mta-sts.txt)
            at the address the audit's own name servers give, with the certificate checked for
            C(mta-sts.DOMAIN) against the system's CAs or O(mta_sts_ca_file). C(mta_sts.policy) - the policy
            cannot be fetched (any status but 200, a redirect, not C(text/plain), over 64 KiB, a bad certificate),
            does not parse, or does not cover one of the domain's MX hosts; C(mta_sts.id) - the record's C(id)
            is not the one of the policy served (senders keep a cached policy until the id changes; harden
            publishes the first 32 hex digits of the policy's SHA-256).
        type: bool
        default: false
        version_added: 0.2.0
      tls_rpt:
        description:
          - Check the TLS reporting record C(_smtp._tls.DOMAIN) (RFC 8460) - C(tls_rpt.missing), C(tls_rpt.syntax)
            (one C(v=TLSRPTv1) record whose C(rua) holds C(mailto:) and C(https:) URIs).
        type: bool
        default: false
        version_added: 0.2.0
  mta_sts_ca_file:
    description:
      - A PEM file of the CAs to trust for MTA-STS policy servers instead of the system's, for a private CA
        (a lab or an internal relay). Real senders use public CAs, so leave it unset for public domains.
    type: path
    version_added: 0.2.0
  nameservers:
    description:
      - Name servers to ask, as C(IP) or C(IP:PORT) (C([IPv6]:PORT)). Every one is asked for every
        name, and their answers are compared.
      - Default is every authoritative server of each domain's zone (found through O(resolvers)),
        for the names in that zone; other names (SPF includes, report domains, DNSBLs) go to O(resolvers).
    type: list
    elements: str
  resolvers:
    description:
      - Recursive resolvers (C(IP) or C(IP:PORT)) that find the authoritative servers and answer for
        names outside the domain's zone when O(nameservers) is not given. Default is the system's.
    type: list
    elements: str
  nameserver_port:
    description: Port of the authoritative servers found through NS records.
    type: int
    default: 53
  dnsbl_zones:
    description:
      - DNS blocklists to look the O(domains[].sending_ips) up in, in the collection's DNSBL syntax
        (the items of C(mailauth_dnsbl)), for example C(zen.spamhaus.org=127.0.0.[2..11]), or a mapping with
        the keys C(zone), C(reply), C(weight) and C(dqs_key). Allowlists (negative weight) are skipped.
      - An answer of 127.255.255.254 or 127.255.255.255 is reported as a refused query (a public or open
        resolver asked), not as a listing.
      - A Spamhaus DQS key (in C(dqs_key), in a C(KEY.zen.dq.spamhaus.net) zone, or in O(dqs_key)) is a
        secret; findings, RV(report_text), C(audit.json) and C(audit.html) show it as C(********).
    type: list
    elements: raw
    default: []
  dqs_key:
    description:
      - Spamhaus Data Query Service key for the public Spamhaus zones of O(dnsbl_zones) that carry
        no key of their own; they are asked as C(KEY.zen.dq.spamhaus.net). Never shown.
    type: str
  fail_on:
    description:
      - The task fails when a finding of this severity or worse is found (after writing the reports).
        V(never) only reports.
    type: str
    choices: [error, warning, never]
    default: error
  timeout:
    description: Seconds to wait for each DNS answer.
    type: float
    default: 5.0
  report_dir:
    description:
      - Directory to write C(audit.json) and C(audit.html) into (created if missing), on the machine the
        module runs on.
    type: path
  dmarc_unreadable:
    description: What RV(mailauth.hardening.dmarc_reports#module:unreadable) listed; shown in the section.
    type: list
    elements: dict
    default: []
requirements:
  - dnspython >= 2.0
  - cryptography (for DKIM keys)
notes:
  - The HTML report is one file with inline CSS; it loads nothing from the network.
  - checkdmarc is the outside judge of the SPF and DMARC verdicts in this collection's tests; the
    deliberate differences are listed in C(docs/audit-vs-checkdmarc.md).
attributes:
  check_mode:
    support: full
    description: Nothing is ever changed; reports are written in check mode too.
  diff_mode:
    support: none
    description: Nothing is changed, so there is nothing to show.
extends_documentation_fragment:
  - mailauth.hardening.dmarc_evidence
seealso:
  - module: mailauth.hardening.dkim_key
"""

EXAMPLES = r"""
- name: Audit the mail domains from the controller
  mailauth.hardening.mail_audit:
    domains:
      - name: example.com
        sending_ips: [203.0.113.10]
        spf_all: fail
        dkim:
          - selector: s202611
            public_key: "{{ dkim_result.public_key }}"
        dmarc_policy: none
    dnsbl_zones:
      - zen.spamhaus.org=127.0.0.[2..11]
    report_dir: "{{ playbook_dir }}/reports"
    fail_on: error
  delegate_to: localhost
  register: audit

- name: Show the short table
  ansible.builtin.debug:
    msg: "{{ audit.report_text | split('\n') }}"

- name: Ask one server only (a lab or a hidden primary)
  mailauth.hardening.mail_audit:
    nameservers: ["192.0.2.53:5353"]
    domains:
      - name: example.com
    fail_on: never
  delegate_to: localhost
"""

RETURN = r"""
findings:
  description: Every problem found, worst first within each domain's order of checks.
  returned: always
  type: list
  elements: dict
  contains:
    domain:
      description: The domain.
      type: str
      sample: example.com
    check:
      description: The check's name.
      type: str
      sample: spf.sender
    severity:
      description: C(error), C(warning) or C(info).
      type: str
      sample: error
    message:
      description: What is wrong; starts with C([only on SERVER]) when not every server shows it.
      type: str
      sample: "sending address 203.0.113.10 gets SPF fail, not pass (-all matched)."
    fix:
      description: What to do about it.
      type: str
      sample: "add ip4:203.0.113.10 (or a mechanism that covers the host) before the all of example.com's SPF record."
summary:
  description: Counts per severity and the domain x check grid.
  returned: always
  type: dict
  contains:
    domains:
      description: Number of domains checked.
      type: int
      sample: 2
    findings:
      description: Number of findings.
      type: int
      sample: 3
    counts:
      description: Findings per severity.
      type: dict
      sample: {"error": 1, "warning": 1, "info": 1}
    checks:
      description: The check names, in the grid's column order.
      type: list
      elements: str
      sample: ["spf.missing", "spf.multiple"]
    grid:
      description: Per domain, per check, C(ok), C(info), C(warning), C(error) or C(skipped) (not applicable or not reached).
      type: dict
      sample: {"example.com": {"spf.missing": "ok", "dnsbl.listed": "skipped"}}
ok:
  description: True when no finding reaches O(fail_on) (with V(never), when there is no error).
  returned: always
  type: bool
  sample: true
nameservers:
  description: The servers asked, per domain (C(name (address)) for servers found through NS records).
  returned: always
  type: dict
  sample: {"example.com": ["ns1.example.com (192.0.2.53)", "ns2.example.com (198.51.100.53)"]}
disagreements:
  description: Names the servers answered differently, with each server's answer.
  returned: always
  type: list
  elements: dict
  sample: [{"name": "s202611._domainkey.example.com", "type": "TXT", "answers": {"ns1": ["v=DKIM1; ..."], "ns2": []}}]
report_text:
  description: A short plain-text table of the result (one row per domain), then the errors and warnings.
  returned: always
  type: str
  sample: "domain       SPF     DKIM    DMARC   DNSBL\nexample.com  ok      ok      ok      ok\n"
dmarc_readiness:
  description:
    - With O(dmarc_reports), per audited domain - C(domain), C(reports), C(reporters), C(begin), C(end),
      C(published) (the p= receivers saw), C(messages), C(aligned), C(aligned_share),
      C(legitimate_messages), C(legitimate_aligned), C(legitimate_aligned_share) (percent, null without
      mail), C(ready), C(blockers), C(other_sources), and C(sources) (the 50 largest, failing first) - each
      C({address, reverse_name, kind (host, listed, unknown), known_as, messages, aligned, spf_aligned,
      dkim_aligned, failed, verdict (ok, fix, fixed, abuse, forwarded), fixes}).
  returned: when O(dmarc_reports) is given
  type: list
  elements: dict
dmarc_thresholds:
  description: With O(dmarc_reports), the thresholds the readiness was judged by, C({days, min_messages, min_aligned}).
  returned: when O(dmarc_reports) is given
  type: dict
dmarc_unreadable:
  description: With O(dmarc_reports), O(dmarc_unreadable) as given (the reports show it).
  returned: when O(dmarc_reports) is given
  type: list
  elements: dict
dmarc_stats:
  description:
    - With O(dmarc_reports), the short form for C(set_stats) - per domain C(ready), C(messages), the shares,
      C(blockers) and the failing sources with their fix.
  returned: when O(dmarc_reports) is given
  type: dict
report_files:
  description: Paths of the written reports.
  returned: when O(report_dir) is set
  type: dict
  sample: {"json": "/srv/reports/audit.json", "html": "/srv/reports/audit.html"}
"""

import datetime
import os
import tempfile

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mailauth.hardening.plugins.module_utils._audit.audit import (
    FAIL_ON, dnsbl_sites, domain_spec, run_audit)
from ansible_collections.mailauth.hardening.plugins.module_utils._audit.report import (
    render_html, render_json, render_text)
from ansible_collections.mailauth.hardening.plugins.module_utils._records.dnsbl import dqs_keys, mask_dqs
from ansible_collections.mailauth.hardening.plugins.module_utils._reports.dmarc_evidence import (
    EVIDENCE_OPTIONS, checked_params, params_evidence, readiness_stats)
from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import check_port, check_seconds
from ansible_collections.mailauth.hardening.plugins.module_utils._dns.resolver import HAS_DNSPYTHON
from ansible_collections.mailauth.hardening.plugins.module_utils._dns.views import Views
from ansible_collections.mailauth.hardening.plugins.module_utils._web.policy_fetch import PolicyFetcher
from ansible_collections.mailauth.hardening.plugins.module_utils._core.module_run import fail_json_on, hide, require_library

REPORT_NAMES = {"json": "audit.json", "html": "audit.html"}


def write_reports(directory, result):
    """Write the JSON and HTML reports (each atomically); return their paths."""
    if not os.path.isdir(directory):
        os.makedirs(directory)
    generated = "generated %s UTC" % datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M")
    contents = {"json": render_json(result), "html": render_html(result, generated=generated)}
    paths = {}
    for kind, name in REPORT_NAMES.items():
        path = os.path.join(directory, name)
        handle, temp = tempfile.mkstemp(prefix=".%s." % name, dir=directory)
        with os.fdopen(handle, "w") as stream:
            stream.write(contents[kind])
        os.chmod(temp, 0o644)
        os.replace(temp, path)
        paths[kind] = path
    return paths


def add_dmarc_readiness(result, params, domains, thresholds, listed):
    entries = params_evidence(params, domains, thresholds, listed)
    result.update(dmarc_readiness=entries, dmarc_stats=readiness_stats(entries), dmarc_thresholds=thresholds,
                  dmarc_unreadable=params["dmarc_unreadable"])


def run_module():
    dkim_spec = dict(selector=dict(type="str", required=True), public_key=dict(type="str", no_log=False))
    domain_options = dict(
        name=dict(type="str", required=True),
        sending_ips=dict(type="list", elements="str", default=[]),
        spf_all=dict(type="str", choices=["fail", "softfail", "neutral"]),
        dkim=dict(type="list", elements="dict", default=[], options=dkim_spec),
        dmarc_policy=dict(type="str", choices=["none", "quarantine", "reject"]),
        mta_sts=dict(type="bool", default=False),
        tls_rpt=dict(type="bool", default=False),
    )
    module = AnsibleModule(
        argument_spec=dict(
            domains=dict(type="list", elements="dict", required=True, options=domain_options),
            nameservers=dict(type="list", elements="str"),
            resolvers=dict(type="list", elements="str"),
            nameserver_port=dict(type="int", default=53),
            dnsbl_zones=dict(type="list", elements="raw", default=[]),
            dqs_key=dict(type="str", no_log=True),
            fail_on=dict(type="str", choices=list(FAIL_ON), default="error"),
            timeout=dict(type="float", default=5.0),
            report_dir=dict(type="path"),
            mta_sts_ca_file=dict(type="path"),
            dmarc_unreadable=dict(type="list", elements="dict", default=[]),
            **EVIDENCE_OPTIONS
        ),
        supports_check_mode=True,
    )
    require_library(module, HAS_DNSPYTHON, "dnspython")
    params = module.params
    # Keys inside dnsbl_zones: Ansible masks them in the result and its invocation from here on.
    hide(module, dqs_keys([params["dnsbl_zones"], {"dqs_key": params["dqs_key"]}]))
    with fail_json_on(module):
        specs = [domain_spec(data, "domains[%d]" % index) for index, data in enumerate(params["domains"])]
        sites = dnsbl_sites(params["dnsbl_zones"], dqs_key=params["dqs_key"])
        check_port("nameserver_port", params["nameserver_port"])
        check_seconds("timeout", params["timeout"])
        # Each server behind a RecordingLookup, so answers can be compared (RV disagreements).
        views = Views(params["nameservers"], params["resolvers"], params["nameserver_port"], params["timeout"],
                      record=True)
        dmarc = checked_params(params) if params["dmarc_reports"] is not None else None
        fetch = PolicyFetcher(params["mta_sts_ca_file"], timeout=params["timeout"]) \
            if any(spec["mta_sts"] for spec in specs) else None
        result = run_audit(specs, views, sites, params["fail_on"], fetch)
        if dmarc:
            add_dmarc_readiness(result, params, [spec["name"] for spec in specs], *dmarc)
    # DNSBL query names hold the zone, so a DQS key: masked before any report is written.
    result.update(changed=False, nameservers=views.asked, disagreements=mask_dqs(views.disagreements()))
    for item in result["disagreements"]:
        module.warn("name servers disagree on %s %s: %s" % (item["name"], item["type"], item["answers"]))
    result["report_text"] = render_text(result)
    if params["report_dir"]:
        try:
            result["report_files"] = write_reports(params["report_dir"], result)
        except (IOError, OSError) as err:
            module.fail_json(msg="report_dir: could not write the reports: %s. Fix: give a directory this user may "
                                 "create and write." % err, **result)
    if params["fail_on"] != "never" and not result["ok"]:
        counts = result["summary"]["counts"]
        worst = [f for f in result["findings"] if f["severity"] == "error"] or \
            [f for f in result["findings"] if f["severity"] == "warning"]
        module.fail_json(msg="mail audit: %d error(s), %d warning(s) (fail_on=%s). First: %s %s: %s"
                         % (counts["error"], counts["warning"], params["fail_on"], worst[0]["domain"],
                            worst[0]["check"], worst[0]["message"]), **result)
    module.exit_json(**result)


def main():
    run_module()


if __name__ == "__main__":
    main()
