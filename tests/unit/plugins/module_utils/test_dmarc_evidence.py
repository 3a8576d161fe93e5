"""Evidence per domain from the corpus's reports: volume, alignment, each source and its fix."""
import datetime
from pathlib import Path

import pytest

from ansible_collections.mailauth.hardening.plugins.module_utils._reports.dmarc_evidence import (
    THRESHOLDS, evidence, legitimate_sources, readiness_stats, reverse_name, thresholds_from)
from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError
from ansible_collections.mailauth.hardening.plugins.module_utils._records.lookup import LookupFailure, static_lookup
from ansible_collections.mailauth.hardening.plugins.module_utils._reports.files import Collector, Limits

CORPUS = Path(__file__).resolve().parents[3] / "dmarc_corpus" / "good"
NOW = datetime.datetime(2025, 12, 5, tzinfo=datetime.timezone.utc)
HOSTS = {"mx1.example.com": ["192.0.2.10", "2001:db8:10::25"]}
LISTED = legitimate_sources([{"name": "ESP mailer", "addresses": ["198.51.100.64/28"]},
                             {"name": "Ticket service", "reverse_names": ["tickets.example.net"]}])
DNS = static_lookup({
    ("10.2.0.192.in-addr.arpa", "PTR"): ["mx1.example.com."], ("mx1.example.com", "A"): ["192.0.2.10"],
    ("44.2.0.192.in-addr.arpa", "PTR"): ["out.tickets.example.net."], ("out.tickets.example.net", "A"): ["192.0.2.44"],
    # A PTR anyone could publish: it claims the ticket service, but the name does not point back.
    ("66.113.0.203.in-addr.arpa", "PTR"): ["fake.tickets.example.net."],
    ("200.113.0.203.in-addr.arpa", "PTR"): LookupFailure,
})


@pytest.fixture(scope="module")
def reports():
    found = Collector(Limits(1 << 26, 1 << 27, 100000, 16))
    found.read_path(str(CORPUS))
    return found.reports


def by_address(entry):
    return dict((s["address"], s) for s in entry["sources"])


def test_volume_alignment_and_every_source_of_a_domain(reports):
    com, org = evidence(["example.com", "Example.ORG"], reports, HOSTS, LISTED, DNS, now=NOW)
    assert (com["reports"], com["messages"], com["aligned"], com["aligned_share"]) == (6, 764, 625, 81.81)
    assert (com["legitimate_messages"], com["legitimate_aligned"], com["legitimate_aligned_share"]) == (757, 623, 82.3)
    assert (com["begin"], com["end"], com["published"]) == ("2025-12-01T00:00:00Z", "2025-12-02T00:00:00Z", "none")
    sources = by_address(com)
    host = sources["192.0.2.10"]
    assert (host["kind"], host["known_as"], host["reverse_name"], host["messages"], host["verdict"]) == \
        ("host", "mx1.example.com", "mx1.example.com", 577, "ok")
    assert sources["2001:db8:10::25"]["kind"] == "host" and sources["2001:db8:10::25"]["reverse_name"] is None
    tickets = sources["192.0.2.44"]  # listed by its forward-confirmed reverse name; SPF aligns
    assert (tickets["kind"], tickets["known_as"], tickets["verdict"], tickets["spf_aligned"]) == \
        ("listed", "Ticket service", "ok", 9)
    assert org["domain"] == "example.org" and org["messages"] == 127


def test_what_fails_and_the_fix(reports):
    com = evidence(["example.com"], reports, HOSTS, LISTED, DNS, now=NOW)[0]
    first = com["sources"][0]  # the biggest failure comes first
    assert (first["address"], first["kind"], first["known_as"], first["failed"], first["verdict"]) == \
        ("198.51.100.77", "listed", "ESP mailer", 134, "fix")
    assert first["fixes"] == [
        "Sign with DKIM as example.com there: it signs only as esp-mailer.example.net, which does not align.",
        "SPF passes only for bounces.esp-mailer.example.net (the envelope sender), which does not align with "
        "example.com: use a return path under example.com, or rely on DKIM."]
    sources = by_address(com)
    forged = sources["203.0.113.66"]  # its PTR claims the ticket service but is not confirmed
    assert (forged["reverse_name"], forged["kind"], forged["verdict"]) == (None, "unknown", "abuse")
    assert "abuse, which p=quarantine and p=reject stop" in forged["fixes"][0]
    assert sources["203.0.113.200"]["reverse_name"] is None  # DNS failed: no name, no crash
    assert com["ready"] is False and com["blockers"] == [
        "198.51.100.77 (ESP mailer) sends 134 of 134 messages failing DMARC.",
        "82.30 % of legitimate mail is aligned; at least 99.0 % is needed."]


