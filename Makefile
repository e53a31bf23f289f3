# Two commands on a fresh machine:
#   make run   - create the virtualenv, install, build the demo ledger on SQLite and show it
#   make test  - the whole test suite (SQLite always; PostgreSQL at 127.0.0.1:5432)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install run test bench clean

$(BIN)/trajectledger: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[api,dev]'
	touch $@

install: $(BIN)/trajectledger

run: install
	$(BIN)/trajectledger demo

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: install
	$(BIN)/python bench/ingest.py

clean:
	rm -rf $(VENV) trajectledger.sqlite3 trajectledger-demo
