# lvs.topology — developer and user workflow. Target names are a contract: CI, the README,
# the docs and outside tooling call them.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

VENV      := .venv
PY        := $(VENV)/bin/python
TOPOLOGY  ?= dr
LAB_NAME  ?= $(TOPOLOGY)
SCENARIO  ?=
# The ansible-core that drives `make molecule`: pinned, newest, oldest or 2.NN (scripts/core-env.sh).
CORE      ?= pinned
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/.build/collections
export ANSIBLE_ROLES_PATH := $(CURDIR)/roles

.PHONY: help setup apt venv lab-image collection-link demo test lint sanity units packaging \
        integration molecule molecule-all lab-tests lab-up lab-down bench docs docs-check \
        galaxy-importer-venv

help:
	@echo "make demo   - build what is needed, bring up the dr lab, deploy site.yml, show traffic"
	@echo "make test   - lint, sanity, units (also on the oldest ansible-core), packaging, docs-check, module integration and Molecule scenarios"
	@echo "make setup | lint | sanity | units | packaging | integration | molecule SCENARIO=x [CORE=newest]"
	@echo "make lab-up TOPOLOGY=x | lab-down TOPOLOGY=x | bench"
	@echo "make matrix - sanity and units on every ansible-core release from requires_ansible on (make core-oldest, core-newest: the oldest, the newest)"
	@echo "make docs   - regenerate the diagrams and captures in docs/, build the HTML docsite in .build/docsite/html"
	@echo "make docs-check - lint the plugin and role docs, build the docsite, are the diagrams and captures fresh?"

# ---- setup: idempotent and cached ------------------------------------------------------
setup: apt venv galaxy-importer-venv lab-image collection-link

apt:
	@scripts/setup-apt.sh

venv: apt
	@scripts/setup-venv.sh

# galaxy-importer caps packages below .venv's pins, so it has a venv of its own.
galaxy-importer-venv: apt
	@scripts/setup-venv.sh .build/venvs/galaxy-importer requirements-galaxy-importer.txt

lab-image: venv
	@$(PY) lab/labctl.py image

# Ansible finds the checkout as the collection lvs.topology through this link.
collection-link:
	@mkdir -p .build/collections/ansible_collections/lvs
	@ln -sfn $(CURDIR) .build/collections/ansible_collections/lvs/topology

# ---- the two README commands -------------------------------------------------------------
demo:
	@scripts/demo.sh $(TOPOLOGY)

test: setup
	@scripts/test-all.sh

# ---- the parts of make test ----------------------------------------------------------------
lint: venv collection-link
	yamllint -s .
	ansible-lint
	$(PY) -m py_compile lab/*.py lab/lvs_lab/*.py scripts/*.py
	scripts/lint-jenkinsfile.sh

sanity: venv
	scripts/sanity.sh

units: venv collection-link
	$(PY) -m pytest

packaging: venv galaxy-importer-venv
	scripts/packaging-test.sh

integration: setup
	scripts/integration.sh

molecule: setup
	@test -n "$(SCENARIO)" || { echo "usage: make molecule SCENARIO=<name>"; exit 2; }
	scripts/core-env.sh $(CORE) molecule test -s $(SCENARIO)

molecule-all: setup
	LAB_TEST_KINDS=molecule scripts/lab-tests.sh

# What make test runs of the lab: integration and every scenario, two lanes side by side, one
# scenario on the newest ansible-core pinned here (scripts/lab-tests.sh).
lab-tests: setup
	scripts/lab-tests.sh

# ---- documentation -------------------------------------------------------------------------
# Committed: the diagrams from lab/topologies/*.yml and the mode guides' ipvsadm -Ln blocks from
# the lab captures in docs/captures/. Built: the HTML docsite, the guides and the reference of
# the modules, filters and roles from their own documentation.
docs: venv collection-link
	$(PY) scripts/gen-diagrams.py
	$(PY) scripts/gen-guide-captures.py
	$(PY) scripts/build-docsite.py

docs-check: venv collection-link
	@scripts/docs-check.sh

# ---- the lab -------------------------------------------------------------------------------
lab-up: setup
	$(PY) lab/labctl.py up $(TOPOLOGY) --name $(LAB_NAME)

lab-down: venv
	$(PY) lab/labctl.py down $(LAB_NAME)

bench: setup
	@scripts/bench.sh

# ---- the ansible-core support matrix -------------------------------------------------------
# meta/runtime.yml admits every ansible-core from requires_ansible on: make test runs sanity and
# units on the oldest and the newest too (core-oldest, core-newest), make matrix on every minor
# release up to the newest
# (those that need Python 3.12 or later in a Debian 13 root, scripts/debian13-root.sh). Each
# release other than the pinned one has its venv in .build/venvs/, made when first needed.
.PHONY: core-oldest core-newest matrix

core-oldest: venv collection-link
	@scripts/core-check.sh oldest

core-newest: venv collection-link
	@scripts/core-check.sh newest

matrix: venv collection-link
	@scripts/core-matrix.sh
