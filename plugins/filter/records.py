# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters that build mail-authentication TXT values; thin wrappers over the record logic."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible.utils.display import Display

from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError
from ansible_collections.mailauth.hardening.plugins.module_utils._records.dkim_record import build_dkim_record
from ansible_collections.mailauth.hardening.plugins.module_utils._records.dmarc import build_dmarc
from ansible_collections.mailauth.hardening.plugins.module_utils._records.mta_sts import site_input
from ansible_collections.mailauth.hardening.plugins.module_utils._records.spf import build_spf, validate_spf
from ansible_collections.mailauth.hardening.plugins.module_utils._records.tls_rpt import build_txt as build_tls_rpt, rua_input
from ansible_collections.mailauth.hardening.plugins.module_utils._records.txt import split_txt

_DEFAULT = object()
_SPF_KEYS = ("mechanisms", "all")


def _mapping(name, value):
    # Ansible hands templated dicts in as dict subclasses; copy to a plain dict.
    if not isinstance(value, dict):
        raise AnsibleFilterError("%s: expects a dict, got %s." % (name, type(value).__name__))
    return dict(value)


def spf_record(data, all=_DEFAULT):  # pylint: disable=redefined-builtin
    """``{mechanisms: [...], all: fail}`` or a list of mechanisms -> ``v=spf1 ... -all``."""
    if isinstance(data, dict):
        data = _mapping("spf_record", data)
        unknown = sorted(set(data) - set(_SPF_KEYS))
        if unknown:
            raise AnsibleFilterError("spf.%s: is not an SPF setting. Fix: use mechanisms and all." % unknown[0])
        mechanisms = data.get("mechanisms", [])
        if all is _DEFAULT:
            all = data.get("all", "fail")
    else:
        mechanisms = data
    if all is _DEFAULT:
        all = "fail"
    try:
        record = build_spf(mechanisms, all=all)
    except InputError as err:
        raise AnsibleFilterError(str(err))
    findings = validate_spf(record)
    errors = [f for f in findings if f.severity == "error"]
    if errors:
        # The judgement dns_txt and mail_audit make of the same text: a record they refuse is not built.
        raise AnsibleFilterError("spf.mechanisms: %s Fix: %s" % (" ".join(f.message for f in errors), errors[0].fix))
    for finding in findings:
        if finding.severity == "warning":
            Display().warning("spf_record: %s" % finding)
    return record


def dmarc_record(data):
    """``{p: none, rua: [...], ...}`` -> ``v=DMARC1; p=none; rua=mailto:...``."""
    try:
        return build_dmarc(**_mapping("dmarc_record", data))
    except InputError as err:
        raise AnsibleFilterError(str(err))


def tls_rpt_record(data):
    """``{rua: [...]}`` -> ``v=TLSRPTv1; rua=mailto:...,https://...``."""
    data = _mapping("tls_rpt_record", data)
    unknown = sorted(set(data) - {"rua"})
    if unknown:
        raise AnsibleFilterError("tls_rpt.%s: is not a TLS-RPT setting. Fix: use rua." % unknown[0])
    try:
        return build_tls_rpt(rua_input(data.get("rua")))
    except InputError as err:
        raise AnsibleFilterError(str(err))


def mta_sts_site(data, domain):
    """A domain's ``mta_sts`` settings -> ``{policy, record, certificate, key}`` (policy text and its TXT)."""
    try:
        return site_input(domain, _mapping("mta_sts_site", data))
    except InputError as err:
        raise AnsibleFilterError(str(err))


def dkim_record(data, key_type=None, testing=False):
    """A public key (base64 p= value or PEM) and its type -> ``v=DKIM1; k=...; p=...``.

    ``data`` may also be a dict with ``public_key`` and ``key_type`` (or ``type``).
    """
    if isinstance(data, dict):
        data = _mapping("dkim_record", data)
        if key_type is None:
            key_type = data.get("key_type", data.get("type"))
        public_key = data.get("public_key")
    else:
        public_key = data
    try:
        return build_dkim_record("rsa" if key_type is None else key_type, public_key, testing=bool(testing))
    except InputError as err:
        raise AnsibleFilterError(str(err))


def txt_split(value):
    """A TXT value -> its character-strings of at most 255 octets."""
    try:
        return split_txt(value)
    except InputError as err:
        raise AnsibleFilterError(str(err))


class FilterModule(object):
    def filters(self):
        return {
            "spf_record": spf_record,
            "dmarc_record": dmarc_record,
            "dkim_record": dkim_record,
            "tls_rpt_record": tls_rpt_record,
            "mta_sts_site": mta_sts_site,
            "txt_split": txt_split,
        }
