# The two commands of the README: `make demo` (serve the sample) and `make test` (the whole suite).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install prereqs demo test unit lint stop clean postgres

prereqs:
	@command -v $(PYTHON) >/dev/null || { echo "need Python 3.11+ ($(PYTHON))"; exit 1; }
	@command -v java >/dev/null || { echo "need Java 17 (java on PATH) for the bundled Neo4j"; exit 1; }
	@command -v mvn >/dev/null || { echo "need Maven 3.8+ (mvn on PATH) to resolve Neo4j from Maven Central"; exit 1; }

# The editable install maps kcrm.search to search/ (and so on): setuptools then always adds an
# informational "Editable installation ... folders with the same name" notice, which says nothing
# about this project; the filter keeps `make install` quiet. Every other warning still prints.
$(BIN)/kcrm: pyproject.toml | prereqs
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	PYTHONWARNINGS="ignore:Editable installation" $(BIN)/python -m pip install -q -e '.[test]'
	@touch $@

install: $(BIN)/kcrm browser postgres

demo: install
	$(BIN)/kcrm demo

test: install lint
	$(BIN)/python -m pytest

# ruff and mypy, configured in pyproject.toml; part of `make test`, so CI runs them
lint: $(BIN)/kcrm
	$(BIN)/ruff check .
	$(BIN)/mypy

unit: install
	$(BIN)/python -m pytest tests/unit

stop:
	$(BIN)/kcrm neo4j stop
	-$(BIN)/kcrm opensearch stop

clean:
	-$(BIN)/kcrm neo4j stop
	-$(BIN)/kcrm opensearch stop
	rm -rf var

# Debian's Chromium and a CJK font for the browser tests (tests/browser); Playwright never downloads one.
.PHONY: browser
browser:
	@if command -v chromium >/dev/null && fc-list :lang=zh 2>/dev/null | grep -q .; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing Debian's chromium and fonts-wqy-zenhei for the browser tests (apt-get)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-zenhei >/dev/null \
	    || { echo "apt-get could not install chromium; the browser tests will fail"; exit 1; }; \
	else echo "WARNING: the browser tests need Debian's chromium: as root run" \
	  "'apt-get install chromium fonts-wqy-zenhei' (or set KCRM_CHROMIUM to a Chromium binary)"; fi

# Debian's PostgreSQL server for the database-reader tests (tests/e2e/test_sql_reader.py): they initdb a
# throwaway cluster in a temporary folder and run it as an unprivileged user on 127.0.0.1.
postgres:
	@if command -v initdb >/dev/null || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing Debian's postgresql for the database-reader tests (apt-get)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null \
	    || { echo "apt-get could not install postgresql; the PostgreSQL reader test will be skipped"; exit 1; }; \
	else echo "WARNING: the PostgreSQL reader test needs Debian's postgresql: as root run 'apt-get install postgresql'"; fi
