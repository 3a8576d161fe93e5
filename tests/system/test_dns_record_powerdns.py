"""dns_record through dns-lexicon against a real PowerDNS (sqlite3 back end, HTTP API): PowerDNS
takes MX and TLSA in presentation format, so every type is written; a CNAME beside other records
is refused. The server comes from tests/system/dns_servers.py, as for test_dns_txt_powerdns.py.
"""
import dns.message
import dns.query
import dns.rdatatype
import pytest

from dns_servers import run_pdns
from dns_txt_plays import playbook, results

D_OLD = "3 1 1 " + "0b" * 32
D_NEW = "3 1 1 " + "1a" * 32
ZONES = {
    "types.test": ["mx 300 A 192.0.2.1", "_25._tcp.mx 300 TLSA %s" % D_OLD, "@ 300 MX 20 old.types.test."],
    "conflict.test": ["mta-sts 300 A 192.0.2.1"],
}


@pytest.fixture(scope="session")
def pdns(tmp_path_factory):
    with run_pdns(ZONES, directory=tmp_path_factory.mktemp("pdns-dns-record")) as server:
        yield server


def served(server, name, rtype):
    reply = dns.query.tcp(dns.message.make_query(name, rtype), server.host, port=server.port, timeout=5)
    wanted = dns.rdatatype.from_text(rtype)
    return sorted(r.to_text() for rrset in reply.answer if rrset.rdtype == wanted for r in rrset)


def task(server, zone, records, **extra):
    args = {"provider": "powerdns", "zone": zone, "records": records, "nameservers": [server.address],
            "provider_options": {"auth_token": server.api_key, "pdns_server": server.api_url}}
    args.update(extra)
    return {"name": "dns_record", "mailauth.hardening.dns_record": args}


def test_every_type_is_written_and_the_second_run_changes_nothing(pdns, run_playbook):
    records = [{"name": "_25._tcp.mx", "type": "TLSA", "value": D_NEW},
               {"name": "@", "type": "MX", "value": "10 mx.types.test."},
               {"name": "mta-sts", "type": "CNAME", "value": "web.types.test."},
               {"name": "mx", "type": "A", "value": "192.0.2.25"},
               {"name": "mx", "type": "AAAA", "value": "2001:db8::25"}]
    book = playbook(task(pdns, "types.test", records))
    rc, data, out = run_playbook(book, check=True, diff=True)
    assert rc == 0, out
    assert results(data)[0]["changed"] is True and len(results(data)[0]["diff"]) == 5
    assert served(pdns, "types.test.", "MX") == ["20 old.types.test."], "check mode changed the zone"

    rc, data, out = run_playbook(book)
    assert rc == 0, out
    first = results(data)[0]
    assert first["changes"]["types.test. MX"]["removed"] == ["20 old.types.test."]
    assert served(pdns, "_25._tcp.mx.types.test.", "TLSA") == [D_NEW]
    assert served(pdns, "types.test.", "MX") == ["10 mx.types.test."]
    assert served(pdns, "mta-sts.types.test.", "CNAME") == ["web.types.test."]
    assert served(pdns, "mx.types.test.", "A") == ["192.0.2.25"]
    assert served(pdns, "mx.types.test.", "AAAA") == ["2001:db8::25"]
    assert pdns.api_key not in out

    rc, data, out = run_playbook(book)
    assert rc == 0, out
    assert results(data)[0]["changed"] is False


def test_a_cname_beside_an_a_record_is_refused(pdns, run_playbook):
    rc, data, out = run_playbook(playbook(task(pdns, "conflict.test", [
        {"name": "mta-sts", "type": "CNAME", "value": "sts.conflict.test."}])))
    assert rc != 0
    assert results(data)[0]["msg"].startswith("records[0].name:") and "holds A records" in results(data)[0]["msg"]
    assert served(pdns, "mta-sts.conflict.test.", "A") == ["192.0.2.1"]


def test_a_cname_target_outside_the_zone_is_refused_before_anything_is_sent(pdns, run_playbook):
    """lexicon's powerdns module would write sts.example.net.conflict.test. instead."""
    rc, data, out = run_playbook(playbook(task(pdns, "conflict.test", [
        {"name": "@", "type": "A", "value": "192.0.2.9"},
        {"name": "policy", "type": "CNAME", "value": "sts.example.net."}])))
    assert rc != 0
    msg = results(data)[0]["msg"]
    assert msg.startswith("records[1].value:") and "rfc2136" in msg, msg
    assert served(pdns, "conflict.test.", "A") == [] and served(pdns, "policy.conflict.test.", "CNAME") == []
