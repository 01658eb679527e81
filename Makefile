# Kasir Koperasi: `make run` serves the POS with demo data on SQLite; `make test` runs the whole suite.
PYTHON ?= python3
VENV ?= .venv
HOST ?= 127.0.0.1
PORT ?= 5000
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi

.PHONY: run test test-postgres lint translations clean-venv

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-run: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.installed-run

# MALLOC_ARENA_MAX=2: glibc would otherwise keep freed memory per thread (16 of them), RSS past 300 MB after a
# few large downloads; with two arenas it stays near 140 MB.
# `make run` is the demo on SQLite, whatever DATABASE_URL the shell holds: the demo's known passwords
# must never land in a real database by accident.
DEMO_ENV := env -u DATABASE_URL -u KASIR_DATABASE_URL -u KASIR_ENV

run: $(VENV)/.installed-run
	$(DEMO_ENV) $(FLASK) db upgrade
	$(DEMO_ENV) $(FLASK) demo load
	@echo "Kasir Koperasi: http://$(HOST):$(PORT)/  (stop with Ctrl+C)"
	$(DEMO_ENV) MALLOC_ARENA_MAX=2 $(BIN)/waitress-serve --host=$(HOST) --port=$(PORT) --threads=16 wsgi:app

# The suite runs on SQLite unless KASIR_TEST_DATABASE_URL names a PostgreSQL database (make test-postgres).
test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-postgres: $(VENV)/.installed-dev
	KASIR_TEST_DATABASE_URL=$${KASIR_TEST_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1/test} \
		$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .

# Re-extract the messages, merge them into both catalogs, compile (commit the .po and .mo files).
translations: $(VENV)/.installed-dev
	$(BIN)/pybabel extract -F babel.cfg -k _l -k N_ -k lazy_gettext --no-location --omit-header \
		--sort-output -o pos/translations/messages.pot .
	$(BIN)/pybabel update -i pos/translations/messages.pot -d pos/translations --no-fuzzy-matching
	$(BIN)/pybabel compile -d pos/translations

clean-venv:
	rm -rf $(VENV)
