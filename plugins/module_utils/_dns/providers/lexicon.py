# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hosted DNS APIs through dns-lexicon 3.x (PowerDNS, Cloudflare, Route 53, ...).

Lexicon's traps and what this file does about them (/work/shared/lab.md):

- zone lookup: without ``resolve_zone_name`` lexicon asks tldextract, which downloads
  the Public Suffix List; with it lexicon asks dnspython's default resolver. We set
  it and point that resolver at ``nameservers`` while the client is built.
- ``create_record`` at a name that has TXT values *appends*: we create only values
  that are missing and delete the ones we replace ourselves.
- ``update_record``/``delete_record`` need the record id: we keep the ids we listed.
- TXT text differs per API (see Dialect): PowerDNS wants presentation format and
  lexicon does not escape ``"``; Route 53 gets each string quoted by lexicon.
- some providers log an API error and return False: after applying we list the
  names again and report what is really there.
APIs are not atomic: ``ProviderError.applied`` lists what took effect before a failure.
"""

from __future__ import annotations

from contextlib import contextmanager

from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError, MissingLibrary
from ansible_collections.mailauth.hardening.plugins.module_utils._dns.errors import NameConflict, ProviderError
from ansible_collections.mailauth.hardening.plugins.module_utils._dns.providers.base import Provider
from ansible_collections.mailauth.hardening.plugins.module_utils._dns.resolver import resolver_for
from ansible_collections.mailauth.hardening.plugins.module_utils._records.rdata import normalise_rdata
from ansible_collections.mailauth.hardening.plugins.module_utils._records.txt import normalise_txt, parse_txt, join_txt, quote_txt
from ansible_collections.mailauth.hardening.plugins.module_utils._records.txt_changes import owned_tag

try:
    from lexicon.client import Client
    from lexicon.config import ConfigResolver
    HAS_LEXICON = True
except ImportError:
    HAS_LEXICON = False

DEFAULT_TTL = 3600


class Dialect(object):
    """How a provider's lexicon module wants TXT content; the default suits APIs that
    take the plain value and split it themselves (Cloudflare, DigitalOcean, Hetzner, ...).

    Other types: lexicon's one ``content`` has no place for an MX preference or the TLSA fields
    on most APIs (they take them as separate fields lexicon does not set), so the default dialect
    writes only A, AAAA and CNAME besides TXT; PowerDNS takes every type's presentation format.
    """

    update_in_place = True
    types = ("TXT", "CNAME", "A", "AAAA")
    cname_inside_zone = False

    def encode(self, value):
        return value

    def decode(self, row):
        content = row.get("content") or ""
        return normalise_txt(content) if content.startswith('"') else content

    def decode_rdata(self, rtype, row):
        """A non-TXT row's value as ``_records.rdata`` writes it."""
        return normalise_rdata(rtype, self.target(row) if rtype == "CNAME" else (row.get("content") or ""))

    def delete(self, ops, name, row, rtype="TXT"):
        ops.delete_record(identifier=row["id"], rtype=rtype, name=name)

    def target(self, row):
        """A CNAME row's target, absolute."""
        target = row.get("content") or "?"
        return target if target.endswith(".") else target + "."


class PowerDnsDialect(Dialect):
    """PowerDNS stores TXT in presentation format: we send quoted, escaped, split strings.

    lexicon's record id is 'TXT/NAME=CONTENT' with the stored content, but it parses the
    id by splitting at '/', so deleting or updating by id silently does nothing when the
    value holds a '/' (every DKIM key, SPF ip4:a/24). We delete by exact content instead.
    """

    update_in_place = False
    types = ("TXT", "TLSA", "CNAME", "MX", "A", "AAAA")
    # lexicon's powerdns module appends the zone to every CNAME target that does not end with it.
    cname_inside_zone = True

    def encode(self, value):
        return quote_txt(value)

    def stored(self, row):
        return row["id"].split("/", 1)[1].split("=", 1)[1]

    def decode(self, row):
        return join_txt(parse_txt(self.stored(row)))

    def decode_rdata(self, rtype, row):
        # PowerDNS keeps every type in presentation format ("10 mx.example.com.", "3 1 1 ab..").
        return normalise_rdata(rtype, self.stored(row))

    def delete(self, ops, name, row, rtype="TXT"):
        ops.delete_record(rtype=rtype, name=name, content=self.stored(row))

    def target(self, row):
        # lexicon appends the zone to a target outside it; the id keeps what PowerDNS stores.
        return self.stored(row)


