"""_dkim_rotation_plan: the controller's decisions from several hosts' rotation reports.

Each host's report is made by the host-side logic (_dkim_rotation) from its own state, as the
dkim_rotation module makes it, so the two halves are tested together.
"""
import json

import pytest

from ansible_collections.mailauth.hardening.plugins.module_utils._dkim import rotation as rot
from ansible_collections.mailauth.hardening.plugins.module_utils._dkim import rotation_plan as plan
from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError

T0 = 1800000000  # 2027-01-15T08:00:00Z
HOUR, DAY = 3600, 86400
WAITS = {"publish_wait": HOUR, "overlap": 7 * DAY, "revoke_hold": 2 * DAY}
RSA = {"domain": "example.com", "selector": "s202611", "type": "rsa", "bits": 2048}
ED = {"domain": "example.com", "selector": "e202611", "type": "ed25519", "bits": 256}
OTHER = {"domain": "other.org", "selector": "k1", "type": "rsa", "bits": 2048}
HOSTS = ("mx1", "mx2")


class Fleet(object):
    """Hosts with their own state, run through the module's logic."""

    def __init__(self, hosts=HOSTS, units=(RSA,), key_files=None):
        self.hosts = list(hosts)
        self.units = dict((h, list(units)) for h in self.hosts)
        self.states = dict((h, rot.new_state()) for h in self.hosts)
        self.key_files = dict((h, dict(key_files or {"example.com": ["s202611"], "other.org": ["k1"]}))
                              for h in self.hosts)

    def run(self, host, now, starts=(), advances=()):
        units, _changes = rot.apply(self.states[host], self.units[host], list(starts), list(advances), now, WAITS)
        return dict(rot.report(self.states[host], units, now, WAITS, self.key_files[host]), keys_dir="/k/" + host)

    def reports(self, now):
        return dict((h, self.run(h, now)) for h in self.hosts)

    def start(self, now, **options):
        requests = plan.start_requests(self.reports(now), self.hosts, dict({"start": True}, **options), now)
        for host, starts in requests.items():
            self.run(host, now, starts)
        return requests

    def give_keys(self, selector, hosts=None):
        for host in hosts or self.hosts:
            self.key_files[host]["example.com"].append(selector)

    def apply(self, advances, now):
        for host, requests in advances.items():
            self.run(host, now, advances=requests)


def records(hosts, selector="s202701", key="KEY"):
    return dict((h, [{"domain": "example.com", "selector": selector, "record": "v=DKIM1; k=rsa; p=" + key,
                      "public_key": key}]) for h in hosts)


# --- new selectors -------------------------------------------------------------------------------

def test_selectors_come_from_the_pattern_with_a_letter_when_taken():
    assert plan.generate_selector("s%Y%m", T0, []) == "s202701"
    assert plan.generate_selector("s%Y%m", T0, ["S202701"]) == "s202701a"
    assert plan.generate_selector("mail-%Y%m%d", T0, ["s202701", "mail-20270115", "mail-20270115a"]) == \
        "mail-20270115b"


@pytest.mark.parametrize("pattern, problem", [("s_%Y", "makes the selector 's_2027'"), ("-%Y", "makes the selector")])
def test_patterns_that_make_bad_selectors_are_refused(pattern, problem):
    with pytest.raises(InputError) as err:
        plan.generate_selector(pattern, T0, [])
    assert problem in str(err.value)


def test_when_every_letter_is_taken_the_selector_must_be_given():
    taken = ["s202701"] + ["s202701" + c for c in "abcdefghijklmnopqrstuvwxyz"]
    with pytest.raises(InputError) as err:
        plan.generate_selector("s%Y%m", T0, taken)
    assert "mailauth_dkim_rotation_new_selectors" in str(err.value)


# --- starting ------------------------------------------------------------------------------------

def test_nothing_starts_unless_asked():
    fleet = Fleet()
    assert plan.start_requests(fleet.reports(T0), HOSTS, {}, T0) == {"mx1": [], "mx2": []}


def test_a_start_goes_to_every_host_with_one_new_selector_per_selector():
    fleet = Fleet(units=(RSA, ED))
    requests = fleet.start(T0)
    expected = [{"domain": "example.com", "selector": "s202611", "new_selector": "s202701"},
                {"domain": "example.com", "selector": "e202611", "new_selector": "e202701"}]
    assert requests == {"mx1": expected, "mx2": expected}
    # Asking again before it was published (a start cut short): the same rotation, nothing new.
    assert fleet.start(T0 + DAY) == {"mx1": [], "mx2": []}


