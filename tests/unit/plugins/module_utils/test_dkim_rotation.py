"""_dkim_rotation: one host's rotation phases, their gates and the state file, with a given clock."""
import json

import pytest

from ansible_collections.mailauth.hardening.plugins.module_utils._dkim import rotation as rot
from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError

T0 = 1800000000  # 2027-01-15T08:00:00Z
HOUR, DAY = 3600, 86400
WAITS = {"publish_wait": HOUR, "overlap": 7 * DAY, "revoke_hold": 2 * DAY}
RSA = {"domain": "example.com", "selector": "s202611", "type": "rsa", "bits": 2048}
ED = {"domain": "example.com", "selector": "e202611", "type": "ed25519", "bits": 256}


def started(now=T0, selectors=(RSA,), new="s202701", **request):
    state = rot.new_state()
    rot.apply(state, list(selectors), [dict({"domain": "example.com", "selector": "s202611",
                                             "new_selector": new}, **request)], [], now, WAITS)
    return state


def step(state, phase, now, selector="s202611", selectors=(RSA,)):
    return rot.apply(state, list(selectors), [], [{"domain": "example.com", "selector": selector, "phase": phase}],
                     now, WAITS)[1]


def status(state, now, unit=None, key_files=None):
    return rot.unit_status(state, unit or RSA, now, WAITS, key_files)


# --- durations and times ------------------------------------------------------------------------

@pytest.mark.parametrize("value, seconds", [
    ("7d", 7 * DAY), ("36h", 36 * HOUR), ("90m", 5400), ("30s", 30), ("2w", 14 * DAY), ("0s", 0),
    ("1.5d", 36 * HOUR), (" 12H ", 12 * HOUR), (7, 7 * DAY), ("3", 3 * DAY), (0.5, 12 * HOUR),
])
def test_durations(value, seconds):
    assert rot.parse_duration(value, "overlap") == seconds


@pytest.mark.parametrize("value", ["a week", "7 days", "-1d", "", None, True, "1y"])
def test_bad_durations_name_the_field(value):
    with pytest.raises(InputError) as err:
        rot.parse_duration(value, "overlap")
    assert err.value.field == "overlap"


def test_times_round_trip():
    assert rot.iso(T0) == "2027-01-15T08:00:00Z"
    assert rot.epoch_of(rot.iso(T0)) == T0


# --- the state file -----------------------------------------------------------------------------

@pytest.mark.parametrize("text", [None, "", "  \n"])
def test_no_file_is_a_fresh_state(text):
    assert rot.load_state(text) == {"version": 1, "domains": {}}


def test_state_round_trips_through_its_text():
    state = started()
    assert rot.load_state(rot.dump_state(state)) == state
    assert rot.dump_state(state).endswith("\n")


@pytest.mark.parametrize("text, problem", [
    ("{not json", "is not JSON"),
    ('{"version": 2, "domains": {}}', "is not a version 1"),
    ('["a"]', "is not a version 1"),
    ('{"version": 1, "domains": {"example.com": {}}}', "no list of rotations"),
    ('{"version": 1, "domains": {"example.com": [{"phase": "later"}]}}', "is not a rotation"),
    ('{"version": 1, "domains": {"example.com": [{"old_selector": "a", "new_selector": "b", "phase": "published",'
     ' "at": {"started": "2027-01-15T08:00:00Z"}}]}}', "is not a time"),
])
def test_broken_state_files_are_refused_with_the_way_out(text, problem):
    with pytest.raises(InputError) as err:
        rot.load_state(text)
    assert problem in str(err.value) and "move it aside" in str(err.value)


# --- starting -----------------------------------------------------------------------------------

def test_start_records_the_rotation_with_the_old_key_kind():
    state = started()
    (entry,) = state["domains"]["example.com"]
    assert entry == {"old_selector": "s202611", "old_type": "rsa", "old_bits": 2048, "new_selector": "s202701",
                     "type": "rsa", "bits": 2048, "phase": "started", "at": {"started": "2027-01-15T08:00:00Z"}}


def test_starting_the_same_rotation_again_changes_nothing():
    state = started()
    again = json.loads(json.dumps(state))
    _units, changes = rot.apply(again, [RSA], [{"domain": "example.com", "selector": "s202611",
                                                "new_selector": "S202701"}], [], T0 + DAY, WAITS)
    assert changes == [] and again == state