class Route53Dialect(Dialect):
    """lexicon wraps Route 53 TXT content in one pair of quotes and strips it on reading."""

    def encode(self, value):
        return quote_txt(value)[1:-1]

    def decode(self, row):
        return join_txt(parse_txt('"%s"' % (row.get("content") or "")))


DIALECTS = {"powerdns": PowerDnsDialect(), "route53": Route53Dialect()}


@contextmanager
def default_resolver(resolver):
    """Let lexicon's zone check ask ``resolver`` instead of the system resolver."""
    import dns.resolver
    saved = dns.resolver.default_resolver
    dns.resolver.default_resolver = resolver
    try:
        yield
    finally:
        dns.resolver.default_resolver = saved


def scrub(text, secrets):
    """Remove secret values from text that a library put in an error (URLs with tokens)."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "********")
    return text


def describe_api_failure(exc, unreachable_fix=None):
    """The API's answer (status, URL without its query, body) and what to check in which option."""
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    if status is not None:
        url = (getattr(response, "url", "") or "").split("?", 1)[0]
        body = (getattr(response, "text", "") or "").strip().replace("\n", " ")[:300]
        if status in (401, 403):
            fix = "check the credentials in provider_options (the API token or key, and its rights on the zone)."
        elif status == 404:
            fix = "check zone (does the provider serve it?) and the API URL in provider_options."
        else:
            fix = "see the API's answer above."
        return "HTTP %s from %s: %s. Fix: %s" % (status, url, (body or getattr(response, "reason", "")).rstrip("."), fix)
    return "%s: %s. Fix: %s" % (type(exc).__name__, str(exc).rstrip("."), unreachable_fix or
                                "check the API address in provider_options and that this machine reaches it.")


