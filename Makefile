# Two commands for a fresh clone: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench clean assets screenshots

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

run: $(STAMP)
	AUDIENCE_DEMO=$${AUDIENCE_DEMO:-1} $(BIN)/audience serve

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy api schema resolvers domain store services
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy api schema resolvers domain store services

bench: $(STAMP)
	$(BIN)/python bench/ingest.py

# Refresh the vendored front-end builds from package-lock.json (needs npm; `make run` does not).
assets:
	npm ci --no-audit --no-fund
	sed '/sourceMappingURL/d' node_modules/chart.js/dist/chart.umd.min.js \
		> api/static/dashboard/vendor/chart.umd.min.js
	cp node_modules/chart.js/LICENSE.md api/static/dashboard/vendor/chart.js.LICENSE.md

# The dashboard screenshots in docs/, from a live demo server and headless /usr/bin/chromium.
screenshots: $(STAMP)
	$(BIN)/python -m tests.browser.screenshots

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
