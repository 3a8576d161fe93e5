# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the receivers saw, per domain: the evidence a DMARC policy move rests on.

From the aggregate reports of the last ``days``: the volume, the aligned share, and each sending
source - its address, its reverse name (asked through the resolver seam of ``_records.lookup`` and
forward-confirmed, since anyone can publish any PTR for their own addresses), whether it is one of
the inventory's hosts or a source the user listed as legitimate (a newsletter service), and for
what fails, the fix: publish the address in SPF, sign with DKIM there, or nothing (abuse, which
quarantine and reject are for). ``ready`` says whether the legitimate mail would survive the next
stage; ``blockers`` say which source stops it. A legitimate source blocks while it fails in its
latest reports; once fixed, its earlier failures still count against the aligned share.
"""

from __future__ import annotations

import datetime
import ipaddress

from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError
from ansible_collections.mailauth.hardening.plugins.module_utils._dns.resolver import dns_lookup
from ansible_collections.mailauth.hardening.plugins.module_utils._records.lookup import LookupFailure, normalise_name

FORWARDING = ("forwarded", "mailing_list", "trusted_forwarder")
MAX_SOURCES = 50  # per domain, by volume; the rest is summed up as "other sources"


def _networks(values, field):
    networks = []
    for index, value in enumerate(values or []):
        try:
            networks.append(ipaddress.ip_network(str(value).strip(), strict=False))
        except ValueError:
            raise InputError("%s[%d]" % (field, index), "%r is no IP address or network." % (value,),
                             "give addresses or CIDR networks, e.g. 192.0.2.10 or 198.51.100.0/24.")
    return networks


def legitimate_sources(entries, field="dmarc_legitimate_sources"):
    """Validate ``[{name, addresses: [IP or CIDR], reverse_names: [domain suffix]}]``."""
    sources = []
    for index, entry in enumerate(entries or []):
        where = "%s[%d]" % (field, index)
        if not isinstance(entry, dict) or not entry.get("name"):
            raise InputError(where, "each legitimate source needs a name.",
                             "write it as {name: Newsletter service, addresses: [198.51.100.0/24], reverse_names: [mailer.example.net]}.")
        suffixes = [normalise_name(str(s)).lstrip("*.") for s in entry.get("reverse_names") or []]
        networks = _networks(entry.get("addresses"), where + ".addresses")
        if not networks and not suffixes:
            raise InputError(where, "%s has neither addresses nor reverse_names." % entry["name"],
                             "list its sending networks in addresses or its host names' domain in reverse_names.")
        sources.append({"name": str(entry["name"]), "networks": networks, "reverse_names": suffixes})
    return sources


def host_addresses(hosts, field="dmarc_hosts"):
    """``{inventory host: [addresses]}`` as ``{ip_address: host}``."""
    owners = {}
    for host, addresses in sorted((hosts or {}).items()):
        for network in _networks(addresses, "%s.%s" % (field, host)):
            owners[network.network_address] = host
    return owners


def reverse_name(lookup, address):
    """The forward-confirmed reverse name of an address, or None (none, unconfirmed, or DNS failed)."""
    try:
        names = lookup(ipaddress.ip_address(address).reverse_pointer, "PTR")
        for name in names:
            name = normalise_name(name)
            forward = lookup(name, "AAAA" if ":" in address else "A")
            if any(ipaddress.ip_address(a) == ipaddress.ip_address(address) for a in forward):
                return name
    except (LookupFailure, ValueError):
        return None
    return None


def _within(report, since):
    return report["end"] >= since


def _percent(part, whole):
    return round(100.0 * part / whole, 2) if whole else None


class _Source(object):
    def __init__(self, address):
        self.address = address
        self.messages = self.aligned = self.spf_aligned = self.dkim_aligned = 0
        self.failing = []  # the records that failed DMARC
        self.by_policy = {}  # the p= receivers saw -> [messages, failed]
        self.last_end, self.last_failed = "", 0  # its latest reported period, and what failed in it

    def add(self, record, policy, end):
        count = record["count"]
        failed = record["spf"] != "pass" and record["dkim"] != "pass"
        if end > self.last_end:
            self.last_end, self.last_failed = end, 0
        if end == self.last_end and failed:
            self.last_failed += count
        counts = self.by_policy.setdefault(policy, [0, 0])
        counts[0] += count
        counts[1] += count if failed else 0
        self.messages += count
        self.spf_aligned += count if record["spf"] == "pass" else 0
        self.dkim_aligned += count if record["dkim"] == "pass" else 0
        if failed:
            self.failing.append(record)
        else:
            self.aligned += count

    @property
    def failed(self):
        return self.messages - self.aligned


def _fixes(domain, source, kind):
    """What to do about a source's failing mail."""
    failing = source.failing
    if kind == "unknown":
        if all(any(r.get("type") in FORWARDING for r in rec["reasons"]) for rec in failing):
            return "forwarded", ["Forwarded mail (the receiver says so): SPF cannot pass after forwarding; it "
                                 "aligns where the DKIM signature survives. Nothing to publish."]
        return "abuse", ["Not one of the inventory's hosts nor a listed legitimate source: abuse, which "
                         "p=quarantine and p=reject stop. If it is yours (a newsletter or ticket service), list it "
                         "in mailauth_dmarc_legitimate_sources and fix SPF or DKIM there."]
    fixes = []
    signers = sorted(set(d["domain"] for rec in failing for d in rec["auth_results"]["dkim"] if d["result"] == "pass"))
    if signers:
        fixes.append("Sign with DKIM as %s there: it signs only as %s, which does not align." % (domain, ", ".join(signers)))
    else:
        fixes.append("Sign with DKIM (d=%s) there: the receivers saw no valid signature of the domain." % domain)
    spf_passes = sorted(set(s["domain"] for rec in failing for s in rec["auth_results"]["spf"] if s["result"] == "pass"))
    if spf_passes:
        fixes.append("SPF passes only for %s (the envelope sender), which does not align with %s: use a return path "
                     "under %s, or rely on DKIM." % (", ".join(spf_passes), domain, domain))
    else:
        mechanism = "ip6" if ":" in source.address else "ip4"
        fixes.append("Add %s:%s (or the service's include) to the SPF record of %s." % (mechanism, source.address, domain))
    return "fix", fixes


