"""dns-lexicon back end: TXT dialects and the apply logic, with a fake lexicon client."""
import pytest

from ansible_collections.mailauth.hardening.plugins.module_utils._dns.providers import lexicon as lex
from ansible_collections.mailauth.hardening.plugins.module_utils._dns.errors import NameConflict, ProviderError

LONG = "v=DKIM1; k=rsa; p=" + "AB/+" * 100


@pytest.mark.parametrize("dialect", [lex.Dialect(), lex.PowerDnsDialect(), lex.Route53Dialect()])
@pytest.mark.parametrize("value", ["v=spf1 ip4:192.0.2.0/24 -all", LONG, 'a "quoted" \\ value'])
def test_dialects_round_trip(dialect, value):
    encoded = dialect.encode(value)
    if isinstance(dialect, lex.PowerDnsDialect):
        row = {"content": encoded.strip('"'), "id": "TXT/x.example.com.=%s" % encoded}
    elif isinstance(dialect, lex.Route53Dialect):
        row = {"content": encoded}  # lexicon strips the pair of quotes it added
    else:
        row = {"content": encoded, "id": "1"}
    assert dialect.decode(row) == value


def test_powerdns_gets_split_escaped_presentation_text():
    assert lex.PowerDnsDialect().encode('say "hi"') == '"say \\"hi\\""'
    encoded = lex.PowerDnsDialect().encode(LONG)
    assert encoded.count('" "') == 1 and len(encoded) == len(LONG) + 5


def test_default_decode_accepts_quoted_text():
    assert lex.Dialect().decode({"content": '"v=spf1 " "-all"'}) == "v=spf1 -all"


class FakeOps(object):
    """A lexicon provider keeping TXT rows {id, name, content}."""

    def __init__(self, rows, fail_on=None, ignore=()):
        self.rows = [dict(r) for r in rows]
        self.calls = []
        self.fail_on = fail_on
        self.ignore = ignore
        self.next_id = 100

    def _call(self, what):
        self.calls.append(what)
        if what == self.fail_on:
            raise RuntimeError("API said no")
        return what not in self.ignore

    def list_records(self, rtype=None, name=None, content=None):
        return [dict({"type": "TXT"}, **r) for r in self.rows
                if r["name"] + "." == name and r.get("type", "TXT") == (rtype or "TXT")]

    def create_record(self, rtype, name, content):
        if self._call("create"):
            self.next_id += 1
            self.rows.append({"id": str(self.next_id), "name": name.rstrip("."), "type": rtype, "content": content})
        return True

    def update_record(self, identifier, rtype=None, name=None, content=None):
        if self._call("update"):
            for row in self.rows:
                if row["id"] == identifier:
                    row["content"] = content
        return True

    def delete_record(self, identifier=None, rtype=None, name=None, content=None):
        if self._call("delete"):
            self.rows = [r for r in self.rows if r["id"] != identifier]
        return True


class FakeClient(object):
    ops = None

    def __init__(self, config):
        self.config = config

    def __enter__(self):
        return FakeClient.ops

    def __exit__(self, *args):
        return None


class FakeConfigResolver:
    """Hands the config dict straight to FakeClient."""

    @staticmethod
    def with_dict(config):
        return config


@pytest.fixture
def provider(monkeypatch):
    monkeypatch.setattr(lex, "Client", FakeClient)
    monkeypatch.setattr(lex, "ConfigResolver", FakeConfigResolver)
    monkeypatch.setattr(lex, "HAS_LEXICON", True)

    def make(rows, name="cloudflare", **fake):
        FakeClient.ops = FakeOps(rows, **fake)
        return lex.LexiconProvider({"provider": name, "provider_options": {"auth_token": "s3cret-token"},
                                    "nameservers": ["127.0.0.1"]}, "example.com.")
    return make


ROWS = [{"id": "1", "name": "example.com", "content": "v=spf1 a ~all"},
        {"id": "2", "name": "example.com", "content": "google-site-verification=abc"}]
CHANGE = {"example.com.": {"add": ["v=spf1 mx -all"], "remove": ["v=spf1 a ~all"], "ttl": None}}


def test_config_sets_zone_and_resolve_zone_name(provider):
    p = provider(ROWS)
    assert p.config["domain"] == "example.com" and p.config["resolve_zone_name"] is True
    assert p.config["cloudflare"] == {"auth_token": "s3cret-token"}


def test_replacement_of_an_owned_tag_is_one_update_by_id(provider):
    p = provider(ROWS)
    assert p.read("example.com.") == ["v=spf1 a ~all", "google-site-verification=abc"]
    applied = p.apply(CHANGE)
    assert FakeClient.ops.calls == ["update"]
    assert sorted(a["action"] for a in applied) == ["add", "remove"]
    assert p.config["ttl"] == lex.DEFAULT_TTL


def test_plain_values_are_created_and_deleted(provider):
    p = provider(ROWS)
    p.read("example.com.")
    p.apply({"example.com.": {"add": ["x=1"], "remove": ["google-site-verification=abc"], "ttl": 300}})
    assert FakeClient.ops.calls == ["create", "delete"]
    assert p.config["ttl"] == 300


