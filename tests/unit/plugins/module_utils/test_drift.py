"""Drift items from registered results, the fleet fold and the report (pure)."""
import json

from ansible_collections.mailauth.hardening.plugins.module_utils._drift import drift as _drift

HOST = "mx1.example.test"


def postconf_result():
    """As the postconf module returns it in check mode with diff (see _postconf.diff)."""
    return {"changed": True, "commands": ["postconf -e ..."], "diff": [
        {"before_header": "/etc/postfix/main.cf", "after_header": "/etc/postfix/main.cf",
         "before": "smtpd_helo_required = no\ndisable_vrfy_command = no\n",
         "after": "smtpd_helo_required = yes\ndisable_vrfy_command = yes\nsmtpd_milters = inet:127.0.0.1:8891\n"},
        {"before_header": "/etc/postfix/master.cf", "after_header": "/etc/postfix/master.cf",
         "before": "smtp      inet  n       -       y       -       -       smtpd\n",
         "after": "smtp      inet  n       -       y       -       1       postscreen\n"
                  "smtpd/pass/smtpd_tls_security_level = may\n"}]}


def test_postconf_diff_gives_one_item_per_parameter_and_service():
    items = _drift.items_from_results({"mailauth_result_postfix_hardening": postconf_result()}, HOST)
    # Named as postconf names them: NAME (main.cf), SERVICE/TYPE (-M) and SERVICE/TYPE/NAME (-P).
    assert [(i["setting"], i["actual"], i["expected"]) for i in items] == [
        ("disable_vrfy_command", "no", "yes"),
        ("smtp/inet", "smtp      inet  n       -       y       -       -       smtpd",
         "smtp      inet  n       -       y       -       1       postscreen"),
        ("smtpd/pass/smtpd_tls_security_level", None, "may"),
        ("smtpd_helo_required", "no", "yes"),
        ("smtpd_milters", None, "inet:127.0.0.1:8891"),
    ]
    assert {(i["host"], i["component"]) for i in items} == {(HOST, "postfix_hardening")}


def test_parameter_removed_and_empty_value():
    result = {"changed": True, "diff": [{"before_header": "/etc/postfix/main.cf", "after_header": "/etc/postfix/main.cf",
                                         "before": "policyd-spf_time_limit = 3600\nmydestination =\n",
                                         "after": "mydestination = localhost\n"}]}
    items = _drift.items_from_results({"mailauth_result_postfix_spf": result}, HOST)
    assert [(i["setting"], i["actual"], i["expected"]) for i in items] == [
        ("mydestination", "", "localhost"), ("policyd-spf_time_limit", "3600", None)]


def test_template_diff_gives_one_item_per_changed_line():
    result = {"changed": True, "diff": {
        "before_header": "/etc/opendkim/KeyTable", "after_header": "/work/roles/dkim/templates/KeyTable.j2",
        "before": "# managed\ns1._domainkey.a.test a.test:s1:/k/a\n",
        "after": "# managed\ns1._domainkey.a.test a.test:s1:/k/a\ns2._domainkey.b.test b.test:s2:/k/b\n"}}
    items = _drift.items_from_results({"mailauth_result_dkim_keytable": result}, HOST)
    assert items == [{"host": HOST, "component": "dkim_keytable", "setting": "/etc/opendkim/KeyTable:3",
                      "expected": "s2._domainkey.b.test b.test:s2:/k/b", "actual": None}]


def test_changed_lines_pair_up_and_a_deleted_line_is_reported_where_it_was():
    result = {"changed": True, "diff": {"before_header": "/etc/opendkim.conf", "after_header": "opendkim.conf.j2",
                                        "before": "Mode sv\nCanonicalization simple\nSyslog yes\n",
                                        "after": "Mode s\nSyslog yes\n"}}
    items = _drift.items_from_results({"mailauth_result_dkim_config": result}, HOST)
    assert [(i["setting"], i["actual"], i["expected"]) for i in items] == [
        ("/etc/opendkim.conf:1", "Mode sv", "Mode s"), ("/etc/opendkim.conf:2", "Canonicalization simple", None)]


