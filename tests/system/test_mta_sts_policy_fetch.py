"""MTA-STS policies fetched as a sending MTA fetches them, from a real HTTPS server on loopback.

One TLS server (Python's, with a CA made here) serves a policy per domain; the audit's own
lookup gives the address, so every case is one domain under .test. Each case is judged by the
audit's findings: what a sender would refuse is ``mta_sts.policy`` at error (fails closed).
"""
import datetime
import http.server
import ipaddress
import ssl
import threading

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.mailauth.hardening.plugins.module_utils._audit import audit as _audit
from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError
from ansible_collections.mailauth.hardening.plugins.module_utils._records import mta_sts
from ansible_collections.mailauth.hardening.plugins.module_utils._records.lookup import LookupFailure, static_lookup
from ansible_collections.mailauth.hardening.plugins.module_utils._web.policy_fetch import FetchFailure, PolicyFetcher

GOOD = mta_sts.build_policy("enforce", ["mx.{d}"])
# domain label: (HTTP status, content type, body, extra headers); body "{d}" is the domain.
CASES = {
    "good": (200, "text/plain", GOOD, {}),
    "charset": (200, "text/plain; charset=utf-8", GOOD, {}),
    "redirect": (301, "text/html", "", {"Location": "https://www.redirect.test/mta-sts.txt"}),
    "missing": (404, "text/plain", "not found", {}),
    "html": (200, "text/html", GOOD, {}),
    "huge": (200, "text/plain", GOOD + "x" * 70000, {}),
    "uncovered": (200, "text/plain", mta_sts.build_policy("enforce", ["other.{d}"]), {}),
    "stale-id": (200, "text/plain", GOOD, {}),
    "testing": (200, "text/plain", mta_sts.build_policy("testing", ["*.{d}"]), {}),
    "broken": (200, "text/plain", "version: STSv1\nmode: strict\n", {}),
    "wrong-name": (200, "text/plain", GOOD, {}),
}
UNSIGNED = ("wrong-name",)  # the server's certificate does not name mta-sts.wrong-name.test


def _name(case):
    return "%s.test" % case


def _cert(common_name, sans, issuer_key, issuer_name, key, ca=False):
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
               .issuer_name(issuer_name or x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("mta-sts")
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _cert("mailauth test CA", None, ca_key, None, ca_key, ca=True)
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    sans = [x509.DNSName("mta-sts.%s" % _name(c)) for c in CASES if c not in UNSIGNED]
    leaf = _cert("mta-sts.good.test", sans, ca_key, ca.subject, leaf_key)
    (tmp / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (tmp / "leaf.pem").write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    (tmp / "key.pem").write_bytes(leaf_key.private_bytes(serialization.Encoding.PEM,
                                                         serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            case = self.headers["Host"].split(".")[1]
            status, media_type, body, headers = CASES[case]
            data = body.format(d=_name(case)).encode()
            self.send_response(status)
            self.send_header("Content-Type", media_type)
            self.send_header("Content-Length", str(len(data)))
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(tmp / "leaf.pem"), str(tmp / "key.pem"))
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield {"port": httpd.server_address[1], "ca": str(tmp / "ca.pem")}
    httpd.shutdown()


def _lookup(case, policy_id=None):
    domain = _name(case)
    policy = CASES.get(case, (0, "", GOOD, {}))[2].format(d=domain)
    txt = "v=STSv1; id=%s" % (policy_id or mta_sts.policy_id(policy))
    table = {("_mta-sts." + domain, "TXT"): [txt], (domain, "MX"): ["mx." + domain],
             ("mta-sts." + domain, "A"): ["127.0.0.1"]}
    return static_lookup(table)


def _findings(server, case, ca=True, **lookup_args):
    fetch = PolicyFetcher(server["ca"] if ca else None, port=server["port"], timeout=5)
    audit = _audit.DomainAudit(_name(case))
    _audit.audit_mta_sts(audit, _lookup(case, **lookup_args), fetch)
    assert {"mta_sts.policy", "mta_sts.id"} <= audit.checked
    return sorted((f.check, f.severity) for f in audit.findings)


@pytest.mark.parametrize("case", ["good", "charset"])
def test_a_policy_served_as_senders_want_passes(server, case):
    assert _findings(server, case) == []


@pytest.mark.parametrize("case", ["redirect", "missing", "html", "huge", "broken", "wrong-name"])
def test_what_a_sender_refuses_is_an_error(server, case):
    assert _findings(server, case) == [("mta_sts.policy", "error")]


def test_an_untrusted_ca_is_refused_as_a_sender_would(server):
    assert _findings(server, "good", ca=False) == [("mta_sts.policy", "error")]


def test_an_mx_the_policy_does_not_cover_is_an_error(server):
    assert _findings(server, "uncovered") == [("mta_sts.policy", "error")]


def test_an_id_that_is_not_the_served_policys_warns(server):
    assert _findings(server, "stale-id", policy_id="20240101") == [("mta_sts.id", "warning")]


def test_testing_mode_is_reported_as_info(server):
    assert _findings(server, "testing") == [("mta_sts.policy", "info")]


def test_the_reasons_name_what_a_sender_sees(server):
    fetch = PolicyFetcher(server["ca"], port=server["port"], timeout=5)
    for case, words in (("redirect", "HTTP 301 (to https://www.redirect.test"), ("html", "'text/html'"),
                        ("huge", "larger than 65536"), ("wrong-name", "certificate not valid for the name")):
        with pytest.raises(FetchFailure, match=words.replace("(", r"\(").replace(".", r"\.")):
            fetch(_name(case), _lookup(case))


def test_no_address_and_nobody_listening_fail_closed(server):
    lookup = static_lookup({("mta-sts.gone.test", "A"): LookupFailure("mta-sts.gone.test", "A", "SERVFAIL")})
    with pytest.raises(FetchFailure, match="has no address"):
        PolicyFetcher(server["ca"], port=server["port"])("gone.test", lookup)
    lookup = static_lookup({("mta-sts.closed.test", "AAAA"): [str(ipaddress.ip_address("::1"))]})
    with pytest.raises(FetchFailure, match=r"mta-sts\.closed\.test/\.well-known/mta-sts\.txt \(::1\)"):
        PolicyFetcher(server["ca"], port=1, timeout=2)("closed.test", lookup)


def test_a_policy_is_fetched_once_per_domain_across_views(server):
    fetch = PolicyFetcher(server["ca"], port=server["port"], timeout=5)
    first, second = _lookup("good"), _lookup("good")
    assert fetch("good.test", first) == fetch("good.test", second)
    assert ("mta-sts.good.test", "A") not in second.queries


def test_an_unreadable_ca_file_names_the_field(tmp_path):
    (tmp_path / "ca.pem").write_text("not a certificate\n")
    for path in (str(tmp_path / "ca.pem"), str(tmp_path / "absent.pem")):
        with pytest.raises(InputError, match="mta_sts_ca_file"):
            PolicyFetcher(path)
