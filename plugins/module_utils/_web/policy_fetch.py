# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fetch a domain's MTA-STS policy the way a sending MTA does (RFC 8461 section 3.3).

``https://mta-sts.DOMAIN/.well-known/mta-sts.txt`` over TLS whose certificate is valid for
``mta-sts.DOMAIN`` (the system's trust store, or ``ca_file``), HTTP 200 only (redirects are not
followed), media type text/plain, at most 64 KiB. Written on http.client rather than urllib or
requests because the address must come from the audit's own resolver (the name servers it was
told to ask), while the certificate is still checked against the name: neither library connects
to one address and verifies another name without patching their internals.
"""

from __future__ import annotations

import http.client
import socket
import ssl

from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError
from ansible_collections.mailauth.hardening.plugins.module_utils._records.lookup import LookupFailure
from ansible_collections.mailauth.hardening.plugins.module_utils._records.mta_sts import POLICY_PATH, policy_host

MAX_POLICY_OCTETS = 65536  # RFC 8461 section 3.3 lets senders bound the size; 64 KiB as common MTAs do


class FetchFailure(Exception):
    """The policy could not be fetched as a sender would; the message says why, in a sender's words."""


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to one given address, with SNI and certificate checks for the policy host's name."""

    def __init__(self, address, hostname, port, context, timeout):
        super().__init__(hostname, port, context=context, timeout=timeout)
        self._address = address
        self._hostname = hostname
        self._context = context

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        try:
            self.sock = self._context.wrap_socket(sock, server_hostname=self._hostname)
        except Exception:
            sock.close()
            raise


class PolicyFetcher(object):
    """``fetcher(domain, lookup)`` -> the policy text; FetchFailure otherwise. One fetch per domain."""

    def __init__(self, ca_file=None, port=443, timeout=10.0, field="mta_sts_ca_file"):
        try:
            self.context = ssl.create_default_context(cafile=ca_file)
        except (OSError, ValueError) as err:  # ssl.SSLError is an OSError
            raise InputError(field, "%r could not be read as PEM certificates: %s." % (ca_file, _reason(err)),
                             "give a readable PEM file of CA certificates, or leave it unset for the system's CAs.")
        self.port = port
        self.timeout = timeout
        self._done = {}

    def __call__(self, domain, lookup):
        if domain not in self._done:
            try:
                self._done[domain] = (self._fetch(domain, lookup), None)
            except FetchFailure as err:
                self._done[domain] = (None, err)
        text, err = self._done[domain]
        if err is not None:
            raise err
        return text

    def _addresses(self, host, lookup):
        found, failures = [], []
        for rdtype in ("A", "AAAA"):
            try:
                found += lookup(host, rdtype)
            except LookupFailure as err:
                failures.append(str(err))
        if not found:
            raise FetchFailure("%s has no address%s" % (host, ": " + "; ".join(failures) if failures else ""))
        return found

    def _fetch(self, domain, lookup):
        host = policy_host(domain)
        url = "https://%s%s" % (host, POLICY_PATH)
        errors = []
        for address in self._addresses(host, lookup):
            try:
                return self._get(address, host, url)
            except (OSError, http.client.HTTPException) as err:
                # Certificate errors are ssl.SSLError (an OSError): a sender refuses the policy too.
                errors.append("%s (%s): %s" % (url, address, _reason(err)))
        raise FetchFailure("; ".join(errors))

    def _get(self, address, host, url):
        connection = _PinnedHTTPSConnection(address, host, self.port, self.context, self.timeout)
        try:
            connection.request("GET", POLICY_PATH, headers={"Host": host, "User-Agent": "mailauth.hardening audit"})
            response = connection.getresponse()
            if response.status != 200:
                location = response.getheader("Location")
                raise FetchFailure("%s answered HTTP %d%s; senders accept only 200 and follow no redirect"
                                   % (url, response.status, " (to %s)" % location if location else ""))
            media_type = (response.getheader("Content-Type") or "").split(";")[0].strip().lower()
            if media_type != "text/plain":
                raise FetchFailure("%s is served as %r; senders want text/plain" % (url, media_type or "no type"))
            body = response.read(MAX_POLICY_OCTETS + 1)
        finally:
            connection.close()
        if len(body) > MAX_POLICY_OCTETS:
            raise FetchFailure("%s is larger than %d octets" % (url, MAX_POLICY_OCTETS))
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            raise FetchFailure("%s is not UTF-8 text" % url)


def _reason(err):
    if isinstance(err, ssl.SSLCertVerificationError):
        return "certificate not valid for the name (%s)" % (err.verify_message or err.reason)
    if isinstance(err, socket.timeout):
        return "timed out"
    return str(err) or type(err).__name__
