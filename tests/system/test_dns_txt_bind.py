"""dns_txt and dns_txt_wait against a real BIND with TSIG, through ansible-playbook.

Also what dns_txt checks before sending and after (issue 12, items 5 and 6): a broken value is
refused and ``validate: false`` publishes it, warnings come back in ``findings``, a report
authorisation is judged by its syntax only, ``absent`` at a CNAME has nothing to remove, and an
update the server accepted without applying fails the read-back.

A session `named -g` on 127.0.0.1 and a free port serves one updatable zone per test,
so the tests do not depend on each other (tests/system/dns_servers.py).
"""
import base64
import os

import dns.query
import dns.tsig
import dns.update
import pytest

from ansible_collections.mailauth.hardening.plugins.module_utils._dns.errors import ProviderError
from ansible_collections.mailauth.hardening.plugins.module_utils._publish.dns_txt_task import verify_served
from ansible_collections.mailauth.hardening.plugins.module_utils._dns.providers.rfc2136 import Rfc2136Provider
from ansible_collections.mailauth.hardening.plugins.module_utils._records.txt_changes import plan_changes, wanted_records
from dns_servers import free_port, run_named, served_txt, zone_text
# dkim_value is a fixture: importing it is using it.
from dns_txt_plays import dkim_value, playbook, results  # noqa: F401 pylint: disable=unused-import

FOREIGN = "google-site-verification=keep-me"
OLD_SPF = "v=spf1 a ~all"
SPF = "v=spf1 mx a -all"
DMARC = "v=DMARC1; p=none; rua=mailto:agg@publish.test"
ZONES = {
    "publish.test": ['@ IN TXT "%s"' % FOREIGN, '@ IN TXT "%s"' % OLD_SPF],
    "badkey.test": ['@ IN TXT "%s"' % OLD_SPF],
    "walk1.test": [],
    "walk2.test": [],
    "absent.test": ['@ IN TXT "%s"' % SPF, '@ IN TXT "%s"' % FOREIGN],
    "race.test": ['@ IN TXT "%s"' % OLD_SPF],
    "wait.test": [],
    "group.test": [],
    "input.test": ['@ IN TXT "%s"' % OLD_SPF],
    "force.test": [],
    "warn.test": [],
    "reports.test": [],
    "absent-cname.test": ["alias IN CNAME target", 'target IN TXT "v=spf1 -all"'],
    "readback.test": [],
}
BROKEN_DMARC = "v=DMARC1; p=rejetc"


@pytest.fixture(scope="session")
def named(tmp_path_factory):
    zones = dict((zone, zone_text(zone, records)) for zone, records in ZONES.items())
    with run_named(zones, directory=tmp_path_factory.mktemp("named-dns-txt")) as server:
        yield server


def task(named_server, zone, records, **extra):
    args = {"provider": "rfc2136", "server": named_server.address, "key_name": named_server.key_name,
            "key_secret": named_server.key_secret, "zone": zone, "records": records}
    args.update(extra)
    return {"name": "dns_txt", "mailauth.hardening.dns_txt": args}


def test_publish_spf_dkim_dmarc_keeps_foreign_txt_and_is_idempotent(named, run_playbook, dkim_value):
    records = [{"name": "@", "value": SPF}, {"name": "s202611._domainkey", "value": dkim_value},
               {"name": "_dmarc", "value": DMARC}]
    book = playbook(task(named, "publish.test", records))

    rc, data, out = run_playbook(book, check=True, diff=True)
    assert rc == 0, out
    check = results(data)[0]
    assert check["changed"] is True
    assert check["changes"]["publish.test."]["removed"] == [OLD_SPF]
    assert check["applied"] == []
    assert {d["before_header"] for d in check["diff"]} == {
        "publish.test. TXT", "s202611._domainkey.publish.test. TXT", "_dmarc.publish.test. TXT"}
    assert served_txt(named, "publish.test.")[0] == sorted([FOREIGN, OLD_SPF]), "check mode changed the zone"
    assert served_txt(named, "_dmarc.publish.test.")[0] == []

    rc, data, out = run_playbook(book, diff=True)
    assert rc == 0, out
    first = results(data)[0]
    assert first["changed"] is True
    assert first["changes"]["publish.test."] == {
        "before": [FOREIGN, OLD_SPF], "after": [FOREIGN, SPF], "added": [SPF], "removed": [OLD_SPF]}
    assert served_txt(named, "publish.test.")[0] == sorted([FOREIGN, SPF])
    assert served_txt(named, "_dmarc.publish.test.")[0] == [DMARC]
    values, strings = served_txt(named, "s202611._domainkey.publish.test.")
    assert values == [dkim_value]
    assert len(strings[0]) == 2 and all(len(s) <= 255 for s in strings[0])
    assert named.key_secret not in out

    rc, data, out = run_playbook(book, diff=True)
    assert rc == 0, out
    second = results(data)[0]
    assert second["changed"] is False
    assert second["changes"] == {} and second["diff"] == []


