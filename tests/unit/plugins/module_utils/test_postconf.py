"""Postfix configuration as data: postconf output parsing, validation and edit planning."""
import pytest

from ansible_collections.mailauth.hardening.plugins.module_utils._hosts import postconf as pc
from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError

MAIN = """\
alias_maps = hash:/etc/aliases
compatibility_level = 3.6
mynetworks = 127.0.0.0/8 [::ffff:127.0.0.0]/104 [::1]/128
relayhost =
smtpd_banner = $myhostname ESMTP $mail_name (Debian/GNU)
smtpd_milters = inet:localhost:8893 unix:/run/foreign.sock
smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination, check_policy_service { inet:127.0.0.1:10023, timeout=10s }, permit
"""
MASTER = """\
smtp       inet  n       -       y       -       -       smtpd
pickup     unix  n       -       y       60      1       pickup
tlsmgr     unix  -       -       y       1000?   1       tlsmgr
relay      unix  -       -       y       -       -       smtp -o syslog_name=postfix/$service_name -o {smtpd_client_restrictions=permit_mynetworks, reject}
postlog    unix-dgram n  -       n       -       1       postlogd
maildrop   unix  -       n       n       -       -       pipe flags=DRXhu user=vmail argv=/usr/bin/maildrop -d ${recipient}
"""
SERVICE_PARAMETERS = """\
relay/unix/syslog_name = postfix/$service_name
relay/unix/smtpd_client_restrictions = permit_mynetworks, reject
"""
DEFAULTS = {
    "smtpd_relay_restrictions": "permit_mynetworks, permit_sasl_authenticated, defer_unauth_destination",
    "non_smtpd_milters": "$smtpd_milters",
    "postscreen_dnsbl_sites": "",
}


def state():
    return pc.State(pc.parse_parameters(MAIN), pc.parse_services(MASTER),
                    pc.parse_service_parameters(SERVICE_PARAMETERS))


def plan(parameters=None, services=None, service_parameters=None, current=None):
    request = pc.parse_request(parameters, services, service_parameters)
    return pc.plan(request, current or state(), DEFAULTS)


def error_of(call, *args, **kwargs):
    with pytest.raises(InputError) as info:
        call(*args, **kwargs)
    return info.value


# --- Postfix list syntax -----------------------------------------------------------------

def test_split_list_on_commas_and_blanks_outside_braces():
    assert pc.split_list("a, b  c,,d\n e") == ["a", "b", "c", "d", "e"]
    assert pc.split_list("{ inet:h:1, timeout=10s }, x") == ["{ inet:h:1, timeout=10s }", "x"]
    assert pc.split_list("${name?{a b}} c") == ["${name?{a b}}", "c"]


@pytest.mark.parametrize("text, words", [("{ a, b", "missing '}'"), ("a }", "unbalanced '}'")])
def test_split_list_unbalanced_braces_name_the_field(text, words):
    err = error_of(pc.split_list, text, field="parameters.smtpd_milters")
    assert err.field == "parameters.smtpd_milters" and words in str(err)


def test_normalise_item_brace_groups():
    assert pc.normalise_item("{inet:h:1,timeout = 10s}") == "{ inet:h:1, timeout=10s }"
    assert pc.normalise_item("  a   b ") == "a b"


def test_restriction_items_keep_their_argument():
    text = ("permit_mynetworks reject_unauth_destination, check_policy_service {inet:127.0.0.1:10023,timeout=10s},"
            " warn_if_reject reject_rbl_client zen.spamhaus.org=127.0.0.[2..11] check_sender_access hash:/x permit")
    assert pc.list_items("smtpd_recipient_restrictions", text) == [
        "permit_mynetworks", "reject_unauth_destination",
        "check_policy_service { inet:127.0.0.1:10023, timeout=10s }",
        "warn_if_reject reject_rbl_client zen.spamhaus.org=127.0.0.[2..11]",
        "check_sender_access hash:/x", "permit",
    ]


