#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: mail_gate
short_description: The safety gates of harden - SPF, DMARC stage and DKIM signing
version_added: 0.1.0
description:
  - Decides, from live DNS, whether a step of the mailauth.hardening.mail_auth role may go ahead. Safety
    before policy - each gate fails with the domain, the address or selector, what DNS showed, and
    the override that lets the step through anyway (V(override=true), which the role sets from
    C(mailauth_gate_override_spf), C(mailauth_gate_override_dmarc) or C(mailauth_gate_override_signing)).
  - O(gate=spf) evaluates each domain's SPF record as it is about to be published (RFC 7208
    check_host() with the new text, live DNS for C(mx), C(a), C(include)) for each of the domain's
    sending addresses. An address that gets fail, softfail (C(~all) too), permerror or temperror closes the gate.
  - O(gate=dmarc) O(step=hold) reads the DMARC stage each domain publishes now and returns the domains
    to publish with C(p=) never above it (RV(domains)) and the raises that wait for the audit
    (RV(pending)). O(step=raise) takes those pending raises and the findings of
    M(mailauth.hardening.mail_audit), and lets a raise through only when the audit sees no SPF or DKIM
    error for the domain.
  - With O(dmarc_reports) (what M(mailauth.hardening.dmarc_reports) read) the DMARC gate moves on evidence.
    O(step=hold) steps a domain back one stage when the legitimate mail the receivers reported under its
    current stage fails DMARC above O(dmarc_rollback_above) percent (RV(rollbacks) says why), and gives each
    pending raise the reports' verdict. O(step=raise) then raises one stage only (none to quarantine,
    quarantine to reject), and only when the reports show the domain ready (O(dmarc_min_messages),
    O(dmarc_min_aligned), no legitimate source failing); otherwise the gate names the source that blocks it.
  - O(gate=signing) asks every authoritative server for each Postfix host's DKIM key record and
    returns the selectors each host may sign with (RV(selectors)); a key some server does not serve
    closes the gate.
  - Changes nothing. Run it on the controller (C(delegate_to) localhost, C(run_once)).
  - Fails closed - before asking DNS anything - on input it could not decide on - an empty O(domains),
    an entry that is not a plan of the harden_plan filter (or, for O(step=raise), not a pending raise
    of the hold step), naming the entry and what it lacks - rather than checking nothing and passing.