@pytest.mark.parametrize("case", ["wrong_secret", "unknown_key", "unsigned"])
def test_tsig_failures_change_nothing_and_never_show_the_secret(named, run_playbook, case):
    wrong = base64.b64encode(os.urandom(32)).decode()
    extra = {"wrong_secret": {"key_secret": wrong},
             "unknown_key": {"key_name": "nobody-knows-me"},
             "unsigned": {"key_name": None, "key_secret": None}}[case]
    book = playbook(task(named, "badkey.test", [{"name": "@", "value": SPF}], **extra))
    rc, data, out = run_playbook(book)
    assert rc != 0
    result = results(data)[0]
    expected = {"wrong_secret": "BADSIG", "unknown_key": "BADKEY", "unsigned": "REFUSED"}[case]
    assert expected in result["msg"] and named.address in result["msg"], result["msg"]
    assert result["applied"] == []
    assert served_txt(named, "badkey.test.")[0] == [OLD_SPF]
    # The most talkative output there is: default callback, -vvv, diff.
    rc, _data, verbose = run_playbook(book, "-vvv", diff=True, extra_env={"ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.default"})
    assert rc != 0 and expected in verbose
    for text in (out, verbose):
        assert wrong not in text and named.key_secret not in text


def test_unreachable_server_is_named(named, run_playbook):
    port = free_port()
    rc, data, out = run_playbook(playbook(task(named, "badkey.test", [{"name": "@", "value": SPF}],
                                               server="127.0.0.1:%d" % port, timeout=2)))
    assert rc != 0
    msg = results(data)[0]["msg"]
    assert "127.0.0.1:%d" % port in msg and "refused" in msg, msg


def test_absent_removes_exactly_the_value(named, run_playbook):
    rc, data, out = run_playbook(playbook(task(named, "absent.test", [{"name": "@", "value": SPF}], state="absent")))
    assert rc == 0, out
    assert results(data)[0]["changes"]["absent.test."]["removed"] == [SPF]
    assert served_txt(named, "absent.test.")[0] == [FOREIGN]
    rc, data, out = run_playbook(playbook(task(named, "absent.test", [{"name": "@", "value": SPF}], state="absent")))
    assert results(data)[0]["changed"] is False


def test_zone_found_by_soa_walk_one_update_per_zone(named, run_playbook):
    records = [{"name": "walk1.test.", "value": SPF}, {"name": "_dmarc.walk1.test.", "value": DMARC},
               {"name": "_dmarc.walk2.test.", "value": DMARC}]
    rc, data, out = run_playbook(playbook(task(named, None, records)))
    assert rc == 0, out
    result = results(data)[0]
    assert result["zones"] == ["walk1.test.", "walk2.test."]
    assert sorted(result["changes"]) == ["_dmarc.walk1.test.", "_dmarc.walk2.test.", "walk1.test."]
    assert served_txt(named, "_dmarc.walk2.test.")[0] == [DMARC]


def test_bad_input_fails_before_anything_is_touched(named, run_playbook):
    records = [{"name": "@", "value": SPF}, {"name": "@", "value": "v=spf1 -all"}]
    rc, data, out = run_playbook(playbook(task(named, "input.test", records)))
    assert rc != 0
    assert results(data)[0]["msg"].startswith("records[1].value:")
    assert served_txt(named, "input.test.")[0] == [OLD_SPF]


def _params(server):
    return {"provider": "rfc2136", "server": server.address, "key_name": server.key_name,
            "key_secret": server.key_secret, "key_algorithm": server.key_algorithm}