def test_dns_txt_diff_gives_one_item_per_name():
    result = {"changed": True, "results": [
        {"changed": True, "domain": {"name": "example.test"}, "diff": [
            {"before_header": "s1._domainkey.example.test. TXT", "after_header": "s1._domainkey.example.test. TXT",
             "before": "v=DKIM1; k=rsa; p=OLD\n", "after": "v=DKIM1; k=rsa; p=NEW\n"},
            {"before_header": "_dmarc.example.test. TXT", "after_header": "_dmarc.example.test. TXT",
             "before": "", "after": "v=DMARC1; p=none\n"}]},
        {"changed": False, "domain": {"name": "other.test"}, "diff": []}]}
    items = _drift.items_from_results({"mailauth_result_dns_records": result}, HOST)
    assert items == [
        {"host": HOST, "component": "dns_records", "setting": "_dmarc.example.test. TXT",
         "expected": ["v=DMARC1; p=none"], "actual": []},
        {"host": HOST, "component": "dns_records", "setting": "s1._domainkey.example.test. TXT",
         "expected": ["v=DKIM1; k=rsa; p=NEW"], "actual": ["v=DKIM1; k=rsa; p=OLD"]},
    ]


def test_plesk_settings_give_one_item_per_setting():
    before = {"dnsbl_enabled": True, "spf_mode": "reject_fail", "dkim_sign": True, "dnsbl_zones": ["a.test"]}
    result = {"changed": True, "settings": {}, "diff": {
        "before": before, "after": dict(before, spf_mode="headers_only", dnsbl_zones=["a.test", "b.test"]),
        "before_header": "Plesk mail server settings", "after_header": "Plesk mail server settings"}}
    items = _drift.items_from_results({"mailauth_result_plesk_settings": result}, "plesk1")
    assert items == [
        {"host": "plesk1", "component": "plesk_settings", "setting": "dnsbl_zones",
         "expected": ["a.test", "b.test"], "actual": ["a.test"]},
        {"host": "plesk1", "component": "plesk_settings", "setting": "spf_mode",
         "expected": "headers_only", "actual": "reject_fail"},
    ]


def test_mapping_diffs_name_their_object():
    dkim = {"changed": True, "results": [{"changed": True, "diff": {
        "before": {"domain": "a.test", "signing": False}, "after": {"domain": "a.test", "signing": True},
        "before_header": "DKIM signing of a.test", "after_header": "DKIM signing of a.test"}}]}
    directory = {"changed": True, "diff": {"before": {"path": "/etc/opendkim", "mode": "0755"},
                                           "after": {"path": "/etc/opendkim", "mode": "0750"}}}
    key = {"changed": True, "diff": {"before_header": "/k/a/s1.private", "after_header": "/k/a/s1.private",
                                     "before": {"path": "/k/a/s1.private"},
                                     "after": {"path": "/k/a/s1.private", "key_type": "rsa", "bits": 2048}}}
    items = _drift.items_from_results({"mailauth_result_plesk_dkim": dkim, "mailauth_result_dkim_tables_dir": directory,
                                       "mailauth_result_dkim_keys": key}, HOST)
    assert [(i["component"], i["setting"], i["actual"], i["expected"]) for i in items] == [
        ("dkim_keys", "/k/a/s1.private: bits", None, 2048),
        ("dkim_keys", "/k/a/s1.private: key_type", None, "rsa"),
        ("dkim_tables_dir", "/etc/opendkim: mode", "0755", "0750"),
        ("plesk_dkim", "a.test: signing", False, True),
    ]


def test_unchanged_skipped_and_failed_results_are_not_drift():
    results = {"mailauth_result_a": {"changed": False, "diff": [{"before_header": "x TXT", "before": "", "after": "y\n"}]},
               "mailauth_result_b": {"changed": False, "skipped": True, "skip_reason": "Conditional result was False"},
               "mailauth_result_c": {"changed": True, "failed": True, "msg": "boom"},
               "mailauth_result_d": {}}
    assert _drift.items_from_results(results, HOST) == []


def test_a_change_without_a_diff_names_what_changed():
    results = {"mailauth_result_dkim_service": {"changed": True, "name": "opendkim", "state": "started"},
               "mailauth_result_postfix_packages": {"changed": True, "cache_updated": False}}
    assert _drift.items_from_results(results, HOST) == [
        {"host": HOST, "component": "dkim_service", "setting": "opendkim", "expected": "started", "actual": None},
        {"host": HOST, "component": "postfix_packages", "setting": "postfix_packages", "expected": "changed",
         "actual": None},
    ]