author: mailauth.hardening contributors (!UNKNOWN)
options:
  gate:
    description: Which gate to decide.
    type: str
    required: true
    choices: [spf, dmarc, signing]
  step:
    description:
      - For O(gate=dmarc) - V(hold) before publishing, V(raise) after the audit. Ignored by the other gates.
    type: str
    choices: [hold, raise]
    default: hold
  domains:
    description:
      - For O(gate=spf), O(gate=signing) and O(step=hold) - the plan of each domain, as the
        mailauth.hardening.harden_plan filter makes it (C(name), C(dns), C(spf), C(dmarc), C(sending_ips),
        C(publish), C(dkim_records), ...).
      - For O(step=raise) - the RV(pending) list of the hold step.
    type: list
    elements: dict
    required: true
  findings:
    description: For O(step=raise) - the RV(mailauth.hardening.mail_audit#module:findings) of the audit of the pending domains.
    type: list
    elements: dict
    default: []
  summary:
    description:
      - For O(step=raise) - the RV(mailauth.hardening.mail_audit#module:summary) of the same audit. A pending
        domain its grid does not list was not audited and stays held. Required for O(step=raise).
    type: dict
  override:
    description:
      - Let the step go ahead although the gate is closed; every reason is still reported as a warning.
    type: bool
    default: false
  nameservers:
    description:
      - Ask exactly these servers (C(IP) or C(IP:PORT)) for every name, instead of the authoritative
        servers of each domain's zone.
    type: list
    elements: str
  resolvers:
    description:
      - Recursive resolvers (C(IP) or C(IP:PORT)) that find each zone's authoritative servers and answer
        for names outside it. Default - the domain's C(dns.nameservers), else its RFC 2136 C(dns.server),
        else the system's resolver.
    type: list
    elements: str
  nameserver_port:
    description: Port of the authoritative servers found through NS records.
    type: int
    default: 53
  timeout:
    description: Seconds to wait for each DNS answer.
    type: float
    default: 5.0
  dmarc_rollback_above:
    description:
      - For O(gate=dmarc) O(step=hold) with O(dmarc_reports) - step back one stage when more than this share
        (percent) of the legitimate mail reported under the current stage fails DMARC. With O(override) the
        step back is only reported.
    type: float
    default: 2.0
extends_documentation_fragment:
  - mailauth.hardening.dmarc_evidence
requirements:
  - dnspython >= 2.0
  - cryptography (to compare DKIM keys)
notes:
  - The DMARC stage held back is the highest one any server serves now, so a server that lags never
    makes harden lower a policy that is already out.
  - In check mode nothing was published before the gate asks, so the DMARC raise and signing gates
    report what keeps them closed as warnings. The DMARC raise lets through only what DNS already
    shows; the signing gate lets through every planned key, as the real run would after publishing
    and waiting (so a drift check does not report a SigningTable change a real run would not make).
    The SPF gate fails as in a real run.
attributes:
  check_mode:
    support: full
    description: Reads DNS only; the DMARC raise and signing gates warn instead of failing.
  diff_mode:
    support: none
    description: Changes nothing, so there is nothing to show.
seealso:
  - module: mailauth.hardening.mail_audit
  - module: mailauth.hardening.dns_txt_wait
"""

EXAMPLES = r"""
- name: SPF gate - every sending address must pass the record about to be published
  mailauth.hardening.mail_gate:
    gate: spf
    domains: "{{ mailauth_plan }}"
    override: "{{ mailauth_gate_override_spf }}"
  delegate_to: localhost
  run_once: true

- name: Hold DMARC at the published stage for the first publish
  mailauth.hardening.mail_gate:
    gate: dmarc
    step: hold
    domains: "{{ mailauth_plan }}"
  delegate_to: localhost
  run_once: true
  register: dmarc_hold

- name: Raise DMARC only where the audit is clean
  mailauth.hardening.mail_gate:
    gate: dmarc
    step: raise
    domains: "{{ dmarc_hold.pending }}"
    findings: "{{ audit.findings }}"
    summary: "{{ audit.summary }}"
  delegate_to: localhost
  run_once: true

- name: Sign only with keys every authoritative server serves
  mailauth.hardening.mail_gate:
    gate: signing
    domains: "{{ mailauth_plan }}"
    nameservers: ["192.0.2.53", "198.51.100.53"]
  delegate_to: localhost
  run_once: true
  register: signing
"""

RETURN = r"""
passed:
  description: True when the gate found nothing to stop the step (before any override).
  returned: always
  type: bool
  sample: false
overridden:
  description: True when the gate was closed and O(override) let the step go ahead.
  returned: always
  type: bool
  sample: false
tripped:
  description: Why the gate is closed, one entry per domain and address, stage or selector.
  returned: always
  type: list
  elements: dict
  contains:
    gate:
      description: The gate.
      type: str
      sample: spf
    domain:
      description: The domain.
      type: str
      sample: example.com
    subject:
      description: The sending address (spf), the stage asked for (dmarc) or the selector (signing).
      type: str
      sample: 203.0.113.10
    message:
      description: What DNS or the audit showed, and how to fix it.
      type: str
checked:
  description: For O(gate=spf) - every evaluation, C({domain, record, ip, server, result, reason}).
  returned: when O(gate=spf)
  type: list
  elements: dict
  sample: [{"domain": "example.com", "record": "v=spf1 mx -all", "ip": "203.0.113.10",
            "server": "192.0.2.53", "result": "pass", "reason": "mx matched"}]
domains:
  description:
    - For O(step=hold) - every plan, DMARC C(p=) held at the published stage where it would rise.
    - For O(step=raise) - C({name, dns, dmarc}) of each domain whose raise may be published now.
  returned: when O(gate=dmarc)
  type: list
  elements: dict
pending:
  description: For O(step=hold) - the raises that wait for the audit, C({name, dns, dmarc, target, held, published, audit}).
  returned: when O(gate=dmarc) and O(step=hold)
  type: list
  elements: dict
published:
  description: For O(step=hold) - the DMARC stage each domain served before (null without a record).
  returned: when O(gate=dmarc) and O(step=hold)
  type: dict
  sample: {"example.com": "none"}
rollbacks:
  description:
    - For O(step=hold) with O(dmarc_reports) - each domain stepped back, C({name, from, to, applied, reason}).
  returned: when O(gate=dmarc), O(step=hold) and O(dmarc_reports) is given
  type: list
  elements: dict
evidence:
  description: For O(step=hold) with O(dmarc_reports) - the evidence per domain, as RV(mailauth.hardening.mail_audit#module:dmarc_readiness).
  returned: when O(gate=dmarc), O(step=hold) and O(dmarc_reports) is given
  type: list
  elements: dict
selectors:
  description: For O(gate=signing) - per host, the C({domain, selector}) it may sign with.
  returned: when O(gate=signing)
  type: dict
  sample: {"mx1.example.com": [{"domain": "example.com", "selector": "s202611"}]}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mailauth.hardening.plugins.module_utils._gates import gates as _gates
from ansible_collections.mailauth.hardening.plugins.module_utils._reports.dmarc_evidence import (
    EVIDENCE_OPTIONS, checked_params, params_evidence)
from ansible_collections.mailauth.hardening.plugins.module_utils._gates.dmarc_stage import StageMoves
from ansible_collections.mailauth.hardening.plugins.module_utils._dns.errors import ProviderError
from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError
from ansible_collections.mailauth.hardening.plugins.module_utils._gates.inputs import (
    audited_domains, check_findings, check_gate_input)
from ansible_collections.mailauth.hardening.plugins.module_utils._dns.resolver import HAS_DNSPYTHON
from ansible_collections.mailauth.hardening.plugins.module_utils._dns.servers import discovery_servers
from ansible_collections.mailauth.hardening.plugins.module_utils._dns.views import Views
from ansible_collections.mailauth.hardening.plugins.module_utils._core.module_run import fail_json_on, require_library


def decide(module, gate, trips, result, soft=False):
    """Fail with every reason, or warn and go ahead (override, or a soft gate in check mode)."""
    result.update(passed=not trips, tripped=[trip.as_dict() for trip in trips],
                  overridden=bool(trips) and module.params["override"])
    if not trips:
        return
    if module.params["override"]:
        module.warn(_gates.closed_message(gate, trips, proceeding=True))
    elif soft:
        module.warn("check mode, nothing published yet: " + _gates.closed_message(gate, trips))
    else:
        module.fail_json(msg=_gates.closed_message(gate, trips), **result)


def stage_moves(module, domains, evidence_input):
    """The evidence of the hold step, or None without reports."""
    if evidence_input is None:
        return None
    params = module.params
    entries = params_evidence(params, [plan["name"] for plan in domains], *evidence_input)
    return StageMoves(entries, params["dmarc_rollback_above"], apply_rollback=not params["override"])


def gate_views(nameservers, resolvers, port, timeout):
    """``views_for(plan)`` for the gates: without ``resolvers``, a domain's servers are found through the
    resolver its own DNS settings name (its nameservers, else its RFC 2136 primary), else the system's."""
    views = Views(nameservers, resolvers, port, timeout)
    return lambda plan: views(plan["name"], resolvers or discovery_servers(plan.get("dns") or {}, "dns."))


def run_gate(module, views_for, evidence_input=None):
    params, result = module.params, {"changed": False}
    gate, domains = params["gate"], params["domains"]
    if gate == "spf":
        checked, trips = _gates.spf_gate(domains, views_for)
        result["checked"] = checked
        decide(module, gate, trips, result)
    elif gate == "dmarc" and params["step"] == "hold":
        moves = stage_moves(module, domains, evidence_input)
        plans, pending, published = _gates.dmarc_hold(domains, views_for, moves)
        result.update(domains=plans, pending=pending, published=published)
        if moves is not None:
            result.update(rollbacks=moves.rollbacks, evidence=list(moves.entries.values()))
            for rollback in moves.rollbacks:
                module.warn(rollback["reason"] if rollback["applied"] else "mailauth_gate_override_dmarc is true, so it "
                            "does not: " + rollback["reason"])
        decide(module, gate, [], result)
    elif gate == "dmarc":
        check_findings(params["findings"])
        allowed, trips = _gates.dmarc_raise(domains, params["findings"], audited_domains(params["summary"]))
        if trips and params["override"]:
            allowed = [_gates.raise_entry(entry) for entry in domains]
        result["domains"] = allowed
        decide(module, gate, trips, result, soft=module.check_mode)
    else:
        selectors, trips = _gates.signing_gate(domains, views_for)
        # In check mode the keys are not published yet; a real run publishes and waits before this
        # gate, so the preview (and a drift check) signs with what the real run would sign with.
        if trips and (params["override"] or module.check_mode):
            selectors = _gates.all_selectors(domains)
        result["selectors"] = selectors
        decide(module, gate, trips, result, soft=module.check_mode)
    return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            gate=dict(type="str", required=True, choices=list(_gates.GATES)),
            step=dict(type="str", default="hold", choices=["hold", "raise"]),
            domains=dict(type="list", elements="dict", required=True),
            findings=dict(type="list", elements="dict", default=[]),
            summary=dict(type="dict"),
            override=dict(type="bool", default=False),
            nameservers=dict(type="list", elements="str"),
            resolvers=dict(type="list", elements="str"),
            nameserver_port=dict(type="int", default=53),
            timeout=dict(type="float", default=5.0),
            dmarc_rollback_above=dict(type="float", default=2.0),
            **EVIDENCE_OPTIONS
        ),
        supports_check_mode=True,
    )
    require_library(module, HAS_DNSPYTHON, "dnspython")
    params = module.params
    with fail_json_on(module, ProviderError, _gates.GateDnsError):
        check_gate_input(params["gate"], params["step"], params["domains"])
        evidence_input = checked_params(params) if params["dmarc_reports"] is not None else None
        if not 0 <= params["dmarc_rollback_above"] <= 100:
            raise InputError("dmarc_rollback_above", "%s is no percentage." % params["dmarc_rollback_above"],
                             "give 0 to 100 (default 2).")
        views_for = gate_views(params["nameservers"], params["resolvers"], params["nameserver_port"], params["timeout"])
        result = run_gate(module, views_for, evidence_input)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
