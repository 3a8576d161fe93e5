# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""SMTP TLS reporting (RFC 8460): the ``_smtp._tls.DOMAIN`` TXT record and its checks. No DNS here."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError
from ansible_collections.mailauth.hardening.plugins.module_utils._core.findings import Finding
from ansible_collections.mailauth.hardening.plugins.module_utils._records.dmarc import mailto_uri
from ansible_collections.mailauth.hardening.plugins.module_utils._records.lookup import is_hostname, normalise_name
from ansible_collections.mailauth.hardening.plugins.module_utils._records.tags import split_tags, unique_items

VERSION = "TLSRPTv1"
# RFC 8460 3.1: a record that does not begin with "v=TLSRPTv1;" (blanks allowed before the ;) is not one.
_TXT_RE = re.compile(r"^v=TLSRPTv1[ \t]*;")


def txt_name(domain):
    return "_smtp._tls.%s" % normalise_name(domain)


def _rua(field, value):
    """One report destination as a URI: a plain address becomes mailto:, https: URLs stay as they are."""
    if not isinstance(value, str) or not value.strip():
        raise InputError(field, "must be an e-mail address, mailto: or https: URI, got %r." % (value,),
                         "write e.g. tls-reports@example.com.")
    text = value.strip()
    if text.lower().startswith("https:"):
        url = urlsplit(text)
        if not url.hostname or not is_hostname(url.hostname) or "," in text or ";" in text or " " in text:
            raise InputError(field, "%r is not an https URL a sender can post to." % text,
                             "write e.g. https://tlsrpt.example.com/v1 (no , ; or blanks).")
        return text
    return mailto_uri(field, text, "write tls-reports@example.com, mailto:tls-reports@example.com or an https URL.")


def rua_input(values, field="tls_rpt.rua"):
    """The ``rua`` list of the inventory as URIs; at least one, none twice."""
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, (list, tuple)) or not values:
        raise InputError(field, "needs at least one report destination.", "list e.g. [tls-reports@example.com].")
    return unique_items(field, values, _rua)


def build_txt(rua):
    return "v=%s; rua=%s" % (VERSION, ",".join(rua))


def parse_txt(text, field="tls_rpt"):
    """``{"v": ..., "rua": [...]}`` of a record; InputError names the bad part."""
    tags = split_tags(text, field, VERSION, "v=TLSRPTv1; rua=mailto:tls-reports@example.com")
    if not tags.get("rua"):
        raise InputError("%s.rua" % field, "the record has no rua.", "add rua=mailto:tls-reports@DOMAIN.")
    uris = [u.strip(" \t") for u in tags["rua"].split(",")]
    for index, uri in enumerate(uris):
        if not uri.lower().startswith(("mailto:", "https:")):  # the inventory may omit mailto:, a record may not
            raise InputError("%s.rua[%d]" % (field, index), "%r is not a mailto: or https: URI." % uri,
                             "write rua=mailto:%s." % uri)
    return {"v": tags["v"], "rua": rua_input(uris, "%s.rua" % field)}


def check_txt(domain, txt_values):
    """Findings about the TXT values at ``_smtp._tls.DOMAIN`` (at most one TLSRPTv1 record, valid)."""
    records = [v for v in txt_values or [] if isinstance(v, str) and _TXT_RE.match(v)]
    if not records:
        return [Finding("tls_rpt.missing", "warning", "no v=TLSRPTv1 record at %s: nobody learns of failed TLS "
                        "deliveries." % txt_name(domain), "publish v=TLSRPTv1; rua=mailto:tls-reports@%s." % domain)]
    if len(records) > 1:
        return [Finding("tls_rpt.syntax", "error", "%d v=TLSRPTv1 records at %s; senders ignore them all."
                        % (len(records), txt_name(domain)), "keep one record.")]
    try:
        parse_txt(records[0])
    except InputError as err:
        return [Finding("tls_rpt.syntax", "error", str(err), err.fix)]
    return []
