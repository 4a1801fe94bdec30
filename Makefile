# The entry points people and CI use. Each target sets up what it needs first.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
SRC    := mock_server contracts tests bench examples docs/hooks.py
WHEELHOUSE := $(VENV)/wheelhouse

.PHONY: install install-browser install-postgres serve test lint typecheck unit bench dist docs fuzz clean

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

test: lint typecheck unit

lint: $(STAMP)
	$(BIN)/ruff check $(SRC)
	$(BIN)/ruff format --check $(SRC)
	$(BIN)/lint-imports
	$(BIN)/deptry .

typecheck: $(STAMP)
	$(BIN)/mypy mock_server contracts

unit: $(STAMP) install-browser install-postgres
	$(BIN)/pytest $(PYTEST_ARGS)

# The dashboard's browser tests drive Debian's chromium through Playwright; no browser is
# ever downloaded by Playwright. As root (CI) it is installed when missing; elsewhere the
# tests skip without it (and fail under CI=true).
install-browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium; \
	  else echo "make: chromium is missing (apt-get install chromium); browser tests skip"; fi; }

# The store and replica tests start a throwaway PostgreSQL cluster from Debian's package
# (tests/postgres.py). As root (CI) it is installed when missing; elsewhere those tests
# skip without it (and fail under CI=true).
install-postgres:
	@command -v pg_ctl >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq postgresql; \
	  else echo "make: PostgreSQL is missing (apt-get install postgresql); its tests skip"; fi; }

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

bench: $(STAMP)
	$(BIN)/python -m bench $(ARGS)

clean:
	rm -rf $(VENV) .wanmock .mypy_cache .ruff_cache *.egg-info build dist site
