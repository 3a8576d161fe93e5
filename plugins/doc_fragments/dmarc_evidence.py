# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment(object):
    """The inputs of the DMARC evidence (module_utils/_reports/dmarc_evidence.py), as mail_audit and mail_gate take them."""

    DOCUMENTATION = r"""
options:
  dmarc_reports:
    description:
      - The aggregate reports receivers sent, as RV(mailauth.hardening.dmarc_reports#module:reports) returns
        them. From them comes the evidence per domain - the volume, the aligned share, each sending source
        with its reverse name (asked through O(resolvers), forward-confirmed), whether it is an inventory
        host (O(dmarc_hosts)) or a listed legitimate source (O(dmarc_legitimate_sources)), what fails and
        the fix, and whether the domain is ready for the next DMARC stage.
      - Leave it out (or null) to use no evidence; an empty list says no reports arrived.
    type: list
    elements: dict
  dmarc_hosts:
    description: "The inventory's hosts and their sending addresses, C({host: [address, ...]})."
    type: dict
    default: {}
  dmarc_legitimate_sources:
    description:
      - Senders that are not inventory hosts but send for the domains legitimately (a newsletter or ticket
        service), C({name, addresses, reverse_names}) - C(addresses) IP addresses or CIDR networks,
        C(reverse_names) domains their forward-confirmed reverse names end in.
    type: list
    elements: dict
    default: []
  dmarc_days:
    description: Only reports whose period ends in the last this many days count.
    type: int
    default: 14
  dmarc_min_messages:
    description: A domain is ready for the next DMARC stage only with at least this many legitimate messages reported.
    type: int
    default: 100
  dmarc_min_aligned:
    description: A domain is ready only with at least this share (percent) of the legitimate messages aligned, and no legitimate source failing.
    type: float
    default: 99.0
"""