def test_a_second_rotation_before_the_first_finished_is_refused():
    state = started()
    step(state, "published", T0)
    with pytest.raises(InputError) as err:
        rot.apply(state, [RSA], [{"domain": "example.com", "selector": "s202611", "new_selector": "s202702"}], [],
                  T0 + DAY, WAITS)
    message = str(err.value)
    assert err.value.field == "start[0]"
    assert "rotation of example.com from s202611 to s202701 is not finished (phase published" in message
    assert "a second rotation (to s202702) is refused" in message and "until it reports done" in message
    assert [r["new_selector"] for r in state["domains"]["example.com"]] == ["s202701"]


def test_a_second_rotation_of_the_new_selector_is_refused_too():
    state = started()
    unit = dict(RSA, selector="s202701")   # the inventory already names the new selector
    with pytest.raises(InputError) as err:
        rot.apply(state, [unit], [{"domain": "example.com", "selector": "s202701", "new_selector": "s202702"}], [],
                  T0, WAITS)
    assert "is not finished" in str(err.value)


def walk_to_done(state, selector="s202611", selectors=(RSA,), now=T0):
    for phase, wait in (("published", 0), ("signing", HOUR), ("revoked", 7 * DAY), ("removed", 2 * DAY),
                        ("done", 0)):
        now += wait
        assert step(state, phase, now, selector, selectors)
    return now


def test_the_next_rotation_starts_from_the_new_selector_once_done():
    state = started()
    now = walk_to_done(state)
    unit = dict(RSA, selector="s202701")
    _units, changes = rot.apply(state, [unit], [{"domain": "example.com", "selector": "s202701",
                                                 "new_selector": "s202707"}], [], now, WAITS)
    assert changes == [{"domain": "example.com", "selector": "s202701", "phase": "started"}]
    assert [r["phase"] for r in state["domains"]["example.com"]] == ["done", "started"]


def test_an_inventory_naming_the_rotated_selector_starts_the_next_rotation_from_the_new_one():
    state = started()
    walk_to_done(state)
    same = {"domain": "example.com", "selector": "s202611", "new_selector": "s202701"}
    # The finished rotation asked for again: nothing to do.
    assert rot.apply(state, [RSA], [same], [], T0 + 30 * DAY, WAITS)[1] == []
    # The inventory still names s202611: the next rotation replaces s202701, the key that signs now.
    changes = rot.apply(state, [RSA], [dict(same, new_selector="s202707")], [], T0 + 30 * DAY, WAITS)[1]
    assert changes == [{"domain": "example.com", "selector": "s202611", "phase": "started"}]
    latest = state["domains"]["example.com"][-1]
    assert (latest["old_selector"], latest["new_selector"]) == ("s202701", "s202707")
    assert rot.find_rotation(state, "example.com", "s202611") is latest
    keys, signs = rot.host_keys(state, rot.selector_units([RSA]))
    assert keys == [{"name": "example.com", "dkim": [{"selector": "s202701", "type": "rsa", "bits": 2048},
                                                     {"selector": "s202707", "type": "rsa", "bits": 2048}]}]
    assert signs == [{"domain": "example.com", "selector": "s202701"}]


def test_a_chain_of_finished_rotations_leads_to_the_key_that_signs_now():
    state = started()
    now = walk_to_done(state)
    rot.apply(state, [RSA], [{"domain": "example.com", "selector": "s202611", "new_selector": "s202707",
                              "type": "ed25519"}], [], now, WAITS)
    now = walk_to_done(state, now=now)
    for selector in ("s202611", "s202701", "s202707"):
        assert rot.find_rotation(state, "example.com", selector)["new_selector"] == "s202707"
    keys, signs = rot.host_keys(state, rot.selector_units([RSA]))
    assert keys == [{"name": "example.com", "dkim": [{"selector": "s202707", "type": "ed25519", "bits": 256}]}]
    assert signs == [{"domain": "example.com", "selector": "s202707"}]
    got = status(state, now)
    assert (got["phase"], got["old_selector"], got["new_selector"], got["stale_inventory"]) == \
        ("done", "s202701", "s202707", True)


@pytest.mark.parametrize("new", ["s202611", "S202611", "s202501"])
def test_selectors_are_never_reused(new):
    state = rot.new_state()
    state["domains"]["example.com"] = [{"old_selector": "s202501", "new_selector": "s202611", "type": "rsa",
                                        "bits": 2048, "phase": "done",
                                        "at": dict((p, rot.iso(T0 - DAY)) for p in rot.PHASES)}]
    with pytest.raises(InputError) as err:
        rot.apply(state, [RSA], [{"domain": "example.com", "selector": "s202611", "new_selector": new}], [], T0, WAITS)
    assert err.value.field == "start[0].new_selector" and "never reused" in str(err.value)


