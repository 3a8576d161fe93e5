# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One finding of a validator or the audit: which check, how bad, what is wrong, how to fix it."""

from __future__ import annotations

SEVERITIES = ("error", "warning", "info")

# The check names the validators and the mail_audit module report; one name per concept.
CHECKS = frozenset((
    "spf.missing", "spf.multiple", "spf.syntax", "spf.lookups", "spf.all", "spf.sender",
    "dkim.missing", "dkim.syntax", "dkim.mismatch", "dkim.weak",
    "dmarc.missing", "dmarc.syntax", "dmarc.obsolete", "dmarc.policy", "dmarc.report_auth",
    "dnsbl.listed",
    "mta_sts.missing", "mta_sts.syntax", "mta_sts.policy", "mta_sts.id",
    "tls_rpt.missing", "tls_rpt.syntax",
    "dane.missing", "dane.unsigned", "dane.mismatch",
    # DNS that could not be read: never a missing record (the record may well be there).
    "dns.unreachable", "dns.cname_loop",
))


class Finding(object):
    """An immutable finding; ``as_dict()`` is what modules return."""

    __slots__ = ("check", "severity", "message", "fix")

    def __init__(self, check, severity, message, fix=None):
        if check not in CHECKS:
            raise ValueError("unknown check %r; known: %s" % (check, ", ".join(sorted(CHECKS))))
        if severity not in SEVERITIES:
            raise ValueError("severity must be one of %s, got %r" % ("|".join(SEVERITIES), severity))
        object.__setattr__(self, "check", check)
        object.__setattr__(self, "severity", severity)
        object.__setattr__(self, "message", message)
        object.__setattr__(self, "fix", fix)

    def __setattr__(self, name, value):
        raise AttributeError("Finding is immutable")

    def as_dict(self):
        return {"check": self.check, "severity": self.severity, "message": self.message, "fix": self.fix}

    def _key(self):
        return (self.check, self.severity, self.message, self.fix)

    def __eq__(self, other):
        return isinstance(other, Finding) and self._key() == other._key()

    def __ne__(self, other):
        return not self == other

    def __hash__(self):
        return hash(self._key())

    def __repr__(self):
        return "Finding(%r, %r, %r, %r)" % self._key()

    def __str__(self):
        text = "%s %s: %s" % (self.severity, self.check, self.message)
        return text + (" Fix: %s" % self.fix if self.fix else "")


def errors(findings):
    """The findings of severity error."""
    return [f for f in findings if f.severity == "error"]
