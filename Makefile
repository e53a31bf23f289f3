# Two commands on a fresh machine:
#   make run   - create the virtualenv, install, build the demo ledger on SQLite, show it and serve it
#   make test  - the whole test suite (SQLite always; PostgreSQL at 127.0.0.1:5432)
# Static checks (CI runs them before the tests), settings in pyproject.toml:
#   make lint      - ruff
#   make typecheck - mypy, strict
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install run test lint typecheck bench clean

$(BIN)/trajectledger: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[api,dev]'
	touch $@

install: $(BIN)/trajectledger

DEMO_FUNDER := gemeente-haarlem

# the API and, signed as the demo municipality, the dashboard; Ctrl-C stops both
run: install
	$(BIN)/trajectledger demo
	@echo "serving the demo ledger at http://127.0.0.1:8000/v1 (OpenAPI document: /v1/openapi.json)"
	@echo "dashboard, as $(DEMO_FUNDER): http://127.0.0.1:8050/ ; Ctrl-C stops both"
	@TRAJECTLEDGER_KEY_DIR=trajectledger-demo/keys $(BIN)/trajectledger serve & api=$$!; \
	$(BIN)/trajectledger dashboard --url http://127.0.0.1:8000 --party $(DEMO_FUNDER) \
	    --key trajectledger-demo/keys/parties/$(DEMO_FUNDER).pem & dashboard=$$!; \
	trap 'kill $$api $$dashboard 2>/dev/null; wait' INT TERM; wait

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .

typecheck: install
	$(BIN)/mypy

bench: install
	$(BIN)/python bench/ingest.py

clean:
	rm -rf $(VENV) trajectledger.sqlite3 trajectledger-demo
