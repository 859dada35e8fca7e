# Two commands: `make run` (set up and run a demo node) and `make test` (the whole suite).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DEV_DOMAIN ?= 127.0.0.1:8000

# The interop tests' npm projects: the Fedify peer, and the client libraries apps are built on.
NPM_PROJECTS := tests/interop/fedify_peer tests/interop/client_apps
NPM_INSTALLED := $(NPM_PROJECTS:%=%/node_modules/.package-lock.json)

.PHONY: run test lint bench prove fuzz clean help

help:
	@echo "make run   - set up .venv, a dev config, an SQLite database and the demo institution; serve on http://$(DEV_DOMAIN)"
	@echo "make test  - set up .venv with the test extras and run lint and the test suite (SQLite and PostgreSQL)"
	@echo "make lint  - ruff, and mypy over talentfed/ (strict on federation/, domain/, storage/, analytics/, jobs/)"
	@echo "make bench - run the benchmarks in bench/ (minutes; figures go to docs/benchmarks.md)"
	@echo "make prove - the proving ground: crashes, faults, load and a soak, each figure against its target (under 30 min; docs/reliability.md)"
	@echo "make fuzz  - fuzz the inbox with FUZZ_EXAMPLES inputs per back-end (default 50000; docs/reliability.md)"

$(BIN)/python:
	@$(PYTHON) -m venv $(VENV) || { \
	  echo "error: '$(PYTHON) -m venv' failed; on Debian/Ubuntu install it with: apt-get install python3-venv" >&2; \
	  rm -rf $(VENV); exit 1; }
	@$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall whenever pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@ $(VENV)/.installed

# The benchmarks' baselines (networkx, scikit-learn) and memory readings (psutil): not needed by tests.
$(VENV)/.installed-bench: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	@touch $@ $(VENV)/.installed-test $(VENV)/.installed

# The interop tests' npm projects (tests/interop/npm_projects.py): the Fedify peer (an independent
# ActivityPub server) and client_apps (masto.js and megalodon, the libraries Elk, Phanpy and
# Whalebird are built on). Each installs its npm packages, and the Node.js 22 it runs on, as pinned
# by its package-lock.json; reinstalled whenever that changes. (npm warns that they want node >= 22
# when npm itself runs on an older node: expected, they run on the pinned one.) Without npm the
# interop tests skip here and fail in CI.
%/node_modules/.package-lock.json: %/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  cd $* && npm ci --no-audit --no-fund && touch node_modules/.package-lock.json; \
	else \
	  echo "note: npm is missing: the interop tests (tests/interop) skip here and fail in CI (CI=true)." \
	    "Install Node.js and npm as root: apt-get install nodejs npm" >&2; \
	fi

run: $(VENV)/.installed
	@test -f config.toml || $(BIN)/talentfed init --dev-mode --domain $(DEV_DOMAIN) \
	  --base-url http://$(DEV_DOMAIN) --name "Demo Institute of Technology"
	$(BIN)/talentfed migrate
	$(BIN)/talentfed demo
	$(BIN)/talentfed serve

# mypy's settings (which packages are strict) are in pyproject.toml.
lint: $(VENV)/.installed-test
	$(BIN)/ruff check talentfed tests bench
	$(BIN)/mypy talentfed

test: lint $(NPM_INSTALLED)
	@test -x /usr/bin/chromium || echo "note: /usr/bin/chromium is missing: the browser tests (tests/browser) skip here" \
	  "and fail in CI (CI=true). Install Debian's Chromium as root: apt-get install chromium" >&2
	$(BIN)/pytest

bench: $(VENV)/.installed-bench
	@command -v wrk >/dev/null 2>&1 || { echo "error: bench/bench_load.py needs wrk: apt-get install wrk" >&2; exit 1; }
	@for script in bench/bench_*.py; do [ -e "$$script" ] || continue; echo "== $$script"; $(BIN)/python $$script || exit 1; done
	$(BIN)/python bench/analytics.py

# The proving ground (bench/prove.py): SIGKILLs during a fan-out and while activities arrive,
# PostgreSQL stopped (a throw-away cluster), a full disk (a tmpfs: needs root, else skipped),
# misbehaving receivers, load and a 10-minute soak. Not part of `make test`, whose
# tests/test_prove.py runs the crash scenarios CI-sized. PROVE_ARGS: e.g. --quick, --only load.
PROVE_ARGS ?=
prove: $(VENV)/.installed-bench
	$(BIN)/python bench/prove.py $(PROVE_ARGS)

# The long fuzz campaign (tests/federation/test_fuzz_inbox.py): FUZZ_EXAMPLES hostile inputs on
# SQLite and as many on PostgreSQL, the two back-ends in parallel. Logs and a summary line per
# back-end go to test-output/; docs/reliability.md records a run.
FUZZ_EXAMPLES ?= 50000
fuzz: $(VENV)/.installed-test
	@mkdir -p test-output && rm -f test-output/fuzz.jsonl
	@start=$$(date +%s); pids=""; \
	for backend in sqlite postgresql; do \
	  TALENTFED_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) TALENTFED_FUZZ_SUMMARY=test-output/fuzz.jsonl \
	    $(BIN)/pytest tests/federation/test_fuzz_inbox.py -q -p no:cacheprovider -k $$backend \
	    > test-output/fuzz-$$backend.log 2>&1 & pids="$$pids $$!"; \
	done; \
	status=0; for pid in $$pids; do wait $$pid || status=1; done; \
	cat test-output/fuzz.jsonl 2>/dev/null; \
	echo "fuzz: $$(( $$(date +%s) - start )) s in all; logs in test-output/fuzz-*.log"; \
	if [ $$status -ne 0 ]; then tail -n 60 test-output/fuzz-*.log; fi; exit $$status

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info $(NPM_PROJECTS:%=%/node_modules)