def test_an_inventory_host_that_does_not_sign_gets_the_spf_and_dkim_fix():
    report = {"org_name": "r", "report_id": "1", "domain": "example.com", "begin": "2025-12-01T00:00:00Z",
              "end": "2025-12-02T00:00:00Z", "policy_published": {"p": "none"},
              "records": [{"source_ip": "192.0.2.10", "count": 150, "dkim": "fail", "spf": "fail", "reasons": [],
                           "auth_results": {"dkim": [], "spf": [{"domain": "example.com", "result": "softfail"}]}},
                          {"source_ip": "203.0.113.5", "count": 4, "dkim": "fail", "spf": "fail",
                           "reasons": [{"type": "forwarded", "comment": None}], "auth_results": {"dkim": [], "spf": []}}]}
    entry = evidence(["example.com"], [report], HOSTS, [], static_lookup({}), now=NOW)[0]
    host, forwarded = entry["sources"]
    assert host["fixes"] == ["Sign with DKIM (d=example.com) there: the receivers saw no valid signature of the domain.",
                             "Add ip4:192.0.2.10 (or the service's include) to the SPF record of example.com."]
    assert forwarded["verdict"] == "forwarded"
    assert entry["blockers"][0] == "192.0.2.10 (inventory host mx1.example.com) sends 150 of 150 messages failing DMARC."


def test_ready_only_with_enough_aligned_legitimate_mail_in_the_window(reports):
    clean = [r for r in reports if r["org_name"] in ("Yahoo", "Mimecast")]
    entry = evidence(["example.com"], clean, HOSTS, LISTED, DNS, now=NOW)[0]
    assert entry["legitimate_aligned_share"] == 100.0 and entry["blockers"] == [
        "Only 77 legitimate messages reported in the last 14 days; at least 100 are needed."]
    lenient = thresholds_from(14, 50, 99.0)
    assert evidence(["example.com"], clean, HOSTS, LISTED, DNS, lenient, now=NOW)[0]["ready"] is True
    later = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    old = evidence(["example.com"], clean, HOSTS, LISTED, DNS, now=later)[0]
    assert old["ready"] is False and old["messages"] == 0 and old["aligned_share"] is None
    assert old["blockers"] == ["No aggregate report about example.com ends in the last 14 days."]


def test_set_stats_form(reports):
    stats = readiness_stats(evidence(["example.com"], reports, HOSTS, LISTED, DNS, now=NOW))
    assert stats["example.com"]["ready"] is False
    assert [f["address"] for f in stats["example.com"]["failing"]] == ["198.51.100.77", "203.0.113.66", "198.51.100.140",
                                                                       "203.0.113.200"]


def test_reverse_names_are_forward_confirmed():
    assert reverse_name(DNS, "192.0.2.10") == "mx1.example.com"
    assert reverse_name(DNS, "203.0.113.66") is None


@pytest.mark.parametrize("call, message", [
    (lambda: legitimate_sources([{"addresses": ["192.0.2.1"]}]), "dmarc_legitimate_sources[0]: each legitimate source needs a name."),
    (lambda: legitimate_sources([{"name": "x", "addresses": ["192.0.2.300"]}]),
     "dmarc_legitimate_sources[0].addresses[0]: '192.0.2.300' is no IP address or network."),
    (lambda: legitimate_sources([{"name": "x"}]), "dmarc_legitimate_sources[0]: x has neither addresses nor reverse_names."),
    (lambda: thresholds_from(0, 100, 99), "dmarc_days: 0 is no number of days."),
    (lambda: thresholds_from(14, 100, 101), "dmarc_min_aligned: 101 is no percentage."),
    (lambda: evidence(["a.example"], [], {"mx1": ["nope"]}, [], DNS), "dmarc_hosts.mx1[0]: 'nope' is no IP address"),
])
def test_bad_input_names_the_field(call, message):
    with pytest.raises(InputError) as err:
        call()
    assert str(err.value).startswith(message)


def test_default_thresholds():
    assert THRESHOLDS == {"days": 14, "min_messages": 100, "min_aligned": 99.0}


def test_a_source_fixed_since_no_longer_blocks_but_its_failures_still_count():
    def day(end, aligned):
        word = "pass" if aligned else "fail"
        return {"org_name": "r", "report_id": end, "domain": "example.com", "begin": end, "end": end,
                "policy_published": {"p": "none"},
                "records": [{"source_ip": "192.0.2.10", "count": 1000, "dkim": "pass", "spf": "pass", "reasons": [],
                             "auth_results": {"dkim": [], "spf": []}},
                            {"source_ip": "198.51.100.70", "count": 5, "dkim": word, "spf": word, "reasons": [],
                             "auth_results": {"dkim": [], "spf": []}}]}
    entry = evidence(["example.com"], [day("2025-12-01T00:00:00Z", False), day("2025-12-02T00:00:00Z", True)],
                     HOSTS, LISTED, static_lookup({}), now=NOW)[0]
    esp = by_address(entry)["198.51.100.70"]
    assert (esp["verdict"], esp["failed"]) == ("fixed", 5)
    assert entry["legitimate_aligned_share"] == 99.75 and entry["ready"] is True
    again = evidence(["example.com"], [day("2025-12-01T00:00:00Z", True), day("2025-12-02T00:00:00Z", False)],
                     HOSTS, LISTED, static_lookup({}), now=NOW)[0]
    assert again["ready"] is False and by_address(again)["198.51.100.70"]["verdict"] == "fix"
