# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether a TXT value with a known version tag is a record that works, before dns_txt sends it.

The judges are the record logic's own validators, the ones the record filters and mail_audit use
(``validate_spf``, ``validate_dmarc``, ``validate_dkim_record``), so dns_txt refuses exactly what
the audit would report as an error afterwards. No DNS: an SPF record's lookups are counted from its
own terms; what its includes add is the audit's to count.

A tag that gets record logic adds its pattern to ``txt_changes.OWNED_TAGS`` and its validator to
``VALIDATORS`` below.
"""

from __future__ import annotations

from ansible_collections.mailauth.hardening.plugins.module_utils._records.dkim_record import validate_dkim_record
from ansible_collections.mailauth.hardening.plugins.module_utils._records.dmarc import parse_dmarc, validate_dmarc
from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError
from ansible_collections.mailauth.hardening.plugins.module_utils._core.findings import Finding
from ansible_collections.mailauth.hardening.plugins.module_utils._records.mta_sts import parse_txt as parse_sts
from ansible_collections.mailauth.hardening.plugins.module_utils._records.spf import validate_spf
from ansible_collections.mailauth.hardening.plugins.module_utils._records.tls_rpt import parse_txt as parse_tls_rpt
from ansible_collections.mailauth.hardening.plugins.module_utils._records.txt_changes import owned_tag

REPORT_AUTH_LABELS = "._report._dmarc."


def _dmarc(value, name):
    if REPORT_AUTH_LABELS in "." + name:
        # A report authorisation ("v=DMARC1" at DOMAIN._report._dmarc.DEST) is no policy: only its syntax counts.
        try:
            parse_dmarc(value)
        except InputError as err:
            return [Finding("dmarc.syntax", "error", str(err), err.fix)]
        return []
    return validate_dmarc(value)


def _syntax(parse, check):
    """A validator from a record parser: its InputError is one error finding ``check``."""
    def validate(value, name):
        try:
            parse(value)
        except InputError as err:
            return [Finding(check, "error", str(err), err.fix)]
        return []
    return validate


VALIDATORS = {
    "v=spf1": ("SPF", lambda value, name: validate_spf(value)),
    "v=DKIM1": ("DKIM key", lambda value, name: validate_dkim_record(value)),
    "v=DMARC1": ("DMARC", _dmarc),
    "v=STSv1": ("MTA-STS", _syntax(parse_sts, "mta_sts.syntax")),
    "v=TLSRPTv1": ("TLS-RPT", _syntax(parse_tls_rpt, "tls_rpt.syntax")),
}


def _text(finding):
    """A finding's message without the "Fix:" an InputError's text already carries."""
    message = finding.message
    if finding.fix and message.endswith(" Fix: %s" % finding.fix):
        message = message[:-len(" Fix: %s" % finding.fix)]
    return message


def record_findings(wanted, state, enabled=True):
    """Check each wanted value with a known tag; refuse the first with errors, return the rest.

    Raises InputError (``records[N].value``, the problems, the fix) before anything is sent.
    Returns the warnings, and with ``enabled`` false the errors too, as
    ``{field, check, severity, message, fix}``. Values to remove (state=absent) are not judged:
    removing a broken record must always be possible.
    """
    if state != "present":
        return []
    out = []
    for item in wanted:
        tag = owned_tag(item.value)
        if tag not in VALIDATORS:
            continue
        kind, validate = VALIDATORS[tag]
        findings = validate(item.value, item.name)
        errors = [f for f in findings if f.severity == "error"]
        if errors and enabled:
            raise InputError(item.field + ".value", "is not a working %s record: %s."
                             % (kind, "; ".join("%s (%s)" % (_text(f).rstrip("."), f.check) for f in errors)),
                             "%s Or set validate: false to publish it anyway." % (errors[0].fix or "correct it."))
        out += [dict(f.as_dict(), field=item.field + ".value", message=_text(f))
                for f in findings if f.severity in ("error", "warning")]
    return out
