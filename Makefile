# mailauth.hardening — the two commands a newcomer needs are `make demo` and `make test`.
# Everything they need (Debian packages, the pinned venv, the lab image) is installed here.
SHELL := /bin/bash
.DEFAULT_GOAL := help
REPO := $(CURDIR)
VENV := $(REPO)/.venv
BIN := $(VENV)/bin
COLLECTIONS := $(REPO)/.build/collections
COLLECTION_LINK := $(COLLECTIONS)/ansible_collections/mailauth/hardening
# One copy per work tree: two trees checking at once must not share it.
SANITY_ROOT := /tmp/mailauth-sanity-$(shell printf %s "$(REPO)" | md5sum | cut -c1-8)/ansible_collections/mailauth/hardening
export PATH := $(BIN):$(PATH)
export CONTAINERS_CONF := $(REPO)/lab/containers.conf
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export ANSIBLE_LOCAL_TEMP := $(REPO)/.build/ansible-tmp
export ANSIBLE_NOCOLOR := 1
export MOLECULE_NO_LOG := false

.PHONY: help demo test deps venv judge-venv collection lab-up lab-down lint sanity units system molecule molecule-default molecule-rotate molecule-evidence molecule-mta-sts molecule-fleet bench-fleet build ee clean constraints

help:
	@echo "make demo   - bring up the lab and run the main job on it"
	@echo "make test   - install everything, then lint, sanity, unit, system and Molecule tests"
	@echo "make lab-down - remove the lab's containers and network"

deps:
	@lab/lab.sh deps

$(BIN)/.installed: requirements/controller.in requirements/constraints.txt
	test -x $(BIN)/python || python3 -m venv $(VENV)
	$(BIN)/pip install -q --upgrade 'pip==26.3'
	$(BIN)/pip install -q -r requirements/controller.in -c requirements/constraints.txt
	touch $@

venv: $(BIN)/.installed

# Ansible finds the collection under its FQCN through this link to the work tree.
collection: venv
	@mkdir -p $(dir $(COLLECTION_LINK)) $(ANSIBLE_LOCAL_TEMP)
	@ln -sfn $(REPO) $(COLLECTION_LINK)
	@# Mitogen's strategy plugins at a fixed path (the fleet scenario runs under mitogen_linear).
	@ln -sfn "$$($(BIN)/python -c 'import ansible_mitogen, os; print(os.path.dirname(ansible_mitogen.__file__))')/plugins/strategy" $(REPO)/.build/mitogen-strategy

constraints: venv
	(echo "# Full pin set for the controller venv (pip freeze of requirements/controller.in)."; \
	 $(BIN)/pip freeze --all | grep -v '^pip==\|^setuptools==\|^wheel==') > requirements/constraints.txt

lab-up: deps
	lab/lab.sh up

lab-down:
	lab/lab.sh down

demo: deps venv collection lab-up
	$(BIN)/ansible-playbook -i lab/demo/inventory.yml lab/demo/demo.yml -e mailauth_audit_report_dir=$(REPO)/reports

lint: venv collection
	$(BIN)/ansible-lint --profile production

# ansible-test wants the collection at ansible_collections/NS/NAME outside any other git
# work tree (it lists files with git): test a copy of the tracked tree there. It installs its
# own pinned sanity requirements into the Python that runs it, so that is a venv of its own.
SANITY_VENV := $(REPO)/.build/sanity-venv
$(SANITY_VENV)/.installed: requirements/sanity.txt
	test -x $(SANITY_VENV)/bin/python || python3 -m venv $(SANITY_VENV)
	$(SANITY_VENV)/bin/pip install -q -r requirements/sanity.txt
	touch $@

sanity: $(SANITY_VENV)/.installed deps
	mkdir -p $(HOME)/.ansible/test/cache
	cp lab/get_pip_standin.py $(HOME)/.ansible/test/cache/get_pip_24_2.py
	rm -rf $(SANITY_ROOT) && mkdir -p $(SANITY_ROOT)
	git ls-files -co --exclude-standard -z | rsync -a --from0 --files-from=- ./ $(SANITY_ROOT)/
	cd $(SANITY_ROOT) && $(SANITY_VENV)/bin/ansible-test sanity --local --requirements --python 3.11 2>&1 \
	  | grep -v -e '^WARNING: Location' -e '^Requirement already' -e '^Looking in'; exit $${PIPESTATUS[0]}

# parsedmarc, the judge the DMARC report reader is compared with, in a venv of its own (its pins are
# not the controller's, and the collection does not need it).
JUDGE_VENV := $(REPO)/.build/judge-venv
$(JUDGE_VENV)/.installed: requirements/judge.txt
	test -x $(JUDGE_VENV)/bin/python || python3 -m venv $(JUDGE_VENV)
	$(JUDGE_VENV)/bin/pip install -q --upgrade 'pip==26.3'
	$(JUDGE_VENV)/bin/pip install -q -r requirements/judge.txt
	touch $@

judge-venv: $(JUDGE_VENV)/.installed

units: venv collection
	$(BIN)/pytest -q tests/unit

system: deps venv judge-venv collection
	$(BIN)/pytest -q -n 2 --dist loadfile tests/system

molecule: deps venv collection lab-up
	cd $(REPO) && $(BIN)/molecule test -s plesk
	cd $(REPO) && $(BIN)/molecule test -s default

# Eight hosts, hand-made drift, remediation (about 8 min); .ci/run runs it after `make test`.
molecule-fleet: deps venv collection lab-up
	lab/lab.sh mail-image
	cd $(REPO) && $(BIN)/molecule test -s fleet

# The fleet speed benchmark (about 10 min; it takes the container lock itself).
bench-fleet: deps venv collection lab-up
	$(BIN)/python benchmarks/fleet_harden.py

# The Postfix path on one container (about 6 min): signer moves, dual signing, held-back key.
molecule-default: deps venv collection lab-up
	cd $(REPO) && $(BIN)/molecule test -s default

# DKIM rotation on two containers end to end (about 6 min); .ci/run runs it after `make test`.
molecule-rotate: deps venv collection lab-up
	lab/lab.sh mail-image
	cd $(REPO) && $(BIN)/molecule test -s rotate

# The DMARC evidence loop on two containers (about 10 min): reports from the lab's own mail flow reach
# the rua mailbox by SMTP, harden reads them over IMAPS, holds, then raises; .ci/run runs it after rotate.
molecule-evidence: deps venv collection lab-up
	lab/lab.sh mail-image
	cd $(REPO) && $(BIN)/molecule test -s evidence

# MTA-STS served by nginx and kept true across a policy change, judged by the audit and curl (about 6 min).
molecule-mta-sts: deps venv collection lab-up
	lab/lab.sh mail-image
	cd $(REPO) && $(BIN)/molecule test -s mta_sts

test: deps venv collection build lint sanity units system molecule

build: venv
	$(BIN)/ansible-galaxy collection build --force --output-path .build/dist
	@! tar tzf .build/dist/mailauth-hardening-*.tar.gz | grep -E '^(lab|tests|benchmarks|molecule|requirements|\.ci)/' \
	  || { echo "the collection tarball carries lab, test or benchmark files" >&2; exit 1; }

# The execution environment, built with ansible-builder on the lab's Debian image (docs/awx.md).
ee: deps venv
	ANSIBLE_BUILDER=$(BIN)/ansible-builder lab/lab.sh ee-image

clean:
	rm -rf .build
