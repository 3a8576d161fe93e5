# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which dns_txt task publishes which records: one task per provider account. Pure, no I/O.

The roles (dns_records, plesk, dkim_rotation) gather the records each domain needs as changes
``{domain, records: [{name, value, ttl?}], state?}``; every domain's ``dns`` mapping in the inventory
says where they go. Domains with the same provider options (provider, server, port, protocol, TSIG
key name and algorithm, timeout, plesk_command, nameservers, wait servers) and the same credentials
entry are one account, published by one task: each record carries its ``domain`` (so dns_txt holds
it to that domain's own names), its ``zone`` and ``ttl`` when the domain's ``dns`` gives them.

Secrets never enter an account: it names its entry of ``mailauth_dns_secrets`` (``credentials``),
and only when that entry exists (``secret_names``); the task reads the entry by that name.
"""

from __future__ import annotations

from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError, kind_of

# A domain's dns options that are the task's (they make the account).
ACCOUNT_OPTIONS = ("provider", "server", "port", "protocol", "key_name", "key_algorithm", "timeout",
                   "plesk_command", "nameservers", "wait_servers", "wait_port")
# A domain's dns options that travel on each of its records.
RECORD_OPTIONS = ("zone", "ttl")
STATES = ("present", "absent")


def _key(value):
    """A hashable form of an option value (lists become tuples)."""
    return tuple(_key(v) for v in value) if isinstance(value, (list, tuple)) else value


def _folded(name):
    return name.strip().rstrip(".").lower() if isinstance(name, str) else name


def domain_dns(domains, field="mailauth_domains"):
    """{folded domain name: (name as given, dns mapping, field of the entry)}; refuses an entry without
    name, dns or dns.provider, naming it."""
    if not isinstance(domains, list):
        raise InputError(field, "must be a list of domains, got %s." % kind_of(domains),
                         "list each domain as {name: ..., dns: {provider: ...}}.")
    out = {}
    for index, domain in enumerate(domains):
        where = "%s[%d]" % (field, index)
        if not isinstance(domain, dict) or not isinstance(domain.get("name"), str) or not domain["name"].strip():
            raise InputError(where + ".name", "is missing.", "give every domain its name.")
        dns = domain.get("dns")
        if not isinstance(dns, dict) or not dns.get("provider"):
            raise InputError(where + ".dns.provider", "is missing for domain %s." % domain["name"],
                             "give the domain dns.provider (rfc2136, plesk or a dns-lexicon provider name) and its "
                             "options.")
        out.setdefault(_folded(domain["name"]), (domain["name"], dns, where))
    return out


def _account_of(name, dns, state, secret_names):
    credentials = dns.get("credentials", name)
    options = [(option, _key(dns[option])) for option in ACCOUNT_OPTIONS if dns.get(option) is not None]
    return tuple(options) + (("credentials", credentials if credentials in secret_names else None), ("state", state))


def _records_of(change, dns, where, name):
    records = change.get("records")
    if not isinstance(records, list):
        raise InputError(where + ".records", "must be a list of {name, value}, got %s." % kind_of(records),
                         "give the records of domain %s as a list." % name)
    out = []
    for record in records:
        entry = dict(record)
        entry["domain"] = name
        for option in RECORD_OPTIONS:
            if entry.get(option) is None and dns.get(option) is not None:
                entry[option] = dns[option]
        out.append(entry)
    return out


def dns_accounts(changes, domains, secret_names=(), field="changes"):
    """The dns_txt tasks for ``changes``: ``[{OPTION: value..., credentials?, state, domains, records}]``,
    one per account and state, in the order their first change comes; changes without records are left out.

    ``domains`` are the inventory's (``mailauth_domains``) and say each change's ``dns``; ``secret_names``
    the entry names of ``mailauth_dns_secrets``. A record keeps its own ``zone`` and ``ttl`` over its
    domain's.
    """
    if not isinstance(changes, list):
        raise InputError(field, "must be a list of {domain, records}, got %s." % kind_of(changes),
                         "give one entry per domain.")
    by_name = domain_dns(domains)
    secret_names = set(secret_names or ())
    accounts = {}
    for index, change in enumerate(changes):
        where = "%s[%d]" % (field, index)
        named = change.get("domain") if isinstance(change, dict) else change
        if not isinstance(change, dict) or _folded(named) not in by_name:
            raise InputError(where + ".domain", "%r is not one of mailauth_domains." % (named,),
                             "list the domain in mailauth_domains with its dns settings.")
        state = change.get("state") or "present"
        if state not in STATES:
            raise InputError(where + ".state", "must be present or absent, got %r." % (state,), "use one of them.")
        name, dns, _entry = by_name[_folded(change["domain"])]
        records = _records_of(change, dns, where, name)
        if not records:
            continue
        key = _account_of(name, dns, state, secret_names)
        if key not in accounts:
            account = dict((option, dns[option]) for option, _value in key if option in ACCOUNT_OPTIONS)
            if dict(key)["credentials"] is not None:
                account["credentials"] = dict(key)["credentials"]
            account.update(state=state, domains=[], records=[])
            accounts[key] = account
        if name not in accounts[key]["domains"]:
            accounts[key]["domains"].append(name)
        accounts[key]["records"] += records
    return list(accounts.values())