def test_a_second_start_while_a_rotation_runs_is_refused_with_the_way_on():
    fleet = published_fleet()
    reports = fleet.reports(T0 + 60)
    with pytest.raises(InputError) as err:
        plan.start_requests(reports, HOSTS, {"start": True}, T0 + 60)
    message = str(err.value)
    assert message.startswith("mailauth_dkim_rotation_start: the rotation of example.com from s202611 to s202701 "
                              "is not finished (phase published since 2027-01-15T08:00:00Z); a second rotation is "
                              "refused.")
    assert "run the playbook without mailauth_dkim_rotation_start" in message
    assert "(next: signing after 2027-01-15T09:00:00Z)" in message
    given = [{"domain": "example.com", "selector": "s202611", "new_selector": "s202799"}]
    with pytest.raises(InputError) as err:
        plan.start_requests(reports, HOSTS, {"start": True, "new_selectors": given}, T0 + 60)
    assert "a second rotation (to s202799) is refused" in str(err.value)
    # The same request again, or a start for other domains only, carries on.
    same = [dict(given[0], new_selector="S202701")]
    assert plan.start_requests(reports, HOSTS, {"start": True, "new_selectors": same}, T0) == {"mx1": [], "mx2": []}
    assert plan.start_requests(reports, HOSTS, {"start": True, "domains": ["other.org"]}, T0) == \
        {"mx1": [], "mx2": []}


def test_the_new_selector_avoids_every_selector_any_host_has_had():
    fleet = Fleet(key_files={"example.com": ["s202611"]})
    fleet.key_files["mx2"]["example.com"].append("s202701")
    assert fleet.start(T0)["mx1"][0]["new_selector"] == "s202701a"


def test_given_selectors_and_the_domain_filter():
    fleet = Fleet(units=(RSA, OTHER))
    requests = fleet.start(T0, domains=["example.com"], new_selectors=[
        {"domain": "example.com.", "selector": "S202611", "new_selector": "mx2027", "bits": 4096}])
    assert requests["mx1"] == [{"domain": "example.com", "selector": "s202611", "new_selector": "mx2027",
                                "bits": 4096}]


def test_a_host_that_signs_later_joins_the_running_rotation_until_the_switch():
    fleet = Fleet(hosts=["mx1"])
    fleet.start(T0)
    fleet.hosts.append("mx2")
    fleet.states["mx2"], fleet.units["mx2"] = rot.new_state(), [RSA]
    fleet.key_files["mx2"] = {"example.com": ["s202611"]}
    requests = plan.start_requests(fleet.reports(T0), fleet.hosts, {}, T0)
    assert requests == {"mx1": [], "mx2": [{"domain": "example.com", "selector": "s202611",
                                            "new_selector": "s202701", "type": "rsa", "bits": 2048}]}


def test_a_host_joining_after_the_switch_is_refused():
    fleet = Fleet(hosts=["mx1"])
    fleet.start(T0)
    fleet.run("mx1", T0, advances=[{"domain": "example.com", "selector": "s202611", "phase": "published"}])
    fleet.run("mx1", T0 + HOUR, advances=[{"domain": "example.com", "selector": "s202611", "phase": "signing"}])
    fleet.hosts.append("mx2")
    fleet.states["mx2"], fleet.units["mx2"] = rot.new_state(), [RSA]
    fleet.key_files["mx2"] = {"example.com": ["s202611"]}
    with pytest.raises(InputError) as err:
        plan.start_requests(fleet.reports(T0 + HOUR), fleet.hosts, {}, T0 + HOUR)
    assert "mx2 sign(s) example.com with s202611 but joined the rotation to s202701 after mx1 switched" in \
        str(err.value)


def test_hosts_rotating_to_different_selectors_are_refused():
    fleet = Fleet()
    fleet.run("mx1", T0, [{"domain": "example.com", "selector": "s202611", "new_selector": "a1"}])
    fleet.run("mx2", T0, [{"domain": "example.com", "selector": "s202611", "new_selector": "b1"}])
    with pytest.raises(InputError) as err:
        plan.start_requests(fleet.reports(T0), HOSTS, {"start": True}, T0)
    assert "mx1 -> a1, mx2 -> b1" in str(err.value)


def done_fleet(hosts=("mx1",)):
    fleet = Fleet(hosts=hosts)
    fleet.start(T0)
    now = T0
    for phase in rot.PHASES[1:]:
        now += 30 * DAY
        for host in hosts:
            fleet.run(host, now, advances=[{"domain": "example.com", "selector": "s202611", "phase": phase}])
    return fleet, now


