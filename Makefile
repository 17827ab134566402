# The two commands: `make run` serves the portal with demo data, `make test` runs the suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
# The address links in messages point at (the sweep's too): where `make run` serves.
PORTAL_BASE_URL ?= http://127.0.0.1:$(PORT)
FLASK  := $(BIN)/flask --app wsgi
CATALOGUES := portal/translations
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run test install lint translations extract-messages update-messages browser serve-dev clean bench-http

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall only when the dependency list changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed translations

translations: $(VENV)/.installed
	$(BIN)/pybabel compile --statistics -d $(CATALOGUES)

extract-messages: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output -o $(CATALOGUES)/messages.pot .

update-messages: extract-messages
	$(BIN)/pybabel update --no-fuzzy-matching --ignore-obsolete -i $(CATALOGUES)/messages.pot -d $(CATALOGUES)

run: install
	$(FLASK) db upgrade
	PORTAL_BASE_URL=$(PORTAL_BASE_URL) $(FLASK) demo load --if-empty
	$(FLASK) intake train --if-missing
	$(FLASK) search reindex --if-empty
	@echo "Serving on http://127.0.0.1:$(PORT)/ (deadline sweep every 5 minutes, search catch-up every 5 s)"
	PORTAL_BASE_URL=$(PORTAL_BASE_URL) PORTAL_MAIL_BACKEND=log $(FLASK) cases sweep --every 300 > instance/sweep.log 2>&1 & sweeper=$$!; \
	$(FLASK) search catch-up --every 5 > instance/search.log 2>&1 & searcher=$$!; \
	trap 'kill $$sweeper $$searcher 2>/dev/null' EXIT INT TERM; \
	PORTAL_BASE_URL=$(PORTAL_BASE_URL) PORTAL_SESSION_COOKIE_SECURE=false \
	PORTAL_MAIL_BACKEND=log $(BIN)/gunicorn -c gunicorn.conf.py --workers 2 \
		--bind 127.0.0.1:$(PORT) --access-logfile - wsgi:app

# Chromium for the browser tests: Debian's package, installed when missing and we are root.
browser:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "Installing Debian's chromium for the browser tests..."; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
		|| echo "Could not install chromium: the browser tests will be skipped."; \
	else echo "chromium is missing and cannot be installed here: the browser tests will be skipped."; fi

lint: $(VENV)/.installed
	$(BIN)/ruff check .

# Two workers (the machines have 2 cores); each has its own PostgreSQL database. The
# slowest tests are listed at the end, to keep the suite under ten minutes. A file's tests
# stay on one worker (--dist loadfile): some modules build one scene and go through it
# in order (train, then roll back), which a split between workers would break.
test: install browser lint
	$(BIN)/pytest -q -n 2 --dist loadfile --durations=25

# The portal over HTTP beside a bare Flask reference (bench/http.py; docs/PERFORMANCE.md).
BENCH_CASES ?= 10000
bench-http: install
	$(BIN)/python bench/http.py --cases $(BENCH_CASES)

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache
