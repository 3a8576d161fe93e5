#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: dmarc_reports
short_description: Read DMARC aggregate reports and SMTP TLS reports from files, mailboxes or IMAP
version_added: 0.1.0
description:
  - Reads the DMARC aggregate reports receivers send to C(rua) (RFC 9990, and the older RFC 7489
    appendix C format) and SMTP TLS reports (RFC 8460) and returns them normalised, one entry per
    report. Two copies of a report (two mails, a mailbox and a file) count once.
  - A path is a file or a directory. A file is read by its first bytes, whatever its name - XML,
    gzip (C(.xml.gz), C(.gz)), zip, JSON, a mail (C(.eml), MIME with the report attached, nested
    archives too) or an mbox file. A directory is a Maildir (C(cur) and C(new)) or a tree of such files.
  - With O(imap) it also reads every message of one IMAP folder, read only - the folder is opened
    with EXAMINE and messages are fetched with BODY.PEEK, so nothing is marked seen or moved.
  - A file it cannot read (broken, truncated, oddly compressed, a DOCTYPE with entities, a zip bomb,
    over a size limit) is listed in RV(unreadable) with the reason; the module goes on with the rest.
    A record that cannot be used (no source address, a count that is no number) is left out, and
    listed in RV(unreadable) too.
  - Reads only, never changes anything (V(changed=false)); check mode reads as well.
author: mailauth.hardening contributors (!UNKNOWN)
options:
  paths:
    description:
      - Files and directories to read, on the host the module runs on. Each must exist.
    type: list
    elements: path
    default: []
  imap:
    description:
      - An IMAP folder to read as well. A server that cannot be reached, or refuses the login, fails the task.
    type: dict
    suboptions:
      host:
        description: The IMAP server's name or address.
        type: str
        required: true
      port:
        description: Its port; default 993 with O(imap.tls=ssl), else 143.
        type: int
      user:
        description: The login name.
        type: str
        required: true
      password:
        description: The password; never shown in output or logs.
        type: str
        required: true
      folder:
        description: The folder (mailbox) that receives the reports.
        type: str
        default: INBOX
      tls:
        description:
          - V(ssl) - TLS from the start (IMAPS); V(starttls) - STARTTLS on the plain port;
            V(none) - no TLS, only for a server on loopback (the password would cross the network in clear).
        type: str
        choices: [ssl, starttls, none]
        default: ssl
      validate_certs:
        description: Check the server's certificate and name.
        type: bool
        default: true
      ca_file:
        description: CA certificates (PEM) to check the server's certificate with, instead of the system's.
        type: path
      timeout:
        description: Seconds to wait for the server at each step.
        type: float
        default: 30
  max_file_size:
    description:
      - A file, a message of an mbox or Maildir, or an IMAP message larger than this (bytes) is not
        read but listed in RV(unreadable).
    type: int
    default: 67108864
  max_report_size:
    description:
      - How many bytes one input may decompress to, all its archive entries together; past it the
        input is skipped (zip bombs).
    type: int
    default: 104857600
  max_records:
    description: Most records one aggregate report may hold; a larger report is skipped.
    type: int
    default: 100000
  max_members:
    description: Most entries a zip archive may hold; a larger archive is skipped.
    type: int
    default: 16
notes:
  - The reader is the Python standard library only (expat, zlib, zipfile, email, json, imaplib);
    XML with a DOCTYPE is refused, since no DMARC report has one and a DTD is how entity expansion
    attacks work. The collection's tests read their whole report corpus with parsedmarc as well
    and check that both agree.
  - Memory stays bounded by the limits. The XML is parsed as a stream; an mbox is read line by line.
attributes:
  check_mode:
    support: full
    description: Reads only; the result is the same in check mode.
  diff_mode:
    support: none
    description: Changes nothing, so there is nothing to show.
seealso:
  - module: mailauth.hardening.mail_audit
"""

EXAMPLES = r"""
- name: Read the reports saved under /srv/dmarc (files, archives, a Maildir)
  mailauth.hardening.dmarc_reports:
    paths: [/srv/dmarc]
  register: dmarc

- name: Read the rua mailbox over IMAP, without marking anything seen
  mailauth.hardening.dmarc_reports:
    imap:
      host: mail.example.com
      user: dmarc-reports
      password: "{{ vault_dmarc_imap_password }}"
      folder: INBOX
  delegate_to: localhost
  run_once: true
  register: dmarc

- name: Show what receivers saw failing
  ansible.builtin.debug:
    msg: "{{ dmarc.reports | map(attribute='records') | flatten | rejectattr('dkim', 'eq', 'pass')
      | rejectattr('spf', 'eq', 'pass') | map(attribute='source_ip') | unique }}"
