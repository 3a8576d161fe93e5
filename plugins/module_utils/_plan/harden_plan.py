# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One plan per domain from what every host of a play holds: the input of the harden gates.

Pure. Each host lists its domains (the inventory model), the DKIM keys it made (dkim_key or
plesk_domain_dkim results) and its sending addresses. A domain several hosts send for is
published once, with every host's DKIM records and every host's addresses; so the hosts must
agree on its definition, and no two hosts may hold different keys under one selector (only one
of them could be published, and the other host's signatures would fail).

A Postfix host also says which of its keys it signs with in its rotation phase
(``dkim_signing``, the dkim_rotation module's signing_selectors): only those are published and
signed with, so a new key waits for its rotation and a retired one is never brought back.
"""

from __future__ import annotations

import ipaddress

from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError, kind_of
from ansible_collections.mailauth.hardening.plugins.module_utils._records.lookup import is_hostname, normalise_name

PATHS = ("postfix", "plesk")
# Secrets belong in mailauth_dns_secrets; the publishing roles never read them from a domain.
SECRET_DNS_KEYS = ("key_secret", "provider_options")
# A domain's keys that are not part of its shared definition: each host may list its own selectors.
PER_HOST_KEYS = ("dkim",)


def _ips(values, field):
    if values is None:
        return []
    if not isinstance(values, (list, tuple)):
        raise InputError(field, "must be a list of IP addresses.", "write e.g. [203.0.113.10, '2001:db8::10'].")
    found = []
    for index, value in enumerate(values):
        try:
            address = ipaddress.ip_address(str(value).strip())
        except ValueError:
            raise InputError("%s[%d]" % (field, index), "%r is not an IP address." % (value,),
                             "give the host's outbound IPv4 or IPv6 address.")
        text = str(address.ipv4_mapped or address) if address.version == 6 else str(address)
        if text not in found:
            found.append(text)
    return found


def _definition(domain, field):
    """The domain's shared settings (everything but its per-host DKIM selectors), checked."""
    if not isinstance(domain, dict):
        raise InputError(field, "must be a mapping with name and dns.", "see the README's inventory.")
    name = domain.get("name")
    if not is_hostname(name or ""):
        raise InputError(field + ".name", "%r is not a domain name." % (name,), "write e.g. example.com.")
    dns = domain.get("dns")
    if not isinstance(dns, dict) or not dns.get("provider"):
        raise InputError(field + ".dns", "%s has no dns.provider, so its records cannot be published." % name,
                         "set dns.provider (rfc2136, plesk or a dns-lexicon provider) and its options.")
    secrets = sorted(key for key in SECRET_DNS_KEYS if key in dns)
    if secrets:
        raise InputError(field + ".dns." + secrets[0], "secrets do not go into mailauth_domains (they would "
                         "ride along in loop items and results).",
                         "move it to mailauth_dns_secrets and name that set with dns.credentials.")
    return dict((key, value) for key, value in domain.items() if key not in PER_HOST_KEYS)


def _first_difference(one, other):
    for key in sorted(set(one) | set(other)):
        if one.get(key) != other.get(key):
            return key
    return None


def _key_entry(result, field):
    """{domain, selector, dns_name, record, public_key} of one key result, or None without a record."""
    if not isinstance(result, dict) or not result.get("record"):
        return None  # no key yet (check mode before the key exists)
    domain = result.get("domain")
    selector = result.get("selector")
    if not domain or not selector:
        raise InputError(field, "a DKIM key result without domain and selector.",
                         "pass the results of dkim_key or plesk_domain_dkim as they are.")
    dns_name = result.get("dns_name") or "%s._domainkey.%s" % (selector, domain)
    return {"domain": normalise_name(domain), "selector": selector, "dns_name": normalise_name(dns_name),
            "record": result["record"], "public_key": result.get("public_key") or result["record"]}


def _signing_names(selectors, field):
    """``dkim_signing`` as a set of lower-case DNS names; None when the host gives none (every key signs)."""
    if selectors is None:
        return None
    if not isinstance(selectors, (list, tuple)) or not all(
            isinstance(s, dict) and s.get("domain") and s.get("selector") for s in selectors):
        raise InputError(field, "must be a list of {domain, selector}.",
                         "pass the dkim_rotation module's signing_selectors as they are.")
    return set(normalise_name("%s._domainkey.%s" % (s["selector"], s["domain"])) for s in selectors)


def harden_plan(hosts, field="hosts"):
    """``[{host, path, domains, dkim_keys, sending_ips[, dkim_signing]}]`` -> one plan per domain, in first-seen order.

    A plan is the domain's definition (``name``, ``dns``, ``spf``, ``dmarc``,
    ``report_authorizations``, ... without ``dkim``) plus ``hosts``, ``paths``, ``sending_ips``
    (the domain's own list when it has one, else every host's addresses), ``publish`` (false when a
    Plesk host serves the domain's DNS itself, so the controller leaves SPF and DMARC to Plesk)
    and ``dkim_records`` (``{domain, selector, dns_name, record, public_key, hosts, path}``).
    """
    if not isinstance(hosts, (list, tuple)):
        raise InputError(field, "must be a list of hosts, not %s." % kind_of(hosts),
                         "pass one {host, path, domains, dkim_keys, sending_ips} per host, as the mail_auth role does.")
    plans, by_name, keys = [], {}, {}
    for host_index, host in enumerate(hosts):
        host_field = "%s[%d]" % (field, host_index)
        if not isinstance(host, dict) or not host.get("host"):
            raise InputError(host_field, "must be a mapping with host, path, domains, dkim_keys, sending_ips.",
                             "pass one such mapping per host, as the mail_auth role does.")
        name, path = host["host"], host.get("path")
        if path not in PATHS:
            raise InputError(host_field + ".path", "%r is not postfix or plesk (host %s)." % (path, name),
                             "give path: postfix or path: plesk (the mail_auth role picks it per host).")
        ips = _ips(host.get("sending_ips"), "mailauth_sending_ips of %s" % name)
        domains = host.get("domains") or []
        if not isinstance(domains, (list, tuple)):
            raise InputError("mailauth_domains of %s" % name, "must be a list of domains.",
                             "write a YAML list of {name, dns, ...} (see the README's inventory).")
        for index, domain in enumerate(domains):
            domain_field = "mailauth_domains[%d] of %s" % (index, name)
            definition = _definition(domain, domain_field)
            key = normalise_name(definition["name"])
            plan = by_name.get(key)
            if plan is None:
                plan = {"definition": definition, "defined_by": name, "hosts": [], "paths": [], "host_ips": []}
                by_name[key] = plan
                plans.append(plan)
            else:
                differs = _first_difference(plan["definition"], definition)
                if differs:
                    raise InputError(domain_field + "." + differs,
                                     "%s is defined differently on %s and %s; it is published once for both."
                                     % (definition["name"], plan["defined_by"], name),
                                     "give both hosts the same definition (group_vars); only dkim selectors "
                                     "may differ per host.")
            if name not in plan["hosts"]:
                plan["hosts"].append(name)
            if path not in plan["paths"]:
                plan["paths"].append(path)
            plan["host_ips"].extend(ip for ip in ips if ip not in plan["host_ips"])
        signing = _signing_names(host.get("dkim_signing"), host_field + ".dkim_signing")
        for index, result in enumerate(host.get("dkim_keys") or []):
            entry = _key_entry(result, "%s.dkim_keys[%d]" % (host_field, index))
            if entry is None or entry["domain"] not in by_name:
                continue
            if signing is not None and entry["dns_name"] not in signing:
                continue  # held for a rotation that has not switched to it yet
            known = keys.get(entry["dns_name"])
            if known is None:
                entry.update(hosts=[name], path=path)
                keys[entry["dns_name"]] = entry
            elif known["record"] != entry["record"]:
                raise InputError("mailauth_domains of %s" % name,
                                 "%s and %s hold different keys for %s; only one can be published, and mail "
                                 "the other signs would fail DKIM." % (known["hosts"][0], name, entry["dns_name"]),
                                 "keep the key of %s: delete %s's key file for %s and run again, and harden copies "
                                 "it there (or give each host its own selector in host_vars)."
                                 % (known["hosts"][0], name, entry["dns_name"]))
            elif name not in known["hosts"]:
                known["hosts"].append(name)
    return [_finish(plan, keys) for plan in plans]


def _finish(plan, keys):
    definition = plan["definition"]
    name = normalise_name(definition["name"])
    out = dict(definition)
    if "sending_ips" in definition:
        out["sending_ips"] = _ips(definition["sending_ips"], "sending_ips of %s" % definition["name"])
    else:
        out["sending_ips"] = list(plan["host_ips"])
    out["hosts"] = list(plan["hosts"])
    out["paths"] = list(plan["paths"])
    out["publish"] = not ("plesk" in plan["paths"] and definition["dns"].get("provider") == "plesk")
    records = []
    for entry in keys.values():
        if entry["domain"] == name:
            # The name as the inventory writes it: the dns_records role matches records to domains by it.
            records.append(dict(entry, domain=definition["name"]))
    out["dkim_records"] = records
    return out