def test_a_weak_key_is_replaced_by_a_2048_bit_one_and_ed25519_stays_ed25519():
    weak = dict(RSA, bits=1024)
    state = started(selectors=(weak,))
    assert state["domains"]["example.com"][0]["bits"] == 2048
    rot.apply(state, [weak, ED], [{"domain": "example.com", "selector": "e202611", "new_selector": "e202701"}], [],
              T0, WAITS)
    assert state["domains"]["example.com"][1]["type"] == "ed25519"
    assert state["domains"]["example.com"][1]["bits"] == 256


def test_the_new_key_kind_can_be_given():
    state = started(type="rsa", bits=4096)
    assert state["domains"]["example.com"][0]["bits"] == 4096


@pytest.mark.parametrize("request_, field", [
    ({"domain": "example.com", "selector": "s202611", "new_selector": "bad_selector!"}, "start[0].new_selector"),
    ({"domain": "example.com", "selector": "s999999", "new_selector": "s202701"}, "start[0]"),
    ({"domain": "example.com", "new_selector": "s202701"}, "start[0]"),
    ({"domain": "example.com", "selector": "s202611", "new_selector": "s202701", "bits": 1000}, "start[0].bits"),
])
def test_bad_start_requests_name_the_field(request_, field):
    with pytest.raises(InputError) as err:
        rot.apply(rot.new_state(), [RSA], [request_], [], T0, WAITS)
    assert err.value.field == field


def test_bad_selectors_name_the_field():
    with pytest.raises(InputError) as err:
        rot.apply(rot.new_state(), [dict(RSA, selector="-x")], [], [], T0, WAITS)
    assert err.value.field == "selectors[0].selector"
    with pytest.raises(InputError) as err:
        rot.apply(rot.new_state(), [dict(RSA, type="dsa")], [], [], T0, WAITS)
    assert err.value.field == "selectors[0].type"


# --- advancing ----------------------------------------------------------------------------------

def test_every_phase_in_order_each_once():
    state = started()
    now = T0
    for phase, wait in (("published", 0), ("signing", HOUR), ("revoked", 7 * DAY), ("removed", 2 * DAY),
                        ("done", 0)):
        now += wait
        assert step(state, phase, now) == [{"domain": "example.com", "selector": "s202611", "phase": phase}]
        assert step(state, phase, now) == []          # the same phase again: nothing to do
        assert state["domains"]["example.com"][0]["phase"] == phase
    assert step(state, "published", now) == []        # an earlier phase: long past


def test_the_new_selector_names_the_rotation_too():
    state = started()
    assert step(state, "published", T0, selector="S202701")


@pytest.mark.parametrize("phase, at, wait, setting", [
    ("signing", "published", HOUR, "publish_wait"),
    ("revoked", "signing", 7 * DAY, "overlap"),
    ("removed", "revoked", 2 * DAY, "revoke_hold"),
])
def test_each_wait_gates_its_phase_clock_before_and_after(phase, at, wait, setting):
    state = started()
    now = T0
    for earlier in rot.PHASES[1:rot.PHASES.index(phase)]:
        now += 30 * DAY   # past any wait before the phase under test
        step(state, earlier, now)
    assert WAITS[setting] == wait
    since = rot.epoch_of(state["domains"]["example.com"][0]["at"][at])
    before = json.loads(json.dumps(state))
    with pytest.raises(InputError) as err:
        step(state, phase, since + wait - 1)
    assert "may reach %s only after %s" % (phase, rot.iso(since + wait)) in str(err.value)
    assert "run again after" in str(err.value)
    assert state == before
    assert step(state, phase, since + wait)


def test_phases_cannot_be_skipped():
    state = started()
    with pytest.raises(InputError) as err:
        step(state, "signing", T0 + DAY)
    assert "is in phase started; it reaches signing only after published" in str(err.value)


def test_advancing_an_unknown_rotation_or_to_a_bad_phase_is_refused():
    with pytest.raises(InputError) as err:
        step(rot.new_state(), "published", T0)
    assert "no rotation of s202611._domainkey.example.com is recorded" in str(err.value)
    with pytest.raises(InputError) as err:
        step(started(), "started", T0)
    assert err.value.field == "advance[0].phase"