def test_non_restriction_lists_split_into_words():
    assert pc.list_items("smtpd_milters", "inet:a:1, { unix:/s, default_action=accept }") == [
        "inet:a:1", "{ unix:/s, default_action=accept }"]


@pytest.mark.parametrize("name, left, right, same", [
    ("mynetworks", "127.0.0.0/8 [::1]/128", "127.0.0.0/8,[::1]/128", True),
    ("smtpd_milters", "inet:a:1, inet:b:2", "inet:b:2 inet:a:1", False),
    ("smtpd_banner", "$myhostname  ESMTP", "$myhostname ESMTP", True),
    ("smtpd_banner", "a, b", "a b", False),
    ("relayhost", "", "", True),
])
def test_same_value(name, left, right, same):
    assert pc.same_value(name, left, right) is same


# --- reading postconf output ------------------------------------------------------------

def test_parse_parameters_keeps_empty_values():
    values = pc.parse_parameters(MAIN)
    assert values["relayhost"] == ""
    assert values["smtpd_banner"] == "$myhostname ESMTP $mail_name (Debian/GNU)"


def test_parse_services_strips_o_options():
    services = pc.parse_services(MASTER)
    assert services["relay/unix"]["command"] == "smtp"
    assert services["tlsmgr/unix"]["wakeup"] == "1000?"
    assert services["postlog/unix-dgram"]["process_limit"] == "1"
    assert services["maildrop/unix"]["command"] == "pipe flags=DRXhu user=vmail argv=/usr/bin/maildrop -d ${recipient}"
    assert services["smtp/inet"] == {"private": "n", "unprivileged": "-", "chroot": "y", "wakeup": "-",
                                     "process_limit": "-", "command": "smtpd"}


def test_parse_service_parameters():
    assert pc.parse_service_parameters(SERVICE_PARAMETERS)["relay/unix/smtpd_client_restrictions"] == \
        "permit_mynetworks, reject"


def test_unused_parameters_from_postconf_warnings():
    stderr = ("postconf: warning: /tmp/x/main.cf: unused parameter: smtpd_miltres=inet:x:1\n"
              "postconf: warning: /tmp/x/master.cf: unused parameter: smtpd_foo=1\n")
    assert pc.unused_parameters(stderr) == {("main.cf", "smtpd_miltres"), ("master.cf", "smtpd_foo")}


# --- validation: every failure names its field ---------------------------------------------

@pytest.mark.parametrize("parameters, field, words", [
    ({"submission/inet/smtpd_tls_security_level": "encrypt"}, "parameters.submission/inet/smtpd_tls_security_level",
     "service_parameters"),
    ({"bad name": "x"}, "parameters.bad name", "not a Postfix parameter name"),
    ({"relayhost": None}, "parameters.relayhost", "{state: absent}"),
    ({"relayhost": "a\nb"}, "parameters.relayhost", "one line"),
    ({"relayhost": {"vaule": "x"}}, "parameters.relayhost", "unknown key"),
    ({"relayhost": {"state": "gone"}}, "parameters.relayhost.state", "present or absent"),
    ({"smtpd_milters": {"value": "a", "items": ["b"]}}, "parameters.smtpd_milters", "exclude"),
    ({"smtpd_milters": {"items": ["b"], "before": "a", "after": "c"}}, "parameters.smtpd_milters", "exclude"),
    ({"smtpd_milters": {"items": ["a"], "before": "a"}}, "parameters.smtpd_milters.before", "anchors"),
    ({"smtpd_milters": {"value": "a", "before": "b"}}, "parameters.smtpd_milters", "items only"),
    ({"smtpd_milters": {"value": "a", "state": "absent"}}, "parameters.smtpd_milters", "takes no value"),
    ({"smtpd_milters": {}}, "parameters.smtpd_milters", "no value and no items"),
    ({"smtpd_milters": {"items": []}}, "parameters.smtpd_milters.items", "non-empty"),
    ({"smtpd_milters": {"items": ["inet:a:1 inet:b:2"]}}, "parameters.smtpd_milters.items[0]", "2 list items"),
    ({"smtpd_milters": {"items": ["{ inet:a:1"]}}, "parameters.smtpd_milters.items[0]", "missing '}'"),
    ({"smtpd_milters": {"items": [["nested"]]}}, "parameters.smtpd_milters.items[0]", "expected text"),
    ({"smtpd_milters": "inet:a:1, }"}, "parameters.smtpd_milters", "unbalanced '}'"),
    ({"smtpd_milters": {"value": "{ inet:a:1"}}, "parameters.smtpd_milters", "missing '}'"),
    ({"smtpd_recipient_restrictions": {"items": ["permit", "reject"], "after": "a b"}},
     "parameters.smtpd_recipient_restrictions.after", "one list item"),
])
def test_bad_parameters_name_the_field(parameters, field, words):
    err = error_of(pc.parse_request, parameters)
    assert err.field == field, str(err)
    assert words in str(err)


