"""Hostile inputs and odd server states for plesk_mail_settings and plesk_domain_dkim, against the Plesk double.

Each case has a Plesk test double of its own (tests/plesk_double); its database and the key files
Plesk "wrote" must come out of the run unchanged.
"""

from hostile.host_harness import Case, hostile_tests

SPAMHAUS = "zen.spamhaus.org=127.0.0.[2..11]"
JUNK_KEY_LINE = "SECRETJUNKbm90IGEga2V5IGJ1dCBpdCBtdXN0IG5ldmVyIHNob3cgYW55d2hlcmUgZWl0aGVy"


def settings(**options):
    return {"mailauth.hardening.plesk_mail_settings": options}


def domain_dkim(domain="example.test", **options):
    return {"mailauth.hardening.plesk_domain_dkim": dict(domain=domain, keys_dir="{plesk_keys}", **options)}


def seed(*commands, env=None):
    """Seed the double with plesk-double-admin commands (each a tuple), optionally set its environment."""
    def apply(double):
        for command in commands:
            double.admin(*command)
        double.env.update(env or {})
    return apply


def signed_with(content):
    """example.test signing, its key file replaced by content (None: removed)."""
    def apply(double):
        double.admin("add-domain", "example.test", "--signing")
        key = double.keys_dir / "example.test" / "default"
        if content is None:
            key.unlink()
        else:
            key.write_text(content)
    return apply


def dkim_case(case_id, field, fix, plesk, **options):
    return Case(case_id, domain_dkim(**options), field, fix, plesk=plesk, secrets=[JUNK_KEY_LINE])


CASES = [
    Case("spamhaus_unfiltered", settings(dnsbl_zones=["zen.spamhaus.org"]), "dnsbl_zones[0]", "add the filter",
         plesk=seed()),
    Case("dqs_key_item_unfiltered", settings(dnsbl_zones=[{"zone": "zen.spamhaus.org", "dqs_key": "{{ vault_dqs_key }}"}]),
         "dnsbl_zones[0]", "add the filter", plesk=seed()),
    Case("dqs_zone_unfiltered", settings(dnsbl_zones=["{{ vault_dqs_key }}.zen.dq.spamhaus.net"]), "dnsbl_zones[0]",
         "add the filter", plesk=seed()),
    Case("dqs_option_unfiltered", settings(dnsbl_zones=["zen.spamhaus.org"], dqs_key="{{ vault_dqs_key }}"),
         "dnsbl_zones[0]", "add the filter", plesk=seed()),
    Case("dqs_key_with_error_code_filter", settings(dnsbl_zones=["zen.spamhaus.org=127.[0..255].[0..255].[0..255]"],
                                                    dqs_key="{{ vault_dqs_key }}"),
         "dnsbl_zones[0]", "narrow it", plesk=seed()),
    Case("dqs_key_not_a_key", settings(dnsbl_zones=[{"zone": "zen.spamhaus.org", "reply": "127.0.0.2",
                                                     "dqs_key": "not a key!"}]),
         "dnsbl_zones[0].dqs_key", "copy the key", plesk=seed()),
    Case("dqs_key_on_another_list", settings(dnsbl_zones=[{"zone": "bl.spamcop.net", "dqs_key": "{{ vault_dqs_key }}"}]),
         "dnsbl_zones[0].dqs_key", "drop dqs_key", plesk=seed()),
    Case("allowlist", settings(dnsbl_zones=["list.dnswl.org=127.0.[0..255].[1..3]*-2"]), "dnsbl_zones[0]",
         "leave allowlists out", plesk=seed()),
    Case("domain_blocklist", settings(dnsbl_zones=["dbl.spamhaus.org=127.0.1.[2..99]"]), "dnsbl_zones[0]",
         "domain lists belong", plesk=seed()),
    Case("reply_octet_too_big", settings(dnsbl_zones=["bl.example.net=127.0.0.300"]), "dnsbl_zones[0]", "use 0-255",
         plesk=seed()),
    Case("zone_not_a_name", settings(dnsbl_zones=["not_a zone"]), "dnsbl_zones[0]", "zone[=filter][*weight]",
         plesk=seed()),
    Case("cli_options_unknown_key", settings(spf_mode="reject_fail", cli_options={"spf_mod": "--set-spf-behavior"}),
         "cli_options", "use some of", plesk=seed()),
    Case("cli_options_not_in_help", settings(spf_mode="reject_fail", cli_options={"spf_mode": "--nope"}),
         "cli_options.spf_mode", "name an option the help text lists", plesk=seed()),
    Case("no_option_in_help", settings(dnsbl_enabled=True, spf_mode="reject_fail"), "spf_mode",
         "cli_options: {spf_mode: --the-option}", plesk=seed(env={"PLESK_DOUBLE_GUESSED_OPTIONS": "0"})),
    Case("dkim_verify_off_under_dmarc", settings(dkim_verify=False), "dkim_verify", "set dmarc_enabled: false",
         plesk=seed(("set-setting", "dmarc_policy", "true"), ("set-setting", "domain_keys_verify", "true"))),
    Case("dmarc_without_dkim_verify", settings(dmarc_enabled=True), "dmarc_enabled", "set dkim_verify: true",
         plesk=seed(("set-setting", "domain_keys_verify", "false"))),
    dkim_case("dkim_domain_not_in_plesk", "domain", "add it in Plesk first", seed(), domain="nope.test"),
    dkim_case("dkim_domain_without_mail", "domain", "switch mail on", seed(("add-domain", "web.test", "--no-mail")),
              domain="web.test"),
    dkim_case("dkim_domain_not_a_name", "domain", "letters, digits and hyphens only", seed(), domain="exa mple.test"),
    dkim_case("dkim_signing_not_allowed", "state", "dkim_sign: true",
              seed(("add-domain", "example.test"), ("set-setting", "domain_keys_sign", "false"))),
    dkim_case("dkim_key_not_pem", "keys_dir", "check keys_dir",
              signed_with("-----BEGIN RSA PRIVATE KEY-----\n%s\n-----END RSA PRIVATE KEY-----\n" % JUNK_KEY_LINE)),
    dkim_case("dkim_key_missing", "keys_dir", "check keys_dir", signed_with(None)),
]
outcomes, test_hostile_plesk, test_hostile_plesk_run_shows_no_secret = hostile_tests(CASES)
