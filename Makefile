# Two commands on a fresh machine: `make run` and `make test`. Each builds .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint bench clean browser
PRISM := tools/prism/node_modules/.bin/prism

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 or newer is needed"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	$(BIN)/python -c 'from flows.frequency import zipf; zipf("scan")'  # word-frequency cache
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/supportline run

test: $(STAMP) browser $(PRISM)
	$(BIN)/pytest -q

# Browser tests drive Debian's Chromium (Playwright never downloads its own browser here).
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  { echo "Installing Debian's chromium for the browser tests"; \
	    apt-get update -qq && apt-get install -y -qq chromium; }

# Prism serves Twilio's OpenAPI description as a strict mock for the API contract test.
$(PRISM): tools/prism/package.json tools/prism/package-lock.json
	cd tools/prism && npm ci --silent --no-audit --no-fund
	touch $(PRISM)

lint: $(STAMP)
	$(BIN)/ruff check bot flows workers tests bench
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/accuracy.py
	$(BIN)/python bench/webhook.py
	$(BIN)/python bench/voice.py
	$(BIN)/python -u bench/reminders.py
	$(BIN)/python -u bench/feed.py
	$(BIN)/python bench/startup.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache tools/prism/node_modules
