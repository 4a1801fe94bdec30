# The entry points people and CI use. Each target sets up what it needs first.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
SRC    := mock_server contracts tests bench examples docs/hooks.py
WHEELHOUSE := $(VENV)/wheelhouse

.PHONY: install install-system install-browser install-postgres install-bench serve test lint \
	typecheck unit bench calibrate dist docs fuzz clean
# pytest-xdist workers for `make unit`: two per core of a 2-core machine, since half of a
# test's time is spent waiting on the processes, sockets and clients it drives. Workers
# steal queued tests from each other, so the long ones do not pile up on one at the end.
TEST_WORKERS ?= 4

# Debian packages, as root: the ones named in $$missing, in one apt-get run, without the
# recommended extras; elsewhere say what skips ($(1)).
define apt_install
if [ -z "$$missing" ]; then :; \
elif [ "$$(id -u)" = 0 ]; then \
  apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing; \
else echo "make: missing $$missing (apt-get install $$missing); $(1)"; fi
endef
PG_FOUND := { command -v pg_ctl || ls /usr/lib/postgresql/*/bin/pg_ctl; } >/dev/null 2>&1

# Installs the dev extra editable, and keeps wheels of the runtime dependencies alone (no
# extras) in $(WHEELHOUSE), so tests/test_package.py installs the built wheel into a fresh
# venv offline, as a stranger would from an index.
install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	rm -rf $(WHEELHOUSE)
	$(BIN)/python -m pip wheel --quiet --disable-pip-version-check -w $(WHEELHOUSE) .
	rm -f $(WHEELHOUSE)/wanmock-*.whl
	rm -f $(VENV)/.installed-*
	touch $@

serve: $(STAMP)
	$(BIN)/wanmock serve $(ARGS)

# The three checks run side by side (pytest waits on processes and sockets while mypy and
# ruff use the CPU), each one's output printed whole as it ends; the Python packages and
# the Debian ones install side by side before them.
test:
	@$(MAKE) --no-print-directory -j3 --output-sync=line lint typecheck unit

lint: $(STAMP)
	$(BIN)/ruff check $(SRC)
	$(BIN)/ruff format --check $(SRC)
	$(BIN)/lint-imports
	$(BIN)/deptry .

typecheck: $(STAMP)
	$(BIN)/mypy mock_server contracts bench

unit: $(STAMP) install-system
	$(BIN)/pytest -n $(TEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

# The dashboard's browser tests drive Debian's chromium through Playwright (no browser is
# ever downloaded by Playwright); the store and replica tests start a throwaway PostgreSQL
# cluster from Debian's package (tests/postgres.py). As root (CI) the missing ones are
# installed in one apt-get run, without the recommended extras the tests never use (a
# printer dialog, a desktop's daemons, Mesa) but with a font for the pages' text;
# elsewhere their tests skip (and fail under CI=true).
install-system:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="chromium fonts-liberation"; \
	$(PG_FOUND) || missing="$$missing postgresql"; \
	$(call apt_install,their tests skip)

install-browser install-postgres: install-system

# The wheel and sdist a release uploads, built offline from the dev extra's backend.
dist: $(STAMP)
	rm -rf dist
	$(BIN)/python -m build --no-isolation --outdir dist .
	$(BIN)/twine check --strict dist/*

# The documentation site (docs/, mkdocs.yml) into site/; --strict fails on a broken link.
# docs/cli.md is first rendered again from the argparse parsers.
docs: $(STAMP)
	$(BIN)/python docs/hooks.py
	$(BIN)/mkdocs build --strict --site-dir site

# Before a release: tests/test_openapi.py's fuzzing of every operation and of linked
# chains, with many more examples than the suite's (FUZZ_EXAMPLES per operation,
# FUZZ_CHAINS chains). Still derandomized: the same examples on every machine.
FUZZ_EXAMPLES ?= 300
FUZZ_CHAINS   ?= 1000
fuzz: $(STAMP)
	WANMOCK_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) WANMOCK_FUZZ_CHAINS=$(FUZZ_CHAINS) \
	  $(BIN)/pytest tests/test_openapi.py -p no:randomly -q --timeout=0 $(PYTEST_ARGS)

# The bench's replica figures load the servers with wrk and run them on PostgreSQL: as
# root the missing ones are installed; elsewhere that section is skipped with a warning.
# The fake's modules are compiled first, as pip compiles an installed wheel's: where
# PYTHONDONTWRITEBYTECODE is set, a checkout would otherwise compile them in every session
# the fixture figure measures, while respx and httpx load from their installed bytecode.
bench: $(STAMP) install-bench
	$(BIN)/python -m compileall -q mock_server contracts
	$(BIN)/python -m bench $(ARGS)

install-bench:
	@missing=""; \
	command -v wrk >/dev/null 2>&1 || missing="wrk"; \
	$(PG_FOUND) || missing="$$missing postgresql"; \
	$(call apt_install,the replica figures skip)

# verify-client's false-verdict and miss rates on tests/clients (bench/calibrate.py)
# EvoLink's own npm client (@evolinkai/evolink-media 1.2.1, unchanged) is one of the correct
# clients: installed from the npm registry into $(NPM_CLIENT) when node and npm are here
# (nothing of it is in the repository); without them it is reported as not run.
NPM_CLIENT := $(VENV)/npm
calibrate: $(STAMP)
	@if [ -z "$$EVOLINK_MEDIA_DIR" ] && command -v npm >/dev/null 2>&1 \
	  && [ ! -d $(NPM_CLIENT)/node_modules/@evolinkai/evolink-media ]; then \
	  npm install --silent --no-audit --no-fund --prefix $(NPM_CLIENT) \
	    @evolinkai/evolink-media@1.2.1 || echo "make: npm could not install EvoLink's client"; fi
	EVOLINK_MEDIA_DIR=$${EVOLINK_MEDIA_DIR:-$(abspath $(NPM_CLIENT))/node_modules/@evolinkai/evolink-media} \
	  $(BIN)/python -m bench.calibrate $(ARGS)

clean:
	rm -rf $(VENV) .wanmock .mypy_cache .ruff_cache *.egg-info build dist site