def test_secrets_are_masked():
    dqs = "abcdefgh1234567890abcdefgh"
    pem = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkq\n-----END PRIVATE KEY-----\n"
    results = {
        "mailauth_result_postfix_dnsbl_postscreen": {"changed": True, "diff": [{
            "before_header": "/etc/postfix/main.cf", "after_header": "/etc/postfix/main.cf", "before": "",
            "after": "postscreen_dnsbl_sites = %s.zen.dq.spamhaus.net=127.0.0.[2..11]*3\n" % dqs}]},
        "mailauth_result_leaky": {"changed": True, "diff": {
            "before": {"name": "k", "key_secret": "c2VjcmV0"}, "after": {"name": "k", "key_secret": "bmV3"}}},
        "mailauth_result_file": {"changed": True, "diff": {"before_header": "/etc/x.pem", "before": "",
                                                           "after": pem + "tsig-secret-value\n"}},
    }
    items = _drift.items_from_results(results, HOST, mask=["tsig-secret-value"])
    text = json.dumps(items)
    for secret in (dqs, "MIIEvQIBADANBgkq", "c2VjcmV0", "bmV3", "tsig-secret-value"):
        assert secret not in text
    assert "********.zen.dq.spamhaus.net=127.0.0.[2..11]*3" in text
    assert {"host": HOST, "component": "leaky", "setting": "k: key_secret", "expected": "********",
            "actual": "********"} in items


def test_ansible_subclasses_become_plain_json():
    class Tagged(str):
        pass

    result = {"changed": True, "diff": {"before": {"spf_mode": Tagged("a")}, "after": {"spf_mode": Tagged("b")}}}
    items = _drift.items_from_results({"mailauth_result_plesk_settings": result}, Tagged(HOST))
    assert {type(v) for i in items for v in (i["host"], i["expected"], i["actual"])} == {str}


def dns_item(host, value="NEW"):
    return {"host": host, "component": "dns_records", "setting": "s1._domainkey.example.test. TXT",
            "expected": ["v=DKIM1; p=%s" % value], "actual": ["v=DKIM1; p=OLD"]}


def main_cf_item(host):
    return {"host": host, "component": "postfix_hardening", "setting": "smtpd_helo_required",
            "expected": "yes", "actual": "no"}


def test_fold_keeps_one_dns_drift_under_a_host_that_drifted_anyway():
    folded = _drift.fold({"mx2": [dns_item("mx2"), main_cf_item("mx2")], "mx1": [dns_item("mx1")],
                          "mx3": [dns_item("mx3"), main_cf_item("mx3")], "mx4": []})
    assert folded == {"mx1": [], "mx2": [dns_item("mx2"), main_cf_item("mx2")], "mx3": [main_cf_item("mx3")], "mx4": []}


def test_fold_keeps_dns_only_drift_under_the_first_host():
    folded = _drift.fold({"mx2": [dns_item("mx2"), dns_item("mx2")], "mx1": [dns_item("mx1")]})
    assert folded == {"mx1": [dns_item("mx1")], "mx2": []}


def test_fold_keeps_different_dns_drifts():
    folded = _drift.fold({"mx1": [dns_item("mx1")], "mx2": [dns_item("mx2", "OTHER")]})
    assert folded == {"mx1": [dns_item("mx1")], "mx2": [dns_item("mx2", "OTHER")]}


def test_report_of_a_fleet_with_drift_and_a_failed_host():
    drift = {"mx1": [main_cf_item("mx1"), dns_item("mx1")], "mx2": [dns_item("mx2")]}
    report = _drift.build_report(["mx1", "mx2", "mx3"], drift, generated="now")
    assert report["ok"] is False and report["remediate"] is False
    assert report["drift"] == [main_cf_item("mx1"), dns_item("mx1")]  # mx2's copy of the DNS drift is folded
    summary = report["summary"]
    assert summary["drifted_hosts"] == ["mx1"] and summary["failed_hosts"] == ["mx3"]
    assert summary["counts"] == {"postfix_hardening": 1, "dns_records": 1}
    assert summary["grid"] == {"mx1": {"postfix_hardening": 1, "dns_records": 1}}
    assert report["text"] == "drift: 2 items on 1 of 3 hosts; 1 host failed or unreachable: mx3"
    lines = report["report_text"].splitlines()
    assert lines[0] == report["text"]
    assert lines[1].split() == ["host", "component", "setting", "actual", "->", "expected"]
    assert lines[2].split() == ["mx1", "postfix_hardening", "smtpd_helo_required", "no", "->", "yes"]
    assert "v=DKIM1; p=OLD -> v=DKIM1; p=NEW" in lines[3]
    json.dumps(report)  # the JSON report


def test_clean_fleet():
    report = _drift.build_report(["mx1", "mx2"], {"mx1": [], "mx2": []})
    assert report["ok"] is True and report["text"] == "no drift on 2 hosts"
    assert report["report_text"] == "no drift on 2 hosts\n"
    assert _drift.stats(report) == {"ok": True, "total": 0, "hosts": {"mx1": 0, "mx2": 0}, "drifted_hosts": [],
                                    "failed_hosts": [], "fixed": 0, "fixed_hosts": [], "items": [],
                                    "text": "no drift on 2 hosts"}