def test_after_a_finished_rotation_the_next_start_replaces_the_new_key_though_the_inventory_names_the_old():
    fleet, now = done_fleet()
    assert plan.start_requests(fleet.reports(now), ["mx1"], {}, now) == {"mx1": []}
    requests = plan.start_requests(fleet.reports(now), ["mx1"], {"start": True}, now)
    assert requests == {"mx1": [{"domain": "example.com", "selector": "s202611", "new_selector": "s202706"}]}
    fleet.run("mx1", now, requests["mx1"])
    [latest] = [r for r in fleet.states["mx1"]["domains"]["example.com"] if r["phase"] == "started"]
    assert (latest["old_selector"], latest["new_selector"]) == ("s202701", "s202706")


# --- keys ----------------------------------------------------------------------------------------

def test_the_first_host_makes_the_new_key_and_the_others_get_a_copy():
    fleet = Fleet(units=(RSA, OTHER))
    fleet.start(T0, domains=["example.com"])
    keys = plan.key_plan(fleet.reports(T0), HOSTS)
    both = [{"name": "example.com", "dkim": [{"selector": "s202611", "type": "rsa", "bits": 2048},
                                             {"selector": "s202701", "type": "rsa", "bits": 2048}]},
            {"name": "other.org", "dkim": [{"selector": "k1", "type": "rsa", "bits": 2048}]}]
    assert keys["mx1"] == {"make": both, "copies": []}
    assert keys["mx2"] == {"make": [both[0] | {"dkim": both[0]["dkim"][:1]}, both[1]],
                           "copies": [{"domain": "example.com", "selector": "s202701", "source": "mx1",
                                       "source_path": "/k/mx1/example.com/s202701.private", "source_holds": False}]}


def test_a_host_that_has_the_new_key_already_is_the_source():
    fleet = Fleet(hosts=["mx1", "mx2", "mx3"])
    fleet.start(T0)
    fleet.give_keys("s202701", ["mx2"])
    keys = plan.key_plan(fleet.reports(T0), fleet.hosts)
    assert keys["mx2"]["copies"] == []
    assert [c["source"] for h in ("mx1", "mx3") for c in keys[h]["copies"]] == ["mx2", "mx2"]
    assert all(c["source_holds"] for h in ("mx1", "mx3") for c in keys[h]["copies"])
    fleet.give_keys("s202701", ["mx1", "mx3"])
    assert all(keys["copies"] == [] for keys in plan.key_plan(fleet.reports(T0), fleet.hosts).values())


def test_every_key_the_hosts_share_is_made_once_not_only_new_ones():
    # harden's case: no rotation, mx2 is new and has no key yet; mx3 has none either.
    fleet = Fleet(hosts=["mx1", "mx2", "mx3"], key_files={"example.com": []})
    fleet.key_files["mx2"] = {"example.com": ["s202611"]}
    keys = plan.key_plan(fleet.reports(T0), fleet.hosts)
    assert keys["mx2"]["copies"] == []
    assert keys["mx1"] == {"make": [], "copies": [{"domain": "example.com", "selector": "s202611", "source": "mx2",
                                                   "source_path": "/k/mx2/example.com/s202611.private",
                                                   "source_holds": True}]}
    assert keys["mx3"]["copies"][0]["source"] == "mx2"
    # Nobody has it: the first host makes it, the others get it afterwards.
    fleet.key_files["mx2"] = {"example.com": []}
    keys = plan.key_plan(fleet.reports(T0), fleet.hosts)
    assert keys["mx1"]["make"] == [{"name": "example.com", "dkim": [{"selector": "s202611", "type": "rsa", "bits": 2048}]}]
    assert [(c["source"], c["source_holds"]) for h in ("mx2", "mx3") for c in keys[h]["copies"]] == \
        [("mx1", False), ("mx1", False)]