def test_failure_reports_what_took_effect(provider):
    p = provider(ROWS, fail_on="delete")
    p.read("example.com.")
    with pytest.raises(ProviderError) as err:
        p.apply({"example.com.": {"add": ["x=1"], "remove": ["google-site-verification=abc"], "ttl": None}})
    assert err.value.applied == [{"name": "example.com.", "action": "add", "value": "x=1"}]
    assert "API said no" in str(err.value) and "Applied before the failure: add" in str(err.value)


def test_success_that_did_nothing_is_an_error(provider):
    p = provider(ROWS, ignore=("update",))
    p.read("example.com.")
    with pytest.raises(ProviderError) as err:
        p.apply(CHANGE)
    assert "not there" in str(err.value)
    assert err.value.applied == []


def test_secrets_are_scrubbed_from_errors(provider):
    p = provider(ROWS)
    assert "s3cret-token" not in p._message("x", RuntimeError("GET https://api/?token=s3cret-token failed"))


def test_powerdns_deletes_by_exact_stored_content(provider):
    rows = [{"id": 'TXT/example.com.="v=spf1 ip4:192.0.2.0/24 ~all"', "name": "example.com",
             "content": "v=spf1 ip4:192.0.2.0/24 ~all"}]
    p = provider(rows, name="powerdns")
    calls = []
    FakeClient.ops.delete_record = lambda identifier=None, rtype=None, name=None, content=None: calls.append(
        (identifier, name, content))
    p.read("example.com.")
    with pytest.raises(ProviderError):  # the fake ignores the delete, so the check afterwards fails
        p.apply({"example.com.": {"add": [], "remove": ["v=spf1 ip4:192.0.2.0/24 ~all"], "ttl": None}})
    assert calls == [(None, "example.com.", '"v=spf1 ip4:192.0.2.0/24 ~all"')]


def test_a_name_holding_a_cname_is_a_conflict(provider):
    p = provider(ROWS + [{"id": "3", "name": "www.example.com", "type": "CNAME", "content": "web.example.net"}])
    with pytest.raises(NameConflict) as err:
        p.read("www.example.com.")
    assert (err.value.kind, err.value.target) == ("cname", "web.example.net.")


def test_a_failing_call_names_its_value_and_a_fix(provider):
    p = provider(ROWS, fail_on="update")
    p.read("example.com.")
    with pytest.raises(ProviderError) as err:
        p.apply(CHANGE)
    assert err.value.value == "v=spf1 mx -all" and "Fix:" in str(err.value)


def test_powerdns_reads_mx_and_tlsa_in_presentation_format():
    row = {"id": "MX/example.com.=10 MX.example.com.", "content": "10 MX.example.com."}
    assert lex.PowerDnsDialect().decode_rdata("MX", row) == "10 mx.example.com."
    assert lex.Dialect().decode_rdata("CNAME", {"content": "sts.example.net"}) == "sts.example.net."


@pytest.mark.parametrize("name, types", [("powerdns", ("TXT", "TLSA", "CNAME", "MX", "A", "AAAA")),
                                         ("cloudflare", ("TXT", "CNAME", "A", "AAAA"))])
def test_types_each_lexicon_provider_writes(name, types):
    assert lex.LexiconProvider.types_for({"provider": name}) == types


def test_other_types_are_created_and_deleted_with_their_type(provider):
    p = provider([{"id": "7", "name": "www.example.com", "type": "A", "content": "192.0.2.1"}])
    FakeClient.ops.list_records = lambda rtype=None, name=None, content=None: [
        dict(r) for r in FakeClient.ops.rows if r["name"] + "." == name and rtype in (None, r.get("type", "TXT"))]
    assert p.read_rrset("www.example.com.", "A") == ["192.0.2.1"]
    applied = p.apply_rrsets({("www.example.com.", "A"): {"add": ["192.0.2.2"], "remove": ["192.0.2.1"], "ttl": 300}})
    assert FakeClient.ops.calls == ["create", "delete"]
    assert {(a["type"], a["action"], a["value"]) for a in applied} == {("A", "add", "192.0.2.2"), ("A", "remove", "192.0.2.1")}


def test_powerdns_refuses_a_cname_target_outside_the_zone(provider):
    from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError
    from ansible_collections.mailauth.hardening.plugins.module_utils._records.rrset_changes import wanted_rrsets
    p = provider([], name="powerdns")
    outside, inside = wanted_rrsets([{"name": "a", "type": "CNAME", "value": "sts.example.net."},
                                     {"name": "b", "type": "CNAME", "value": "web.example.com."}], "example.com")
    with pytest.raises(InputError) as err:
        p.check_wanted(outside)
    assert err.value.field == "records[0].value" and "sts.example.net.example.com" in str(err.value)
    p.check_wanted(inside)
    provider([], name="cloudflare").check_wanted(outside)