def _external_update(server, build, zone="race.test"):
    keyring = {dns.name.from_text(server.key_name): dns.tsig.Key(server.key_name, server.key_secret, server.key_algorithm)}
    update = dns.update.UpdateMessage(zone, keyring=keyring, keyname=server.key_name)
    build(update)
    assert dns.query.tcp(update, server.host, port=server.port, timeout=5).rcode() == 0


@pytest.mark.parametrize("name, edit", [
    ("race.test.", lambda u: u.add("@", 60, "TXT", '"someone-else=1"')),        # RRset grew: NXRRSET
    ("_dmarc.race.test.", lambda u: u.add("_dmarc", 60, "TXT", '"v=DMARC1; p=reject"')),  # appeared: YXRRSET
])
def test_concurrent_edit_between_read_and_update_is_refused(named, name, edit):
    provider = Rfc2136Provider(_params(named), "race.test.")
    value = SPF if name == "race.test." else DMARC
    wanted = wanted_records([{"name": name, "value": value}], "race.test")
    changes = plan_changes({name: provider.read(name)}, wanted, "present")
    before = served_txt(named, name)[0]
    _external_update(named, edit)
    after_edit = served_txt(named, name)[0]
    assert after_edit != before
    with pytest.raises(ProviderError) as err:
        provider.apply(changes)
    assert "concurrent edit" in str(err.value) and named.address in str(err.value)
    assert err.value.applied == []
    assert served_txt(named, name)[0] == after_edit, "the refused update changed something"


def test_wait_passes_when_every_name_server_serves(named, run_playbook):
    records = [{"name": "_dmarc", "value": DMARC}]
    rc, data, out = run_playbook(playbook(task(named, "wait.test", records, wait=True, wait_port=named.port,
                                               wait_timeout=30, wait_interval=0.2)))
    assert rc == 0, out
    assert results(data)[0]["served_by"] == ["ns1.wait.test. (%s)" % named.address]


def test_wait_fails_naming_the_lagging_server(named, run_playbook, tmp_path):
    """A second named serves a stale copy of the zone: the wait fails and names it."""
    stale_zone = zone_text("wait.test", serial=1)
    with run_named({"wait.test": stale_zone}, allow_update=False, directory=tmp_path / "stale") as stale:
        records = [{"name": "_dkim-wait", "value": "v=DKIM1; k=rsa; p="}]
        rc, data, out = run_playbook(playbook(task(
            named, "wait.test", records, wait=True, wait_timeout=2, wait_interval=0.2,
            wait_servers=[named.address, stale.address])))
        assert rc != 0
        result = results(data)[0]
        assert stale.address in result["msg"] and "lacks" in result["msg"], result["msg"]
        assert named.address not in result["msg"].split("servers do not serve")[1]
        assert result["changed"] is True and result["applied"]

        rc, data, out = run_playbook(playbook({"mailauth.hardening.dns_txt_wait": {
            "zone": "wait.test", "records": records, "wait_timeout": 1, "wait_interval": 0.2,
            "wait_servers": [named.address, stale.address]}}))
        assert rc != 0 and stale.address in results(data)[0]["msg"]

    rc, data, out = run_playbook(playbook({"mailauth.hardening.dns_txt_wait": {
        "zone": "wait.test", "records": records, "wait_timeout": 10, "wait_interval": 0.2,
        "nameservers": [named.address], "wait_port": named.port}}))
    assert rc == 0, out
    assert results(data)[0]["changed"] is False


def test_credentials_once_through_the_action_group(named, run_playbook):
    defaults = {"group/mailauth.hardening.dns": {
        "provider": "rfc2136", "server": named.address, "key_name": named.key_name, "key_secret": named.key_secret}}
    book = playbook({"mailauth.hardening.dns_txt": {"zone": "group.test", "records": [{"name": "@", "value": SPF}]}},
                    module_defaults=defaults)
    rc, data, out = run_playbook(book)
    assert rc == 0, out
    assert served_txt(named, "group.test.")[0] == [SPF]
    assert named.key_secret not in out


