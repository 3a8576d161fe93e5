"""dns_txt through dns-lexicon against a real PowerDNS (sqlite3 back end, HTTP API).

A session `pdns_server` on 127.0.0.1 and free ports (DNS and API) serves one zone per
test (tests/system/dns_servers.py); lexicon's zone check asks it through `nameservers`.
"""
import pytest

from dns_servers import free_port, run_pdns, served_txt
# dkim_value is a fixture: importing it is using it.
from dns_txt_plays import dkim_value, playbook, results  # noqa: F401 pylint: disable=unused-import

FOREIGN = "google-site-verification=keep-me"
OLD_SPF = "v=spf1 ip4:192.0.2.0/24 ~all"
SPF = "v=spf1 mx ip4:198.51.100.0/24 -all"
DMARC = "v=DMARC1; p=none; rua=mailto:agg@publish.test"
ZONES = {
    "publish.test": ['@ 300 TXT "%s"' % FOREIGN, '@ 300 TXT "%s"' % OLD_SPF,
                     's1._domainkey 300 TXT "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC/old+key"'],
    "quotes.test": [],
    "badtoken.test": ['@ 300 TXT "%s"' % OLD_SPF],
    "absent.test": ['@ 300 TXT "%s"' % FOREIGN, '@ 300 TXT "%s"' % SPF],
}


@pytest.fixture(scope="session")
def pdns(tmp_path_factory):
    with run_pdns(ZONES, directory=tmp_path_factory.mktemp("pdns-dns-txt")) as server:
        yield server


def task(server, zone, records, **extra):
    args = {"provider": "powerdns", "zone": zone, "records": records, "nameservers": [server.address],
            "provider_options": {"auth_token": server.api_key, "pdns_server": server.api_url}}
    args.update(extra)
    return {"name": "dns_txt", "mailauth.hardening.dns_txt": args}


def test_publish_spf_dkim_dmarc_keeps_foreign_txt_and_is_idempotent(pdns, run_playbook, dkim_value):
    records = [{"name": "@", "value": SPF}, {"name": "s1._domainkey", "value": dkim_value},
               {"name": "_dmarc", "value": DMARC}]
    book = playbook(task(pdns, "publish.test", records))

    rc, data, out = run_playbook(book, check=True, diff=True)
    assert rc == 0, out
    check = results(data)[0]
    assert check["changed"] is True and check["applied"] == []
    assert len(check["diff"]) == 3
    assert served_txt(pdns, "publish.test.")[0] == sorted([FOREIGN, OLD_SPF]), "check mode changed the zone"

    rc, data, out = run_playbook(book, diff=True)
    assert rc == 0, out
    first = results(data)[0]
    assert first["changed"] is True
    # The old values hold '/', which lexicon's own delete-by-id cannot remove.
    assert first["changes"]["publish.test."]["removed"] == [OLD_SPF]
    assert served_txt(pdns, "publish.test.")[0] == sorted([FOREIGN, SPF])
    assert served_txt(pdns, "_dmarc.publish.test.")[0] == [DMARC]
    values, strings = served_txt(pdns, "s1._domainkey.publish.test.")
    assert values == [dkim_value]
    assert all(len(s) <= 255 for s in strings[0])
    assert sorted(a["action"] for a in first["applied"]) == ["add", "add", "add", "remove", "remove"]
    assert pdns.api_key not in out

    rc, data, out = run_playbook(book, diff=True)
    assert rc == 0, out
    assert results(data)[0]["changed"] is False


def test_quotes_and_backslashes_are_escaped(pdns, run_playbook):
    value = 'verification="a b"; path=C:\\x'
    book = playbook(task(pdns, "quotes.test", [{"name": "@", "value": value}]))
    rc, data, out = run_playbook(book)
    assert rc == 0, out
    assert served_txt(pdns, "quotes.test.")[0] == [value]
    rc, data, out = run_playbook(book)
    assert results(data)[0]["changed"] is False


def test_absent_removes_exactly_the_value(pdns, run_playbook):
    book = playbook(task(pdns, "absent.test", [{"name": "@", "value": SPF}], state="absent"))
    rc, data, out = run_playbook(book)
    assert rc == 0, out
    assert served_txt(pdns, "absent.test.")[0] == [FOREIGN]


def test_wrong_api_key_fails_changes_nothing_and_hides_the_key(pdns, run_playbook):
    wrong = "not-the-key-0123456789"
    book = playbook(task(pdns, "badtoken.test", [{"name": "@", "value": SPF}],
                         provider_options={"auth_token": wrong, "pdns_server": pdns.api_url}))
    rc, data, out = run_playbook(book)
    assert rc != 0
    msg = results(data)[0]["msg"]
    assert "HTTP 401" in msg and "powerdns" in msg, msg
    assert served_txt(pdns, "badtoken.test.")[0] == [OLD_SPF]
    assert wrong not in out and pdns.api_key not in out


def test_unreachable_api_is_named(pdns, run_playbook):
    url = "http://127.0.0.1:%d" % free_port()
    rc, data, out = run_playbook(playbook(task(pdns, "badtoken.test", [{"name": "@", "value": SPF}],
                                               provider_options={"auth_token": "x" * 16, "pdns_server": url})))
    assert rc != 0
    msg = results(data)[0]["msg"]
    assert "ConnectionError" in msg and "badtoken.test" in msg, msg