@pytest.mark.parametrize("service, field, words", [
    ({"name": "smtp", "type": "tcp", "command": "smtpd"}, "services[0].type", "not a master.cf service type"),
    ({"name": "a b", "type": "unix", "command": "x"}, "services[0].name", "not a master.cf service name"),
    ({"name": "x", "type": "unix", "private": "maybe"}, "services[0].private", "y, n or -"),
    ({"name": "x", "type": "unix", "wakeup": "soon"}, "services[0].wakeup", "not a number"),
    ({"name": "x", "type": "unix", "process_limit": True}, "services[0].process_limit", "boolean"),
    ({"name": "x", "type": "unix", "process_limit": "-1"}, "services[0].process_limit", "not a number"),
    ({"name": "x", "type": "unix", "command": "smtpd -o a=b"}, "services[0].command", "service_parameters"),
    ({"name": "x", "type": "unix", "command": " "}, "services[0].command", "empty"),
    ({"name": "x", "type": "unix", "maxproc": 3}, "services[0]", "unknown key"),
    ({"name": "x", "type": "unix", "state": "gone"}, "services[0].state", "present or absent"),
    ("smtp", "services[0]", "mapping"),
])
def test_bad_services_name_the_field(service, field, words):
    err = error_of(pc.parse_request, None, [service])
    assert err.field == field, str(err)
    assert words in str(err)


def test_duplicate_service_is_refused():
    err = error_of(pc.parse_request, None, [{"name": "smtp", "type": "inet"}, {"name": "smtp", "type": "inet"}])
    assert err.field == "services[1]" and "twice" in str(err)


@pytest.mark.parametrize("key, field, words", [
    ("smtp/inet", "service_parameters.smtp/inet", "SERVICE/TYPE/PARAMETER"),
    ("smtp/tcp/x", "service_parameters.smtp/tcp/x", "service type"),
    ("smtp/inet/bad name", "service_parameters.smtp/inet/bad name", "parameter name"),
])
def test_bad_service_parameter_keys(key, field, words):
    err = error_of(pc.parse_request, None, None, {key: "x"})
    assert err.field == field and words in str(err)


def test_service_flags_accept_booleans():
    spec = pc.parse_request(None, [{"name": "x", "type": "unix", "private": False, "chroot": "yes",
                                    "unprivileged": "-", "wakeup": 60, "process_limit": 0}]).services["x/unix"]
    assert dict(spec.fields) == {"private": "n", "chroot": "y", "unprivileged": "-", "wakeup": "60",
                                 "process_limit": "0"}


def test_scalar_values_as_postfix_writes_them():
    request = pc.parse_request({"a_b": True, "c_d": False, "e_f": 10, "mynetworks": ["127.0.0.0/8", "[::1]/128"]})
    assert [s.value for s in request.parameters.values()] == ["yes", "no", "10", ["127.0.0.0/8", "[::1]/128"]]


