"""Hostile requests and damaged state files for dkim_rotation: refused naming the field and the fix,
the state file and its directory unchanged."""
import json


from hostile.host_harness import Case, immutable, hostile_tests

SELECTORS = [{"domain": "example.com", "selector": "s1", "type": "rsa", "bits": 2048}]
NOW = "2026-11-01T10:00:00Z"


def state(rotations=None, text=None):
    """A state file at state/rotation.json: rotations of example.com, or raw text."""
    def setup(directory):
        (directory / "state").mkdir(mode=0o755)
        content = text if text is not None else json.dumps(
            {"version": 1, "domains": {"example.com": rotations or []}}, indent=2, sort_keys=True) + "\n"
        (directory / "state" / "rotation.json").write_text(content)
    return setup


def started(phase="started"):
    at = {"started": NOW, "published": NOW, "signing": NOW}
    return [{"old_selector": "s1", "new_selector": "s2", "phase": phase, "type": "rsa", "bits": 2048,
             "at": dict((k, v) for k, v in at.items() if ["started", "published", "signing"].index(k)
                        <= ["started", "published", "signing"].index(phase))}]


def immutable_state(directory):
    state()(directory)
    immutable(directory / "state")


def rotation(**options):
    return {"mailauth.hardening.dkim_rotation": dict(dict(state_file="{dir}/state/rotation.json",
                                                          selectors=SELECTORS), **options)}


START = [{"domain": "example.com", "selector": "s1", "new_selector": "s2"}]
CASES = [
    Case("state_not_json", rotation(), "state_file", "restore the state file", setup=state(text="{not json")),
    Case("state_other_version", rotation(), "state_file", "move it aside",
         setup=state(text='{"version": 9, "domains": {}}')),
    Case("state_rotation_bad_time", rotation(), "state_file", "restore the state file",
         setup=state([dict(started()[0], at={"started": "yesterday"})])),
    Case("state_file_is_a_directory", rotation(state_file="{dir}/state"), "state_file", "readable file",
         setup=state()),
    Case("state_directory_unwritable", rotation(start=START), "state_file", "make its directory writable",
         setup=immutable_state),
    Case("publish_wait_not_a_duration", rotation(publish_wait="forever"), "publish_wait", "7d, 12h, 30s",
         setup=state()),
    Case("overlap_negative", rotation(overlap="-1d"), "overlap", "7d, 12h, 30s", setup=state()),
    Case("selector_not_listed", rotation(start=[dict(START[0], selector="s9")]), "start[0]", "rotate only selectors",
         setup=state()),
    Case("new_selector_not_a_label", rotation(start=[dict(START[0], new_selector="s_2")]), "start[0].new_selector",
         "letters, digits and hyphens only", setup=state()),
    Case("selector_reused", rotation(start=[dict(START[0], new_selector="s1")]), "start[0].new_selector",
         "has never had", setup=state()),
    Case("second_rotation", rotation(start=[dict(START[0], new_selector="s3")]), "start[0]", "finish first",
         setup=state(started())),
    Case("advance_without_rotation", rotation(advance=[{"domain": "example.com", "selector": "s1",
                                                        "phase": "published"}]), "advance[0]", "start the rotation first",
         setup=state()),
    Case("advance_skipping_a_phase", rotation(advance=[{"domain": "example.com", "selector": "s1",
                                                        "phase": "signing"}]), "advance[0]",
         "do the work of published", setup=state(started())),
    Case("advance_before_its_wait", rotation(advance=[{"domain": "example.com", "selector": "s1",
                                                       "phase": "revoked"}], overlap="3650d"), "advance[0]", "run again after",
         setup=state(started("signing"))),
]
outcomes, test_hostile_dkim_rotation, test_hostile_dkim_rotation_run_shows_no_secret = hostile_tests(CASES)
