# The entry points people and CI use. Each target sets up what it needs first.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
SRC    := mock_server contracts tests bench examples

.PHONY: install install-browser install-postgres serve test lint typecheck unit bench calibrate clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

serve: $(STAMP)
	$(BIN)/wanmock serve $(ARGS)

test: lint typecheck unit

lint: $(STAMP)
	$(BIN)/ruff check $(SRC)
	$(BIN)/ruff format --check $(SRC)
	$(BIN)/lint-imports

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

bench: $(STAMP)
	$(BIN)/python -m bench $(ARGS)

# verify-client's false-verdict and miss rates on tests/clients (bench/calibrate.py)
calibrate: $(STAMP)
	$(BIN)/python -m bench.calibrate $(ARGS)

clean:
	rm -rf $(VENV) .wanmock .mypy_cache .ruff_cache *.egg-info