# --- planning ------------------------------------------------------------------------------

def test_many_parameters_in_one_command():
    result = plan({"milter_default_action": "accept", "smtpd_tls_security_level": "may", "relayhost": ""})
    assert result.commands == [["-e", "milter_default_action=accept", "smtpd_tls_security_level=may"]]
    assert set(result.parameters) == {"milter_default_action", "smtpd_tls_security_level"}


def test_equal_in_postfix_normal_form_is_no_change():
    result = plan({"mynetworks": "127.0.0.0/8, [::ffff:127.0.0.0]/104, [::1]/128",
                   "smtpd_banner": "$myhostname  ESMTP $mail_name (Debian/GNU)",
                   "compatibility_level": 3.6,
                   "smtpd_recipient_restrictions": ["permit_mynetworks", "reject_unauth_destination",
                                                    "check_policy_service {inet:127.0.0.1:10023,timeout=10s}",
                                                    "permit"]})
    assert result.commands == []


def test_list_value_is_written_with_commas():
    result = plan({"mynetworks": ["127.0.0.0/8", "10.0.0.0/8"]})
    assert result.commands == [["-e", "mynetworks=127.0.0.0/8, 10.0.0.0/8"]]


def test_items_keep_foreign_entries_and_go_before_the_anchor():
    result = plan({"smtpd_milters": {"items": ["inet:localhost:8891"], "before": "inet:localhost:8893"}})
    assert result.commands == [["-e", "smtpd_milters=inet:localhost:8891, inet:localhost:8893, unix:/run/foreign.sock"]]


def test_items_after_anchor_by_first_word():
    result = plan({"smtpd_recipient_restrictions": {
        "items": ["check_policy_service unix:private/policyd-spf"], "after": "check_policy_service"}})
    assert result.commands == [["-e", "smtpd_recipient_restrictions=permit_mynetworks, reject_unauth_destination, "
                                "check_policy_service { inet:127.0.0.1:10023, timeout=10s }, "
                                "check_policy_service unix:private/policyd-spf, permit"]]


def test_items_without_anchor_in_list_go_last():
    result = plan({"smtpd_milters": {"items": ["inet:localhost:8891"], "after": "inet:nowhere:1"}})
    assert result.commands == [["-e", "smtpd_milters=inet:localhost:8893, unix:/run/foreign.sock, inet:localhost:8891"]]


def test_misplaced_item_is_moved():
    result = plan({"smtpd_milters": {"items": ["unix:/run/foreign.sock"], "before": "inet:localhost:8893"}})
    assert result.commands == [["-e", "smtpd_milters=unix:/run/foreign.sock, inet:localhost:8893"]]


def test_present_items_in_place_are_no_change():
    assert plan({"smtpd_milters": {"items": ["inet:localhost:8893"]}}).commands == []
    assert plan({"smtpd_milters": {"items": ["inet:localhost:8893"], "before": "unix:/run/foreign.sock"}}).commands == []


def test_items_absent_remove_only_those():
    result = plan({"smtpd_milters": {"items": ["inet:localhost:8893", "inet:never:1"], "state": "absent"}})
    assert result.commands == [["-e", "smtpd_milters=unix:/run/foreign.sock"]]


def test_removing_the_last_item_leaves_an_empty_value_not_the_default():
    result = plan({"smtpd_milters": {"items": ["inet:localhost:8893", "unix:/run/foreign.sock"], "state": "absent"}})
    assert result.commands == [["-e", "smtpd_milters="]]


def test_items_on_an_unset_parameter_start_from_the_default():
    result = plan({"smtpd_relay_restrictions": {"items": ["check_policy_service unix:private/policyd-spf"],
                                                "after": "defer_unauth_destination"}})
    assert result.commands == [["-e", "smtpd_relay_restrictions=permit_mynetworks, permit_sasl_authenticated, "
                                "defer_unauth_destination, check_policy_service unix:private/policyd-spf"]]