def _kind(address, name, owners, listed):
    ip = ipaddress.ip_address(address)
    if ip in owners:
        return "host", owners[ip]
    for source in listed:
        if any(ip in network for network in source["networks"]):
            return "listed", source["name"]
        if name and any(name == s or name.endswith("." + s) for s in source["reverse_names"]):
            return "listed", source["name"]
    return "unknown", None


def domain_evidence(domain, reports, owners, listed, lookup, since, thresholds):
    """The evidence for one domain from the reports about it (already cut to the window)."""
    own = [r for r in reports if r["domain"] == domain and _within(r, since)]
    sources = {}
    for report in own:
        for record in report["records"]:
            sources.setdefault(record["source_ip"], _Source(record["source_ip"])).add(
                record, report["policy_published"]["p"] or "none", report["end"])
    entries, legitimate, legitimate_aligned, blockers, by_policy = [], 0, 0, [], {}
    ordered = sorted(sources.values(), key=lambda s: (-s.failed, -s.messages, s.address))
    for index, source in enumerate(ordered):
        name = reverse_name(lookup, source.address) if index < MAX_SOURCES else None  # DNS for those shown only
        kind, known_as = _kind(source.address, name, owners, listed)
        verdict, fixes = _fixes(domain, source, kind) if source.failing else ("ok", [])
        if verdict == "fix" and not source.last_failed:
            verdict, fixes = "fixed", ["It failed earlier in the period but aligns in its latest reports (%s)." % source.last_end]
        if kind != "unknown":
            legitimate += source.messages
            legitimate_aligned += source.aligned
            for policy, (count, failed) in source.by_policy.items():
                seen = by_policy.setdefault(policy, {"legitimate_messages": 0, "legitimate_failed": 0})
                seen["legitimate_messages"] += count
                seen["legitimate_failed"] += failed
            if source.last_failed:  # a source fixed since counts through the aligned share only
                blockers.append("%s (%s%s) sends %d of %d messages failing DMARC." % (
                    source.address, kind == "host" and "inventory host " or "", known_as, source.failed, source.messages))
        entries.append({"address": source.address, "reverse_name": name, "kind": kind, "known_as": known_as,
                        "messages": source.messages, "aligned": source.aligned, "spf_aligned": source.spf_aligned,
                        "dkim_aligned": source.dkim_aligned, "failed": source.failed, "verdict": verdict, "fixes": fixes})
    messages = sum(s.messages for s in sources.values())
    aligned = sum(s.aligned for s in sources.values())
    share = _percent(legitimate_aligned, legitimate)
    if not own:
        blockers.append("No aggregate report about %s ends in the last %d days." % (domain, thresholds["days"]))
    elif legitimate < thresholds["min_messages"]:
        blockers.append("Only %d legitimate messages reported in the last %d days; at least %d are needed."
                        % (legitimate, thresholds["days"], thresholds["min_messages"]))
    if legitimate and share < thresholds["min_aligned"]:
        blockers.append("{0:.2f} % of legitimate mail is aligned; at least {1} % is needed.".format(share, thresholds["min_aligned"]))
    return {
        "domain": domain,
        "reports": len(own),
        "reporters": sorted(set(r["org_name"] for r in own)),
        "begin": min([r["begin"] for r in own] or [None]),
        "end": max([r["end"] for r in own] or [None]),
        "published": own and max(own, key=lambda r: r["end"])["policy_published"]["p"] or None,
        "messages": messages,
        "aligned": aligned,
        "aligned_share": _percent(aligned, messages),
        "legitimate_messages": legitimate,
        "legitimate_aligned": legitimate_aligned,
        "legitimate_aligned_share": share,
        "by_policy": by_policy,
        "sources": entries[:MAX_SOURCES],
        "other_sources": {"count": max(0, len(entries) - MAX_SOURCES),
                          "messages": sum(e["messages"] for e in entries[MAX_SOURCES:])},
        "ready": not blockers,
        "blockers": blockers,
    }