def test_a_refused_request_leaves_the_state_as_it_was_even_after_good_ones():
    state = started()
    before = json.loads(json.dumps(state))
    with pytest.raises(InputError):
        rot.apply(state, [RSA, ED], [{"domain": "example.com", "selector": "e202611", "new_selector": "e202701"}],
                  [{"domain": "example.com", "selector": "s202611", "phase": "signing"}], T0, WAITS)
    assert state == before


# --- what the host holds and reports ------------------------------------------------------------

def keys_and_signing(state, units=(RSA,)):
    key_domains, signing = rot.host_keys(state, list(units))
    return ([k["selector"] for d in key_domains for k in d["dkim"]], [s["selector"] for s in signing])


def test_keys_and_signing_selectors_follow_the_phase():
    state = rot.new_state()
    assert keys_and_signing(state) == (["s202611"], ["s202611"])
    state = started()
    assert keys_and_signing(state) == (["s202611", "s202701"], ["s202611"])
    step(state, "published", T0)
    assert keys_and_signing(state) == (["s202611", "s202701"], ["s202611"])
    for phase, now in (("signing", T0 + HOUR), ("revoked", T0 + 8 * DAY), ("removed", T0 + 10 * DAY),
                       ("done", T0 + 10 * DAY)):
        step(state, phase, now)
        assert keys_and_signing(state) == (["s202701"], ["s202701"])
    # The inventory updated to the new selector: the same keys.
    assert keys_and_signing(state, [dict(RSA, selector="s202701")]) == (["s202701"], ["s202701"])


def test_key_domains_have_the_shape_of_mailauth_domains_and_keep_each_key_kind():
    state = started(selectors=(dict(RSA, bits=1024), ED))
    key_domains, _signing = rot.host_keys(state, [dict(RSA, bits=1024), ED])
    assert key_domains == [{"name": "example.com", "dkim": [
        {"selector": "s202611", "type": "rsa", "bits": 1024}, {"selector": "s202701", "type": "rsa", "bits": 2048},
        {"selector": "e202611", "type": "ed25519", "bits": 256}]}]


def test_status_without_a_rotation():
    got = status(rot.new_state(), T0)
    assert (got["phase"], got["next"], got["due"], got["new_selector"]) == ("none", None, False, None)
    assert got["message"] == "no rotation; s202611 signs."


def test_status_tells_what_comes_next_and_when():
    state = started()
    got = status(state, T0, key_files=["s202611"])
    assert (got["phase"], got["next"], got["due"], got["due_at"]) == ("started", "published", True, None)
    assert got["new_key_present"] is False
    assert status(state, T0, key_files=["s202611", "s202701"])["new_key_present"] is True
    step(state, "published", T0)
    got = status(state, T0 + 60)
    assert (got["next"], got["due"], got["due_at"]) == ("signing", False, rot.iso(T0 + HOUR))
    assert "signing switches from s202611 to s202701 after %s" % rot.iso(T0 + HOUR) in got["message"]
    assert status(state, T0 + HOUR)["due"] is True
    step(state, "signing", T0 + HOUR)
    got = status(state, T0 + 2 * HOUR)
    assert (got["next"], got["due"], got["due_at"]) == ("revoked", False, rot.iso(T0 + HOUR + 7 * DAY))
    assert "revoked after %s" % rot.iso(T0 + HOUR + 7 * DAY) in got["message"]
    assert status(state, T0 + HOUR + 7 * DAY)["due"] is True


def test_status_of_a_done_rotation_says_the_inventory_may_keep_the_old_selector():
    state = started()
    walk_to_done(state)
    got = status(state, T0 + 30 * DAY)
    assert (got["phase"], got["next"], got["due"], got["stale_inventory"]) == ("done", None, False, True)
    assert "mailauth_domains names s202611, which stands for s202701 now" in got["message"]
    assert "replace" not in got["message"]
    assert status(state, T0 + 30 * DAY, dict(RSA, selector="s202701"))["stale_inventory"] is False


def test_report_counts_key_files_among_the_used_selectors():
    state = started()
    units = rot.selector_units([RSA])
    got = rot.report(state, units, T0, WAITS, {"example.com": ["s202501", "s202611"]})
    assert got["used_selectors"] == {"example.com": ["s202501", "s202611", "s202701"]}
    assert got["signing_selectors"] == [{"domain": "example.com", "selector": "s202611"}]
    assert got["rotations"][0]["new_key_present"] is False
    assert rot.report(state, units, T0, WAITS)["rotations"][0]["new_key_present"] is None
