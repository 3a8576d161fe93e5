"""One provider base class, and the registry that picks a back end by name."""
import pytest

from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError
from ansible_collections.mailauth.hardening.plugins.module_utils._dns.providers import base, registry
from ansible_collections.mailauth.hardening.plugins.module_utils._dns.providers.lexicon import LexiconProvider
from ansible_collections.mailauth.hardening.plugins.module_utils._dns.providers.plesk import PleskProvider
from ansible_collections.mailauth.hardening.plugins.module_utils._dns.providers.rfc2136 import Rfc2136Provider


@pytest.mark.parametrize("name, cls", [("rfc2136", Rfc2136Provider), ("plesk", PleskProvider),
                                       ("powerdns", LexiconProvider), ("cloudflare", LexiconProvider)])
def test_the_registry_picks_a_subclass_of_the_one_base(name, cls):
    assert registry.provider_class(name) is cls
    assert issubclass(cls, base.Provider)


def test_a_bad_provider_name_is_refused_naming_the_field():
    with pytest.raises(InputError) as err:
        registry.provider_class("Power DNS")
    assert err.value.field == "provider"


def test_a_back_end_must_read_and_apply():
    class Half(base.Provider):
        def read(self, name):
            return []
    with pytest.raises(TypeError):
        Half({}, "example.com.")  # pylint: disable=abstract-class-instantiated


def test_every_back_end_is_built_the_same_way():
    class Fake(object):
        def run(self, argv):
            return 0, "", ""
    provider = registry.open_provider({"provider": "plesk"}, "example.com.", Fake())
    assert (provider.zone, provider.domain) == ("example.com.", "example.com")
    rfc = registry.open_provider({"provider": "rfc2136", "server": "127.0.0.1"}, "example.com.")
    assert (rfc.zone, rfc.host, rfc.port, rfc.adapter) == ("example.com.", "127.0.0.1", 53, None)


def test_zone_discovery_without_a_provider_or_an_adapter_is_the_soa_walk(monkeypatch):
    asked = []
    monkeypatch.setattr(base, "zone_for_name", lambda name, params: asked.append(name) or "example.com.")
    assert registry.find_zone({}, "s1._domainkey.example.com.") == "example.com."
    assert registry.find_zone({"provider": "plesk"}, "_dmarc.example.com.") == "example.com."
    assert asked == ["s1._domainkey.example.com.", "_dmarc.example.com."]