THRESHOLDS = {"days": 14, "min_messages": 100, "min_aligned": 99.0}
# The modules that take the evidence's inputs (mail_audit, mail_gate) declare them so; the doc
# fragment mailauth.hardening.dmarc_evidence documents them.
EVIDENCE_OPTIONS = dict(
    dmarc_reports=dict(type="list", elements="dict"),
    dmarc_hosts=dict(type="dict", default={}),
    dmarc_legitimate_sources=dict(type="list", elements="dict", default=[]),
    dmarc_days=dict(type="int", default=14),
    dmarc_min_messages=dict(type="int", default=100),
    dmarc_min_aligned=dict(type="float", default=99.0),
)


def thresholds_from(days, min_messages, min_aligned):
    if days < 1:
        raise InputError("dmarc_days", "%d is no number of days." % days, "give 1 or more (default 14).")
    if min_messages < 0:
        raise InputError("dmarc_min_messages", "%d is negative." % min_messages, "give 0 or more (default 100).")
    if not 0 <= min_aligned <= 100:
        raise InputError("dmarc_min_aligned", "%s is no percentage." % min_aligned, "give 0 to 100 (default 99).")
    return {"days": days, "min_messages": min_messages, "min_aligned": min_aligned}


def checked_params(params):
    """The thresholds and legitimate sources of a module's parameters, checked before any DNS is asked."""
    thresholds = thresholds_from(params["dmarc_days"], params["dmarc_min_messages"], params["dmarc_min_aligned"])
    host_addresses(params["dmarc_hosts"])
    return thresholds, legitimate_sources(params["dmarc_legitimate_sources"])


def params_evidence(params, domains, thresholds, listed):
    """Evidence for ``domains`` from a module's parameters; reverse names through its resolvers."""
    lookup = dns_lookup(params["resolvers"] or params["nameservers"] or None, port=params["nameserver_port"],
                        timeout=params["timeout"])
    return evidence(domains, params["dmarc_reports"], params["dmarc_hosts"], listed, lookup, thresholds)


def evidence(domains, reports, hosts, listed, lookup, thresholds=None, now=None):
    """Evidence for each domain, from the reports whose period ends in the last ``thresholds['days']`` days."""
    thresholds = thresholds or THRESHOLDS
    now = now or datetime.datetime.now(datetime.timezone.utc)
    since = (now - datetime.timedelta(days=thresholds["days"])).strftime("%Y-%m-%dT%H:%M:%SZ")
    owners = host_addresses(hosts)
    return [domain_evidence(normalise_name(d), reports, owners, listed, lookup, since, thresholds) for d in domains]


def readiness_stats(entries):
    """The short form set_stats publishes for AWX: per domain the verdict and what fails."""
    return dict((e["domain"], {
        "ready": e["ready"], "messages": e["messages"], "aligned_share": e["aligned_share"],
        "legitimate_aligned_share": e["legitimate_aligned_share"], "blockers": e["blockers"],
        "failing": [{"address": s["address"], "reverse_name": s["reverse_name"], "kind": s["kind"],
                     "failed": s["failed"], "verdict": s["verdict"], "fix": " ".join(s["fixes"])}
                    for s in e["sources"] if s["failed"]][:20],
    }) for e in entries)
