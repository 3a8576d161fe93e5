"""dns_record against a real BIND with TSIG, through ansible-playbook: TLSA, CNAME, MX, A and AAAA
created, unchanged on the second run, in check mode, in diff mode and removed; a CNAME beside other
records refused; a concurrent edit between read and update failing atomically.

A session `named -g` on 127.0.0.1 and a free port serves one updatable zone per test
(tests/system/dns_servers.py), as for dns_txt (test_dns_txt_bind.py).
"""
import dns.query
import dns.tsig
import dns.update
import pytest

from ansible_collections.mailauth.hardening.plugins.module_utils._dns.errors import ProviderError
from ansible_collections.mailauth.hardening.plugins.module_utils._dns.providers.rfc2136 import Rfc2136Provider
from ansible_collections.mailauth.hardening.plugins.module_utils._records.rrset_changes import plan_rrsets, wanted_rrsets
from dns_servers import run_named, zone_records, zone_text
from dns_txt_plays import playbook, results

D_OLD = "3 1 1 " + "0b" * 32
D_NEW = "3 1 1 " + "1a" * 32
FOREIGN = "google-site-verification=keep-me"
ZONES = {
    "types.test": ["mx IN A 192.0.2.1", '@ IN TXT "%s"' % FOREIGN, "_25._tcp.mx IN TLSA %s" % D_OLD],
    "absent.test": ["@ IN MX 10 mx1.absent.test.", "@ IN MX 20 mx2.absent.test.",
                    "_25._tcp.mx1 IN TLSA %s" % D_OLD, "_25._tcp.mx1 IN TLSA %s" % D_NEW],
    "conflict.test": ["mta-sts IN A 192.0.2.1", "alias IN CNAME elsewhere.example."],
    "race.test": ["_25._tcp.mx IN TLSA %s" % D_OLD],
    "dkim.test": [],
}


@pytest.fixture(scope="session")
def named(tmp_path_factory):
    zones = dict((zone, zone_text(zone, records)) for zone, records in ZONES.items())
    with run_named(zones, directory=tmp_path_factory.mktemp("named-dns-record")) as server:
        yield server


def task(server, zone, records, **extra):
    args = {"provider": "rfc2136", "server": server.address, "key_name": server.key_name,
            "key_secret": server.key_secret, "zone": zone, "records": records}
    args.update(extra)
    return {"name": "dns_record", "mailauth.hardening.dns_record": args}


def without_ns(records):
    return dict((key, values) for key, values in records.items() if key[1] != "NS" and not key[0].startswith("ns1."))


def test_create_check_diff_and_no_change(named, run_playbook):
    records = [
        {"name": "_25._tcp.mx", "type": "TLSA", "value": D_NEW.upper()},
        {"name": "mta-sts", "type": "CNAME", "value": "sts.mail-host.example.net."},
        {"name": "@", "type": "MX", "value": "10 mx.types.test."},
        {"name": "mx", "type": "A", "value": "192.0.2.25"},
        {"name": "mx", "type": "AAAA", "value": "2001:0db8::25"},
        {"name": "@", "type": "TXT", "value": "v=spf1 mx -all"},
    ]
    book = playbook(task(named, "types.test", records, ttl=300))
    before = zone_records(named, "types.test")

    rc, data, out = run_playbook(book, check=True, diff=True)
    assert rc == 0, out
    check = results(data)[0]
    assert check["changed"] is True and check["applied"] == []
    assert [d["before_header"] for d in check["diff"]] == [
        "_25._tcp.mx.types.test. TLSA", "mta-sts.types.test. CNAME", "types.test. MX", "mx.types.test. A",
        "mx.types.test. AAAA", "types.test. TXT"]
    assert zone_records(named, "types.test") == before, "check mode changed the zone"

    rc, data, out = run_playbook(book, diff=True)
    assert rc == 0, out
    first = results(data)[0]
    assert first["changed"] is True
    assert first["changes"]["_25._tcp.mx.types.test. TLSA"] == {
        "before": [D_OLD], "after": [D_NEW.lower()], "added": [D_NEW.lower()], "removed": [D_OLD]}
    assert first["changes"]["mx.types.test. A"]["removed"] == ["192.0.2.1"]
    served = without_ns(zone_records(named, "types.test"))
    assert served == {
        ("_25._tcp.mx.types.test.", "TLSA"): [D_NEW.lower()],
        ("mta-sts.types.test.", "CNAME"): ["sts.mail-host.example.net."],
        ("types.test.", "MX"): ["10 mx"],  # the zone transfer writes names inside the zone relative
        ("mx.types.test.", "A"): ["192.0.2.25"],
        ("mx.types.test.", "AAAA"): ["2001:db8::25"],
        ("types.test.", "TXT"): sorted([FOREIGN, "v=spf1 mx -all"]),
    }
    assert named.key_secret not in out

    rc, data, out = run_playbook(book, diff=True)
    assert rc == 0, out
    second = results(data)[0]
    assert second["changed"] is False and second["changes"] == {} and second["diff"] == []


