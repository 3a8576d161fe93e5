# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plesk's own DNS through ``plesk bin dns`` (run on the Plesk host: delegate_to it).

Facts from /work/shared/plesk-cli.md: ``--info DOMAIN`` lists one record a line as
``<owner.> <TYPE> <value>`` with TXT unquoted and unsplit; ``--add``/``--del DOMAIN
-txt VALUE -domain LABEL`` take the label relative to the domain ("" for the apex);
``--add`` exits 2 when the record already exists. Plesk stores the value unsplit
and splits it when it writes the zone, so we pass the joined value.
Other types (the spellings the test double emulates, [guess] in its README): ``-a LABEL -ip
ADDRESS``, ``-aaaa LABEL -ip ADDRESS``, ``-cname LABEL -canonical TARGET``, ``-mx LABEL
-mailexchanger HOST -priority N``; ``--info`` prints MX as ``(PRIORITY) HOST``. Host names go
without their trailing dot, as the panel shows them. Plesk's CLI has no TLSA: refused before anything.
The CLI is not atomic: ProviderError.applied lists what took effect before a failure.
Commands go through the Plesk host adapter (``_hosts.plesk.PleskCli``: LC_ALL=C, plesk found on
PATH or in Plesk's own directories).
"""

from __future__ import annotations

from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError
from ansible_collections.mailauth.hardening.plugins.module_utils._dns.errors import NameConflict, ProviderError
from ansible_collections.mailauth.hardening.plugins.module_utils._dns.providers.base import Provider
from ansible_collections.mailauth.hardening.plugins.module_utils._records.rdata import normalise_rdata

ALREADY_EXISTS = 2


def parse_info(text):
    """[(owner absolute lower-case, TYPE, value)] from ``plesk bin dns --info`` output."""
    records = []
    for line in text.splitlines():
        parts = line.strip().split(None, 2)
        if len(parts) < 3 or not parts[0].endswith(".") or parts[0].startswith(("SUCCESS:", "ERROR:")):
            continue
        records.append((parts[0].lower(), parts[1].upper(), parts[2].strip()))
    return records


def info_value(rtype, value):
    """A ``--info`` value as ``_records`` writes it: TXT as printed, MX ``(10) mx.`` as ``10 mx.``."""
    if rtype == "TXT":
        return value
    if rtype == "MX" and value.startswith("("):
        value = value[1:].replace(")", " ", 1)
    if rtype in ("CNAME", "MX") and not value.endswith("."):
        value += "."
    return normalise_rdata(rtype, value)


def record_args(rtype, value, label):
    """The ``plesk bin dns --add|--del`` options of one record."""
    if rtype == "TXT":
        return ["-txt", value, "-domain", label]
    if rtype in ("A", "AAAA"):
        return ["-" + rtype.lower(), label, "-ip", value]
    if rtype == "CNAME":
        return ["-cname", label, "-canonical", value.rstrip(".")]
    preference, host = value.split(" ", 1)
    return ["-mx", label, "-mailexchanger", host.rstrip("."), "-priority", preference]


def relative_label(name, zone):
    """'s1._domainkey' for s1._domainkey.example.com. in example.com.; '' for the apex."""
    return "" if name == zone else name[:-len(zone) - 1]


class PleskProvider(Provider):
    """``plesk bin dns`` through ``adapter``, a ``_hosts.plesk.PleskCli``."""

    TYPES = ("TXT", "CNAME", "MX", "A", "AAAA")

    def __init__(self, params, zone, adapter=None):
        super().__init__(params, zone, adapter)
        if adapter is None:
            raise ProviderError("internal: the plesk provider needs the Plesk CLI adapter.")
        self.command = params.get("plesk_command") or "plesk"
        self.domain = zone.rstrip(".")
        self._info = None

    def _plesk(self, *args):
        try:
            return self.adapter.run(["bin", "dns"] + list(args))
        except OSError as exc:
            raise ProviderError("plesk: cannot run %r (%s); run this task on the Plesk host (delegate_to)."
                                % (self.command, exc.strerror or exc))

    def _load(self):
        rc, out, err = self._plesk("--info", self.domain)
        if rc != 0:
            raise ProviderError("plesk bin dns --info %s failed (exit %d): %s"
                                % (self.domain, rc, (err or out).strip()[:300]))
        self._info = parse_info(out)

    def _records(self, name):
        if self._info is None:
            self._load()
        return [(rtype, value) for owner, rtype, value in self._info if owner == name]

    def read_rrset(self, name, rtype):
        records = self._records(name)
        cnames = [value for kind, value in records if kind == "CNAME"]
        if cnames and rtype != "CNAME":
            raise NameConflict(name, "cname", cnames[0])
        return [info_value(rtype, value) for kind, value in records if kind == rtype]

    def types_at(self, name):
        return set(kind for kind, _value in self._records(name)) - set(self.SERVER_TYPES)

    def apply_rrsets(self, changes):
        applied = []
        for (name, rtype), change in changes.items():
            label = relative_label(name, self.zone)
            # Add first: if a later step fails, nothing wanted has been lost.
            for value in change["add"]:
                self._change("--add", rtype, value, label, applied, name)
            for value in change["remove"]:
                self._change("--del", rtype, value, label, applied, name)
        self._info = None
        return applied

    @classmethod
    def find_zone(cls, params, name, adapter=None):
        """The longest suffix of ``name`` that Plesk knows as a domain (``--info`` succeeds); without the
        adapter (dns_txt_wait, which runs on the controller) the SOA walk through ``nameservers``."""
        if adapter is None:
            return super().find_zone(params, name)
        labels = name.rstrip(".").split(".")
        for start in range(len(labels) - 1):
            candidate = ".".join(labels[start:]) + "."
            rc, _out, _err = cls(params, candidate, adapter)._plesk("--info", candidate.rstrip("."))
            if rc == 0:
                return candidate
        raise InputError("zone", "Plesk serves no domain that holds %s." % name,
                         "set zone to a domain whose DNS Plesk serves.")

    def _change(self, action, rtype, value, label, applied, name):
        rc, out, err = self._plesk(action, self.domain, *record_args(rtype, value, label))
        if rc == 0 or (action == "--add" and rc == ALREADY_EXISTS):
            applied.append({"name": name, "type": rtype, "action": "add" if action == "--add" else "remove",
                            "value": value})
            return
        raise ProviderError("plesk bin dns %s %s for %s failed (exit %d): %s. Applied before the failure: %s."
                            % (action, self.domain, name, rc, (err or out).strip()[:300],
                               "; ".join("%s %s %r" % (a["action"], a["name"], a["value"]) for a in applied) or "nothing"),
                            applied, value=value)
