# Kesu: `make run` sets everything up and serves on http://127.0.0.1:5000 (SQLite, in-process
# worker, demo data); `make test` sets up and runs the tests (SQLite, plus PostgreSQL when
# TEST_DATABASE_URL is set).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
STAMP := $(VENV)/.installed

.PHONY: run setup install test bench lint clean vendor translations translations-compile

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

# Front-end packages (package-lock.json) copied into app/static/vendor; skipped with a warning without npm.
app/static/vendor/.stamp: package.json package-lock.json scripts/vendor.sh
	bash scripts/vendor.sh

vendor: app/static/vendor/.stamp

install: $(STAMP) vendor translations-compile

# Customer-side languages (app/i18n.py): English msgids, app/translations/zh_Hans_CN/.../messages.po.
# `translations` extracts the msgids and merges them into each catalogue (then translate the new
# empty msgstr); `translations-compile` builds the .mo files (the app also compiles stale ones).
BABEL_POT := app/translations/messages.pot
translations: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output --project Kesu -o $(BABEL_POT) .
	$(BIN)/pybabel update -i $(BABEL_POT) -d app/translations --width 100 --ignore-obsolete --no-fuzzy-matching

translations-compile: $(STAMP)
	$(BIN)/pybabel compile -d app/translations --statistics

# One process (app/commands/setup.py): db upgrade heads, bpmn deploy, ml train --if-missing, demo load,
# each skipping fast when nothing changed (the individual commands still exist).
setup: install
	$(FLASK) setup

run: setup
	@# The sandbox payment gateway on :5001 (skipped when something already answers there).
	@$(BIN)/python -c "import socket; socket.create_connection(('127.0.0.1', 5001), 1)" 2>/dev/null \
		|| (nohup $(FLASK) payments sandbox --port 5001 > instance/sandbox.log 2>&1 &)
	$(FLASK) serve --host 127.0.0.1 --port 5000

test: install
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python bench/engine.py
	$(BIN)/python bench/sandbox.py
	$(BIN)/python bench/classify.py

clean:
	rm -rf $(VENV) instance .pytest_cache node_modules app/static/vendor