def test_absent_removes_exactly_the_listed_values(named, run_playbook):
    records = [{"name": "_25._tcp.mx1", "type": "TLSA", "value": D_OLD},
               {"name": "@", "type": "MX", "value": "20 mx2.absent.test."}]
    book = playbook(task(named, "absent.test", records, state="absent"))
    rc, data, out = run_playbook(book)
    assert rc == 0, out
    assert results(data)[0]["changed"] is True
    served = zone_records(named, "absent.test")
    assert served[("_25._tcp.mx1.absent.test.", "TLSA")] == [D_NEW]
    assert served[("absent.test.", "MX")] == ["10 mx1"]
    rc, data, out = run_playbook(book)
    assert rc == 0 and results(data)[0]["changed"] is False


@pytest.mark.parametrize("record, words", [
    ({"name": "mta-sts", "type": "CNAME", "value": "sts.example.net."}, "holds A records"),
    ({"name": "alias", "type": "AAAA", "value": "2001:db8::1"}, "holds a CNAME to elsewhere.example."),
])
def test_a_cname_beside_other_records_is_refused_before_anything_is_sent(named, run_playbook, record, words):
    before = zone_records(named, "conflict.test")
    rc, data, out = run_playbook(playbook(task(named, "conflict.test", [record])))
    assert rc != 0
    msg = results(data)[0]["msg"]
    assert msg.startswith("records[0].name:") and words in msg and "Fix:" in msg, msg
    assert zone_records(named, "conflict.test") == before


def test_cname_and_another_record_at_one_name_in_the_task_is_refused(named, run_playbook):
    records = [{"name": "new", "type": "CNAME", "value": "sts.example.net."},
               {"name": "new", "type": "TXT", "value": "v=spf1 -all"}]
    rc, data, out = run_playbook(playbook(task(named, "conflict.test", records)))
    assert rc != 0 and results(data)[0]["msg"].startswith("records[1].name:")


def test_a_dkim_selector_delegated_by_cname_within_the_domains_names(named, run_playbook):
    records = [{"name": "s1._domainkey.dkim.test.", "type": "CNAME", "value": "s1.domainkey.u1.esp.example."}]
    rc, data, out = run_playbook(playbook(task(named, None, records, domain="dkim.test")))
    assert rc == 0, out
    assert results(data)[0]["zones"] == ["dkim.test."]
    assert zone_records(named, "dkim.test")[("s1._domainkey.dkim.test.", "CNAME")] == ["s1.domainkey.u1.esp.example."]
    rc, data, out = run_playbook(playbook(task(named, None, [{"name": "www.dkim.test.", "type": "A",
                                                             "value": "192.0.2.1"}], domain="dkim.test")))
    assert rc != 0 and results(data)[0]["msg"].startswith("records[0].name:")


def _params(server):
    return {"provider": "rfc2136", "server": server.address, "key_name": server.key_name,
            "key_secret": server.key_secret, "key_algorithm": server.key_algorithm}


def _external_update(server, build):
    keyring = {dns.name.from_text(server.key_name): dns.tsig.Key(server.key_name, server.key_secret, server.key_algorithm)}
    update = dns.update.UpdateMessage("race.test", keyring=keyring, keyname=server.key_name)
    build(update)
    assert dns.query.tcp(update, server.host, port=server.port, timeout=5).rcode() == 0


@pytest.mark.parametrize("record, edit", [
    ({"name": "_25._tcp.mx.race.test.", "type": "TLSA", "value": D_NEW},     # the RRset grew: NXRRSET
     lambda u: u.add("_25._tcp.mx", 60, "TLSA", "3 1 1 " + "cc" * 32)),
    ({"name": "mta-sts.race.test.", "type": "CNAME", "value": "sts.example.net."},  # the name filled: YXDOMAIN
     lambda u: u.add("mta-sts", 60, "A", "192.0.2.7")),
])
def test_a_concurrent_edit_between_read_and_update_fails_atomically(named, record, edit):
    provider = Rfc2136Provider(_params(named), "race.test.")
    wanted = wanted_rrsets([record], "race.test")
    key = (wanted[0].name, wanted[0].rtype)
    changes = plan_rrsets({key: provider.read_rrset(*key)}, wanted, "present")
    if key[1] == "CNAME":
        assert provider.types_at(key[0]) == set()  # what the publish step asks before a CNAME
    _external_update(named, edit)
    after_edit = zone_records(named, "race.test")
    with pytest.raises(ProviderError) as err:
        provider.apply_rrsets(changes)
    assert "concurrent edit" in str(err.value) and named.address in str(err.value)
    assert err.value.applied == []
    assert zone_records(named, "race.test") == after_edit, "the refused update changed something"