class LexiconProvider(Provider):
    """A hosted DNS API through dns-lexicon; ``params['provider']`` is lexicon's provider name."""

    @classmethod
    def types_for(cls, params):
        return DIALECTS.get(params.get("provider"), Dialect()).types

    def __init__(self, params, zone, adapter=None):
        super().__init__(params, zone, adapter)
        if not HAS_LEXICON:
            raise MissingLibrary("dns-lexicon")
        self.name = params["provider"]
        self.dialect = DIALECTS.get(self.name, Dialect())
        options = dict(params.get("provider_options") or {})
        self.secrets = [str(v) for v in options.values() if isinstance(v, (str, int)) and not isinstance(v, bool)]
        # One dict the client keeps a reference to: "ttl" is set before each create.
        self.config = {"provider_name": self.name, "domain": zone.rstrip("."), "resolve_zone_name": True,
                       self.name: options}
        resolver = resolver_for(params.get("nameservers"), params.get("timeout") or 10)
        try:
            with default_resolver(resolver):
                self.client = Client(ConfigResolver().with_dict(self.config))
        except Exception as exc:  # noqa: BLE001 - lexicon raises many types; reported by name
            raise ProviderError(self._message("setting up provider %s for zone %s" % (self.name, zone), exc,
                                              "check zone (lexicon looks it up through nameservers, which must "
                                              "answer for it) and provider_options."))
        self._ops = None
        self._rows = {}
        self._doing = None  # the value a failing API call was about, and its type
        self._doing_type = "TXT"

    def _message(self, what, exc, unreachable_fix=None):
        return scrub("dns-lexicon %s, %s: %s" % (self.name, what, describe_api_failure(exc, unreachable_fix)),
                     self.secrets)

    def _operations(self):
        if self._ops is None:
            try:
                self._ops = self.client.__enter__()
            except Exception as exc:  # noqa: BLE001
                raise ProviderError(self._message("authenticating for zone %s" % self.zone, exc))
        return self._ops

    def close(self):
        if self._ops is not None:
            self._ops = None
            self.client.__exit__(None, None, None)

    def _list(self, name, rtype="TXT"):
        rows = self._operations().list_records(rtype, name)
        out = []
        for row in rows:
            row_name = (row.get("name") or "").rstrip(".").lower()
            if not (row_name + ".").endswith(self.zone):
                row_name = "%s.%s" % (row_name, self.zone.rstrip(".")) if row_name else self.zone.rstrip(".")
            if row_name + "." == name and (rtype is None or row.get("type", rtype) == rtype):
                out.append((self._decode(rtype, row), row))
        return out

    def _decode(self, rtype, row):
        if rtype is None:
            return None
        return self.dialect.decode(row) if rtype == "TXT" else self.dialect.decode_rdata(rtype, row)

    def read_rrset(self, name, rtype):
        try:
            self._rows[(name, rtype)] = self._list(name, rtype)
            cnames = self._list(name, "CNAME") if rtype != "CNAME" else []
        except ProviderError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise ProviderError(self._message("listing %s at %s" % (rtype, name), exc))
        if cnames:
            raise NameConflict(name, "cname", self.dialect.target(cnames[0][1]))
        return [value for value, _row in self._rows[(name, rtype)]]

    def check_wanted(self, item):
        if item.rtype == "CNAME" and self.dialect.cname_inside_zone and not (
                "." + item.value).endswith("." + self.zone):
            raise InputError(item.field + ".value", "dns-lexicon's %s provider writes a CNAME target outside the zone "
                             "%s with the zone appended (%s%s), so it cannot publish %s." % (
                                 self.name, self.zone, item.value, self.zone.rstrip("."), item.value),
                             "publish this CNAME with provider rfc2136 (PowerDNS takes RFC 2136 updates with "
                             "dnsupdate=yes and a TSIG key) or at the provider's console, or give a target inside %s."
                             % self.zone)

    def types_at(self, name):
        try:
            rows = self._list(name, None)
        except ProviderError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise ProviderError(self._message("listing the records at %s" % name, exc))
        return set((row.get("type") or "").upper() for _value, row in rows) - set(self.SERVER_TYPES)

    def apply_rrsets(self, changes):
        ops = self._operations()
        calls = []
        failure = None
        self._doing = None
        try:
            for key, change in changes.items():
                self._apply_rrset(ops, key, change, calls)
        except Exception as exc:  # noqa: BLE001
            failure = exc
        applied, verified = self._observe(changes, calls)
        if failure is not None:
            raise ProviderError(self._message("changing %s records (at %r)" % (self._doing_type, self._doing), failure)
                                + " Applied before the failure: %s." % _summary(applied), applied, value=self._doing)
        if not verified:
            raise ProviderError("dns-lexicon %s reported success but could not be checked afterwards." % self.name, applied)
        missing = [c for c in calls if c not in applied]
        if missing:
            raise ProviderError("dns-lexicon %s reported success, but these changes are not there: %s. Applied: %s."
                                % (self.name, _summary(missing), _summary(applied)), applied)
        return applied

    def _apply_rrset(self, ops, key, change, calls):
        name, rtype = key
        self._doing_type = rtype
        ttl = change.get("ttl")
        self.config["ttl"] = ttl if ttl is not None else _current_ttl(self._rows[key])
        old = [(value, row) for value, row in self._rows[key] if value in change["remove"]]
        txt = rtype == "TXT"
        for value in change["add"]:
            self._doing = value
            tag = owned_tag(value) if txt else None
            pair = next((p for p in old if tag and owned_tag(p[0]) == tag), None) if self.dialect.update_in_place else None
            content = self.dialect.encode(value) if txt else value
            if pair:
                old.remove(pair)
                ops.update_record(pair[1]["id"], rtype, name, content)
                calls.extend([{"name": name, "type": rtype, "action": "remove", "value": pair[0]},
                              {"name": name, "type": rtype, "action": "add", "value": value}])
            else:
                ops.create_record(rtype, name, content)
                calls.append({"name": name, "type": rtype, "action": "add", "value": value})
        for value, row in old:
            self._doing = value
            self.dialect.delete(ops, name, row, rtype)
            entry = {"name": name, "type": rtype, "action": "remove", "value": value}
            if entry not in calls:
                calls.append(entry)

    def _observe(self, changes, calls):
        """What really took effect, from a fresh listing; falls back to the calls made."""
        applied = []
        try:
            for (name, rtype), change in changes.items():
                now = [value for value, _row in self._list(name, rtype)]
                applied += [{"name": name, "type": rtype, "action": "remove", "value": v}
                            for v in change["remove"] if v not in now]
                applied += [{"name": name, "type": rtype, "action": "add", "value": v}
                            for v in change["add"] if v in now]
        except Exception:  # noqa: BLE001 - the API is failing; report the calls that returned
            return calls, False
        return applied, True


def _current_ttl(pairs):
    ttls = [row.get("ttl") for _value, row in pairs if row.get("ttl")]
    return ttls[0] if ttls else DEFAULT_TTL


def _summary(entries):
    if not entries:
        return "nothing"
    return "; ".join("%s %s %r" % (e["action"], e["name"], e["value"]) for e in entries)