def test_a_host_without_the_rotation_another_host_switched_away_from_its_selector_is_refused():
    fleet, now = done_fleet(hosts=["mx1", "mx2"])
    fleet.hosts.append("mx3")
    fleet.states["mx3"], fleet.units["mx3"] = rot.new_state(), [RSA]
    fleet.key_files["mx3"] = {"example.com": []}
    with pytest.raises(InputError) as err:
        plan.key_plan(fleet.reports(now), fleet.hosts)
    message = str(err.value)
    assert "s202611 of example.com was rotated to s202701 on mx1 (phase done), but mx3 hold(s) no record" in message
    assert "would sign with the retired s202611" in message
    assert "copy mx1's state file (mailauth_dkim_rotation_state_file) to mx3" in message
    # With the state file copied, mx3 holds the new key and gets it from mx1.
    fleet.states["mx3"] = json.loads(json.dumps(fleet.states["mx1"]))
    keys = plan.key_plan(fleet.reports(now), fleet.hosts)
    assert keys["mx3"]["copies"] == [{"domain": "example.com", "selector": "s202701", "source": "mx1",
                                      "source_path": "/k/mx1/example.com/s202701.private", "source_holds": False}]


# --- DNS and the phases it drives ----------------------------------------------------------------

def test_publish_once_every_host_holds_the_same_new_key():
    fleet = Fleet()
    fleet.start(T0)
    got = plan.dns_plan(fleet.reports(T0), HOSTS, records(HOSTS), {})
    assert got["dns"] == [{"domain": "example.com", "state": "present",
                           "records": [{"name": "s202701._domainkey.example.com.", "value": "v=DKIM1; k=rsa; p=KEY"}]}]
    assert got["advance"] == dict((h, [{"domain": "example.com", "selector": "s202611", "phase": "published"}])
                                  for h in HOSTS)
    fleet.apply(got["advance"], T0)
    # Published everywhere: a re-run has nothing to publish.
    assert plan.dns_plan(fleet.reports(T0), HOSTS, records(HOSTS), {})["dns"] == []


def test_different_keys_on_the_hosts_are_refused():
    fleet = Fleet()
    fleet.start(T0)
    keys = dict(records(["mx1"]), **records(["mx2"], key="OTHER"))
    with pytest.raises(InputError) as err:
        plan.dns_plan(fleet.reports(T0), HOSTS, keys, {})
    assert "the hosts hold different keys for s202701: mx1 p=KEY..., mx2 p=OTHER..." in str(err.value)


def test_no_key_yet_means_nothing_to_publish_with_a_note():
    fleet = Fleet()
    fleet.start(T0)
    got = plan.dns_plan(fleet.reports(T0), HOSTS, records(["mx1"]), {})
    assert got["dns"] == [] and got["advance"] == {"mx1": [], "mx2": []}
    assert got["notes"] == ["example.com: s202611 -> s202701: no key on mx2 yet (check mode makes none); "
                            "nothing to publish."]


def test_stop_after_holds_the_rotation_at_that_phase():
    fleet = Fleet()
    fleet.start(T0)
    got = plan.dns_plan(fleet.reports(T0), HOSTS, records(HOSTS), {"stop_after": "started"})
    assert got["dns"] == []
    with pytest.raises(InputError):
        plan.dns_plan(fleet.reports(T0), HOSTS, records(HOSTS), {"stop_after": "later"})


def published_fleet(hosts=HOSTS):
    fleet = Fleet(hosts=hosts)
    fleet.start(T0)
    fleet.apply(plan.dns_plan(fleet.reports(T0), hosts, records(hosts), {})["advance"], T0)
    return fleet


def test_signing_switches_on_every_host_together_after_the_publish_wait():
    fleet = published_fleet()
    early = plan.switch_plan(fleet.reports(T0 + 60), HOSTS, {})
    assert early == dict((h, {"switch": [], "signing_selectors": [{"domain": "example.com", "selector": "s202611"}]})
                         for h in HOSTS)
    got = plan.switch_plan(fleet.reports(T0 + HOUR), HOSTS, {})
    assert got == dict((h, {"switch": [{"domain": "example.com", "selector": "s202611", "phase": "signing"}],
                            "signing_selectors": [{"domain": "example.com", "selector": "s202701"}]}) for h in HOSTS)
    assert plan.switch_plan(fleet.reports(T0 + HOUR), HOSTS, {"stop_after": "published"})["mx1"]["switch"] == []


def test_no_switch_while_a_host_has_not_recorded_the_publication():
    fleet = Fleet()
    fleet.start(T0)
    fleet.run("mx1", T0, advances=[{"domain": "example.com", "selector": "s202611", "phase": "published"}])
    got = plan.switch_plan(fleet.reports(T0 + DAY), HOSTS, {})
    assert got["mx1"]["switch"] == [] and got["mx2"]["switch"] == []


def switched_fleet():
    fleet = published_fleet()
    fleet.apply(dict((h, p["switch"]) for h, p in plan.switch_plan(fleet.reports(T0 + HOUR), HOSTS, {}).items()),
                T0 + HOUR)
    return fleet


