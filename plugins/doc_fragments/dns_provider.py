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
