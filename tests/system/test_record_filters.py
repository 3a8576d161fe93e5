"""The record filters under their FQCN in a real ansible-playbook run."""

PLAY = """
- hosts: localhost
  gather_facts: false
  vars:
    domain:
      spf: {mechanisms: [mx, a], all: fail}
      dmarc: {p: none, rua: [aggregate@example.com], ruf: [forensics@example.com], fo: "1"}
  tasks:
    - name: Build the records
      ansible.builtin.set_fact:
        spf: "{{ domain.spf | mailauth.hardening.spf_record }}"
        dmarc: "{{ domain.dmarc | mailauth.hardening.dmarc_record }}"
        strings: "{{ ('x' * 300) | mailauth.hardening.txt_split }}"
    - name: Show them
      ansible.builtin.debug:
        msg: "{{ [spf, dmarc, strings | map('length') | list] }}"
"""

BAD_PLAY = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: A removed DMARC tag
      ansible.builtin.debug:
        msg: "{{ {'p': 'quarantine', 'pct': 50} | mailauth.hardening.dmarc_record }}"
"""


def _task_result(data, name):
    for task in data["plays"][0]["tasks"]:
        if task["task"]["name"] == name:
            return task["hosts"]["localhost"]
    raise AssertionError("no task %r" % name)


def test_filters_in_a_playbook(run_playbook):
    rc, data, output = run_playbook(PLAY)
    assert rc == 0, output
    assert _task_result(data, "Show them")["msg"] == [
        "v=spf1 mx a -all",
        "v=DMARC1; p=none; rua=mailto:aggregate@example.com; ruf=mailto:forensics@example.com; fo=1",
        [255, 45],
    ]


def test_filter_error_names_the_field(run_playbook):
    rc, data, output = run_playbook(BAD_PLAY)
    assert rc != 0
    result = _task_result(data, "A removed DMARC tag")
    assert result["failed"]
    assert "dmarc.pct: RFC 9989 removed pct" in result["msg"]