"""

RETURN = r"""
reports:
  description: One entry per DMARC aggregate report, in the order read.
  returned: always
  type: list
  elements: dict
  contains:
    org_name:
      description: The reporting organisation (its mail domain when the report names none).
      type: str
      sample: google.com
    report_id:
      description: The report's id, angle brackets removed.
      type: str
      sample: "949348866075514174"
    domain:
      description: The domain the report is about (C(policy_published/domain)), lower case.
      type: str
      sample: example.com
    begin:
      description: Start of the reported period, ISO 8601 UTC.
      type: str
      sample: "2019-02-12T00:00:00Z"
    end:
      description: End of the reported period, ISO 8601 UTC.
      type: str
      sample: "2019-02-12T23:59:59Z"
    policy_published:
      description:
        - The DMARC record the receiver saw - C(domain), C(adkim), C(aspf), C(p), C(sp), C(np), C(pct),
          C(fo), C(testing), C(discovery_method); a tag the report lacks is null (C(adkim), C(aspf)
          default to C(r), C(sp) to C(p)).
      type: dict
    records:
      description: The rows of the report.
      type: list
      elements: dict
      contains:
        source_ip:
          description: The sending address.
          type: str
        count:
          description: How many messages.
          type: int
        header_from:
          description: The From domain, lower case.
          type: str
        envelope_from:
          description: The envelope sender's domain (from the last SPF result when the report has none), or null.
          type: str
        disposition:
          description: What the receiver did - C(none), C(pass), C(quarantine) or C(reject).
          type: str
        dkim:
          description: The DMARC-evaluated (aligned) DKIM result, C(pass) or C(fail).
          type: str
        spf:
          description: The DMARC-evaluated (aligned) SPF result, C(pass) or C(fail).
          type: str
        reasons:
          description: Policy override reasons, C({type, comment}) each (forwarded, mailing_list, local_policy...).
          type: list
          elements: dict
        auth_results:
          description:
            - The raw results - C(dkim) a list of C({domain, selector, result}), C(spf) a list of
              C({domain, scope, result}).
          type: dict
tls_reports:
  description: One entry per SMTP TLS report.
  returned: always
  type: list
  elements: dict
  contains:
    org_name:
      description: The reporting organisation.
      type: str
    report_id:
      description: The report's id.
      type: str
    begin:
      description: Start of the period, ISO 8601 UTC.
      type: str
    end:
      description: End of the period, ISO 8601 UTC.
      type: str
    contact_info:
      description: The reporter's contact.
      type: str
    policies:
      description:
        - One per policy - C(policy_type) (C(sts), C(tlsa), C(no-policy-found)), C(policy_domain),
          C(policy_strings), C(mx_hosts), C(successful) and C(failed) session counts, and
          C(failure_details), each C({result_type, failed_session_count, sending_mta_ip, receiving_ip,
          receiving_mx_hostname, receiving_mx_helo, failure_reason_code, additional_information}).
      type: list
      elements: dict
unreadable:
  description:
    - Every file, message, archive entry or record that could not be read, C({path, problem}).
    - Named so, not C(skipped), since Ansible takes a C(skipped) key in a result as "the task was skipped".
  returned: always
  type: list
  elements: dict
  sample: [{"path": "/srv/dmarc/bomb.zip!a.xml", "problem": "it decompresses to more than max_report_size (104857600 bytes): ..."}]
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError
from ansible_collections.mailauth.hardening.plugins.module_utils._core.module_run import fail_json_on
from ansible_collections.mailauth.hardening.plugins.module_utils._reports.files import Collector, Limits
from ansible_collections.mailauth.hardening.plugins.module_utils._reports.imap import (
    TLS_MODES, ImapFailure, check_settings, imap_messages)

LIMITS = ("max_file_size", "max_report_size", "max_records", "max_members")


def check_input(params):
    """Every input problem, before anything is read."""
    if not params["paths"] and not params["imap"]:
        raise InputError("paths", "neither paths nor imap is given, so there is nothing to read.",
                         "give the report files or directories in paths, or an IMAP folder in imap.")
    for index, path in enumerate(params["paths"]):
        if not os.path.exists(path):
            raise InputError("paths[%d]" % index, "%s does not exist." % path,
                             "give an existing file or directory (on the host the task runs on).")
    for name in LIMITS:
        if params[name] < 1:
            raise InputError(name, "%d is not a limit." % params[name], "give a positive number.")
    if params["imap"]:
        check_settings(params["imap"])


def read_reports(params):
    limits = Limits(*(params[name] for name in LIMITS))
    collector = Collector(limits)
    for path in params["paths"]:
        collector.read_path(path)
    if params["imap"]:
        for origin, body, size in imap_messages(params["imap"], limits.file_size):
            if body is None:
                collector.skip(origin, "the message is %d bytes, over max_file_size (%d); raise max_file_size "
                               "to read it." % (size, limits.file_size))
            else:
                collector.read_bytes(origin, body)
    return {"changed": False, "reports": collector.reports, "tls_reports": collector.tls_reports,
            "unreadable": collector.unreadable}


def main():
    imap_options = dict(
        host=dict(type="str", required=True),
        port=dict(type="int"),
        user=dict(type="str", required=True),
        password=dict(type="str", required=True, no_log=True),
        folder=dict(type="str", default="INBOX"),
        tls=dict(type="str", choices=list(TLS_MODES), default="ssl"),
        validate_certs=dict(type="bool", default=True),
        ca_file=dict(type="path"),
        timeout=dict(type="float", default=30.0),
    )
    module = AnsibleModule(
        argument_spec=dict(
            paths=dict(type="list", elements="path", default=[]),
            imap=dict(type="dict", options=imap_options),
            max_file_size=dict(type="int", default=64 * 1024 * 1024),
            max_report_size=dict(type="int", default=100 * 1024 * 1024),
            max_records=dict(type="int", default=100000),
            max_members=dict(type="int", default=16),
        ),
        supports_check_mode=True,
    )
    with fail_json_on(module, ImapFailure):
        check_input(module.params)
        result = read_reports(module.params)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
