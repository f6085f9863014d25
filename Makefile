# The two commands of the README: `make demo` (serve the sample) and `make test` (the whole suite).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install prereqs demo test unit stop clean

prereqs:
	@command -v $(PYTHON) >/dev/null || { echo "need Python 3.11+ ($(PYTHON))"; exit 1; }
	@command -v java >/dev/null || { echo "need Java 17 (java on PATH) for the bundled Neo4j"; exit 1; }
	@command -v mvn >/dev/null || { echo "need Maven 3.8+ (mvn on PATH) to resolve Neo4j from Maven Central"; exit 1; }

$(BIN)/kcrm: pyproject.toml | prereqs
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	@touch $@

install: $(BIN)/kcrm

demo: install
	$(BIN)/kcrm demo

test: install
	$(BIN)/python -m pytest

unit: install
	$(BIN)/python -m pytest tests/unit

stop:
	$(BIN)/kcrm neo4j stop

clean:
	-$(BIN)/kcrm neo4j stop
	rm -rf var