def test_items_already_in_an_unset_default_change_nothing():
    assert plan({"smtpd_relay_restrictions": {"items": ["defer_unauth_destination"]}}).commands == []
    assert plan({"postscreen_dnsbl_sites": {"items": ["x.example"], "state": "absent"}}).commands == []


def test_default_names_are_the_unset_item_parameters():
    request = pc.parse_request({"smtpd_relay_restrictions": {"items": ["a"]}, "smtpd_milters": {"items": ["a"]},
                                "relayhost": "x"}, None, {"relay/unix/non_smtpd_milters": {"items": ["inet:a:1"]}})
    assert pc.default_names(request, state()) == ["non_smtpd_milters", "smtpd_relay_restrictions"]


def test_needs_expansion_only_for_conditionals():
    assert pc.needs_expansion({"a": "${{$compatibility_level} <level {1} ? {} : {x}}", "b": "$c"}) == ["a"]


def test_absent_parameter_is_removed():
    result = plan({"relayhost": {"state": "absent"}, "not_set_here": {"state": "absent"}})
    assert result.commands == [["-X", "relayhost"]]
    assert result.parameters == {"relayhost": ("", None)}


def test_restart_required_for_interfaces():
    assert plan({"inet_interfaces": "loopback-only"}).restart_required
    assert not plan({"relayhost": "[smtp.example]:587"}).restart_required


def test_new_service_is_one_entry():
    result = plan(None, [{"name": "policyd-spf", "type": "unix", "private": "n", "unprivileged": "n", "chroot": "n",
                          "process_limit": 0, "command": "spawn user=policyd-spf argv=/usr/bin/policyd-spf"}])
    assert result.commands == [["-M", "policyd-spf/unix=policyd-spf unix n n n - 0 spawn user=policyd-spf "
                                "argv=/usr/bin/policyd-spf"]]
    assert result.services["policyd-spf/unix"][0] is None


def test_new_service_needs_a_command():
    err = error_of(plan, None, [{"name": "dnsblog", "type": "unix"}])
    assert err.field == "services.dnsblog/unix.command"


def test_field_edits_use_F():
    result = plan(None, [{"name": "smtp", "type": "inet", "process_limit": 1, "chroot": "y"}])
    assert result.commands == [["-F", "smtp/inet/process_limit=1"]]


def test_command_change_rewrites_the_entry_and_keeps_o_options():
    result = plan(None, [{"name": "relay", "type": "unix", "command": "lmtp"}])
    assert result.commands == [["-M", "relay/unix=relay unix - - y - - lmtp -o syslog_name=postfix/$service_name "
                                "-o { smtpd_client_restrictions = permit_mynetworks, reject }"]]


def test_same_command_in_other_spacing_is_no_change():
    assert plan(None, [{"name": "maildrop", "type": "unix",
                        "command": "pipe  flags=DRXhu user=vmail argv=/usr/bin/maildrop -d ${recipient}"}]).commands == []


def test_service_removal_drops_its_options():
    result = plan(None, [{"name": "relay", "type": "unix", "state": "absent"},
                         {"name": "nothere", "type": "unix", "state": "absent"}])
    assert result.commands == [["-MX", "relay/unix"]]


def test_service_parameters_set_and_remove():
    result = plan(None, None, {"smtp/inet/smtpd_tls_security_level": "may",
                               "relay/unix/syslog_name": {"state": "absent"},
                               "relay/unix/smtpd_client_restrictions": ["permit_mynetworks", "reject"]})
    assert result.commands == [["-P", "smtp/inet/smtpd_tls_security_level=may"], ["-PX", "relay/unix/syslog_name"]]


def test_service_parameter_items_join_with_commas_and_start_from_main_cf():
    result = plan(None, None, {"smtp/inet/smtpd_milters": {"items": ["inet:localhost:8891"]}})
    assert result.commands == [["-P", "smtp/inet/smtpd_milters=inet:localhost:8893,unix:/run/foreign.sock,"
                                "inet:localhost:8891"]]