def test_hmac_sha512_over_udp(tmp_path, run_playbook):
    with run_named({"sha512.test": zone_text("sha512.test")}, algorithm="hmac-sha512",
                   directory=tmp_path / "named512") as server:
        book = playbook(task(server, "sha512.test", [{"name": "@", "value": SPF}],
                             key_algorithm="hmac-sha512", protocol="udp"))
        rc, data, out = run_playbook(book)
        assert rc == 0, out
        assert served_txt(server, "sha512.test.")[0] == [SPF]
        rc, data, out = run_playbook(book)
        assert results(data)[0]["changed"] is False


def test_validate_false_publishes_a_broken_value_and_returns_its_findings(named, run_playbook):
    records = [{"name": "_dmarc", "value": BROKEN_DMARC}]
    rc, data, out = run_playbook(playbook(task(named, "force.test", records)))
    assert rc != 0
    assert results(data)[0]["msg"].startswith("records[0].value: is not a working DMARC record")
    assert served_txt(named, "_dmarc.force.test.")[0] == []

    rc, data, out = run_playbook(playbook(task(named, "force.test", records, validate=False)))
    assert rc == 0, out
    result = results(data)[0]
    assert result["changed"] is True
    assert [(f["field"], f["check"], f["severity"]) for f in result["findings"]] == [
        ("records[0].value", "dmarc.syntax", "error")]
    assert "rejetc" in " ".join(result["warnings"])
    assert served_txt(named, "_dmarc.force.test.")[0] == [BROKEN_DMARC]


def test_warnings_are_returned_and_the_value_published(named, run_playbook):
    value = "v=DMARC1; p=quarantine; pct=50; rua=mailto:agg@warn.test"
    rc, data, out = run_playbook(playbook(task(named, "warn.test", [{"name": "_dmarc", "value": value}])), check=True)
    assert rc == 0, out
    assert [f["check"] for f in results(data)[0]["findings"]] == ["dmarc.obsolete"]
    rc, data, out = run_playbook(playbook(task(named, "warn.test", [{"name": "_dmarc", "value": value}])))
    assert rc == 0, out
    result = results(data)[0]
    assert [(f["field"], f["check"], f["severity"]) for f in result["findings"]] == [
        ("records[0].value", "dmarc.obsolete", "warning")]
    assert any("pct" in w for w in result["warnings"])
    assert served_txt(named, "_dmarc.warn.test.")[0] == [value]


def test_a_report_authorisation_is_judged_by_its_syntax_only(named, run_playbook):
    records = [{"name": "client.example._report._dmarc", "value": "v=DMARC1"}]
    rc, data, out = run_playbook(playbook(task(named, "reports.test", records)))
    assert rc == 0, out
    assert results(data)[0]["findings"] == []
    assert served_txt(named, "client.example._report._dmarc.reports.test.")[0] == ["v=DMARC1"]


def test_absent_at_a_cname_has_nothing_to_remove(named, run_playbook):
    records = [{"name": "alias", "value": "v=spf1 -all"}]
    rc, data, out = run_playbook(playbook(task(named, "absent-cname.test", records, state="absent")))
    assert rc == 0, out
    assert results(data)[0]["changed"] is False
    assert served_txt(named, "target.absent-cname.test.")[0] == ["v=spf1 -all"]


def test_an_update_the_server_did_not_apply_fails_the_read_back(named):
    """A CNAME appears between the read and the update: BIND answers NOERROR and ignores the TXT."""
    provider = Rfc2136Provider(_params(named), "readback.test.")
    name = "late.readback.test."
    wanted = wanted_records([{"name": name, "value": "v=spf1 mx -all"}], "readback.test")
    changes = plan_changes({name: provider.read(name)}, wanted, "present")
    _external_update(named, lambda u: u.add("late", 60, "CNAME", "elsewhere.example."), zone="readback.test")

    applied = provider.apply(changes)  # NOERROR: the server accepted the update
    assert applied == [{"name": name, "action": "add", "value": "v=spf1 mx -all"}]
    with pytest.raises(ProviderError) as err:
        verify_served(provider, changes, applied)
    message = str(err.value)
    assert "does not serve it" in message and "holds a CNAME to elsewhere.example." in message
    assert "lacks 'v=spf1 mx -all'" in message and "Fix:" in message
    assert err.value.applied == []  # nothing of it is in effect