def test_revoke_only_after_the_overlap_on_every_host():
    fleet = switched_fleet()
    before = plan.dns_plan(fleet.reports(T0 + HOUR + 7 * DAY - 1), HOSTS, {}, {})
    assert before["dns"] == [] and before["advance"] == {"mx1": [], "mx2": []}
    assert before["notes"] == ["example.com: s202611 -> s202701: overlap runs until 2027-01-22T09:00:00Z."]
    after = plan.dns_plan(fleet.reports(T0 + HOUR + 7 * DAY), HOSTS, {}, {})
    assert after["dns"] == [{"domain": "example.com", "state": "present",
                             "records": [{"name": "s202611._domainkey.example.com.", "value": "v=DKIM1; p="}]}]
    assert after["advance"]["mx2"] == [{"domain": "example.com", "selector": "s202611", "phase": "revoked"}]


def test_a_host_that_switched_later_holds_the_revocation_back():
    fleet = published_fleet()
    fleet.run("mx1", T0 + HOUR, advances=[{"domain": "example.com", "selector": "s202611", "phase": "signing"}])
    fleet.run("mx2", T0 + 2 * DAY, advances=[{"domain": "example.com", "selector": "s202611", "phase": "signing"}])
    assert plan.dns_plan(fleet.reports(T0 + HOUR + 7 * DAY), HOSTS, {}, {})["dns"] == []
    assert plan.dns_plan(fleet.reports(T0 + 9 * DAY), HOSTS, {}, {})["dns"] != []


def test_removal_after_the_hold_then_nothing_more_from_dns():
    fleet = switched_fleet()
    now = T0 + HOUR + 7 * DAY
    fleet.apply(plan.dns_plan(fleet.reports(now), HOSTS, {}, {})["advance"], now)
    assert plan.dns_plan(fleet.reports(now + DAY), HOSTS, {}, {})["notes"] == [
        "example.com: s202611 -> s202701: revoked record stays until 2027-01-24T09:00:00Z."]
    got = plan.dns_plan(fleet.reports(now + 2 * DAY), HOSTS, {}, {})
    assert got["dns"] == [{"domain": "example.com", "state": "absent",
                           "records": [{"name": "s202611._domainkey.example.com.", "value": "v=DKIM1; p="}]}]
    fleet.apply(got["advance"], now + 2 * DAY)
    assert plan.dns_plan(fleet.reports(now + 2 * DAY), HOSTS, {}, {})["dns"] == []
    assert plan.dns_plan(fleet.reports(now + 2 * DAY), HOSTS, {}, {"stop_after": "revoked"})["dns"] == []
    # Then each host deletes the old key and records the rotation done.
    finish = plan.finish_plan(fleet.reports(now + 2 * DAY), HOSTS, {})
    assert finish["mx2"] == {"advance": [{"domain": "example.com", "selector": "s202611", "phase": "done"}],
                             "delete": ["/k/mx2/example.com/s202611.private"]}
    assert plan.finish_plan(switched_fleet().reports(now), HOSTS, {})["mx1"] == {"advance": [], "delete": []}
    assert plan.finish_plan(fleet.reports(now + 2 * DAY), HOSTS, {"remove_old_key": False})["mx1"]["delete"] == []
    assert plan.finish_plan(fleet.reports(now + 2 * DAY), HOSTS, {"stop_after": "removed"})["mx1"]["advance"] == []


def test_several_domains_each_get_one_dns_entry():
    fleet = Fleet(units=(RSA, ED, OTHER))
    fleet.key_files = dict((h, {"example.com": ["s202611", "e202611"], "other.org": ["k1"]}) for h in HOSTS)
    fleet.start(T0)
    keys = dict((h, records([h])[h] + [
        {"domain": "example.com", "selector": "e202701", "record": "v=DKIM1; k=ed25519; p=ED", "public_key": "ED"},
        {"domain": "other.org", "selector": "s202701", "record": "v=DKIM1; k=rsa; p=O", "public_key": "O"}])
        for h in HOSTS)
    got = plan.dns_plan(fleet.reports(T0), HOSTS, keys, {})
    assert [(d["domain"], [r["name"] for r in d["records"]]) for d in got["dns"]] == [
        ("example.com", ["s202701._domainkey.example.com.", "e202701._domainkey.example.com."]),
        ("other.org", ["s202701._domainkey.other.org."])]