def test_service_parameter_with_blanks_rewrites_the_entry():
    result = plan(None, None, {"smtp/inet/smtpd_client_restrictions": {
        "items": ["check_client_access hash:/etc/postfix/access"]}})
    assert result.commands == [["-M", "smtp/inet=smtp inet n - y - - smtpd "
                                "-o { smtpd_client_restrictions = check_client_access hash:/etc/postfix/access }"]]


def test_service_parameter_needs_its_service():
    err = error_of(plan, None, None, {"submission/inet/smtpd_tls_security_level": "encrypt"})
    assert err.field == "service_parameters.submission/inet/smtpd_tls_security_level"
    err = error_of(plan, None, [{"name": "relay", "type": "unix", "state": "absent"}], {"relay/unix/x_y": "1"})
    assert "removes it" in str(err)


def test_service_parameter_for_a_new_service_goes_into_its_entry():
    result = plan({"policyd-spf_time_limit": 3600},
                  [{"name": "submission", "type": "inet", "private": "n", "chroot": "y", "command": "smtpd"}],
                  {"submission/inet/smtpd_tls_security_level": "encrypt"})
    assert result.commands == [
        ["-M", "submission/inet=submission inet n - y - - smtpd -o smtpd_tls_security_level=encrypt"],
        ["-e", "policyd-spf_time_limit=3600"],
    ]


def test_command_order_services_before_options_before_main():
    result = plan({"relayhost": {"state": "absent"}, "milter_default_action": "accept"},
                  [{"name": "dnsblog", "type": "unix", "command": "dnsblog"},
                   {"name": "smtp", "type": "inet", "process_limit": 1},
                   {"name": "maildrop", "type": "unix", "state": "absent"}],
                  {"smtp/inet/smtpd_tls_security_level": "may", "relay/unix/syslog_name": {"state": "absent"}})
    assert [c[0] for c in result.commands] == ["-M", "-F", "-MX", "-P", "-PX", "-e", "-X"]


def test_unknown_parameters_are_named():
    request = pc.parse_request({"smtpd_miltres": "inet:x:1", "relayhost": "x"}, None,
                               {"smtp/inet/smtpd_foo": "1"})
    result = pc.plan(request, state(), {})
    stderr = ("postconf: warning: /tmp/s/main.cf: unused parameter: smtpd_miltres=inet:x:1\n"
              "postconf: warning: /tmp/s/main.cf: unused parameter: someone_elses=1\n")
    err = error_of(pc.unknown_parameters, request, result, stderr)
    assert err.field == "parameters.smtpd_miltres" and "smtpd_miltres" in str(err)
    stderr += "postconf: warning: /tmp/s/master.cf: unused parameter: smtpd_foo=1\n"
    err = error_of(pc.unknown_parameters, request, result, stderr)
    assert "smtpd_miltres, smtp/inet/smtpd_foo" in str(err)
    pc.unknown_parameters(request, result, "postconf: warning: /tmp/s/main.cf: unused parameter: someone_elses=1\n")


def test_diff_shows_only_changed_lines():
    result = plan({"relayhost": "[smtp.example]:587", "milter_default_action": "accept"},
                  [{"name": "smtp", "type": "inet", "process_limit": 1}],
                  {"smtp/inet/smtpd_tls_security_level": "may"})
    main, master = pc.diff(result, "/etc/postfix")
    assert main["before_header"] == "/etc/postfix/main.cf"
    assert main["before"] == "relayhost =\n"
    assert main["after"] == "relayhost = [smtp.example]:587\nmilter_default_action = accept\n"
    assert master["before"] == "smtp inet n - y - - smtpd\n"
    assert master["after"] == "smtp inet n - y - 1 smtpd\nsmtp/inet/smtpd_tls_security_level = may\n"


def test_no_change_no_diff():
    assert pc.diff(plan({"relayhost": ""}), "/etc/postfix") == []