def test_a_run_that_checked_no_host_is_not_ok():
    report = _drift.build_report([], {})
    assert report["ok"] is False and report["text"] == "no host was checked (the host pattern matched none)"


def test_remediated_fleet_is_ok_when_every_drifted_host_was_fixed():
    drift = {"mx1": [main_cf_item("mx1")], "mx2": []}
    report = _drift.build_report(["mx1", "mx2"], drift, {"mx1": [main_cf_item("mx1")]}, remediate=True)
    assert report["ok"] is True
    assert report["fixed"] == [main_cf_item("mx1")] and report["summary"]["fixed_hosts"] == ["mx1"]
    assert report["text"] == "drift: 1 item on 1 of 2 hosts; fixed 1 item on 1 host"
    assert report["report_text"].splitlines()[3] == "fixed:"
    stats = _drift.stats(report)
    assert (stats["total"], stats["hosts"], stats["fixed"]) == (1, {"mx1": 1, "mx2": 0}, 1)


def test_fixes_of_one_dns_drift_are_folded_too():
    drift = {"mx1": [dns_item("mx1")], "mx2": [dns_item("mx2"), main_cf_item("mx2")]}
    fixed = {"mx2": [dns_item("mx2"), main_cf_item("mx2")]}
    report = _drift.build_report(["mx1", "mx2"], drift, fixed, remediate=True)
    assert report["summary"]["drifted_hosts"] == ["mx2"] and report["ok"] is True
    assert report["fixed"] == [dns_item("mx2"), main_cf_item("mx2")]


def test_a_drifted_host_that_failed_while_being_fixed_is_not_ok():
    report = _drift.build_report(["mx1"], {"mx1": [main_cf_item("mx1")]}, {}, remediate=True)
    assert report["ok"] is False and report["summary"]["failed_hosts"] == ["mx1"]
    assert report["text"] == "drift: 1 item on 1 of 1 host; fixed 0 items on 0 hosts; 1 host failed or unreachable: mx1"


def test_long_lines_are_cut_in_the_text_table():
    item = dict(main_cf_item("mx1"), expected="x" * 300)
    line = _drift.build_report(["mx1"], {"mx1": [item]})["report_text"].splitlines()[2]
    assert len(line) == 160 and line.endswith("...")


def test_dkimpy_milter_drift_tables_inbound_mark_and_the_old_signer():
    """What the drift check reports on a dkimpy-milter host: a table line, the inbound mark, the old signer."""
    tables = {"changed": True, "results": [
        {"changed": False, "mailauth_dkim_dkimpy_table_file": {"name": "KeyTable"}},
        {"changed": True, "diff": {
            "before_header": "/etc/dkimpy-milter/KeyTableEd25519", "after_header": "dkimpy_table.j2",
            "before": "a.test a.test:-:/dev/null\nmailauth.invalid mailauth.invalid:-:/dev/null\n",
            "after": "a.test a.test:e1:/etc/dkimkeys/a.test/e1.dkimpy\nmailauth.invalid mailauth.invalid:-:/dev/null\n"}}]}
    inbound = {"changed": True, "diff": [{"before_header": "/etc/postfix/master.cf", "after_header": "/etc/postfix/master.cf",
                                          "before": "", "after": "smtpd/pass/milter_macro_daemon_name = VERIFYING\n"}]}
    milters = {"changed": True, "diff": [{"before_header": "/etc/postfix/main.cf", "after_header": "/etc/postfix/main.cf",
                                          "before": "smtpd_milters = inet:127.0.0.1:8891, inet:127.0.0.1:8892\n",
                                          "after": "smtpd_milters = inet:127.0.0.1:8892\n"}]}
    service = {"changed": True, "name": "opendkim", "state": "stopped"}
    items = _drift.items_from_results({"mailauth_result_dkim_dkimpy_tables": tables, "mailauth_result_dkim_inbound": inbound,
                                       "mailauth_result_dkim_other_milter": milters,
                                       "mailauth_result_dkim_other_service": service}, HOST)
    found = sorted((i["component"], i["setting"], i["actual"], i["expected"]) for i in items)
    assert found == [
        ("dkim_dkimpy_tables", "/etc/dkimpy-milter/KeyTableEd25519:1", "a.test a.test:-:/dev/null",
         "a.test a.test:e1:/etc/dkimkeys/a.test/e1.dkimpy"),
        ("dkim_inbound", "smtpd/pass/milter_macro_daemon_name", None, "VERIFYING"),
        ("dkim_other_milter", "smtpd_milters", "inet:127.0.0.1:8891, inet:127.0.0.1:8892", "inet:127.0.0.1:8892"),
        ("dkim_other_service", "opendkim", None, "stopped"),
    ]
