# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment(object):
    """Provider options shared by every module of the C(dns) action group."""

    DOCUMENTATION = r"""
options:
  provider:
    description:
      - The DNS back end.
      - V(rfc2136) sends one atomic dynamic update per zone (RFC 2136) with dnspython, signed with
        TSIG; uses O(server), O(port), O(protocol), O(key_name), O(key_secret), O(key_algorithm).
      - V(plesk) runs C(plesk bin dns) and must run on the Plesk host (use C(delegate_to)); uses
        O(plesk_command).
      - Any other name is a dns-lexicon provider (V(powerdns), V(cloudflare), V(route53),
        V(digitalocean), V(hetzner), V(ovh), V(gandi), ...), configured by O(provider_options).
      - Required by M(mailauth.hardening.dns_txt).
    type: str
  server:
    description:
      - The primary name server that accepts updates, for O(provider=rfc2136). An address or a host
        name, optionally with C(:port) (C([v6]:port) for IPv6).
    type: str
  port:
    description:
      - Port of O(server) when it gives none.
    type: int
    default: 53
  protocol:
    description:
      - Transport for O(provider=rfc2136). With V(udp), truncated answers are retried over TCP.
    type: str
    choices: [tcp, udp]
    default: tcp
  key_name:
    description:
      - Name of the TSIG key (as in the server's C(key) statement). Without O(key_name) and
        O(key_secret) the update is sent unsigned.
    type: str
  key_secret:
    description:
      - Base64 TSIG secret, as C(tsig-keygen) prints it. Never appears in output.
    type: str
  key_algorithm:
    description:
      - TSIG algorithm of the key.
    type: str
    choices: [hmac-sha256, hmac-sha512, hmac-sha384, hmac-sha224, hmac-sha1, hmac-md5, hmac-sha256-128,
              hmac-sha384-192, hmac-sha512-256]
    default: hmac-sha256
  timeout:
    description:
      - Seconds to wait for each DNS answer.
    type: float
    default: 10.0
  provider_options:
    description:
      - >-
        Options of the dns-lexicon provider, passed through unchanged, for example
        C({auth_token: ..., pdns_server: https://pdns.example.net:8081}) for V(powerdns) or
        C({auth_token: ...}) for V(cloudflare). See C(lexicon PROVIDER --help) for the names.
      - Treated as secret as a whole; none of its values appears in output (an API URL given
        here is masked in error messages too).
    type: dict
  plesk_command:
    description:
      - The C(plesk) command for O(provider=plesk).
    type: str
    default: plesk
  nameservers:
    description:
      - Resolvers (C(host[:port]) each) used to find the zone of absolute names when O(zone) is not
        given (dns-lexicon providers) and the zone's name servers when waiting. Without it, the
        system resolver is used, or O(server) for O(provider=rfc2136).
    type: list
    elements: str
requirements:
  - dnspython >= 2.0 for O(provider=rfc2136) and for waiting
  - dns-lexicon >= 3.0 for hosted DNS APIs
notes:
  - >-
    Set the provider options once for all modules of the group with
    C(module_defaults: {group/mailauth.hardening.dns: {...}}).
"""

    # The zone of the records (dns_txt, dns_txt_wait): both find a missing zone the same way.
    ZONE = r"""
options:
  zone:
    description:
      - The zone, for example C(example.com). Relative record names are relative to it.
      - When not given, every name must be absolute (ending in a dot) and the zone of each is the
        closest enclosing zone, found by an SOA walk at O(server) for O(provider=rfc2136), through
        O(nameservers) (or the system resolver) for dns-lexicon providers, and as the longest suffix
        Plesk serves as a domain for O(provider=plesk). A domain below its zone
        (C(mail.example.com.) in C(example.com)) needs no zone given.
    type: str
"""

    # How a module waits for the zone's authoritative servers (dns_txt with wait=true, dns_txt_wait).
    WAIT = r"""
options:
  wait_timeout:
    description:
      - Seconds to wait in total before failing with the lagging servers named.
    type: int
    default: 300
  wait_interval:
    description:
      - Seconds between polling rounds.
    type: float
    default: 2.0
  wait_servers:
    description:
      - Ask exactly these servers (C(host[:port]) each) instead of the zone's NS set.
    type: list
    elements: str
  wait_port:
    description:
      - Port of the servers found in the NS set (and of O(wait_servers) entries without a port).
    type: int
    default: 53
"""

    # What dns_txt and dns_record share beyond the provider and the records.
    PUBLISH = r"""
options:
  ttl:
    description:
      - TTL for values this task adds. When not given, an RRset keeps its current TTL and new RRsets
        get 3600. An RRset (the records of one type at one name) has one TTL, so all values of a type
        at a name should use the same.
    type: int
  domain:
    description:
      - The mail domain the records belong to. Every name in O(records) must then be one of its own
        names; any other is refused, naming the record, before a query is sent.
      - "A domain's own names: its apex, C(SELECTOR._domainkey.DOMAIN), C(_domainkey.DOMAIN) (the
        legacy C(o=-)), C(_dmarc.DOMAIN), C(SENDER._report._dmarc.DOMAIN), C(_mta-sts.DOMAIN),
        C(mta-sts.DOMAIN) and C(_smtp._tls.DOMAIN)."
      - Give it whenever the records are one domain's, above all for a domain below its zone
        (V(mail.example.com) in zone V(example.com)), whose relative V(@) or V(_dmarc) would be the
        parent's names. The roles of this collection always do.
      - Not given, any name inside the zone is accepted.
    type: str
  validate:
    description:
      - With O(state=present), check each TXT value with a known tag (C(v=spf1), C(v=DKIM1), C(v=DMARC1))
        with the same record logic as the record filters and M(mailauth.hardening.mail_audit) before
        anything is sent (also in check mode). An error refuses the task, naming C(records[N].value),
        the problem and the fix; warnings are returned in RV(findings) and shown.
      - SPF lookups are counted from the record's own terms, without DNS (more than 10 is an error);
        what its includes add is counted by M(mailauth.hardening.mail_audit).
      - A DMARC value at a C(*._report._dmarc.*) name is a report authorisation, so only its syntax is
        checked.
      - V(false) publishes the value anyway; its errors are then returned as findings.
    type: bool
    default: true
"""
